/**
 * Harbor production's PostgreSQL provisioner as synthesized (a Swarm service on the data node, its passwords Swarm
 * secrets mounted as files: constructs/docker/postgres-container.ts), run on a real single-node swarm (Debian's
 * dockerd 20.10, its own socket and network namespace) against a real PostgreSQL 15 server: the server a plain
 * container on an attachable encrypted overlay under the alias `postgres`, as on a swarm's data host. The image is
 * the e2e's stand-in for `postgres:16-alpine` (tools/e2e/engine/standins.ts: busybox, and PostgreSQL 15's own psql,
 * postgres and initdb from this machine), so the service runs under its synthesized image name, user, read-only root,
 * placement, secrets and script. Checked: the roles exist with the passwords read from the files; neither `docker
 * service inspect`, nor `docker inspect` of the task's container, nor the task, nor any process left running in it
 * (its arguments and environment) holds a password; a new role password is a new secret revision the service rolls
 * onto, the SQL runs again and sets it, and the old revision can be removed after. Then the metrics exporter's service
 * as synthesized, running the real postgres_exporter (Debian's 0.11.1 build in an image laid out as upstream's:
 * importPostgresExporter): it reads its role's password from the provisioner's secret file through
 * DATA_SOURCE_PASS_FILE, logs in (`pg_up 1`, its session in pg_stat_activity), and no inspect or process shows it.
 * The three services are created together before the tests, as one `terraform apply` creates them: their first
 * health checks (30 s after the start for the exporter and the dump job, dockerd 20.10 has no start_interval) then
 * overlap instead of adding up.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { harbor } from '../../examples/harbor';
import { EngineClient } from '../../tools/e2e/engine/api';
import { importBackupJob, importPostgresExporter, importStandIns } from '../../tools/e2e/engine/standins';
import { POSTGRES_BIN } from '../helpers/real-servers';
import { createSynthesizedSecret, SwarmEngine, serviceSpecOf } from '../helpers/swarm-engine';
import { resources, SynthesizedSystem } from '../helpers/synth';

jest.setTimeout(240_000);

const NETWORK = 'harbor-data';
/** The scraper's network (Prometheus joins the backend overlay: stacks/monitoring-stack.ts). */
const SCRAPE_NETWORK = 'harbor-backend';
const SERVICE = 'postgres-provisioner';
const EXPORTER = 'postgres-exporter';
const IMAGE = 'postgres:16-alpine';
const BACKUP = 'backup-job';
/** The Redis server's stand-in image (the dump job's other server). */
const REDIS_IMAGE = 'redis:7-alpine';
/** What the dump job's Terraform values stand for here: none is secret (the age public key, the bucket's name, the account). */
const BUCKET = 'harbor-production-backups';

let engine: SwarmEngine;
let service: any;
let exporter: any;
let backupJob: any;
let recipient: string;
let identity: string;
let secrets: Record<string, any>;
/** The provisioner's service, and the booking role's first secret revision (the rotation replaces it). */
let provisionerId: string;
let oldBooking: { id: string; name: string };
const references = new Map<string, string>();
const resolve = (reference: string): string => {
  if (/^\$\{data\.terraform_remote_state\.[^}]+_docker_network_data\}$/.test(reference)) return NETWORK;
  if (/^\$\{data\.terraform_remote_state\.[^}]+_docker_network_backend\}$/.test(reference)) return SCRAPE_NETWORK;
  if (reference === '${var.backup_age_recipient}') return recipient;
  if (reference === '${cloudflare_r2_bucket.backup-bucket.name}') return BUCKET;
  if (reference === '${var.cloudflare_account_id}') return 'account';
  const value = references.get(reference);
  if (value === undefined) throw new Error(`no engine object for ${reference}`);
  return value;
};

/** The synthesized docker_secret `id` holding `value`, named as the provider names it (a fresh revision for the random_id). */
function createSecret(id: string, value: string): Promise<{ id: string; name: string }> {
  return createSynthesizedSecret(engine, secrets, references, id, value);
}

/** A synthesized service; only the update monitor is shortened (24 s: the probe's worst case) to keep the run short. */
function spec(synthesized: any = service): any {
  const body = structuredClone(synthesized);
  body.update_config.monitor = '2s';
  body.rollback_config.monitor = '2s';
  return serviceSpecOf(body, resolve);
}

/** The healthy running task of a service and its container, if any. */
async function healthyTask(name = SERVICE): Promise<{ task: any; container: any } | undefined> {
  const [task] = (await engine.tasks(name)).filter((candidate) => candidate.DesiredState === 'running' && candidate.Status.State === 'running');
  if (task === undefined) return undefined;
  const container = await engine.api('GET', `/containers/${task.Status.ContainerStatus.ContainerID}/json`);
  return container.State.Health?.Status === 'healthy' ? { task, container } : undefined;
}

/** Every process of a container: its arguments and its environment, one line each. */
const processesOf = (containerId: string) => engine.cli(['exec', containerId, 'sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; tr "\\0" " " < $p/environ; echo; done']);

/** Logs in to `database` as `role` over TCP (scram-sha-256) from inside the server's container; the exit code and output. */
function login(role: string, password: string, database: string): { ok: boolean; output: string } {
  try {
    return { ok: true, output: engine.cli(['exec', '-e', `PGPASSWORD=${password}`, 'postgres', 'psql', '-X', '-h', '127.0.0.1', '-U', role, '-d', database, '-Atc', 'SELECT current_user']) };
  } catch (error) {
    return { ok: false, output: (error as Error).message };
  }
}

const password = () => randomBytes(16).toString('hex');
const values = { superuser: password(), booking: password(), accounts: password(), exporter: password() };
/** The dump job's credentials besides the superuser's: Redis's admin user, the R2 token, the heartbeat URL (served by the server's container). */
const backupValues = { redis: password(), r2KeyId: password(), r2Secret: password(), heartbeat: `http://postgres:8099/ping?${password()}` };

beforeAll(async () => {
  const data = new SynthesizedSystem(harbor).synth('production-data');
  service = resources(data, 'docker_service')[SERVICE];
  exporter = resources(data, 'docker_service')[EXPORTER];
  backupJob = resources(data, 'docker_service')[BACKUP];
  secrets = resources(data, 'docker_secret');
  engine = await SwarmEngine.start();
  const work = fs.mkdtempSync(path.join(engine.dir, 'standin-'));
  // The operators' age key: the job holds only its public half.
  identity = path.join(work, 'identity.txt');
  execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
  recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();
  const client = new EngineClient(engine.socket);
  await importStandIns(client, [
    { image: IMAGE, ports: [], extras: new Set(['postgres']), shellLess: false, drainSeconds: 0 },
    { image: REDIS_IMAGE, ports: [], extras: new Set(['redis']), shellLess: false, drainSeconds: 0 },
  ], work);
  // The dump job's image with the real pg_dump, redis-cli and age, and a stand-in for the aws CLI's upload to R2.
  await importBackupJob(client, backupJob.task_spec.container_spec.image, work);
  // The real exporter (Debian's build) under the synthesized image reference.
  await importPostgresExporter(client, exporter.task_spec.container_spec.image, work);
  // The data node's label (swarm-formation.ts), so the synthesized placement constraint stays as it is.
  await engine.labelNode({ data: 'true' });
  for (const network of [NETWORK, SCRAPE_NETWORK]) engine.cli(['network', 'create', '--driver', 'overlay', '--attachable', '--opt', 'encrypted', network]);
  // The server: a plain container, as on a swarm (its POSTGRES_PASSWORD is docs/scaling.md's "What is not Swarm yet"),
  // its socket directory writable as the synthesized container's (writablePaths).
  engine.cli(['run', '-d', '--name', 'postgres', '--network', NETWORK, '--network-alias', 'postgres', '--tmpfs', '/var/run/postgresql:mode=1777', '-e', `POSTGRES_PASSWORD=${values.superuser}`, '-e', 'PGDATA=/var/lib/pgdata', IMAGE, 'docker-entrypoint.sh', 'postgres']);
  await engine.until('the server accepts connections', async () => login('postgres', values.superuser, 'postgres').ok, 60).catch((error: Error) => {
    throw new Error(`${error.message}\nthe server's log:\n${engine.cli(['logs', 'postgres'])}\nlast login: ${login('postgres', values.superuser, 'postgres').output}`);
  });
  // Every secret, then the three services at once (each test below waits for its own).
  await createSecret('postgres-superuser-password-secret', values.superuser);
  oldBooking = await createSecret('postgres-role-booking-secret', values.booking);
  await createSecret('postgres-role-accounts-secret', values.accounts);
  await createSecret('postgres-exporter-password-secret', values.exporter);
  await createSecret('backup-redis-password-secret', backupValues.redis);
  await createSecret('backup-r2-access-key-id-secret', backupValues.r2KeyId);
  await createSecret('backup-r2-secret-access-key-secret', backupValues.r2Secret);
  await createSecret('backup-heartbeat-url-secret', backupValues.heartbeat);
  provisionerId = (await engine.api('POST', '/services/create', spec())).ID;
  await engine.api('POST', '/services/create', spec(exporter));
  await engine.api('POST', '/services/create', spec(backupJob));
});

afterAll(async () => {
  await engine?.stop();
});

it('provisions every role from the passwords in its secret files, and no inspect or running process shows one; a new password rolls it onto a new secret', async () => {
  const ID = provisionerId;
  await engine.until('the provisioner ran its SQL and turned healthy', async () => (await healthyTask()) !== undefined, 120);

  expect(login('booking', values.booking, 'booking')).toEqual({ ok: true, output: 'booking' });
  expect(login('accounts', values.accounts, 'accounts')).toEqual({ ok: true, output: 'accounts' });
  expect(login('postgres_exporter', values.exporter, 'postgres')).toEqual({ ok: true, output: 'postgres_exporter' });
  // Each product role reaches its own database only (REVOKE ... FROM PUBLIC).
  expect(login('booking', values.booking, 'accounts')).toMatchObject({ ok: false, output: expect.stringContaining('permission denied for database "accounts"') });

  const { task, container } = (await healthyTask())!;
  const containerId = container.Id as string;
  // The files: the task's user's alone.
  expect(engine.cli(['exec', containerId, 'stat', '-c', '%a %u %n', '/run/secrets/pgpassword', '/run/secrets/role_password_booking']).split('\n')).toEqual([
    '400 1001 /run/secrets/pgpassword',
    '400 1001 /run/secrets/role_password_booking',
  ]);
  // What anyone with the Docker API sees, and what every process still running in the task holds (arguments and
  // environment: the subshell that exported the passwords to psql has exited).
  const processes = processesOf(containerId);
  expect(processes).toContain('sleep 2147483647');
  const seen = [engine.cli(['service', 'inspect', SERVICE]), engine.cli(['inspect', containerId]), JSON.stringify(task), processes].join('\n');
  for (const [name, value] of Object.entries(values)) expect([name, seen.includes(value)]).toEqual([name, false]);

  // A rotation in Terraform's order: the new revision (create_before_destroy), the service updated onto it ...
  const rotated = password();
  const newBooking = await createSecret('postgres-role-booking-secret', rotated);
  expect(newBooking.name).not.toBe(oldBooking.name);
  const { Version } = await engine.api('GET', `/services/${ID}`);
  await engine.api('POST', `/services/${ID}/update?version=${Version.Index}`, spec());
  await engine.until('the update onto the new secret completes', async () => (await engine.api('GET', `/services/${ID}`)).UpdateStatus?.State === 'completed', 120);
  const updated = (await healthyTask())!;
  expect(updated.task.ID).not.toBe(task.ID);
  expect(updated.task.Spec.ContainerSpec.Secrets.find((secret: any) => secret.File.Name === 'role_password_booking').SecretName).toBe(newBooking.name);
  // ... whose SQL set the new password ...
  expect(login('booking', rotated, 'booking')).toEqual({ ok: true, output: 'booking' });
  expect(login('booking', values.booking, 'booking')).toMatchObject({ ok: false, output: expect.stringContaining('password authentication failed for user "booking"') });
  expect(login('accounts', values.accounts, 'accounts').ok).toBe(true);
  // ... and the old revision goes, unused.
  await engine.api('DELETE', `/secrets/${oldBooking.id}`);
  const afterRotation = [engine.cli(['service', 'inspect', SERVICE]), engine.cli(['inspect', updated.container.Id])].join('\n');
  expect(afterRotation.includes(rotated)).toBe(false);
});

it('runs the real postgres exporter as the synthesized service: it reads its password from its secret file, logs in (pg_up 1), answers the scraper on the backend overlay, where its name resolves, and no inspect or process shows the password', async () => {
  // The exporter mounts the provisioner's secret of its role's password; the role is the provisioner's (the first test).
  expect(references.has('${docker_secret.postgres-exporter-password-secret.id}')).toBe(true);
  await engine.until('the exporter turned healthy', async () => (await healthyTask(EXPORTER)) !== undefined, 120).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${engine.cli(['service', 'logs', EXPORTER])}`);
  });
  const { task, container } = (await healthyTask(EXPORTER))!;
  // Prometheus's static target `postgres-exporter:9187`, from a plain container on the backend overlay as the server is:
  // the name resolves to the service's virtual IP there. That IP does not answer on this test daemon (IPVS needs the
  // netfilter rules --iptables=false leaves out: __tests__/integration/engine-switch.test.ts), so the scrape goes to
  // the task's own address (`tasks.<service>`), which the virtual IP balances over on a real host.
  const onScrapeNetwork = (...command: string[]) => engine.cli(['run', '--rm', '--network', SCRAPE_NETWORK, IMAGE, ...command]);
  const { Endpoint } = await engine.api('GET', `/services/${EXPORTER}`);
  const scrapeNetworkId = engine.cli(['network', 'inspect', '--format', '{{.Id}}', SCRAPE_NETWORK]);
  const virtualIp = String(Endpoint.VirtualIPs.find((vip: any) => vip.NetworkID === scrapeNetworkId).Addr).split('/')[0];
  expect(onScrapeNetwork('nslookup', EXPORTER)).toContain(`Address: ${virtualIp}`);
  const scrape = () => onScrapeNetwork('wget', '-q', '-O', '-', `http://tasks.${EXPORTER}:9187/metrics`);
  await engine.until('the exporter reports the server up', async () => /^pg_up 1$/m.test(scrape()), 60).catch((error: Error) => {
    throw new Error(`${error.message}\n${scrape().split('\n').filter((line) => line.startsWith('pg_up')).join('\n')}\n${engine.cli(['service', 'logs', EXPORTER])}`);
  });
  // It is logged in as its own role, to the postgres database, and nothing else.
  const sessions = engine.cli(['exec', '-e', `PGPASSWORD=${values.superuser}`, 'postgres', 'psql', '-X', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-Atc', "SELECT DISTINCT datname FROM pg_stat_activity WHERE usename = 'postgres_exporter'"]);
  expect(sessions.split('\n')).toEqual(['postgres']);

  const containerId = container.Id as string;
  expect(engine.cli(['exec', containerId, 'stat', '-c', '%a %u %n', '/run/secrets/data_source_pass'])).toBe('400 1001 /run/secrets/data_source_pass');
  const environment: string[] = container.Config.Env;
  expect(environment).toContain('DATA_SOURCE_PASS_FILE=/run/secrets/data_source_pass');
  expect(environment.filter((entry) => entry.startsWith('DATA_SOURCE_PASS='))).toEqual([]);
  const processes = processesOf(containerId);
  expect(processes).toContain('/bin/postgres_exporter');
  const seen = [engine.cli(['service', 'inspect', EXPORTER]), engine.cli(['inspect', containerId]), JSON.stringify(task), processes].join('\n');
  expect(seen.includes(values.exporter)).toBe(false);
});

/** The running task of a service and its container: Swarm reports a task with a health check running once it is healthy. */
async function runningTask(name: string): Promise<{ task: any; container: any } | undefined> {
  const [task] = (await engine.tasks(name)).filter((candidate) => candidate.DesiredState === 'running' && candidate.Status.State === 'running');
  if (task === undefined) return undefined;
  return { task, container: await engine.api('GET', `/containers/${task.Status.ContainerStatus.ContainerID}/json`) };
}


it('runs the dump job as the synthesized service: a dump of the real PostgreSQL and Redis reads every credential from its secret file, reaches the R2 stand-in encrypted to the age key, and no inspect or process shows a credential; a stop waits for a running dump', async () => {
  const timings: Record<string, number> = {};
  let mark = Date.now();
  const lap = (name: string) => {
    timings[name] = (Date.now() - mark) / 1000;
    mark = Date.now();
  };
  // The superuser's secret is the provisioner's; the others are the job's own.
  expect(references.has('${docker_secret.postgres-superuser-password-secret.id}')).toBe(true);
  // Redis as on the data host: a plain container named redis whose admin user has only its password's hash.
  const redisHash = createHash('sha256').update(backupValues.redis).digest('hex');
  engine.cli(['run', '-d', '--name', 'redis', '--network', NETWORK, '--network-alias', 'redis', REDIS_IMAGE, 'redis-server', '--save', '', '--user', 'default', 'off', '--user', 'ops_admin', 'on', `#${redisHash}`, '~*', '&*', '+@all']);
  const superuser = ['exec', '-e', `PGPASSWORD=${values.superuser}`, 'postgres', 'psql', '-X', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'booking', '-Atc'];
  engine.cli([...superuser, "CREATE TABLE trips (id int, destination text); INSERT INTO trips VALUES (1, 'Lisbon')"]);
  // The heartbeat's receiver: busybox httpd in the server's container, which answers /ping.
  engine.cli(['exec', '-d', 'postgres', 'httpd', '-f', '-p', '8099', '-h', '/srv/www']);
  await engine.until('redis answers', async () => /PONG/.test(engine.cli(['exec', '-e', `REDISCLI_AUTH=${backupValues.redis}`, 'redis', 'redis-cli', '--user', 'ops_admin', 'ping'])), 30);
  engine.cli(['exec', '-e', `REDISCLI_AUTH=${backupValues.redis}`, 'redis', 'redis-cli', '--user', 'ops_admin', 'set', 'booking:trip:1', 'Lisbon']);

  lap('setup (redis, seed)');
  await engine.until('the dump job runs crond', async () => {
    const running = await runningTask(BACKUP);
    return running !== undefined && /crond -f/.test(processesOf(running.container.Id));
  }, 60).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${engine.cli(['service', 'logs', BACKUP])}`);
  });
  lap('healthy (created before the tests; the first check comes after its 30 s interval)');
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
