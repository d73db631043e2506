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
 * onto, the SQL runs again and sets it, and the old revision can be removed after.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { harbor } from '../../examples/harbor';
import { EngineClient } from '../../tools/e2e/engine/api';
import { importStandIns } from '../../tools/e2e/engine/standins';
import { SwarmEngine, serviceSpecOf } from '../helpers/swarm-engine';
import { resources, SynthesizedSystem } from '../helpers/synth';

jest.setTimeout(240_000);

const NETWORK = 'harbor-data';
const SERVICE = 'postgres-provisioner';
const IMAGE = 'postgres:16-alpine';

let engine: SwarmEngine;
let service: any;
let secrets: Record<string, any>;
const references = new Map<string, string>();
const resolve = (reference: string): string => {
  if (/^\$\{data\.terraform_remote_state\.[^}]+_docker_network_data\}$/.test(reference)) return NETWORK;
  const value = references.get(reference);
  if (value === undefined) throw new Error(`no engine object for ${reference}`);
  return value;
};

/** The synthesized docker_secret `id` holding `value`, named as the provider names it (a fresh revision for the random_id). */
async function createSecret(id: string, value: string): Promise<{ id: string; name: string }> {
  const name = String(secrets[id].name).replace(/\$\{random_id\.[^}]+\.hex\}/, randomBytes(4).toString('hex'));
  const { ID } = await engine.api('POST', '/secrets/create', { Name: name, Data: Buffer.from(value).toString('base64') });
  references.set(`\${docker_secret.${id}.id}`, ID);
  references.set(`\${docker_secret.${id}.name}`, name);
  return { id: ID, name };
}

/** The synthesized service; only the update monitor is shortened (24 s: the probe's worst case) to keep the run short. */
function spec(): any {
  const body = structuredClone(service);
  body.update_config.monitor = '2s';
  body.rollback_config.monitor = '2s';
  return serviceSpecOf(body, resolve);
}

/** The healthy running task of the service and its container, if any. */
async function healthyTask(): Promise<{ task: any; container: any } | undefined> {
  const [task] = (await engine.tasks(SERVICE)).filter((candidate) => candidate.DesiredState === 'running' && candidate.Status.State === 'running');
  if (task === undefined) return undefined;
  const container = await engine.api('GET', `/containers/${task.Status.ContainerStatus.ContainerID}/json`);
  return container.State.Health?.Status === 'healthy' ? { task, container } : undefined;
}

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

beforeAll(async () => {
  const data = new SynthesizedSystem(harbor).synth('production-data');
  service = resources(data, 'docker_service')[SERVICE];
  secrets = resources(data, 'docker_secret');
  engine = await SwarmEngine.start();
  const work = fs.mkdtempSync(path.join(engine.dir, 'standin-'));
  await importStandIns(new EngineClient(engine.socket), [{ image: IMAGE, ports: [], extras: new Set(['postgres']), shellLess: false, drainSeconds: 0 }], work);
  // The data node's label (swarm-formation.ts), so the synthesized placement constraint stays as it is.
  engine.cli(['node', 'update', '--label-add', 'data=true', engine.cli(['info', '--format', '{{.Swarm.NodeID}}'])]);
  engine.cli(['network', 'create', '--driver', 'overlay', '--attachable', '--opt', 'encrypted', NETWORK]);
  // The server: a plain container, as on a swarm (its POSTGRES_PASSWORD is docs/scaling.md's "What is not Swarm yet"),
  // its socket directory writable as the synthesized container's (writablePaths).
  engine.cli(['run', '-d', '--name', 'postgres', '--network', NETWORK, '--network-alias', 'postgres', '--tmpfs', '/var/run/postgresql:mode=1777', '-e', `POSTGRES_PASSWORD=${values.superuser}`, '-e', 'PGDATA=/var/lib/pgdata', IMAGE, 'docker-entrypoint.sh', 'postgres']);
  await engine.until('the server accepts connections', async () => login('postgres', values.superuser, 'postgres').ok, 60).catch((error: Error) => {
    throw new Error(`${error.message}\nthe server's log:\n${engine.cli(['logs', 'postgres'])}\nlast login: ${login('postgres', values.superuser, 'postgres').output}`);
  });
});

afterAll(async () => {
  await engine?.stop();
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
