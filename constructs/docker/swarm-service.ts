import { Service, type ServiceTaskSpecContainerSpecMounts, type ServiceTaskSpecContainerSpecSecrets } from '@cdktf/provider-docker/lib/service';
import { Token, type ITerraformDependable, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import type { DockerHealthCheck } from '../core/health-check';
import type { ResourceSpec } from '../core/resources';
import { DEFAULT_STOP_GRACE_SECONDS, type BindMount, type ContainerNetwork, type LogRotation } from './hardened-container';
import { checkProcessSpec, secondsToFindUnhealthy, secondsUntilUnhealthy } from './process-checks';
import { SWARM_SECRETS_DIRECTORY, type SwarmSecret } from './swarm-secret';

/*
 * The engine mapping of one service onto a Swarm service. Every attribute is
 * the `docker_service` resource of kreuzwerker/terraform-provider-docker
 * v3.6.2 (the version @cdktf/provider-docker 12.0.3 binds), read in
 * internal/provider/resource_docker_service.go (schema) and
 * resource_docker_service_structures.go (what reaches the Engine API); the
 * engine is Docker 20.10 (API 1.41), Debian's docker.io.
 *
 * Hardening against HardenedContainer, what carries over and what cannot:
 * - user, groups, read-only root, cap_drop ALL + cap_add: yes (container_spec
 *   user, groups, read_only, cap_add/cap_drop; the capability fields need
 *   API 1.41 = Docker 20.10, docker/cli "service create --cap-add").
 * - tmpfs for /tmp and writable paths: yes, as `tmpfs` mounts with a size;
 *   tmpfs_options holds only size_bytes and mode, but dockerd mounts every
 *   tmpfs nosuid,nodev,noexec by default (seen in a task's /proc/mounts on
 *   20.10: __tests__/integration/swarm-service.test.ts).
 * - no-new-privileges: no. container_spec.privileges holds only
 *   credential_spec and se_linux_context, and a 20.10 ContainerSpec has no
 *   such field (`docker service create` has no --security-opt).
 * - memory swap: Swarm sets only the memory limit, and dockerd then allows
 *   as much swap again (daemon/daemon_unix.go: MemorySwap = 2 x Memory when
 *   unset); hosts with a swap file let a task swap up to its limit.
 * - init: the Engine has ContainerSpec.Init, the provider exposes none.
 */

/** Swarm's restart conditions (docker/cli `--restart-condition`). */
export type SwarmRestartCondition = 'any' | 'on-failure' | 'none';

/** Swarm's update and rollback orders: `start-first` runs old and new side by side for a moment. */
export type SwarmUpdateOrder = 'start-first' | 'stop-first';

/** Time between a task's exit and its replacement, as `docker service create` defaults it (--restart-delay 5s). */
const RESTART_DELAY = Duration.seconds(5);
/** Monitor window after each updated task when there is no health check to time it by. */
const MONITOR_WITHOUT_HEALTH_CHECK = Duration.seconds(30);
/** Grace beyond the worst case of every replica's update before Terraform gives up waiting for convergence. */
const CONVERGE_MARGIN_SECONDS = 60;
/** Size of each tmpfs, as HardenedContainer's `size=100m`. */
const TMPFS_SIZE_BYTES = 100 * 1024 * 1024;
const MIB = 1024 * 1024;
const NANO = 1e9;
/** Swarm's node label keys (docker node update --label-add): letters, digits, ".", "-" and "_". */
const LABEL_KEY = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;

export interface SwarmServiceProps {
  /** Service name in the swarm (also its DNS name on its networks). */
  readonly name: string;
  /** Image reference `repository:tag`; every node pulls it when a task lands there. */
  readonly image: string;
  /** Arguments overriding the image's CMD (container_spec `args`). @default - the image's CMD */
  readonly command?: readonly string[];
  /** Program overriding the image's ENTRYPOINT (container_spec `command`). @default - the image's ENTRYPOINT */
  readonly entrypoint?: readonly string[];
  /** Plain environment variables. @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /** Secret environment variables, for images that read no `*_FILE`: every value a token. @default - none */
  readonly secretEnvironment?: Readonly<Record<string, string>>;
  /**
   * Secrets as files, by the variable the image reads: `{ POSTGRES_PASSWORD: secret }`
   * mounts the secret at `/run/secrets/postgres_password` and sets
   * `POSTGRES_PASSWORD_FILE` to that path (the `*_FILE` convention of the
   * official postgres and many other images). Swarm gives the file to the
   * task and to nothing else: no `docker service inspect` nor `docker
   * inspect` of a task shows the value (SwarmKit hands a task's secrets to
   * its node alone, into a tmpfs; Docker docs, "Manage sensitive data with
   * Docker secrets"). A new value is a new secret (SwarmSecret): the
   * service updates onto it like any other change, start-first.
   * @default - none
   */
  readonly secretFiles?: Readonly<Record<string, SwarmSecret>>;
  /**
   * The variable naming each secret file's path, by the variable of `secretFiles`, for images with another
   * convention than `<VAR>_FILE` (Grafana reads `GF_<X>__FILE`).
   * @default - `<VAR>_FILE` for each
   */
  readonly secretFileVariables?: Readonly<Record<string, string>>;
  /** The Docker healthcheck; Swarm reports a task running only once it is healthy. @default - none */
  readonly healthCheck?: DockerHealthCheck;
  /** CPU and memory: limits are enforced; reservations are what the scheduler needs free on a node to place a task. */
  readonly resources: ResourceSpec;
  /** Overlay networks to join; at least one. */
  readonly networks: readonly ContainerNetwork[];
  /** Tasks to run. @default 1 */
  readonly replicas?: number;
  /** One task on every eligible node instead of a count (collectors, the edge proxy). @default false */
  readonly global?: boolean;
  /**
   * Run only on nodes carrying these labels (`docker node update --label-add role=app`):
   * constraints `node.labels.<key>==<value>`.
   * @default - any node
   */
  readonly nodeLabels?: Readonly<Record<string, string>>;
  /** At most this many tasks on one node, so a node loss takes a bounded share. @default - unlimited (Swarm's 0) */
  readonly maxReplicasPerNode?: number;
  /**
   * Two tasks must never run at once (a database on its volume): updates and
   * rollbacks stop the old task first, and there is exactly one replica.
   * @default false
   */
  readonly singleton?: boolean;
  /** Update order. @default 'start-first' - 'stop-first' for a singleton */
  readonly updateOrder?: SwarmUpdateOrder;
  /**
   * How long Swarm watches each updated task for failure before the next;
   * a failure within it rolls the whole update back.
   * @default - the time the health check takes to find a healthy task unhealthy ((interval + timeout) x retries), 30 s without one
   */
  readonly updateMonitor?: Duration;
  /** When Swarm replaces an exited task. @default 'any' */
  readonly restartCondition?: SwarmRestartCondition;
  /** Restarts attempted before giving up. @default - unlimited (Swarm's 0) */
  readonly maxRestartAttempts?: number;
  /** Seconds the process gets between SIGTERM (or stopSignal) and SIGKILL. @default 10 - Docker's own stop timeout */
  readonly stopGraceSeconds?: number;
  /** Signal that asks the process to stop. @default - the image's STOPSIGNAL, else SIGTERM */
  readonly stopSignal?: string;
  /** User (and group) the process runs as. @default '1001' */
  readonly user?: string;
  /** Supplementary groups. @default - none */
  readonly groups?: readonly string[];
  /** Mount the root filesystem read-only. @default true */
  readonly readOnlyRootFilesystem?: boolean;
  /** Paths besides `/tmp` that stay writable, as tmpfs. @default - none */
  readonly writablePaths?: readonly string[];
  /** Capabilities kept after dropping ALL. @default - none */
  readonly capabilities?: readonly string[];
  /** Host directories to bind-mount; Swarm refuses to start a task where the source is missing. @default - none */
  readonly bindMounts?: readonly BindMount[];
  /** Labels of the service (the edge proxy's Swarm provider reads these, not the tasks'). @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Log rotation. @default - 10 MiB x 3 files */
  readonly logRotation?: LogRotation;
  /** Make Terraform wait until every replica runs (and fail when an update was rolled back). @default - true, except for global services (the provider refuses it there) */
  readonly waitForConvergence?: boolean;
  /** Provider of the swarm's manager. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
  /**
   * Ports published on each node running a task, in host mode (the edge
   * proxy): the node's own port reaches its own task, keeping the client's
   * address, instead of the routing mesh's SNAT to any node's task. Each
   * port can have one task per node (a global service fits).
   * @default - none
   */
  readonly hostPorts?: readonly { readonly hostPort: number; readonly containerPort: number }[];
  /** Run only on manager nodes (constraint `node.role==manager`): a process that needs a manager's API. @default false */
  readonly managersOnly?: boolean;
  /**
   * Run only on the node of this hostname (constraint `node.hostname==<name>`, SwarmKit's node attribute): a
   * process that observes its own node (a collector). @default - any node
   */
  readonly nodeHostname?: string;
  /** Resources to create first. @default - none */
  readonly dependsOn?: readonly ITerraformDependable[];
}

/**
 * One service of the catalog as a Swarm service, secure by default like
 * HardenedContainer (see the mapping notes above), rolled out start-first
 * with automatic rollback when a new task fails its health check. Its
 * Terraform address is `docker_service.<id>`.
 */
export class SwarmService extends Construct {
  public readonly service: Service;

  public constructor(scope: Construct, id: string, props: SwarmServiceProps) {
    super(scope, id);
    validate(id, props);
    const { resources } = props;
    const health = props.healthCheck;
    // A probe turned off (`NONE`, with its reason) times nothing: the monitor and the wait go by the no-check defaults.
    const probe = health?.test[0] === 'NONE' ? undefined : health;
    const singleton = props.singleton ?? false;
    const order: SwarmUpdateOrder = props.updateOrder ?? (singleton ? 'stop-first' : 'start-first');
    const monitor = props.updateMonitor ?? (probe ? Duration.seconds(secondsToFindUnhealthy(probe)) : MONITOR_WITHOUT_HEALTH_CHECK);
    const replicas = props.replicas ?? 1;
    const rotation = props.logRotation ?? { maxSizeMiB: 10, maxFiles: 3 };
    const secretFiles = Object.entries(props.secretFiles ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const env: Record<string, string> = { ...props.environment, ...props.secretEnvironment };
    for (const [variable] of secretFiles) env[secretFileVariable(props, variable)] = `${SWARM_SECRETS_DIRECTORY}/${secretFileName(variable)}`;
    const wait = props.waitForConvergence ?? !props.global;

    this.service = new Service(this, 'service', {
      name: props.name,
      labels: labelList(props.labels),
      mode: props.global ? { global: true } : { replicated: { replicas } },
      taskSpec: {
        containerSpec: {
          image: props.image,
          args: props.command ? [...props.command] : undefined,
          command: props.entrypoint ? [...props.entrypoint] : undefined,
          env: Object.keys(env).length > 0 ? env : undefined,
          user: props.user ?? '1001',
          groups: props.groups?.length ? [...props.groups] : undefined,
          readOnly: props.readOnlyRootFilesystem ?? true,
          capDrop: ['ALL'],
          capAdd: props.capabilities?.length ? [...props.capabilities] : undefined,
          stopGracePeriod: `${props.stopGraceSeconds ?? DEFAULT_STOP_GRACE_SECONDS}s`,
          stopSignal: props.stopSignal,
          healthcheck: health && { test: health.test, interval: health.interval, timeout: health.timeout, retries: health.retries, startPeriod: health.startPeriod },
          mounts: [
            ...['/tmp', ...(props.writablePaths ?? [])].map(
              (target): ServiceTaskSpecContainerSpecMounts => ({ type: 'tmpfs', target, tmpfsOptions: { sizeBytes: TMPFS_SIZE_BYTES } }),
            ),
            ...(props.bindMounts ?? []).map(
              (mount): ServiceTaskSpecContainerSpecMounts => ({ type: 'bind', source: mount.hostPath, target: mount.containerPath, readOnly: mount.readOnly ?? false }),
            ),
          ],
          secrets: secretFiles.length
            ? secretFiles.map(([variable, secret]): ServiceTaskSpecContainerSpecSecrets => ({
                secretId: secret.secret.id,
                secretName: secret.secret.name,
                fileName: secretFileName(variable),
                ...secretFileAccess(props.user ?? '1001'),
              }))
            : undefined,
        },
        resources: {
          limits: { nanoCpus: Math.round(resources.cpuLimit * NANO), memoryBytes: resources.memoryLimitMiB * MIB },
          reservation: { nanoCpus: Math.round(resources.cpuReservation * NANO), memoryBytes: resources.memoryReservationMiB * MIB },
        },
        restartPolicy: {
          condition: props.restartCondition ?? 'any',
          delay: RESTART_DELAY.toDockerString(),
          maxAttempts: props.maxRestartAttempts ?? 0,
        },
        placement: {
          constraints: [
            ...Object.entries(props.nodeLabels ?? {})
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([key, value]) => `node.labels.${key}==${value}`),
            ...(props.managersOnly ? ['node.role==manager'] : []),
            ...(props.nodeHostname !== undefined ? [`node.hostname==${props.nodeHostname}`] : []),
          ],
          maxReplicas: singleton ? 1 : props.maxReplicasPerNode,
        },
        networksAdvanced: props.networks.map((network) => ({ name: network.name, aliases: network.aliases?.length ? [...network.aliases] : undefined })),
        logDriver: { name: 'json-file', options: { 'max-size': `${rotation.maxSizeMiB}m`, 'max-file': String(rotation.maxFiles) } },
      },
      // One task at a time; a task that fails within the monitor window rolls the whole service back.
      updateConfig: { parallelism: 1, delay: '0s', order, failureAction: 'rollback', monitor: monitor.toDockerString(), maxFailureRatio: '0' },
      // The rollback's own failure can only pause (the provider allows pause|continue): a human looks then.
      rollbackConfig: { parallelism: 1, delay: '0s', order, failureAction: 'pause', monitor: monitor.toDockerString(), maxFailureRatio: '0' },
      // With converge_config the provider waits for every replica and fails the apply with "service rollback completed"
      // when Swarm rolled an update back (resource_docker_service_funcs.go, resourceDockerServiceUpdateRefreshFunc).
      convergeConfig: wait ? { delay: '5s', timeout: `${convergeTimeoutSeconds(replicas, probe, monitor)}s` } : undefined,
      endpointSpec: props.hostPorts?.length
        ? { ports: props.hostPorts.map((port) => ({ targetPort: port.containerPort, publishedPort: port.hostPort, publishMode: 'host', protocol: 'tcp' })) }
        : undefined,
      dependsOn: props.dependsOn ? [...props.dependsOn] : undefined,
      provider: props.provider,
    });
    this.service.overrideLogicalId(id);
  }
}

/** The file under /run/secrets for the variable `variable` (`POSTGRES_PASSWORD` gives `postgres_password`). */
export function secretFileName(variable: string): string {
  return variable.toLowerCase();
}

/** The variable naming the file of the secret `variable`. */
function secretFileVariable(props: SwarmServiceProps, variable: string): string {
  return props.secretFileVariables?.[variable] ?? `${variable}_FILE`;
}

/** Every replica updated one at a time: its start (up to unhealthy), then the monitor window; and a rollback of as long. */
function convergeTimeoutSeconds(replicas: number, health: DockerHealthCheck | undefined, monitor: Duration): number {
  const perTask = (health ? secondsUntilUnhealthy(health) : 0) + monitor.toSeconds();
  return 2 * Math.max(1, replicas) * perTask + CONVERGE_MARGIN_SECONDS;
}

/**
 * Owner and mode of a secret file: owned by the task's numeric uid and readable by it alone (0400); Swarm sets
 * owners by number only, so a named user gets a root-owned file readable by all (0444, Swarm's default mode).
 */
function secretFileAccess(user: string): Pick<ServiceTaskSpecContainerSpecSecrets, 'fileUid' | 'fileGid' | 'fileMode'> {
  const uid = user.split(':')[0]!;
  return /^\d+$/.test(uid) ? { fileUid: uid, fileGid: '0', fileMode: 0o400 } : { fileUid: '0', fileGid: '0', fileMode: 0o444 };
}

function labelList(labels: Readonly<Record<string, string>> | undefined): Array<{ label: string; value: string }> | undefined {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((label) => ({ label, value: labels![label]! })) : undefined;
}

function validate(id: string, props: SwarmServiceProps): void {
  const fail = (message: string): never => {
    throw new Error(`SwarmService ${id}: ${message}`);
  };
  if (!Token.isUnresolved(props.name) && !/^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/.test(props.name)) {
    fail(`name must be 1-63 letters, digits and "-" (Swarm service names are DNS labels); got "${props.name}"`);
  }
  checkProcessSpec(props, fail);
  if (props.networks.length === 0) fail('must join at least one network');
  const replicas = props.replicas ?? 1;
  if (props.global && props.replicas !== undefined) fail('a global service runs one task per node; give either global or replicas, not both');
  if (!Number.isInteger(replicas) || replicas < 1) fail(`replicas must be a whole number >= 1; got ${replicas}`);
  if (props.maxReplicasPerNode !== undefined && (!Number.isInteger(props.maxReplicasPerNode) || props.maxReplicasPerNode < 1)) {
    fail(`maxReplicasPerNode must be a whole number >= 1; got ${props.maxReplicasPerNode}`);
  }
  if (props.singleton) {
    if (props.global || replicas !== 1) fail('a singleton runs exactly one replica (two tasks must never share its data)');
    if (props.updateOrder === 'start-first') fail('a singleton updates stop-first: start-first would run the old and the new task on the same data at once');
  }
  if (props.hostPorts?.length && (props.updateOrder ?? (props.singleton ? 'stop-first' : 'start-first')) === 'start-first') {
    fail('a service publishing host ports updates stop-first: the new task cannot bind a port its node\'s old task still holds');
  }
  for (const key of Object.keys(props.nodeLabels ?? {})) {
    if (!LABEL_KEY.test(key)) fail(`node label "${key}" must be letters, digits, ".", "-" and "_"`);
  }
  for (const [variable] of Object.entries(props.secretFiles ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) fail(`secret file variable "${variable}" is invalid (letters, digits and "_")`);
    const conflict = secretFileVariable(props, variable);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(conflict) || conflict === variable) fail(`the variable naming ${variable}'s file must be another variable name; got "${conflict}"`);
    if (props.environment?.[conflict] !== undefined || props.secretEnvironment?.[conflict] !== undefined || props.secretEnvironment?.[variable] !== undefined || props.environment?.[variable] !== undefined) {
      fail(`${variable} is given both as a secret file (${conflict}) and as an environment value; choose one`);
    }
  }
  for (const variable of Object.keys(props.secretFileVariables ?? {})) {
    if (props.secretFiles?.[variable] === undefined) fail(`secretFileVariables names ${variable}, which is no secret file`);
  }
  if (props.stopGraceSeconds !== undefined && (!Number.isInteger(props.stopGraceSeconds) || props.stopGraceSeconds < 0)) {
    fail(`stopGraceSeconds must be a whole number >= 0; got ${props.stopGraceSeconds}`);
  }
  if (props.stopSignal !== undefined && !/^SIG[A-Z0-9]+$/.test(props.stopSignal)) fail(`stopSignal must be a signal name like SIGTERM or SIGQUIT; got "${props.stopSignal}"`);
}
