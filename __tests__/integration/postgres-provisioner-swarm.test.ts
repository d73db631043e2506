/**
 * Harbor production's PostgreSQL provisioner as synthesized (a Swarm service on the data node, its passwords Swarm
 * secrets mounted as files: constructs/docker/postgres-container.ts), run on a real single-node swarm (Debian's
 * dockerd 20.10, its own socket and network namespace) against a real PostgreSQL 15 server (helpers/data-node-swarm.ts),
 * under its synthesized image name, user, read-only root, placement, secrets and script. Checked: the roles exist with
 * the passwords read from the files; neither `docker service inspect`, nor `docker inspect` of the task's container,
 * nor the task, nor any process left running in it (its arguments and environment) holds a password; a new role
 * password is a new secret revision the service rolls onto, the SQL runs again and sets it, and the old revision can
 * be removed after. Then the metrics exporter's service as synthesized, running the real postgres_exporter (Debian's
 * 0.11.1 build in an image laid out as upstream's: importPostgresExporter): it reads its role's password from the
 * provisioner's secret file through DATA_SOURCE_PASS_FILE, logs in (`pg_up 1`, its session in pg_stat_activity), and
 * no inspect or process shows it. The backup job's service is integration/backup-job-swarm.test.ts, on a swarm of its
 * own so that the two files' waits for first health checks (30 s intervals) run side by side.
 */
import { importPostgresExporter } from '../../tools/e2e/engine/standins';
import { DataNodeSwarm, password, POSTGRES_IMAGE, SCRAPE_NETWORK } from '../helpers/data-node-swarm';

jest.setTimeout(240_000);

const SERVICE = 'postgres-provisioner';
const EXPORTER = 'postgres-exporter';
const IMAGE = POSTGRES_IMAGE;

let node: DataNodeSwarm;
let engine: DataNodeSwarm['engine'];
const values = { superuser: password(), booking: password(), accounts: password(), exporter: password() };
const createSecret = (id: string, value: string) => node.createSecret(id, value);
const login = (role: string, secret: string, database: string) => node.login(role, secret, database);
const spec = (synthesized: any = node.services[SERVICE]) => node.spec(synthesized);
const healthyTask = (name = SERVICE) => node.runningTask(name, { healthy: true });

beforeAll(async () => {
  node = await DataNodeSwarm.start({
    superuserPassword: values.superuser,
    // The real exporter (Debian's build) under the synthesized image reference.
    images: (client, work, services) => importPostgresExporter(client, services[EXPORTER].task_spec.container_spec.image, work),
  });
  engine = node.engine;
});

afterAll(async () => {
  await node?.stop();
});

it('provisions every role from the passwords in its secret files, and no inspect or running process shows one; a new password rolls it onto a new secret', async () => {
  await createSecret('postgres-superuser-password-secret', values.superuser);
  const oldBooking = await createSecret('postgres-role-booking-secret', values.booking);
  await createSecret('postgres-role-accounts-secret', values.accounts);
  await createSecret('postgres-exporter-password-secret', values.exporter);
  const { ID } = await engine.api('POST', '/services/create', spec());
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
  const processes = engine.cli(['exec', containerId, 'sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; tr "\\0" " " < $p/environ; echo; done']);
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
  // The exporter role and its password's secret are the first test's (the provisioner's secret, which the exporter mounts too).
  expect(node.hasSecret('postgres-exporter-password-secret')).toBe(true);
  await engine.api('POST', '/services/create', spec(node.services[EXPORTER]));
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
  const processes = engine.cli(['exec', containerId, 'sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; tr "\\0" " " < $p/environ; echo; done']);
  expect(processes).toContain('/bin/postgres_exporter');
  const seen = [engine.cli(['service', 'inspect', EXPORTER]), engine.cli(['inspect', containerId]), JSON.stringify(task), processes].join('\n');
  expect(seen.includes(values.exporter)).toBe(false);
});
