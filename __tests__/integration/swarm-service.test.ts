/**
 * What SwarmService synthesizes, run on a real single-node swarm (Debian's
 * dockerd 20.10, started here with its own socket): a new version whose
 * health check fails is rolled back by Swarm itself, a killed task's replica
 * is replaced, and a secret reaches the process as a file under /run/secrets
 * that only its user reads, never as an environment value. Then Harbor's
 * production (a swarm of three hosts) as synthesized: booking/web placed only
 * on a node labelled with its group's role, on the overlays the edge and
 * product stacks create (measured here: healthy 7 s after the label is set).
 */
import { randomBytes } from 'node:crypto';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { Duration } from '../../constructs/core/duration';
import { HealthCheck } from '../../constructs/core/health-check';
import { OverlayNetwork } from '../../constructs/docker/overlay-network';
import { SwarmSecret } from '../../constructs/docker/swarm-secret';
import { SwarmService, type SwarmServiceProps } from '../../constructs/docker/swarm-service';
import { swarmNodeLabels } from '../../constructs/hetzner/swarm-formation';
import { harbor } from '../../examples/harbor';
import { SwarmEngine, serviceSpecOf } from '../helpers/swarm-engine';
import { resources, SynthesizedSystem, synthStack } from '../helpers/synth';

jest.setTimeout(240_000);

const IMAGE = 'swarm-test/busybox:1';
const NETWORK = 'products';
/** Fast probes so a failing version is found within seconds: unhealthy after 2 s + (1 s + 1 s) x 2. */
const FLAG_CHECK = HealthCheck.command(['test', '-f', '/tmp/ok'], { interval: Duration.seconds(1), timeout: Duration.seconds(1), retries: 2, startPeriod: Duration.seconds(2) });
const HEALTHY = ['sh', '-c', 'touch /tmp/ok; exec sleep 1000'];

let engine: SwarmEngine;
/** Terraform references and the engine objects they stand for. */
const references = new Map<string, string>();

/** The stack the services are synthesized in, with the overlay network and one secret. */
function synthesize(services: Record<string, Partial<SwarmServiceProps>>, withSecret = false): { json: any; stack: TerraformStack } {
  const stack = new TerraformStack(Testing.app(), 'swarm');
  new DockerProvider(stack, 'docker', {});
  const network = new OverlayNetwork(stack, 'products', { name: NETWORK });
  const password = !withSecret ? undefined : new SwarmSecret(stack, 'db-password', { name: 'db-password', value: new TerraformVariable(stack, 'db_password', { type: 'string', sensitive: true }).stringValue });
  for (const [name, props] of Object.entries(services)) {
    new SwarmService(stack, name, {
      name,
      image: IMAGE,
      resources: { cpuLimit: 0.25, memoryLimitMiB: 32, cpuReservation: 0.05, memoryReservationMiB: 16 },
      networks: [{ name: network.network.name }],
      healthCheck: FLAG_CHECK.toDocker(),
      stopGraceSeconds: 2,
      ...(password ? { secretFiles: { DB_PASSWORD: password } } : {}),
      ...props,
    });
  }
  return { json: synthStack(stack), stack };
}

const resolve = (reference: string): string => {
  const value = references.get(reference);
  if (value === undefined) throw new Error(`no engine object for ${reference}`);
  return value;
};

async function create(json: any, name: string): Promise<string> {
  const { ID } = await engine.api('POST', '/services/create', serviceSpecOf(resources(json, 'docker_service')[name], resolve));
  return ID as string;
}

/**
 * Removes a service a test is done with: every task's health check is a runc exec each second, a CPU cost the
 * tests after it need not pay.
 */
async function remove(service: string): Promise<void> {
  await engine.api('DELETE', `/services/${service}`);
}

/** Running tasks of `service`. */
async function running(service: string): Promise<any[]> {
  return (await engine.tasks(service)).filter((task) => task.DesiredState === 'running' && task.Status.State === 'running');
}

beforeAll(async () => {
  engine = await SwarmEngine.start();
  engine.importBusybox(IMAGE);
  const network = resources(synthesize({}).json, 'docker_network').products;
  const { Id } = await engine.api('POST', '/networks/create', {
    Name: network.name,
    Driver: network.driver,
    Options: network.options,
    Attachable: network.attachable,
    Internal: network.internal,
    CheckDuplicate: true,
  });
  references.set('${docker_network.products.name}', NETWORK);
  expect(Id).toBeTruthy();
});

afterAll(async () => {
  await engine?.stop();
});

it('rolls an update back when the new version fails its health check, and the old version keeps serving', async () => {
  const { json } = synthesize({ web: { replicas: 2, command: HEALTHY } });
  const id = await create(json, 'web');
  await engine.until('both replicas of the first version run', async () => (await running('web')).length === 2, 60);
  const first = new Set((await running('web')).map((task) => task.ID));

  // Version 2 never writes its health flag: each new task stays unhealthy.
  const broken = synthesize({ web: { replicas: 2, command: ['sh', '-c', 'exec sleep 1000'], environment: { VERSION: '2' } } }).json;
  const { Version } = await engine.api('GET', `/services/${id}`);
  await engine.api('POST', `/services/${id}/update?version=${Version.Index}`, serviceSpecOf(resources(broken, 'docker_service').web, resolve));
  await engine.until('Swarm rolled the update back', async () => (await engine.api('GET', `/services/${id}`)).UpdateStatus?.State === 'rollback_completed', 120);

  const service = await engine.api('GET', `/services/${id}`);
  expect(service.Spec.TaskTemplate.ContainerSpec.Args).toEqual(HEALTHY);
  expect(service.Spec.TaskTemplate.ContainerSpec.Env ?? []).not.toContain('VERSION=2');
  const tasks = await engine.tasks('web');
  // The failed task of version 2 was stopped for being unhealthy.
  expect(tasks.some((task) => task.Spec.ContainerSpec.Args?.[2] === 'exec sleep 1000' && /unhealthy/.test(task.Status.Err ?? ''))).toBe(true);
  // start-first: the update never stopped a replica of version 1 before its successor was healthy, so both still run.
  const after = await running('web');
  expect(after).toHaveLength(2);
  expect(after.filter((task) => first.has(task.ID))).toHaveLength(2);
  await remove('web');
});

it('replaces a killed task with a new one', async () => {
  const { json } = synthesize({ worker: { command: HEALTHY } });
  await create(json, 'worker');
  await engine.until('the replica runs', async () => (await running('worker')).length === 1, 60);
  const [victim] = await running('worker');
  await engine.api('POST', `/containers/${victim.Status.ContainerStatus.ContainerID}/kill`);
  await engine.until('a new replica runs', async () => (await running('worker')).some((task) => task.ID !== victim.ID), 60);
  const tasks = await engine.tasks('worker');
  expect(tasks.find((task) => task.ID === victim.ID)?.Status.State).toMatch(/failed|shutdown/);
  expect(await running('worker')).toHaveLength(1);
  await remove('worker');
});

it("answers tasks.<service> with each task's address and the service's name with one other (its virtual IP): why Prometheus scrapes a swarm's services through tasks.<service>", async () => {
  // Attachable, as the shared overlays the monitoring server's plain Prometheus container joins.
  await engine.api('POST', '/networks/create', { Name: 'scraped', Driver: 'overlay', Attachable: true, CheckDuplicate: true });
  const { json } = synthesize({ metrics: { command: HEALTHY, replicas: 2, networks: [{ name: 'scraped' }] } });
  await create(json, 'metrics');
  await engine.until('both replicas run', async () => (await running('metrics')).length === 2, 60);
  const taskAddresses = (await running('metrics'))
    .flatMap((task) => task.NetworksAttachments ?? [])
    .filter((attachment: any) => attachment.Network.Spec.Name === 'scraped')
    .flatMap((attachment: any) => attachment.Addresses.map((address: string) => address.split('/')[0]));
  expect(taskAddresses).toHaveLength(2);
  const answer = (name: string): string[] => {
    const output = engine.cli(['run', '--rm', '--network', 'scraped', IMAGE, 'nslookup', name, '127.0.0.11']);
    // busybox prints the server first ("Address: 127.0.0.11:53"), then one "Address: <ip>" per record.
    return [...output.matchAll(/^Address:\s+(\d+\.\d+\.\d+\.\d+)$/gm)].map((match) => match[1]!);
  };
  expect(answer('tasks.metrics').sort()).toEqual([...taskAddresses].sort());
  const virtual = answer('metrics');
  expect(virtual).toHaveLength(1);
  expect(taskAddresses).not.toContain(virtual[0]);
  await remove('metrics');
});

it('hands a secret to the process as a file only its user reads, not as an environment value; /tmp is a noexec tmpfs', async () => {
  const value = randomBytes(12).toString('hex');
  const { ID } = await engine.api('POST', '/secrets/create', { Name: `db-password-${randomBytes(4).toString('hex')}`, Data: Buffer.from(value).toString('base64') });
  const stored = await engine.api('GET', `/secrets/${ID}`);
  references.set('${docker_secret.db-password.id}', ID);
  references.set('${docker_secret.db-password.name}', stored.Spec.Name);
  // Healthy only when the file named by DB_PASSWORD_FILE holds the value, belongs to uid 1001 and has mode 0400,
  // and /tmp is a tmpfs mounted nosuid, nodev and noexec.
  const check =
    `[ "$(stat -c %a:%u "$DB_PASSWORD_FILE")" = 400:1001 ] && [ "$(cat "$DB_PASSWORD_FILE")" = ${value} ] && ` +
    `grep -q '^tmpfs /tmp tmpfs rw,nosuid,nodev,noexec' /proc/mounts && touch /tmp/ok; exec sleep 1000`;
  const { json } = synthesize({ api: { command: ['sh', '-c', check] } }, true);
  expect(JSON.stringify(resources(json, 'docker_service').api.task_spec.container_spec.env)).not.toContain(value);
  await create(json, 'api');
  await engine.until('the replica is healthy', async () => (await running('api')).length === 1, 60);
  const [task] = await running('api');
  const container = await engine.api('GET', `/containers/${task.Status.ContainerStatus.ContainerID}/json`);
  expect(container.State.Health.Status).toBe('healthy');
  expect(container.Config.Env).toContain('DB_PASSWORD_FILE=/run/secrets/db_password');
  expect(container.Config.Env.join('\n')).not.toContain(value);
  expect(container.HostConfig).toMatchObject({ ReadonlyRootfs: true, CapDrop: ['ALL'] });
  expect(container.Config.User).toBe('1001');
});

// While the secret test's task runs: a node shows a swarm network's driver and options once a task of its own joined it.
it('created the overlay network encrypted', async () => {
  const network = await engine.api('GET', `/networks/${NETWORK}`);
  expect(network).toMatchObject({ Driver: 'overlay', Scope: 'swarm', Options: { encrypted: 'true' } });
  await remove('api');
});

describe("Harbor's production as synthesized (one swarm of app-1, app-2, data-1)", () => {
  const app = new SynthesizedSystem(harbor);
  /** What the edge stack's outputs and the product network's name stand for on the engine. */
  const edgeOutput = /^\$\{data\.terraform_remote_state\.outputs-production-edge\.outputs\.host_data_1_docker_network_(frontend|backend|data)\}$/;
  const resolveHarbor = (reference: string): string => {
    const shared = edgeOutput.exec(reference);
    if (shared) return `harbor-${shared[1]}`;
    if (reference === '${docker_network.product-network.name}') return 'harbor-booking';
    throw new Error(`no engine object for ${reference}`);
  };
  /** A synthesized docker_network created as resource_docker_network_funcs.go creates it. */
  const createNetwork = (body: any) =>
    engine.api('POST', '/networks/create', {
      Name: body.name,
      Driver: body.driver,
      Options: body.options,
      Attachable: body.attachable,
      Internal: body.internal,
      EnableIPv6: body.ipv6,
      IPAM: body.ipam_config && { Driver: 'default', Config: body.ipam_config.map((config: any) => ({ Subnet: config.subnet })) },
      CheckDuplicate: true,
    });

  it('places booking/web only on a node labelled role=app: pending without the label, running and healthy with it', async () => {
    const edgeNetworks = resources(app.synth('production-edge'), 'docker_network');
    for (const id of ['swarm-frontend', 'swarm-backend', 'swarm-data']) await createNetwork(edgeNetworks[id]);
    const booking = app.synth('production-booking');
    await createNetwork(resources(booking, 'docker_network')['product-network']);
    const web = structuredClone(resources(booking, 'docker_service')['booking-web']);
    // A stand-in answering the service's own probe (wget http://127.0.0.1:3000/api/health) as uid 1001 on a read-only root.
    web.task_spec.container_spec.image = IMAGE;
    web.task_spec.container_spec.args = ['sh', '-c', 'mkdir -p /tmp/www/api && echo ok > /tmp/www/api/health && exec httpd -f -p 3000 -h /tmp/www'];
    web.task_spec.container_spec.healthcheck = { ...web.task_spec.container_spec.healthcheck, interval: '1s', start_period: '2s' };
    const spec = serviceSpecOf(web, resolveHarbor);
    expect(spec.TaskTemplate.Placement.Constraints).toEqual(['node.labels.role==app']);
    expect(spec.Labels['traefik.swarm.network']).toBe('harbor-frontend');
    await engine.api('POST', '/services/create', spec);

    const states = async () => (await engine.tasks('booking-web')).map((task) => [task.Status.State, task.Status.Err ?? '']);
    await engine.until('the tasks wait for a node with the label', async () => (await states()).length === 2, 30);
    await new Promise((done) => setTimeout(done, 3000));
    for (const [state, error] of await states()) expect([state, error]).toEqual(['pending', expect.stringContaining('no suitable node')]);

    // The label the formation gives an app node.
    await engine.labelNode(swarmNodeLabels({ name: 'app-1', group: 'app' }, 'data-1'));
    const healthy = async () => {
      const tasks = (await engine.tasks('booking-web')).filter((task) => task.DesiredState === 'running' && task.Status.State === 'running');
      if (tasks.length !== 2) return false;
      const containers = await Promise.all(tasks.map((task) => engine.api('GET', `/containers/${task.Status.ContainerStatus.ContainerID}/json`)));
      return containers.every((container) => container.State.Health?.Status === 'healthy');
    };
    await engine.until('both replicas run healthy on the labelled node', healthy, 90);
  });

  // After a task joined them: a node shows a swarm network's driver and options only then.
  it('created the overlays as synthesized: encrypted, attachable, the data network internal, IPv4 only', async () => {
    const inspect = (name: string) => engine.api('GET', `/networks/${name}`);
    for (const name of ['harbor-frontend', 'harbor-booking']) {
      const network = await inspect(name);
      expect([name, network.Driver, network.Scope, network.Options?.encrypted, network.Attachable]).toEqual([name, 'overlay', 'swarm', 'true', true]);
    }
    // An overlay with an IPv6 subnet fails every task on Docker 20.10 ("Invalid address fd4d:...: It does not belong
    // to any of this network's subnets"): found here; the edge proxies take IPv6 on a bridge of their host instead.
    expect((await inspect('harbor-frontend')).EnableIPv6).toBe(false);
    expect(await inspect('harbor-data')).toMatchObject({ Internal: true, Attachable: true });
  });
});
