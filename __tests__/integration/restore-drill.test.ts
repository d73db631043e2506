/**
 * The restore drill, against real PostgreSQL 15 and Redis 7 servers (Debian
 * packages; .ci/run installs them): the provisioner's SQL twice on one
 * server, product isolation checked on it, the dump job's own script run
 * with busybox sh (the alpine images' shell), each dump restored with
 * scripts/restore-backup.sh into a fresh server, and rows and keys compared.
 * Timings are printed for the record (docs/data-recovery.md).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupRunScript, EXPORTER_PASSWORD_VARIABLE, PRE_MIGRATION_DIRECTORY, PRE_MIGRATION_VARIABLES, POSTGRES_EXPORTER_ROLE, postgresProvisionerScript, REDIS_ADMIN_PASSWORD_HASH_VARIABLE, REDIS_ADMIN_USER, redisAclScript, rolePasswordVariable } from '../../constructs/docker/data-scripts';
import { postgresConnectionUrl } from '../../constructs/docker/postgres-container';
import { redisConnectionUrl } from '../../constructs/docker/redis-container';
import { POSTGRES_BIN, run, startPostgres, startRedis, type PostgresServer, type RedisServer } from '../helpers/real-servers';

jest.setTimeout(180_000);

const RESTORE_SCRIPT = join(__dirname, '..', '..', 'scripts', 'restore-backup.sh');
/** Rows seeded into each product database; DRILL_ROWS raises it for a timing run. */
const ROWS = Number(process.env.DRILL_ROWS ?? 50_000);
const PRODUCTS = ['chat', 'quiz'];
const CONNECTION_LIMIT = 3;
const PATH = `${POSTGRES_BIN}:${process.env.PATH}`;

const work = mkdtempSync(join(tmpdir(), 'restore-drill-'));
const rolePasswords = Object.fromEntries(PRODUCTS.map((product) => [rolePasswordVariable(product), `role-${product}-${Math.random().toString(36).slice(2)}`]));
let identity: string;
let recipient: string;
let heartbeat: Server;
let heartbeatUrl: string;
let heartbeats = 0;
const timings: Record<string, number> = {};

async function timed<T>(name: string, action: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  const result = await action();
  timings[name] = Number(process.hrtime.bigint() - started) / 1e9;
  return result;
}

/**
 * Runs a script the way the containers do: busybox ash, arguments after the script. Its other commands come from
 * PATH: the heartbeat's wget is GNU wget here (scripts/install-test-tools.sh), since Debian's busybox 1.35 wget
 * crashes on `-T`, which alpine's applet takes.
 */
function sh(script: string, args: readonly string[], env: NodeJS.ProcessEnv) {
  return run('busybox', ['sh', '-c', script, 'sh', ...args], { env: { ...env, PATH } });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

beforeAll(async () => {
  identity = join(work, 'identity.txt');
  const keygen = await run('age-keygen', ['-o', identity]);
  expect(keygen.code).toBe(0);
  recipient = (await run('age-keygen', ['-y', identity])).stdout.trim();
  heartbeat = createServer((request, response) => {
    if (request.url === '/ping/backup') heartbeats++;
    response.end('OK');
  });
  await new Promise<void>((resolve) => heartbeat.listen(0, '127.0.0.1', resolve));
  const address = heartbeat.address();
  heartbeatUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/ping/backup`;
});

afterAll(async () => {
  await new Promise((resolve) => heartbeat.close(resolve));
  rmSync(work, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.log(`restore drill timings (s), ${ROWS} rows per product database: ${JSON.stringify(timings)}`);
});

describe('PostgreSQL: provisioning, isolation, dump and restore', () => {
  let source: PostgresServer;
  let fresh: PostgresServer;
  const exporterPassword = `exporter-${Math.random().toString(36).slice(2)}`;
  const provision = (server: PostgresServer) =>
    sh(postgresProvisionerScript(PRODUCTS, CONNECTION_LIMIT, { exporterRole: true }), [], { ...server.env, ...rolePasswords, [EXPORTER_PASSWORD_VARIABLE]: exporterPassword });
  const asProduct = (product: string, database = product) => ({ user: product, password: rolePasswords[rolePasswordVariable(product)]!, database });

  beforeAll(async () => {
    [source, fresh] = await Promise.all([startPostgres('source'), startPostgres('fresh')]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), fresh?.stop()]);
  });

  it('the provisioner SQL runs twice without error and leaves the same roles, databases and limits', async () => {
    const first = await provision(source);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const state = () =>
      source.psql(
        "SELECT string_agg(r.rolname || ':' || r.rolconnlimit || ':' || r.rolcanlogin || ':' || d.datname || ':' || pg_get_userbyid(d.datdba), ',' ORDER BY r.rolname) FROM pg_roles r JOIN pg_database d ON d.datname = r.rolname WHERE r.rolname <> 'postgres'",
      );
    const before = (await state()).stdout.trim();
    expect(before).toBe(`chat:${CONNECTION_LIMIT}:true:chat:chat,quiz:${CONNECTION_LIMIT}:true:quiz:quiz`);
    const second = await provision(source);
    expect(second.code).toBe(0);
    // Silent the second time too: no "role is already a member" notice from the exporter's grant.
    expect(second.stderr).toBe('');
    expect((await state()).stdout.trim()).toBe(before);
  });

  it('the provisioner SQL reads every password from the files its *_FILE variables name (a swarm), the superuser\'s too', async () => {
    // On a swarm the passwords are Swarm secrets under /run/secrets: here files of mode 0400, and no PGPASSWORD nor
    // role password in the environment at all.
    const dir = mkdtempSync(join(work, 'secrets-'));
    const rotated = { ...rolePasswords, [rolePasswordVariable('chat')]: `rotated-${Math.random().toString(36).slice(2)}` };
    const files = Object.entries({ PGPASSWORD: source.env.PGPASSWORD!, ...rotated, [EXPORTER_PASSWORD_VARIABLE]: exporterPassword }).map(([variable, value]) => {
      const file = join(dir, variable.toLowerCase());
      writeFileSync(file, value, { mode: 0o400 });
      return [`${variable}_FILE`, file];
    });
    const env = { ...Object.fromEntries(Object.entries(source.env).filter(([name]) => name !== 'PGPASSWORD')), ...Object.fromEntries(files) };
    const provisioned = await sh(postgresProvisionerScript(PRODUCTS, CONNECTION_LIMIT, { exporterRole: true, passwordsFromFiles: true }), [], env);
    expect({ code: provisioned.code, stderr: provisioned.stderr }).toEqual({ code: 0, stderr: '' });
    expect((await source.psql('SELECT current_user', { user: 'chat', password: rotated[rolePasswordVariable('chat')]!, database: 'chat' })).stdout.trim()).toBe('chat');
    expect((await source.psql('SELECT 1', asProduct('chat'))).code).not.toBe(0);
    // A missing file stops it before psql runs: no role is left without its password.
    const missing = await sh(postgresProvisionerScript(PRODUCTS, CONNECTION_LIMIT, { passwordsFromFiles: true }), [], { ...env, PGPASSWORD_FILE: join(dir, 'absent') });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('absent');
    // Back to the passwords the later tests log in with.
    expect((await provision(source)).code).toBe(0);
  });

  it('the DATABASE_URL a credentials stack hands a product connects psql as that product, to its database', async () => {
    const url = postgresConnectionUrl({ database: 'chat', password: asProduct('chat').password, host: '127.0.0.1', port: source.port });
    // Only the URL: no PG* variable of the superuser may fill in what it lacks.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG')));
    const connected = await run(`${POSTGRES_BIN}/psql`, ['-X', '-At', url, '-c', 'SELECT current_user || \'@\' || current_database()'], { env });
    expect(connected.stderr).toBe('');
    expect(connected.stdout.trim()).toBe('chat@chat');
  });

  it("lets the metrics exporter's role count every product's sessions, but never connect to a product database", async () => {
    const asExporter = (database: string) => ({ user: POSTGRES_EXPORTER_ROLE, password: exporterPassword, database });
    const chatSession = spawn(`${POSTGRES_BIN}/psql`, ['-X', '-q', '-c', 'SELECT pg_sleep(5)'], {
      env: { ...source.env, PGUSER: 'chat', PGPASSWORD: asProduct('chat').password, PGDATABASE: 'chat' },
    });
    try {
      let seen = '';
      for (let attempt = 0; attempt < 50 && seen !== 'chat|chat|1'; attempt++) {
        // What postgres_exporter's stat_activity collector reads, as its role (pg_monitor).
        seen = (await source.psql("SELECT usename, datname, count(*) FROM pg_stat_activity WHERE usename = 'chat' GROUP BY 1, 2", asExporter('postgres'))).stdout.trim().replace(/\s*\|\s*/g, '|');
        if (seen !== 'chat|chat|1') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(seen).toBe('chat|chat|1');
      const query = await source.psql("SELECT query FROM pg_stat_activity WHERE usename = 'chat'", asExporter('postgres'));
      expect(query.stdout).toContain('pg_sleep'); // pg_read_all_stats: the exporter sees what a role runs, not its rows
      // The database collector's size query, for a database it may not connect to (pg_read_all_stats allows it).
      const size = await source.psql("SELECT pg_database_size('chat') > 0", asExporter('postgres'));
      expect({ stdout: size.stdout.trim(), stderr: size.stderr }).toEqual({ stdout: 't', stderr: '' });
      const intruder = await source.psql('SELECT 1', asExporter('chat'));
      expect(intruder.code).not.toBe(0);
      expect(intruder.stderr).toMatch(/permission denied for database "chat"/);
    } finally {
      chatSession.kill();
      // The server would hold the sleeping session after its client is gone; the next test counts chat's connections.
      await source.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'chat'");
    }
  });

  it('each product reaches only its own database, and no more connections than its limit', async () => {
    expect((await source.psql('SELECT current_user', asProduct('chat'))).stdout.trim()).toBe('chat');
    const intruder = await source.psql('SELECT 1', asProduct('quiz', 'chat'));
    expect(intruder.code).not.toBe(0);
    expect(intruder.stderr).toMatch(/permission denied for database "chat"/);
    const escalate = await source.psql('CREATE DATABASE stolen', asProduct('chat'));
    expect(escalate.stderr).toMatch(/permission denied to create database/);
    // Hold CONNECTION_LIMIT sessions open, then one more must be refused.
    const held = Array.from({ length: CONNECTION_LIMIT }, () =>
      spawn(`${POSTGRES_BIN}/psql`, ['-X', '-q', '-c', 'SELECT pg_sleep(20)'], {
        env: { ...source.env, PGUSER: 'chat', PGPASSWORD: asProduct('chat').password, PGDATABASE: 'chat' },
        stdio: 'ignore',
      }),
    );
    try {
      for (let attempt = 0; attempt < 100; attempt++) {
        const count = await source.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'chat'");
        if (Number(count.stdout.trim()) >= CONNECTION_LIMIT) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const over = await source.psql('SELECT 1', asProduct('chat'));
      expect(over.stderr).toMatch(/too many connections for role "chat"/);
    } finally {
      for (const child of held) child.kill('SIGTERM');
      await source.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'chat'");
    }
  });

  it('the job dumps every database encrypted, calls the heartbeat, and the restore script brings back every row', async () => {
    for (const product of PRODUCTS) {
      const seeded = await source.psql(
        `CREATE TABLE events (id bigint PRIMARY KEY, product text NOT NULL, payload jsonb NOT NULL, at timestamptz NOT NULL);
         INSERT INTO events SELECT i, '${product}', jsonb_build_object('n', i, 'text', md5(i::text)), now() - i * interval '1 second' FROM generate_series(1, ${ROWS}) i;
         CREATE INDEX ON events (at);`,
        asProduct(product),
      );
      expect(seeded.stderr).toBe('');
    }
    const size = await source.psql("SELECT sum(pg_database_size(datname)) FROM pg_database WHERE datname IN ('chat', 'quiz')");
    timings.postgresSeededMiB = Math.round(Number(size.stdout.trim()) / 1048576);

    const target = join(work, 'bucket');
    const env = { ...source.env, BACKUP_POSTGRES_DATABASES: PRODUCTS.join(' '), BACKUP_POSTGRES_PREFIX: 'postgres/', BACKUP_TARGET_DIR: target, BACKUP_AGE_RECIPIENT: recipient, BACKUP_HEARTBEAT_URL: heartbeatUrl };
    const before = heartbeats;
    const dump = await timed('postgresDump', () => sh(backupRunScript(), ['postgres'], env));
    expect(dump.stderr).toBe('');
    expect(dump.code).toBe(0);
    expect(heartbeats).toBe(before + 1);

    const files = filesUnder(join(target, 'postgres'));
    expect(files.map((file) => file.split('/').slice(-2, -1)[0]).sort()).toEqual(PRODUCTS);
    for (const file of files) {
      expect(file).toMatch(/\/\d{8}T\d{6}Z\.dump\.age$/);
      // age's armor-less header; a plain custom-format dump would start with PGDMP.
      expect(readFileSync(file).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    }
    timings.postgresDumpMiB = Math.round(files.reduce((sum, file) => sum + statSync(file).size, 0) / 1048576);

    expect((await provision(fresh)).code).toBe(0);
    await timed('postgresRestore', async () => {
      for (const file of files) {
        const database = file.split('/').slice(-2, -1)[0]!;
        const restored = await run('sh', [RESTORE_SCRIPT, 'postgres', file, identity, database], { env: { ...fresh.env, PATH } });
        expect(restored.stderr).toBe('');
        expect(restored.code).toBe(0);
      }
    });
    const fingerprint = "SELECT count(*) || ':' || md5(string_agg(id || product || payload::text || at::text, ',' ORDER BY id)) || ':' || pg_get_userbyid(c.relowner) FROM events, pg_class c WHERE c.relname = 'events' GROUP BY c.relowner";
    for (const product of PRODUCTS) {
      const original = (await source.psql(fingerprint, asProduct(product))).stdout.trim();
      expect(original.startsWith(`${ROWS}:`)).toBe(true);
      expect((await fresh.psql(fingerprint, asProduct(product))).stdout.trim()).toBe(original);
    }
  });

  it('a failed dump exits non-zero and never calls the heartbeat', async () => {
    const before = heartbeats;
    const env = { ...source.env, PGPASSWORD: 'wrong', BACKUP_POSTGRES_DATABASES: 'chat', BACKUP_POSTGRES_PREFIX: 'postgres/', BACKUP_TARGET_DIR: join(work, 'failed'), BACKUP_AGE_RECIPIENT: recipient, BACKUP_HEARTBEAT_URL: heartbeatUrl };
    const dump = await sh(backupRunScript(), ['postgres'], env);
    expect(dump.code).not.toBe(0);
    expect(dump.stderr).toMatch(/password authentication failed/);
    expect(heartbeats).toBe(before);
  });

  it('the restore script refuses a dump it cannot decrypt', async () => {
    const other = join(work, 'other-identity.txt');
    await run('age-keygen', ['-o', other]);
    const file = filesUnder(join(work, 'bucket', 'postgres'))[0]!;
    const restored = await run('sh', [RESTORE_SCRIPT, 'postgres', file, other, 'chat'], { env: { ...fresh.env, PATH } });
    expect(restored.code).not.toBe(0);
    expect(restored.stderr).toMatch(/no identity matched/);
  });

  it("a pre-migration backup, taken as the product's own role, restores the database as it was before the migration", async () => {
    const tag = 'main-abc1234';
    const url = postgresConnectionUrl({ database: 'chat', password: asProduct('chat').password, host: '127.0.0.1', port: source.port });
    // What the task container has: the product's DATABASE_URL and nothing of the superuser (no PG* variable).
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG'))),
      [PRE_MIGRATION_VARIABLES.databaseUrl]: url,
      [PRE_MIGRATION_VARIABLES.product]: 'chat',
      [PRE_MIGRATION_VARIABLES.tag]: tag,
      BACKUP_POSTGRES_PREFIX: 'postgres/',
      BACKUP_TARGET_DIR: join(work, 'pre-migration-bucket'),
      BACKUP_AGE_RECIPIENT: recipient,
      BACKUP_HEARTBEAT_URL: heartbeatUrl,
    };
    const fingerprint = "SELECT count(*) || ':' || md5(string_agg(id || product || payload::text || at::text, ',' ORDER BY id)) FROM events";
    const beforeMigration = (await source.psql(fingerprint, asProduct('chat'))).stdout.trim();
    const beats = heartbeats;
    const dump = await timed('preMigrationDump', () => sh(backupRunScript(), ['pre-migration'], env));
    expect(dump.stderr).toBe('');
    expect(dump.code).toBe(0);
    expect(heartbeats).toBe(beats); // the nightly switch is not the pre-migration backup's to call
    const [file, ...others] = filesUnder(join(work, 'pre-migration-bucket'));
    expect(others).toEqual([]);
    expect(file).toMatch(new RegExp(`/postgres/${PRE_MIGRATION_DIRECTORY}/chat/${tag}-\\d{8}T\\d{6}Z\\.dump\\.age$`));
    expect(dump.stdout.trim()).toBe(`pre-migration backup done: ${file!.slice(join(work, 'pre-migration-bucket').length + 1)}`);
    expect(readFileSync(file!).subarray(0, 21).toString()).toBe('age-encryption.org/v1');

    // The migration that goes wrong: it drops half the rows and a column the old version reads.
    const migrated = await source.psql('ALTER TABLE events DROP COLUMN payload; DELETE FROM events WHERE id % 2 = 0;', asProduct('chat'));
    expect(migrated.stderr).toBe('');

    // Back to the dump: an empty database owned by its role (docs/data-recovery.md, "Restore"), then the restore script.
    const reset = await fresh.psql('DROP DATABASE chat WITH (FORCE); CREATE DATABASE chat OWNER chat; REVOKE ALL ON DATABASE chat FROM PUBLIC;');
    expect(reset.stderr).toBe('');
    const restored = await timed('preMigrationRestore', () => run('sh', [RESTORE_SCRIPT, 'postgres', file!, identity, 'chat'], { env: { ...fresh.env, PATH } }));
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(beforeMigration.startsWith(`${ROWS}:`)).toBe(true);
    expect((await fresh.psql(fingerprint, asProduct('chat'))).stdout.trim()).toBe(beforeMigration);
    expect((await source.psql('SELECT count(*) FROM events', asProduct('chat'))).stdout.trim()).toBe(String(ROWS / 2));
  });

  it('a pre-migration backup that cannot dump exits non-zero, and the restore script refuses what it streamed', async () => {
    const url = postgresConnectionUrl({ database: 'chat', password: 'wrong', host: '127.0.0.1', port: source.port });
    const target = join(work, 'pre-migration-failed');
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG'))),
      [PRE_MIGRATION_VARIABLES.databaseUrl]: url,
      [PRE_MIGRATION_VARIABLES.product]: 'chat',
      [PRE_MIGRATION_VARIABLES.tag]: 'main-abc1234',
      BACKUP_POSTGRES_PREFIX: 'postgres/',
      BACKUP_TARGET_DIR: target,
      BACKUP_AGE_RECIPIENT: recipient,
    };
    const dump = await sh(backupRunScript(), ['pre-migration'], env);
    expect(dump.code).not.toBe(0);
    expect(dump.stderr).toMatch(/password authentication failed for user "chat"/);
    expect(dump.stderr).not.toContain('wrong');
    // A stream cannot be taken back: the upload ends with what age wrote (its header), an object the restore refuses.
    const partials = filesUnder(target);
    expect(partials).toHaveLength(1);
    for (const partial of partials) {
      const restored = await run('sh', [RESTORE_SCRIPT, 'postgres', partial, identity, 'chat'], { env: { ...fresh.env, PATH } });
      expect(restored.code).not.toBe(0);
    }
  });
});

describe('Redis: per-product ACL users, dump and restore', () => {
  const adminPassword = `admin-${Math.random().toString(36).slice(2)}`;
  const users = PRODUCTS.map((name) => ({ name, passwordHashVariable: `REDIS_PASSWORD_HASH_${name.toUpperCase()}` }));
  const passwords = Object.fromEntries(users.map((user) => [user.name, `redis-${user.name}-${Math.random().toString(36).slice(2)}`]));
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  /** The server's environment as the container has it: the hashes Terraform computes (sha256(), hex), no password. */
  const hashes: Record<string, string> = { [REDIS_ADMIN_PASSWORD_HASH_VARIABLE]: sha256(adminPassword), ...Object.fromEntries(users.map((user) => [user.passwordHashVariable, sha256(passwords[user.name]!)])) };
  const asProduct = (name: string) => ({ user: name, password: passwords[name]! });
  const asAdmin = { user: REDIS_ADMIN_USER, password: adminPassword };
  let source: RedisServer;
  let aclFile: string;

  beforeAll(async () => {
    aclFile = join(work, 'users.acl');
    const written = await sh(redisAclScript(users), [aclFile], { ...process.env, ...hashes });
    expect(written.stderr).toBe('');
    expect(written.code).toBe(0);
    // As the container runs it (redis-container.ts), so the dump is timed as production's.
    source = await startRedis('source', ['--aclfile', aclFile, '--appendonly', 'yes', '--appendfsync', 'everysec', '--repl-diskless-sync-delay', '0']);
  });
  afterAll(async () => {
    await source?.stop();
  });

  it('the ACL file holds hashes only, never a password', () => {
    const file = readFileSync(aclFile, 'utf8');
    for (const password of [adminPassword, ...Object.values(passwords)]) expect(file).not.toContain(password);
    expect(file).toMatch(/^user chat on #[0-9a-f]{64} /m);
    expect(statSync(aclFile).mode & 0o077).toBe(0);
  });

  it('refuses to write the ACL file when a hash is missing or is not a hash (a password given by mistake, a rule smuggled in)', async () => {
    const { REDIS_PASSWORD_HASH_QUIZ: _quiz, ...withoutQuiz } = hashes;
    const cases: [Record<string, string>, RegExp][] = [
      [withoutQuiz, /REDIS_PASSWORD_HASH_QUIZ must be a SHA-256 hash/],
      [{ ...hashes, REDIS_PASSWORD_HASH_CHAT: passwords.chat! }, /REDIS_PASSWORD_HASH_CHAT must be a SHA-256 hash/],
      [{ ...hashes, REDIS_PASSWORD_HASH_CHAT: `${hashes.REDIS_PASSWORD_HASH_CHAT} ~*` }, /REDIS_PASSWORD_HASH_CHAT must be a SHA-256 hash/],
      [{ ...hashes, [REDIS_ADMIN_PASSWORD_HASH_VARIABLE]: sha256(adminPassword).toUpperCase() }, /REDIS_ADMIN_PASSWORD_HASH must be a SHA-256 hash/],
    ];
    for (const [env, message] of cases) {
      const file = join(work, 'partial.acl');
      const written = await sh(redisAclScript(users), [file], { PATH: process.env.PATH!, ...env });
      expect(written.code).not.toBe(0);
      expect(written.stderr).toMatch(message);
      expect(() => statSync(file)).toThrow();
    }
  });

  it("a product reads and writes only its own prefix and cannot run dangerous commands", async () => {
    expect((await source.cli(['SET', 'chat:session:1', 'alice'], asProduct('chat'))).stdout.trim()).toBe('OK');
    expect((await source.cli(['SET', 'quiz:score:1', '42'], asProduct('quiz'))).stdout.trim()).toBe('OK');
    expect((await source.cli(['GET', 'quiz:score:1'], asProduct('chat'))).stdout).toMatch(/NOPERM/);
    expect((await source.cli(['SET', 'session:1', 'x'], asProduct('chat'))).stdout).toMatch(/NOPERM/);
    for (const command of [['FLUSHALL'], ['FLUSHDB'], ['KEYS', '*'], ['CONFIG', 'SET', 'maxmemory', '1'], ['ACL', 'SETUSER', 'chat', 'on', '~*'], ['DEBUG', 'SLEEP', '0'], ['SHUTDOWN']]) {
      expect((await source.cli(command, asProduct('chat'))).stdout).toMatch(/NOPERM/);
    }
    expect((await source.cli(['PUBLISH', 'quiz:events', 'x'], asProduct('chat'))).stdout).toMatch(/NOPERM/);
    expect((await source.cli(['GET', 'chat:session:1'], { user: 'chat', password: 'wrong' })).stdout + (await source.cli(['GET', 'chat:session:1'], { user: 'chat', password: 'wrong' })).stderr).toMatch(/WRONGPASS|invalid username-password/);
    expect((await source.cli(['GET', 'quiz:score:1'], asAdmin)).stdout.trim()).toBe('42');
  });

  it('the REDIS_URL a credentials stack hands a product authenticates redis-cli as that product', async () => {
    const url = redisConnectionUrl({ user: 'chat', password: asProduct('chat').password, host: '127.0.0.1', port: source.port });
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'REDISCLI_AUTH'));
    const whoami = await run('redis-cli', ['--no-auth-warning', '-u', url, 'ACL', 'WHOAMI'], { env });
    expect(whoami.stdout.trim()).toBe('chat');
    expect((await run('redis-cli', ['--no-auth-warning', '-u', url, 'GET', 'quiz:score:1'], { env })).stdout).toMatch(/NOPERM/);
  });

  it('the job dumps Redis encrypted and the restored server holds the same keys and values', async () => {
    const seed = PRODUCTS.flatMap((product) => Array.from({ length: 20_000 }, (_, i) => `SET ${product}:key:${i} value-${product}-${i}-${'x'.repeat(i % 50)}\r\nHSET ${product}:hash:${i % 100} f${i} ${i}\r\n`)).join('');
    const loaded = await source.cli(['--pipe'], asAdmin, seed);
    expect(loaded.stdout).toMatch(/errors: 0, replies: 80000/);

    const target = join(work, 'bucket');
    const env = { ...process.env, REDIS_HOST: '127.0.0.1', REDIS_PORT: String(source.port), REDIS_USER: REDIS_ADMIN_USER, REDISCLI_AUTH: adminPassword, BACKUP_REDIS_PREFIX: 'redis/', BACKUP_TARGET_DIR: target, BACKUP_AGE_RECIPIENT: recipient, BACKUP_HEARTBEAT_URL: heartbeatUrl };
    const before = heartbeats;
    const dump = await timed('redisDump', () => sh(backupRunScript(), ['redis'], env));
    expect(dump.code).toBe(0);
    expect(heartbeats).toBe(before + 1);
    const [file] = filesUnder(join(target, 'redis'));
    expect(file).toMatch(/\/redis\/\d{8}T\d{6}Z\.rdb\.age$/);
    expect(readFileSync(file!).subarray(0, 21).toString()).toBe('age-encryption.org/v1');

    const restoredDir = mkdtempSync(join(tmpdir(), 'drill-redis-restored-'));
    const restoredStart = process.hrtime.bigint();
    const restore = await run('sh', [RESTORE_SCRIPT, 'redis', file!, identity, join(restoredDir, 'dump.rdb')], { env: { ...process.env, PATH } });
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    // The documented start: on the RDB with AOF off, then AOF switched on (written from the loaded data).
    const restored = await startRedis('restored', ['--aclfile', aclFile, '--appendonly', 'no', '--dbfilename', 'dump.rdb'], restoredDir);
    try {
      expect((await restored.cli(['CONFIG', 'SET', 'appendonly', 'yes'], asAdmin)).stdout.trim()).toBe('OK');
      timings.redisRestore = Number(process.hrtime.bigint() - restoredStart) / 1e9;
      const digest = async (server: RedisServer) => (await server.cli(['DEBUG', 'DIGEST'], asAdmin)).stdout.trim();
      const size = async (server: RedisServer) => (await server.cli(['DBSIZE'], asAdmin)).stdout.trim();
      expect(await size(source)).toBe(String(2 * 20_000 + 2 * 100 + 2)); // seeded keys and hashes, plus the two keys of the ACL test
      expect(await size(restored)).toBe(await size(source));
      expect(await digest(restored)).toMatch(/^[0-9a-f]{40}$/);
      expect(await digest(restored)).toBe(await digest(source));
      expect((await restored.cli(['GET', 'chat:session:1'], asProduct('chat'))).stdout.trim()).toBe('alice');
      // Then the production start (AOF on) keeps the data: started on the RDB alone, Redis 7 would come up empty.
      for (let attempt = 0; attempt < 200; attempt++) {
        const info = (await restored.cli(['INFO', 'persistence'], asAdmin)).stdout;
        if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info) && /aof_last_bgrewrite_status:ok/.test(info)) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const expected = await digest(source);
      await restored.stop(true);
      const production = await startRedis('restarted', ['--aclfile', aclFile, '--appendonly', 'yes', '--appendfsync', 'everysec'], restoredDir);
      try {
        expect(await digest(production)).toBe(expected);
      } finally {
        await production.stop();
      }
    } finally {
      await restored.stop();
    }
  });
});

afterAll(() => {
  writeFileSync(join(tmpdir(), 'restore-drill-timings.json'), JSON.stringify({ rows: ROWS, ...timings }, null, 2));
});
