/**
 * Harbor's booking/reminders as synthesized (examples/harbor.ts: `secretFiles: ['DATABASE_URL', 'REDIS_URL']`), run
 * on a real single-node swarm (Debian's dockerd 20.10, its own socket and network namespace): the process reads its
 * database URL from the file `DATABASE_URL_FILE` names, and neither `docker service inspect` nor `docker inspect` of
 * its task holds the value. Then a rotation in the order Terraform applies the synthesized replacement (docker_secret
 * is ForceNew and create_before_destroy, kreuzwerker/terraform-provider-docker v3.6.2 resource_docker_secret.go):
 * the new revision is created, the service updated onto it and converged, and only then the old secret removed,
 * which Swarm allows because no service spec references it any more (SwarmKit manager/controlapi/secret.go,
 * RemoveSecret: "in use" means referenced by a service's spec); removing it while referenced is refused.
 */
import { createHash, randomBytes } from 'node:crypto';
import { harbor } from '../../examples/harbor';
import { createSynthesizedSecret, SwarmEngine, serviceSpecOf } from '../helpers/swarm-engine';
import { resources, SynthesizedSystem } from '../helpers/synth';

jest.setTimeout(240_000);

const IMAGE = 'swarm-test/busybox:1';
const NETWORK = 'booking-test';
const SERVICE = 'booking-reminders';

let engine: SwarmEngine;
let service: any;
let secrets: Record<string, any>;

/** Engine objects standing for the Terraform references of the synthesized service and its secrets. */
const references = new Map<string, string>();
const resolve = (reference: string): string => {
  const value = references.get(reference);
  if (value === undefined) throw new Error(`no engine object for ${reference}`);
  return value;
};

/**
 * The synthesized docker_secret `id` holding `value` (createSynthesizedSecret), its references recorded for this file.
 */
function createSecret(id: string, value: string): Promise<{ id: string; name: string }> {
  return createSynthesizedSecret(engine, secrets, references, id, value);
}

/**
 * The synthesized service with stand-ins where this machine differs from a Harbor node: busybox for the image, one
 * overlay for the shared networks, no node label to wait for, small reservations and a 2 s monitor window. Its
 * process is healthy only while the file `DATABASE_URL_FILE` names holds the value whose SHA-256 is `digest` (the
 * digest, not the value, so the spec itself holds no secret).
 */
function specFor(digest: string): any {
  const body = structuredClone(service);
  const container = body.task_spec.container_spec;
  container.image = IMAGE;
  container.args = ['sh', '-c', `[ "$(sha256sum < "$DATABASE_URL_FILE" | cut -d' ' -f1)" = ${digest} ] && touch /tmp/ok; exec sleep 1000`];
  container.healthcheck = { test: ['CMD', 'test', '-f', '/tmp/ok'], interval: '1s', timeout: '1s', retries: 2, start_period: '2s' };
  body.task_spec.networks_advanced = [{ name: NETWORK }];
  body.task_spec.placement.constraints = [];
  body.task_spec.resources.reservation = { nano_cpus: 1e7, memory_bytes: 16 * 1024 * 1024 };
  body.update_config.monitor = '2s';
  body.rollback_config.monitor = '2s';
  return serviceSpecOf(body, resolve);
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** The healthy running task of the service, and its container. */
async function healthyTask(): Promise<{ task: any; container: any } | undefined> {
  const [task] = (await engine.tasks(SERVICE)).filter((candidate) => candidate.DesiredState === 'running' && candidate.Status.State === 'running');
  if (task === undefined) return undefined;
  const container = await engine.api('GET', `/containers/${task.Status.ContainerStatus.ContainerID}/json`);
  return container.State.Health?.Status === 'healthy' ? { task, container } : undefined;
}

beforeAll(async () => {
  const booking = new SynthesizedSystem(harbor).synth('production-booking');
  service = resources(booking, 'docker_service')[SERVICE];
  secrets = resources(booking, 'docker_secret');
  engine = await SwarmEngine.start();
  engine.importBusybox(IMAGE);
  await engine.api('POST', '/networks/create', { Name: NETWORK, Driver: 'overlay', Options: { encrypted: 'true' }, Attachable: true, CheckDuplicate: true });
});

afterAll(async () => {
  await engine?.stop();
});

it('is synthesized with its database and Redis URLs as Swarm secrets, and their paths alone in its environment', () => {
  const container = service.task_spec.container_spec;
  expect(container.env).toMatchObject({ DATABASE_URL_FILE: '/run/secrets/database_url', REDIS_URL_FILE: '/run/secrets/redis_url' });
  expect(Object.keys(container.env).filter((name) => /^(DATABASE|REDIS)_URL$/.test(name))).toEqual([]);
  expect(container.secrets.map((secret: any) => secret.file_name)).toEqual(['database_url', 'redis_url']);
});

it('reads the database URL from its file, and no inspect of the service or its task shows the value; a new value rolls it onto a new secret', async () => {
  const first = `postgresql://booking:${randomBytes(12).toString('hex')}@postgres:5432/booking`;
  const redis = `redis://booking:${randomBytes(12).toString('hex')}@redis:6379/0`;
  const old = await createSecret('booking-reminders-database-url-secret', first);
  await createSecret('booking-reminders-redis-url-secret', redis);
  const { ID } = await engine.api('POST', '/services/create', specFor(sha256(first)));
  await engine.until('the task reads the first value from its file and turns healthy', async () => (await healthyTask()) !== undefined, 90);

  const { task, container } = (await healthyTask())!;
  const inspected = JSON.stringify([await engine.api('GET', `/services/${ID}`), task, container]);
  for (const value of [first, redis]) expect(inspected.includes(value)).toBe(false);
  expect(container.Config.Env).toEqual(expect.arrayContaining(['DATABASE_URL_FILE=/run/secrets/database_url', 'REDIS_URL_FILE=/run/secrets/redis_url']));
  expect(container.Config.Env.some((entry: string) => /^(DATABASE|REDIS)_URL=/.test(entry))).toBe(false);

  // Terraform's replacement of the secret, create_before_destroy: the new revision first ...
  const second = `postgresql://booking:${randomBytes(12).toString('hex')}@postgres:5432/booking`;
  const renewed = await createSecret('booking-reminders-database-url-secret', second);
  expect(renewed.name).not.toBe(old.name);
  // ... the old one cannot go while the service's spec references it ...
  const early = await engine.request('DELETE', `/secrets/${old.id}`);
  expect([early.status, JSON.stringify(early.body)]).toEqual([400, expect.stringContaining(`secret '${old.name}' is in use by the following service: ${SERVICE}`)]);
  // ... the service is updated onto the new one and converges (converge_config waits for it) ...
  const { Version } = await engine.api('GET', `/services/${ID}`);
  await engine.api('POST', `/services/${ID}/update?version=${Version.Index}`, specFor(sha256(second)));
  await engine.until('the update completes', async () => (await engine.api('GET', `/services/${ID}`)).UpdateStatus?.State === 'completed', 120);
  const updated = (await healthyTask())!;
  expect(updated.task.ID).not.toBe(task.ID);
  expect(updated.task.Spec.ContainerSpec.Secrets.find((secret: any) => secret.File.Name === 'database_url').SecretName).toBe(renewed.name);
  // ... and then the old secret is destroyed without "in use".
  await engine.api('DELETE', `/secrets/${old.id}`);
  const remaining = ((await engine.api('GET', '/secrets')) as any[]).map((secret) => secret.Spec.Name).sort();
  expect(remaining).toEqual([renewed.name, references.get('${docker_secret.booking-reminders-redis-url-secret.name}')].sort());
  expect(JSON.stringify([await engine.api('GET', `/services/${ID}`), updated.task, updated.container]).includes(second)).toBe(false);
});
