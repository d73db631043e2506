/**
 * The Swarm engine mapping: what SwarmService, SwarmSecret and
 * OverlayNetwork synthesize as `docker_service`, `docker_secret` and
 * `docker_network` (provider v3.6.2 attribute names), and what they refuse.
 */
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { Duration } from '../constructs/core/duration';
import { HealthCheck } from '../constructs/core/health-check';
import { OverlayNetwork } from '../constructs/docker/overlay-network';
import { SwarmSecret } from '../constructs/docker/swarm-secret';
import { SwarmService, type SwarmServiceProps } from '../constructs/docker/swarm-service';
import { resources, synthStack } from './helpers/synth';

const RESOURCES = { cpuLimit: 0.5, memoryLimitMiB: 256, cpuReservation: 0.25, memoryReservationMiB: 128 };

function stack(): TerraformStack {
  const scope = new TerraformStack(Testing.app(), 'unit');
  new DockerProvider(scope, 'docker', {});
  return scope;
}

function password(scope: TerraformStack): string {
  return new TerraformVariable(scope, 'db_password', { type: 'string', sensitive: true }).stringValue;
}

function service(props: Partial<SwarmServiceProps> = {}, scope = stack()): any {
  const network = new OverlayNetwork(scope, 'chat-net', { name: 'chat' });
  new SwarmService(scope, 'chat-backend', {
    name: 'chat-backend',
    image: 'ghcr.io/acme/chat-backend:1.2.3',
    resources: RESOURCES,
    networks: [{ name: network.network.name, aliases: ['backend'] }],
    healthCheck: HealthCheck.http('/health', { interval: Duration.seconds(10), timeout: Duration.seconds(5), retries: 3, startPeriod: Duration.seconds(20) }).toDocker(3000),
    ...props,
  });
  const json = synthStack(scope);
  return { json, body: resources(json, 'docker_service')['chat-backend'] };
}

describe('SwarmService', () => {
  it('rolls updates out start-first, one task at a time, and back when a task fails within the monitor window', () => {
    const { body } = service();
    // Monitor: (10 s + 5 s) x 3 retries, the time a healthy task takes to be found unhealthy.
    expect(body.update_config).toEqual({ parallelism: 1, delay: '0s', order: 'start-first', failure_action: 'rollback', monitor: '45s', max_failure_ratio: '0' });
    expect(body.rollback_config).toEqual({ parallelism: 1, delay: '0s', order: 'start-first', failure_action: 'pause', monitor: '45s', max_failure_ratio: '0' });
  });

  it('times a service whose probe is turned off by the no-check defaults, not by the disabled probe\'s timings', () => {
    const { body } = service({ healthCheck: HealthCheck.none('celery beat has no health endpoint').toDocker() });
    expect(body.task_spec.container_spec.healthcheck.test).toEqual(['NONE']);
    expect(body.update_config.monitor).toBe('30s');
    // 2 x 1 replica x (no start to wait for, 30 s monitor) + 60.
    expect(body.converge_config.timeout).toBe(`${2 * 30 + 60}s`);
  });

  it('makes Terraform wait for convergence, long enough for every replica and a rollback', () => {
    const { body } = service({ replicas: 3 });
    expect(body.mode).toEqual({ replicated: { replicas: 3 } });
    // 2 x 3 replicas x (20 + 45 start, 45 monitor) + 60.
    expect(body.converge_config).toEqual({ delay: '5s', timeout: `${2 * 3 * (65 + 45) + 60}s` });
  });

  it('is hardened like a container: non-root, read-only root, every capability dropped, tmpfs /tmp', () => {
    const spec = service({ capabilities: ['NET_BIND_SERVICE'], writablePaths: ['/app/cache'] }).body.task_spec.container_spec;
    expect(spec).toMatchObject({ user: '1001', read_only: true, cap_drop: ['ALL'], cap_add: ['NET_BIND_SERVICE'], stop_grace_period: '10s' });
    expect(spec.mounts).toEqual([
      { type: 'tmpfs', target: '/tmp', tmpfs_options: { size_bytes: 104857600 } },
      { type: 'tmpfs', target: '/app/cache', tmpfs_options: { size_bytes: 104857600 } },
    ]);
  });

  it('turns limits and reservations into nano-CPUs and bytes', () => {
    expect(service().body.task_spec.resources).toEqual({
      limits: { nano_cpus: 500000000, memory_bytes: 268435456 },
      reservation: { nano_cpus: 250000000, memory_bytes: 134217728 },
    });
  });

  it('places by node label with a per-node ceiling, and restarts any exited task after 5 s', () => {
    const { task_spec } = service({ nodeLabels: { role: 'app' }, maxReplicasPerNode: 1, replicas: 2 }).body;
    expect(task_spec.placement).toEqual({ constraints: ['node.labels.role==app'], max_replicas: 1 });
    expect(task_spec.restart_policy).toEqual({ condition: 'any', delay: '5s', max_attempts: 0 });
  });

  it('mounts a secret as a file only its user reads and points <NAME>_FILE at it', () => {
    const scope = stack();
    const secret = new SwarmSecret(scope, 'chat-db-password', { name: 'chat-db-password', value: password(scope) });
    const { body, json } = service({ secretFiles: { DATABASE_PASSWORD: secret } }, scope);
    const spec = body.task_spec.container_spec;
    expect(spec.env).toEqual({ DATABASE_PASSWORD_FILE: '/run/secrets/database_password' });
    expect(spec.secrets).toEqual([
      { secret_id: '${docker_secret.chat-db-password.id}', secret_name: '${docker_secret.chat-db-password.name}', file_name: 'database_password', file_uid: '1001', file_gid: '0', file_mode: 256 },
    ]);
    const stored = resources(json, 'docker_secret')['chat-db-password'];
    expect(stored).toMatchObject({ name: 'chat-db-password-${random_id.chat-db-password-revision.hex}', data: '${base64encode(var.db_password)}', lifecycle: { create_before_destroy: true } });
    expect(resources(json, 'random_id')['chat-db-password-revision'].keepers).toEqual({ value: '${var.db_password}' });
  });

  it('updates a singleton stop-first with at most one task per node', () => {
    const { body } = service({ singleton: true });
    expect(body.update_config.order).toBe('stop-first');
    expect(body.rollback_config.order).toBe('stop-first');
    expect(body.task_spec.placement.max_replicas).toBe(1);
  });

  it('runs a global service without convergence (the provider refuses both)', () => {
    const { body } = service({ global: true });
    expect(body.mode).toEqual({ global: true });
    expect(body.converge_config).toBeUndefined();
  });

  it('refuses a singleton with replicas or start-first, and global with replicas', () => {
    expect(() => service({ singleton: true, replicas: 2 })).toThrow(/singleton runs exactly one replica/);
    expect(() => service({ singleton: true, updateOrder: 'start-first' })).toThrow(/singleton updates stop-first/);
    expect(() => service({ global: true, replicas: 2 })).toThrow(/either global or replicas/);
  });

  it('refuses what a container refuses: a literal secret, a limit under its reservation', () => {
    expect(() => service({ secretEnvironment: { API_KEY: 'hunter2' } })).toThrow(/SwarmService chat-backend: secret API_KEY is a literal/);
    expect(() => service({ resources: { ...RESOURCES, memoryLimitMiB: 64 } })).toThrow(/memory limit \(64 MiB\) is below its reservation/);
  });

  it('refuses a variable given both as a secret file and as a value', () => {
    const scope = stack();
    const secret = new SwarmSecret(scope, 's', { name: 's', value: password(scope) });
    expect(() => service({ secretFiles: { TOKEN: secret }, environment: { TOKEN_FILE: '/elsewhere' } }, scope)).toThrow(/TOKEN is given both as a secret file/);
  });
});

describe('SwarmSecret', () => {
  it('refuses a literal value', () => {
    expect(() => new SwarmSecret(stack(), 's', { name: 's', value: 'plain' })).toThrow(/SwarmSecret s: the value is a literal/);
  });
});

describe('OverlayNetwork', () => {
  it('is an encrypted overlay that only services join', () => {
    const scope = stack();
    new OverlayNetwork(scope, 'data', { name: 'manacore-data', internal: true });
    expect(resources(synthStack(scope), 'docker_network').data).toEqual({ name: 'manacore-data', driver: 'overlay', options: { encrypted: 'true' }, attachable: false, internal: true, labels: [] });
  });
});
