/**
 * Harbor production's backup job as synthesized (a Swarm service on the data node, every credential a Swarm secret
 * file read at dump time: constructs/docker/backup-job.ts), on a real single-node swarm with the image's real tools
 * (pg_dump 15, redis-cli, age, GNU wget; a stand-in for the aws CLI's `s3 cp` that stores the object and the token it
 * was handed: importBackupJob), against a real PostgreSQL 15 server (helpers/data-node-swarm.ts) and a Redis 7 whose
 * admin user has only its password's hash. The product databases are created here by the superuser: the provisioner
 * that creates them on a host is integration/postgres-provisioner-swarm.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { importBackupJob, importStandIns } from '../../tools/e2e/engine/standins';
import { DATA_NETWORK, DataNodeSwarm, password } from '../helpers/data-node-swarm';
import { POSTGRES_BIN } from '../helpers/real-servers';

jest.setTimeout(240_000);

const NETWORK = DATA_NETWORK;
const BACKUP = 'backup-job';
/** The Redis server's stand-in image (the dump job's other server). */
const REDIS_IMAGE = 'redis:7-alpine';
/** What the dump job's Terraform values stand for here: none is secret (the age public key, the bucket's name, the account). */
const BUCKET = 'harbor-production-backups';

let node: DataNodeSwarm;
let engine: DataNodeSwarm['engine'];
let identity: string;
const values = { superuser: password() };
/** The dump job's credentials besides the superuser's: Redis's admin user, the R2 token, the heartbeat URL (served by the server's container). */
const backupValues = { redis: password(), r2KeyId: password(), r2Secret: password(), heartbeat: `http://postgres:8099/ping?${password()}` };
const createSecret = (id: string, value: string) => node.createSecret(id, value);
const spec = (synthesized: any) => node.spec(synthesized);
const runningTask = (name: string) => node.runningTask(name);
const processesOf = (containerId: string) => node.processesOf(containerId);

beforeAll(async () => {
  node = await DataNodeSwarm.start({
    superuserPassword: values.superuser,
    images: async (client, work, services) => {
      await importStandIns(client, [{ image: REDIS_IMAGE, ports: [], extras: new Set(['redis']), shellLess: false, drainSeconds: 0 }], work);
      // The dump job's image with the real pg_dump, redis-cli and age, and a stand-in for the aws CLI's upload to R2.
      await importBackupJob(client, services[BACKUP].task_spec.container_spec.image, work);
    },
  });
  engine = node.engine;
  // The operators' age key: the job holds only its public half.
  identity = path.join(node.work, 'identity.txt');
  execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
  node.values.set('${var.backup_age_recipient}', execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim());
  node.values.set('${cloudflare_r2_bucket.backup-bucket.name}', BUCKET);
  node.values.set('${var.cloudflare_account_id}', 'account');
  // What the provisioner leaves on a host: the superuser's secret (the job mounts the provisioner's) and the databases.
  await createSecret('postgres-superuser-password-secret', values.superuser);
  for (const database of ['booking', 'accounts']) {
    engine.cli(['exec', '-e', `PGPASSWORD=${values.superuser}`, 'postgres', 'psql', '-X', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-c', `CREATE DATABASE ${database}`]);
  }
});

afterAll(async () => {
  await node?.stop();
});

it('runs the dump job as the synthesized service: a dump of the real PostgreSQL and Redis reads every credential from its secret file, reaches the R2 stand-in encrypted to the age key, and no inspect or process shows a credential; a stop waits for a running dump', async () => {
  const timings: Record<string, number> = {};
  let mark = Date.now();
  const lap = (name: string) => {
    timings[name] = (Date.now() - mark) / 1000;
    mark = Date.now();
  };
  // The superuser's secret is the provisioner's; the others are the job's own.
  expect(node.hasSecret('postgres-superuser-password-secret')).toBe(true);
  await createSecret('backup-redis-password-secret', backupValues.redis);
  await createSecret('backup-r2-access-key-id-secret', backupValues.r2KeyId);
  await createSecret('backup-r2-secret-access-key-secret', backupValues.r2Secret);
  await createSecret('backup-heartbeat-url-secret', backupValues.heartbeat);
  // Redis as on the data host: a plain container named redis whose admin user has only its password's hash.
  const redisHash = createHash('sha256').update(backupValues.redis).digest('hex');
  engine.cli(['run', '-d', '--name', 'redis', '--network', NETWORK, '--network-alias', 'redis', REDIS_IMAGE, 'redis-server', '--save', '', '--user', 'default', 'off', '--user', 'ops_admin', 'on', `#${redisHash}`, '~*', '&*', '+@all']);
  const superuser = ['exec', '-e', `PGPASSWORD=${values.superuser}`, 'postgres', 'psql', '-X', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'booking', '-Atc'];
  engine.cli([...superuser, "CREATE TABLE trips (id int, destination text); INSERT INTO trips VALUES (1, 'Lisbon')"]);
  // The heartbeat's receiver: busybox httpd in the server's container, which answers /ping.
  engine.cli(['exec', '-d', 'postgres', 'httpd', '-f', '-p', '8099', '-h', '/srv/www']);
  await engine.until('redis answers', async () => /PONG/.test(engine.cli(['exec', '-e', `REDISCLI_AUTH=${backupValues.redis}`, 'redis', 'redis-cli', '--user', 'ops_admin', 'ping'])), 30);
  engine.cli(['exec', '-e', `REDISCLI_AUTH=${backupValues.redis}`, 'redis', 'redis-cli', '--user', 'ops_admin', 'set', 'booking:trip:1', 'Lisbon']);

  lap('setup (secrets, redis, seed)');
  await engine.api('POST', '/services/create', spec(node.services[BACKUP]));
  await engine.until('the dump job runs crond', async () => {
    const running = await runningTask(BACKUP);
    return running !== undefined && /crond -f/.test(processesOf(running.container.Id));
  }, 60).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${engine.cli(['service', 'logs', BACKUP])}`);
  });
  lap('service created to healthy (the first check comes after its 30 s interval)');
  const { task, container } = (await runningTask(BACKUP))!;
  const containerId = container.Id as string;
  // The synthesized health check passed (crond runs), and PID 1 is the shell, not crond.
  expect(container.State.Health.Status).toBe('healthy');
  expect(engine.cli(['exec', containerId, 'cat', '/proc/1/cmdline']).startsWith('sh\0-c')).toBe(true);
  expect(engine.cli(['exec', containerId, 'stat', '-c', '%a %u %n', '/run/secrets/pgpassword', '/run/secrets/rediscli_auth', '/run/secrets/aws_secret_access_key']).split('\n')).toEqual([
    '400 0 /run/secrets/pgpassword',
    '400 0 /run/secrets/rediscli_auth',
    '400 0 /run/secrets/aws_secret_access_key',
  ]);

  // One dump of each, as the crontab runs it (`/bin/sh /tmp/backup-run <what>`), by hand instead of at 03:00.
  for (const what of ['postgres', 'redis']) {
    const output = engine.cli(['exec', containerId, '/bin/sh', '/tmp/backup-run', what]);
    expect(output).toMatch(new RegExp(`^backup of ${what} done: \\d{8}T\\d{6}Z$`));
  }
  lap('both dumps');
  // What reached the R2 stand-in: the token read from the files, and one object per database and one for Redis.
  expect(engine.cli(['exec', containerId, 'cat', '/tmp/r2/.credentials'])).toBe(`${backupValues.r2KeyId}\n${backupValues.r2Secret}`);
  engine.cli(['exec', containerId, 'rm', '/tmp/r2/.credentials']);
  const objects = engine.cli(['exec', containerId, 'find', '/tmp/r2', '-type', 'f']).split('\n').sort();
  expect(objects.map((object) => object.replace(/\d{8}T\d{6}Z/, '<stamp>'))).toEqual(
    [`postgres/accounts/<stamp>.dump.age`, `postgres/booking/<stamp>.dump.age`, `redis/<stamp>.rdb.age`].map((key) => `/tmp/r2/${BUCKET}/${key}`),
  );
  const decrypted = (object: string) => execFileSync('age', ['--decrypt', '--identity', identity], { input: Buffer.from(engine.cli(['exec', containerId, 'base64', object]), 'base64') });
  const booking = execFileSync(`${POSTGRES_BIN}/pg_restore`, ['--file=-'], { input: decrypted(objects.find((object) => object.includes('/booking/'))!) }).toString();
  expect(booking).toContain('CREATE TABLE public.trips');
  expect(booking).toMatch(/^1\tLisbon$/m);
  const rdb = decrypted(objects.find((object) => object.includes('/redis/'))!);
  expect(rdb.subarray(0, 5).toString()).toBe('REDIS');
  expect(rdb.includes('booking:trip:1')).toBe(true);

  // Nothing anyone with the Docker API sees, nor any process of the task (the shell, crond), holds a credential.
  const processes = processesOf(containerId);
  expect(processes).toContain('crond -f -l 8 -c /tmp/crontabs');
  expect(processes).toContain('PGPASSWORD_FILE=/run/secrets/pgpassword');
  const seen = [engine.cli(['service', 'inspect', BACKUP]), engine.cli(['inspect', containerId]), JSON.stringify(task), processes].join('\n');
  for (const [name, value] of Object.entries({ superuser: values.superuser, ...backupValues })) expect([name, seen.includes(value)]).toEqual([name, false]);

  lap('checks');
  // A stop while a dump runs: pg_dump waits on a lock held for 8 s; the stop ends crond, the shell waits for the
  // dump to finish, and the task exits 0 (a kill at the end of the grace would be 137).
  engine.cli(['exec', '-d', '-e', `PGPASSWORD=${values.superuser}`, 'postgres', 'psql', '-X', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'booking', '-c', 'LOCK TABLE trips IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8)']);
  await engine.until('the lock is held', async () => engine.cli([...superuser, "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'trips'::regclass AND granted"]) === '1', 10);
  engine.cli(['exec', '-d', containerId, 'sh', '-c', '/bin/sh /tmp/backup-run postgres >> /proc/1/fd/1 2>&1']);
  await engine.until('pg_dump waits for the lock', async () => engine.cli([...superuser, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'"]) === '1', 10);
  const stopped = Date.now();
  engine.cli(['service', 'scale', '--detach', `${BACKUP}=0`]);
  await engine.until('the task has exited', async () => !(await engine.api('GET', `/containers/${containerId}/json`)).State.Running, 60);
  const finished = await engine.api('GET', `/containers/${containerId}/json`);
  expect(finished.State.ExitCode).toBe(0);
  expect(new Date(finished.State.FinishedAt).getTime() - stopped).toBeGreaterThan(3000);
  expect(engine.cli(['logs', containerId]).match(/backup of postgres done/g)).toHaveLength(1);
  lap('stop during a dump');
  // eslint-disable-next-line no-console
  console.log(`dump job on the swarm (s): ${JSON.stringify(timings)}; the stop took ${(new Date(finished.State.FinishedAt).getTime() - stopped) / 1000} s, waiting for the dump`);
});
