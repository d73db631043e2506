/**
 * PostgreSQL and Redis in the data stack: containers on the volumes,
 * generated passwords, per-product databases, and how products receive
 * their connection strings (from their own credentials stack, or variables
 * when external).
 */
import { postgresTuning } from '../constructs/docker/postgres-container';
import { manacore } from '../environments';
import { nutri } from '../examples/nutri';
import { container, envOf } from './helpers/docker';
import { databasesOf, environmentOf, variant } from './helpers/spec';
import { SynthesizedSystem, resources, type TerraformJson } from './helpers/synth';

let app: SynthesizedSystem;
let data: TerraformJson;

beforeAll(() => {
  app = new SynthesizedSystem(manacore);
  data = app.synth('production-data');
});

const DATA_NETWORK = '${data.terraform_remote_state.outputs-production-edge.outputs.host_app_1_docker_network_data}';
const PRODUCTS_WITH_DATABASES = databasesOf(manacore, 'production');

describe('PostgreSQL container', () => {
  it('runs postgres:16-alpine on the data network only, as "postgres"', () => {
    expect(resources(data, 'docker_image').postgres).toMatchObject({ name: 'postgres:16-alpine', keep_locally: true });
    expect(container(data, 'postgres')).toMatchObject({ name: 'postgres', networks_advanced: [{ name: DATA_NETWORK, aliases: ['postgres'] }] });
  });

  it('keeps its cluster where it was on the Hetzner volume, mounted fail-closed, and starts after the volume is attached', () => {
    const postgres = container(data, 'postgres');
    // A `mounts` bind, not `volumes`: Docker refuses a missing source instead of creating it on the root disk.
    expect(postgres.volumes).toBeUndefined();
    expect(postgres.mounts).toEqual([{ type: 'bind', source: '/mnt/HC_Volume_${hcloud_volume.postgres-volume.id}', target: '/volume', read_only: false }]);
    expect(envOf(postgres)).toMatchObject({ PGDATA: '/volume/pgdata', DATA_VOLUME: 'HC_Volume_${hcloud_volume.postgres-volume.id}' });
    expect(postgres.entrypoint.slice(0, 2)).toEqual(['sh', '-c']);
    expect(postgres.entrypoint[2]).toContain("found=$(cat '/volume/.manacore-volume'");
    expect(postgres.depends_on).toEqual(['hcloud_volume_attachment.postgres-volume-attachment']);
  });

  it('is tuned to its 2 GiB limit, max_connections sized from the products\' limits (20 each) plus 10 reserved', () => {
    const command: string[] = container(data, 'postgres').command;
    expect(command.slice(0, 2)).toEqual(['docker-entrypoint.sh', 'postgres']);
    expect(command).toEqual(
      expect.arrayContaining([`max_connections=${20 * PRODUCTS_WITH_DATABASES.length + 10}`, 'shared_buffers=512MB', 'effective_cache_size=1536MB', 'maintenance_work_mem=128MB']),
    );
    expect(container(data, 'postgres')).toMatchObject({ memory: 2048, cpus: '1', shm_size: 256 });
  });

  it('scales its tuning with the memory it is given', () => {
    expect(postgresTuning(8192, 200)).toMatchObject({ shared_buffers: '2048MB', effective_cache_size: '6144MB', maintenance_work_mem: '512MB', work_mem: '10MB' });
    expect(postgresTuning(65536, 100).maintenance_work_mem).toBe('2048MB');
  });

  it('is health-checked with pg_isready every 10 seconds', () => {
    expect(container(data, 'postgres').healthcheck).toMatchObject({ test: ['CMD', 'pg_isready', '-U', 'postgres'], interval: '10s', timeout: '5s' });
  });

  it('takes its superuser password from a generated random_password, never a literal', () => {
    expect(resources(data, 'random_password')['postgres-superuser-password']).toMatchObject({ length: 32, special: false });
    expect(envOf(container(data, 'postgres')).POSTGRES_PASSWORD).toBe('${random_password.postgres-superuser-password.result}');
  });

  it('drops every capability except the few its entrypoint needs to own the data directory and step down', () => {
    expect(container(data, 'postgres')).toMatchObject({
      read_only: true,
      security_opts: ['no-new-privileges:true'],
      capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_READ_SEARCH', 'FOWNER', 'SETGID', 'SETUID'] },
    });
  });
});

describe('per-product databases', () => {
  it("takes each product role's password from that product's credentials stack, generating none itself", () => {
    expect(Object.keys(resources(data, 'random_password')).filter((name) => /^(postgres|redis)-password-/.test(name))).toEqual([]);
    const readers = Object.keys(data.data?.terraform_remote_state ?? {}).filter((name) => name.endsWith('-credentials'));
    expect(readers.map((name) => name.replace(/^outputs-production-(.*)-credentials$/, '$1').replace(/-/g, '_')).sort()).toEqual(PRODUCTS_WITH_DATABASES);
    const credentials = app.synth('production-chat-credentials');
    expect(resources(credentials, 'random_password')['postgres-role-password']).toMatchObject({ length: 32, special: false });
    expect(credentials.output?.postgres_password).toMatchObject({ sensitive: true, value: '${random_password.postgres-role-password.result}' });
  });

  it('creates each role and database idempotently in a provisioner that runs after the server is healthy', () => {
    const provisioner = container(data, 'postgres-provisioner');
    const script: string = provisioner.command[2];
    expect(provisioner.depends_on).toEqual(['docker_container.postgres']);
    expect(provisioner).toMatchObject({ image: '${docker_image.postgres.image_id}', wait: true, user: '1001', read_only: true });
    for (const db of PRODUCTS_WITH_DATABASES) {
      expect(script).toContain(`WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${db}')\\gexec`);
      expect(script).toContain(`SELECT 'CREATE DATABASE "${db}" OWNER "${db}"' WHERE NOT EXISTS`);
      const credentialsStack = `production-${db.replace(/_/g, '-')}-credentials`;
      expect(envOf(provisioner)[`ROLE_PASSWORD_${db.toUpperCase()}`]).toBe(`\${data.terraform_remote_state.outputs-${credentialsStack}.outputs.postgres_password}`);
      expect(script).toContain(`ALTER ROLE "${db}" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE CONNECTION LIMIT 20 PASSWORD :'password';`);
    }
    expect(script).toContain('-v ON_ERROR_STOP=1');
    expect(script).toContain(":'password'");
  });

  it("publishes each product's DATABASE_URL and REDIS_URL (its own ACL user) in its own credentials stack only, sensitive", () => {
    const credentials = app.synth('production-chat-credentials');
    expect(credentials.output?.database_url).toEqual({
      description: expect.any(String),
      sensitive: true,
      value: 'postgresql://chat:${random_password.postgres-role-password.result}@postgres:5432/chat',
    });
    expect(credentials.output?.redis_url).toMatchObject({ sensitive: true, value: 'redis://chat:${random_password.redis-user-password.result}@redis:6379/0' });
    expect(app.synth('production-news-credentials').output?.redis_url?.value).toBe('redis://news:${random_password.redis-user-password.result}@redis:6379/0');
    for (const output of Object.values(credentials.output ?? {})) expect(output.sensitive).toBe(true);
    // The data stack's state holds every product's passwords: it publishes none of them.
    expect(Object.keys(data.output ?? {}).filter((name) => /url|password/.test(name))).toEqual([]);
  });

  it('wires the product stack to its own credentials stack, never to the data stack or a data container of its own', () => {
    const chat = app.synth('production-chat');
    expect(envOf(container(chat, 'chat-backend'))).toMatchObject({
      DATABASE_URL: '${data.terraform_remote_state.outputs-production-chat-credentials.outputs.database_url}',
      REDIS_URL: '${data.terraform_remote_state.outputs-production-chat-credentials.outputs.redis_url}',
    });
    for (const stack of app.environment('production').products.values()) {
      const addresses = Object.keys(resources(app.synth(stack.stackName), 'docker_container'));
      expect(addresses.filter((address) => /postgres|redis/.test(address))).toEqual([]);
    }
  });
});

describe('Redis container', () => {
  it('runs redis:7-alpine on the data network, its data on the volume (mounted fail-closed, behind the sentinel check)', () => {
    const redis = container(data, 'redis');
    expect(resources(data, 'docker_image').redis.name).toBe('redis:7-alpine');
    expect(redis.networks_advanced).toEqual([{ name: DATA_NETWORK, aliases: ['redis'] }]);
    expect(redis.volumes).toBeUndefined();
    expect(redis.mounts).toEqual([{ type: 'bind', source: '/mnt/HC_Volume_${hcloud_volume.redis-volume.id}', target: '/volume', read_only: false }]);
    expect(redis.entrypoint[2]).toContain('exit 78');
    expect(redis.command[2]).toContain('--dir /volume/redis');
  });

  it("gives every product its own ACL user and generated password, with AOF everysec and production's 512mb volatile-lru", () => {
    const redis = container(data, 'redis');
    const setup: string = redis.command[2];
    expect(setup).toContain('--aclfile /tmp/users.acl --appendonly yes --appendfsync everysec --maxmemory 512mb --maxmemory-policy volatile-lru --repl-diskless-sync-delay 0 --protected-mode no');
    expect(setup).not.toContain('requirepass');
    expect(setup).toContain('echo "user chat on #$REDIS_PASSWORD_HASH_CHAT resetkeys ~chat:* resetchannels &chat:* -@all +@all -@dangerous"');
    expect(setup).toContain('echo "user default on nopass resetkeys resetchannels -@all +ping"');
    expect(setup).toContain('echo "user ops_admin on #$REDIS_ADMIN_PASSWORD_HASH ~* &* +@all"');
    expect(envOf(redis)).toEqual({
      REDIS_ADMIN_PASSWORD_HASH: '${sha256(random_password.redis-password.result)}',
      // One hash per product user of the ACL script, of the password its credentials stack holds.
      ...Object.fromEntries(
        [...setup.matchAll(/user ([a-z0-9-]+) on #\$REDIS_PASSWORD_HASH_/g)].map(([, product]) => [
          `REDIS_PASSWORD_HASH_${product!.toUpperCase().replace(/-/g, '_')}`,
          `\${sha256(data.terraform_remote_state.outputs-production-${product}-credentials.outputs.redis_password)}`,
        ]),
      ),
      DATA_VOLUME: 'HC_Volume_${hcloud_volume.redis-volume.id}',
    });
    expect(redis.memory).toBe(768);
  });

  it('holds no password: every password it references is inside sha256(), in its environment, command, entrypoint and health check', () => {
    const redis = container(data, 'redis');
    const text = JSON.stringify({ env: redis.env, command: redis.command, entrypoint: redis.entrypoint, healthcheck: redis.healthcheck, labels: redis.labels });
    const references = [...text.matchAll(/(?<!\$)\$\{([^}]*)\}/g)].map((match) => match[1]!);
    const passwords = references.filter((reference) => /random_password|redis_password|postgres_password|password/.test(reference));
    // The admin user's and every product user's: at least chat's and the admin's.
    expect(passwords.length).toBeGreaterThanOrEqual(2);
    for (const reference of passwords) expect(reference).toMatch(/^sha256\((random_password\.[a-z0-9-]+\.result|data\.terraform_remote_state\.[a-z0-9-]+\.outputs\.redis_password)\)$/);
    expect(Object.keys(envOf(redis)).filter((name) => name !== 'DATA_VOLUME' && !/^REDIS_(ADMIN_PASSWORD_HASH|PASSWORD_HASH_[A-Z0-9_]+)$/.test(name))).toEqual([]);
  });

  it('is health-checked with an unauthenticated redis-cli ping: the default user may PING and nothing else', () => {
    expect(container(data, 'redis').healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('hands the dump job the admin user and its password, which only the job holds', () => {
    expect(envOf(container(data, 'backup-job'))).toMatchObject({ REDIS_HOST: 'redis', REDIS_USER: 'ops_admin', REDISCLI_AUTH: '${random_password.redis-password.result}' });
    const holders = Object.entries(resources(data, 'docker_container'))
      .filter(([, body]) => JSON.stringify(body).includes('random_password.redis-password.result'))
      .map(([address, body]) => [address, (body as { env: string[] }).env.filter((entry) => entry.includes('random_password.redis-password.result')).map((entry) => entry.split('=')[0])]);
    expect(holders).toEqual([
      ['backup-job', ['REDISCLI_AUTH']],
      ['redis', ['REDIS_ADMIN_PASSWORD_HASH']],
    ]);
  });
});

describe('stateful addresses', () => {
  it('keeps the Terraform addresses of the data containers and passwords (renaming one replaces it)', () => {
    expect(Object.keys(resources(data, 'docker_container')).sort()).toEqual(['backup-job', 'postgres', 'postgres-exporter', 'postgres-provisioner', 'redis']);
    expect(Object.keys(resources(data, 'random_password'))).toEqual(expect.arrayContaining(['postgres-superuser-password', 'redis-password']));
    // A product's passwords: scripts/migrate/credentials.ts moves existing ones to these addresses (docs/deploying.md, "Upgrading").
    expect(Object.keys(resources(app.synth('production-chat-credentials'), 'random_password')).sort()).toEqual(['postgres-role-password', 'redis-user-password']);
  });
});

describe('external data services', () => {
  it('runs no data container for Nutri, whose Postgres and Redis are Supabase and Upstash', () => {
    const nutriData = new SynthesizedSystem(nutri).synth('production-data');
    expect(resources(nutriData, 'docker_container')).toEqual({});
    expect(resources(nutriData, 'random_password')).toEqual({});
  });

  it('gives a product that takes Postgres externally a sensitive variable and no database of its own', () => {
    const external = variant(manacore, (system) => {
      environmentOf(system, 'production').products.find((deployment) => deployment.product === 'chat')!.externalData = ['postgres'];
    });
    const synthesized = new SynthesizedSystem(external);
    const chat = synthesized.synth('production-chat');
    expect(envOf(container(chat, 'chat-backend'))).toMatchObject({
      DATABASE_URL: '${var.database_url}',
      REDIS_URL: '${data.terraform_remote_state.outputs-production-chat-credentials.outputs.redis_url}',
    });
    expect(chat.variable?.database_url).toMatchObject({ sensitive: true });
    const credentials = synthesized.synth('production-chat-credentials');
    expect(Object.keys(credentials.output ?? {}).sort()).toEqual(['redis_password', 'redis_url']);
    const externalData = synthesized.synth('production-data');
    expect(envOf(container(externalData, 'postgres-provisioner')).ROLE_PASSWORD_CHAT).toBeUndefined();
  });
});
