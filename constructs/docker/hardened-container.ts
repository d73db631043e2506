import { Container, type ContainerNetworksAdvanced, type ContainerPorts } from '@cdktf/provider-docker/lib/container';
import { Image } from '@cdktf/provider-docker/lib/image';
import { Token, type IResolvable, type ITerraformDependable, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { NO_HEALTH_CHECK, type DockerHealthCheck } from '../core/health-check';
import type { ResourceSpec } from '../core/resources';
import { checkProcessSpec, secondsUntilUnhealthy } from './process-checks';

/** A Docker network the container joins, with the names it answers to there. */

/** Docker's own stop timeout, for containers that name none. */
export const DEFAULT_STOP_GRACE_SECONDS = 10;
export interface ContainerNetwork {
  /** Network name (often a token read from the edge stack's outputs). */
  readonly name: string;
  /** DNS names of the container on that network. @default - none */
  readonly aliases?: readonly string[];
}

/** A host directory bind-mounted into the container. */
export interface BindMount {
  readonly hostPath: string;
  readonly containerPath: string;
  /** @default false */
  readonly readOnly?: boolean;
  /**
   * Refuse to create or start the container when `hostPath` is absent,
   * instead of Docker creating an empty directory there (data volumes: an
   * unmounted volume must not become an empty database on the root disk).
   * @default false
   */
  readonly mustExist?: boolean;
}

/** A host port published to a container port (only the edge proxy does this). */
export interface PublishedPort {
  readonly hostPort: number;
  readonly containerPort: number;
  /** Host address to bind to (a private address, so only the private network reaches it). @default - every address */
  readonly hostIp?: string;
}

/** Log rotation of the json-file driver. */
export interface LogRotation {
  /** Size of one log file, in MiB. */
  readonly maxSizeMiB: number;
  /** Files kept per container. */
  readonly maxFiles: number;
}

export interface HardenedContainerProps {
  /** Container name on the host (unique per host; may contain tokens). */
  readonly name: string;
  /** Image reference `repository:tag`; pulled by a `docker_image` kept on the host when replaced, so a rollback needs no pull. Or an image resource shared by several containers. */
  readonly image: string | Image;
  /** Command overriding the image's CMD. @default - the image's CMD */
  readonly command?: readonly string[];
  /** Entrypoint overriding the image's ENTRYPOINT. @default - the image's ENTRYPOINT */
  readonly entrypoint?: readonly string[];
  /** Plain environment variables. @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /** Secret environment variables: every value a token of a sensitive variable, output or generated password. @default - none */
  readonly secretEnvironment?: Readonly<Record<string, string>>;
  /** The Docker healthcheck. @default - none (the container is then not waited for) */
  readonly healthCheck?: DockerHealthCheck;
  /** CPU and memory: limits are enforced, reservations become CPU shares and labels. */
  readonly resources: ResourceSpec;
  /** Networks to join; at least one. */
  readonly networks: readonly ContainerNetwork[];
  /** User (and group) the process runs as. @default '1001' */
  readonly user?: string;
  /** Supplementary group ids (the edge proxy's access to the Docker socket). @default - none */
  readonly groupIds?: readonly number[];
  /** Mount the root filesystem read-only. @default true */
  readonly readOnlyRootFilesystem?: boolean;
  /** Paths besides `/tmp` that stay writable, as tmpfs (noexec, nosuid). @default - none */
  readonly writablePaths?: readonly string[];
  /** Capabilities kept after dropping ALL (`NET_BIND_SERVICE`). @default - none */
  readonly capabilities?: readonly string[];
  /** Labels of the container. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Host directories to bind-mount. @default - none */
  readonly bindMounts?: readonly BindMount[];
  /** Host ports to publish. @default - none */
  readonly publishedPorts?: readonly PublishedPort[];
  /** Docker restart policy. @default 'unless-stopped' */
  readonly restart?: 'unless-stopped' | 'always' | 'on-failure' | 'no';
  /** Restarts Docker attempts under `on-failure` before giving up. @default - unlimited (Docker's 0) */
  readonly maxRetryCount?: number;
  /**
   * A one-shot task: Terraform attaches and waits until it exits (`attach`),
   * and a stopped container counts as done (`must_run = false`), per the
   * kreuzwerker/docker provider's container resource. Restart is then `no`.
   * @default false
   */
  readonly runOnce?: boolean;
  /**
   * Stopped on purpose from outside Terraform (the kept version of a
   * release's rollback window, scripts/release/rollout.ts): `must_run =
   * false`, so a later apply neither restarts nor replaces it for being stopped.
   * @default false
   */
  readonly mayBeStopped?: boolean;
  /**
   * Keep a one-shot task's output in its `container_logs` attribute (`logs`,
   * read while attached), for the release task's failure message.
   * @default false
   */
  readonly keepOutput?: boolean;
  /** Run an init process as PID 1 (signals, zombie reaping). @default false */
  readonly init?: boolean;
  /** Size of /dev/shm in MiB. @default - Docker's 64 MiB */
  readonly shmSizeMiB?: number;
  /** Seconds the process gets to shut down cleanly (SIGTERM, then SIGKILL) on stop and destroy. @default 10 - Docker's own stop timeout */
  readonly stopGraceSeconds?: number;
  /** Log rotation. @default - 10 MiB x 3 files */
  readonly logRotation?: LogRotation;
  /**
   * Create the replacement before destroying this container (zero-downtime
   * swaps; the name must then differ between the two).
   * @default false
   */
  readonly createBeforeDestroy?: boolean;
  /** Make Terraform wait until the container is healthy. @default - true when there is a health check */
  readonly waitForHealthy?: boolean;
  /** Provider of the host's daemon. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
  /** Resources to create first (a volume attachment, another container). @default - none */
  readonly dependsOn?: readonly ITerraformDependable[];
}

/** Mount options of every tmpfs: nothing executes from it, no setuid. */
export const TMPFS_OPTIONS = 'noexec,nosuid,size=100m';
/** Grace beyond the health check's own worst case before Terraform gives up waiting. */
const WAIT_MARGIN_SECONDS = 30;

/**
 * One container, secure by default: non-root (uid 1001), read-only root
 * filesystem with tmpfs `/tmp`, every capability dropped, `no-new-privileges`,
 * memory and CPU limits, rotated JSON logs, a restart policy, and no published
 * ports unless asked. Its Terraform addresses are `docker_container.<id>` and
 * `docker_image.<id>`, pinned to the construct id.
 */
export class HardenedContainer extends Construct {
  public readonly container: Container;
  public readonly image: Image;

  public constructor(scope: Construct, id: string, props: HardenedContainerProps) {
    super(scope, id);
    validate(id, props);
    const { resources } = props;
    if (typeof props.image === 'string') {
      // keep_locally: the previous version's image stays on the host, so a rollback starts without a pull.
      this.image = new Image(this, 'image', { name: props.image, keepLocally: true, provider: props.provider });
      this.image.overrideLogicalId(id);
    } else {
      this.image = props.image;
    }
    const health = props.healthCheck;
    const disabled = health?.test[0] === NO_HEALTH_CHECK;
    const rotation = props.logRotation ?? { maxSizeMiB: 10, maxFiles: 3 };
    const tmpfs: Record<string, string> = { '/tmp': TMPFS_OPTIONS };
    for (const path of props.writablePaths ?? []) tmpfs[path] = TMPFS_OPTIONS;
    const env = { ...props.environment, ...props.secretEnvironment };

    this.container = new Container(this, 'container', {
      name: props.name,
      image: this.image.imageId,
      command: props.command ? [...props.command] : undefined,
      entrypoint: props.entrypoint ? [...props.entrypoint] : undefined,
      env: Object.keys(env)
        .sort()
        .map((key) => `${key}=${env[key]}`),
      user: props.user ?? '1001',
      groupAdd: props.groupIds?.map(String),
      readOnly: props.readOnlyRootFilesystem ?? true,
      tmpfs,
      capabilities: { drop: ['ALL'], add: props.capabilities?.length ? [...props.capabilities] : undefined },
      securityOpts: ['no-new-privileges:true'],
      // The limit is hard: swap is not a way around it.
      memory: resources.memoryLimitMiB,
      memorySwap: resources.memoryLimitMiB,
      cpus: String(resources.cpuLimit),
      // Docker has no CPU reservation; shares give the reserved cores their weight under contention.
      cpuShares: Math.max(2, Math.round(resources.cpuReservation * 1024)),
      shmSize: props.shmSizeMiB,
      restart: props.runOnce ? 'no' : (props.restart ?? 'unless-stopped'),
      attach: props.runOnce ? true : undefined,
      mustRun: props.runOnce || props.mayBeStopped ? false : undefined,
      logs: props.runOnce && props.keepOutput ? true : undefined,
      // Docker honours a retry limit only with on-failure (docker run --restart on-failure[:max-retries]).
      maxRetryCount: props.restart === 'on-failure' ? props.maxRetryCount : undefined,
      init: props.init,
      // Without destroy_grace_seconds the provider's delete skips ContainerStop and removes with
      // Force (SIGKILL at once): kreuzwerker/terraform-provider-docker
      // internal/provider/resource_docker_container_funcs.go, resourceDockerContainerDelete. No
      // stop_signal: the image's STOPSIGNAL, SIGTERM for every image the library runs.
      stopTimeout: props.stopGraceSeconds ?? DEFAULT_STOP_GRACE_SECONDS,
      destroyGraceSeconds: props.stopGraceSeconds ?? DEFAULT_STOP_GRACE_SECONDS,
      logDriver: 'json-file',
      logOpts: { 'max-size': `${rotation.maxSizeMiB}m`, 'max-file': String(rotation.maxFiles) },
      labels: asIs(
        Object.keys(props.labels ?? {})
          .sort()
          .map((label) => ({ label, value: props.labels![label]! })),
      ),
      healthcheck: health && {
        test: health.test,
        interval: health.interval,
        timeout: health.timeout,
        retries: health.retries,
        startPeriod: health.startPeriod,
      },
      // `NONE` turns the image's own check off: there is no health status to wait for.
      wait: props.waitForHealthy ?? (health !== undefined && !disabled),
      waitTimeout: health && !disabled ? waitTimeoutSeconds(health) : undefined,
      networksAdvanced: props.networks.map(
        (network): ContainerNetworksAdvanced => ({ name: network.name, aliases: network.aliases?.length ? [...network.aliases] : undefined }),
      ),
      // `volumes` become HostConfig.Binds, for which dockerd creates a missing source; `mounts` of type bind become
      // HostConfig.Mounts, which it refuses ("bind source path does not exist"), at create and at every start.
      // kreuzwerker/terraform-provider-docker internal/provider/resource_docker_container_funcs.go (mounts -> mount.Mount,
      // volumes -> hostConfig.Binds); moby volume/mounts/linux_parser.go (ParseMountSpec validates the bind source,
      // ParseMountRaw does not) and daemon/volumes.go (SkipMountpointCreation for bind Mounts).
      volumes: optionalList(props.bindMounts?.filter((mount) => !mount.mustExist).map((mount) => ({ hostPath: mount.hostPath, containerPath: mount.containerPath, readOnly: mount.readOnly ?? false }))),
      mounts: optionalList(props.bindMounts?.filter((mount) => mount.mustExist).map((mount) => ({ type: 'bind', source: mount.hostPath, target: mount.containerPath, readOnly: mount.readOnly ?? false }))),
      ports: props.publishedPorts?.map((port): ContainerPorts => ({ internal: port.containerPort, external: port.hostPort, ip: port.hostIp, protocol: 'tcp' })),
      lifecycle: props.createBeforeDestroy ? { createBeforeDestroy: true } : undefined,
      provider: props.provider,
      dependsOn: props.dependsOn ? [...props.dependsOn] : undefined,
    });
    this.container.overrideLogicalId(id);
  }
}

function optionalList<T>(list: T[] | undefined): T[] | undefined {
  return list && list.length > 0 ? list : undefined;
}

/** Worst case until Docker declares the container unhealthy, plus a margin. */
function waitTimeoutSeconds(health: DockerHealthCheck): number {
  return secondsUntilUnhealthy(health) + WAIT_MARGIN_SECONDS;
}

function validate(id: string, props: HardenedContainerProps): void {
  const fail = (message: string): never => {
    throw new Error(`HardenedContainer ${id}: ${message}`);
  };
  if (!Token.isUnresolved(props.name) && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(props.name)) {
    fail(`name must be letters, digits, "_", "." and "-" (Docker's container names); got "${props.name}"`);
  }
  checkProcessSpec(props, fail);
  if (props.networks.length === 0) fail('must join at least one network');
  for (const port of props.publishedPorts ?? []) {
    for (const value of [port.hostPort, port.containerPort]) {
      if (!Number.isInteger(value) || value < 1 || value > 65535) fail(`published port ${value} must be a whole number from 1 to 65535`);
    }
  }
}

/**
 * A value handed to Terraform as it is (tokens inside still resolve). A
 * routed container has some thirty labels, and the provider's typed
 * conversion of each block cost about as much synth time as every other
 * attribute together.
 */
function asIs(value: unknown): IResolvable {
  return { creationStack: [], resolve: () => value, toString: () => JSON.stringify(value) };
}
