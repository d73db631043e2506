import type { Image } from '@cdktf/provider-docker/lib/image';
import type { Id } from '@cdktf/provider-random/lib/id';
import { dependable, type ITerraformDependable, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import type { HealthCheck } from '../core/health-check';
import type { ResourceSpec } from '../core/resources';
import { CLIENT_IP_HEADER_VARIABLE, EdgeRoute, type RateLimit, type WildcardCertificate } from './edge-route';
import { containerRevision } from './container-revision';
import type { ReleaseSlot } from './traffic-split';
import { HardenedContainer } from './hardened-container';

/** A Docker network the container joins. */
export interface ServiceNetwork {
  /** What the network is for (`frontend`): part of the container's settings digest, so a change replaces it. */
  readonly role: string;
  /** The Docker network's name (usually a token of another stack's output). */
  readonly name: string;
  /** Names the container answers to there besides `serviceName` (its short name on its product's network). @default - none */
  readonly aliases?: readonly string[];
}

/** The public route of a container through the edge proxy. */
export interface ServiceRoute {
  /** Fully qualified name the proxy answers on. */
  readonly domain: string;
  /** Per-client request budget. @default - none */
  readonly rateLimit?: RateLimit;
  /** Behind Cloudflare's proxy (origin-pull certificate required, client address from CF-Connecting-IP). @default false */
  readonly proxied?: boolean;
  /** Serve the zone's wildcard certificate. @default - a certificate of its own */
  readonly certificate?: WildcardCertificate;
  /** Further names the route answers (the apex). @default - none */
  readonly aliases?: readonly string[];
  /** Names redirected permanently to `domain` (`www`). @default - none */
  readonly redirects?: readonly string[];
  /** The container's release slot when the route's traffic is split between versions (EdgeRoute). @default - not split */
  readonly splitSlot?: ReleaseSlot;
}

export interface ServiceContainerProps {
  /**
   * The stable name of the service (`chat-backend`): its alias on every
   * network, the router name, and the base of its container name and
   * Terraform addresses. Lowercase letters, digits and "-".
   */
  readonly serviceName: string;
  /** Image reference Docker pulls (`ghcr.io/acme/chat-backend:main-4f2c9e1`, or pinned by digest). */
  readonly image: string;
  /**
   * The image's version as shown in the container name and the `image.tag`
   * label (a tag, or a digest's short form): letters, digits, "_", "." and "-".
   */
  readonly imageTag: string;
  /**
   * Which replica this is (1 to N). Replicas share the service's network
   * alias and route, so links and the edge proxy balance over them; each
   * has its own container and Terraform addresses (`<name>-<replica>`
   * from the second on, so scaling out never replaces the first).
   * @default 1
   */
  readonly replica?: number;
  /**
   * The container's own name, base of its Terraform addresses and container
   * name, when the caller keys containers by more than the replica number
   * (by host, so a container that moves to another host is a new resource,
   * destroyed on the old host by that host's provider).
   * @default - `serviceName`, or `<serviceName>-<replica>` from the second replica on
   */
  readonly instance?: string;
  /** The image resource of the service's first replica, so replicas pull and keep one image. @default - its own `docker_image` */
  readonly sharedImage?: Image;
  /** Port the health check probes. @default - `port` */
  readonly healthPort?: number;
  /** Docker restart policy; `on-failure` gives up after `maxRetries`. @default 'unless-stopped' */
  readonly restart?: 'always' | 'unless-stopped' | { readonly onFailure: { readonly maxRetries: number } };
  /** Command overriding the image's default. @default - the image's CMD */
  readonly command?: readonly string[];
  /** Port the container listens on. @default - none: the container has no ingress */
  readonly port?: number;
  /** How Docker (and so the edge proxy) decides the container is healthy; gates routing and swaps. */
  readonly healthCheck: HealthCheck;
  /** CPU and memory. */
  readonly resources: ResourceSpec;
  /** Plain environment variables. @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Secret environment variables by name; each a token of a sensitive
   * variable or output, never a literal.
   * @default - none
   */
  readonly secretEnvironment?: Readonly<Record<string, string>>;
  /** Networks the container joins, in a stable order. */
  readonly networks: readonly ServiceNetwork[];
  /** Paths kept writable under the read-only root filesystem (tmpfs). @default - none */
  readonly writablePaths?: readonly string[];
  /** Mount the root filesystem read-only. @default true */
  readonly readOnlyRootFilesystem?: boolean;
  /**
   * `start-first`: the new container is created and must turn healthy before
   * the old one is destroyed (no gap; both run meanwhile). `stop-first`: the
   * old one is destroyed first (a gap; never two at once).
   * @default 'start-first'
   */
  readonly updateOrder?: 'start-first' | 'stop-first';
  /** Route through the edge proxy; needs `port`. @default - not routed */
  readonly route?: ServiceRoute;
  /** Labels of the container (system, env, product, service...). @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Seconds the old container gets to finish in-flight work when it is
   * stopped or destroyed (`destroy_grace_seconds`).
   * @default 30
   */
  readonly stopGraceSeconds?: number;
  /** Provider of the host's daemon. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
  /**
   * The release may stop it and keep it (a version in its rollback window):
   * `must_run = false`, so an apply leaves it stopped.
   * @default false
   */
  readonly mayBeStopped?: boolean;
}

/** Label carrying the reason of a service without a health check (`HealthCheck.none`). */
export const HEALTH_CHECK_DISABLED_LABEL = 'health-check.disabled';

/**
 * A routed service's variables with the one naming where the visitor's address is: Cloudflare's header behind its
 * proxy (required origin-pull certificate, so only Cloudflare sets it), otherwise Traefik's X-Real-Ip, which it sets
 * from the connection. A container and a Swarm service get the same.
 */
export function withClientIpHeader(environment: Readonly<Record<string, string>> | undefined, route: ServiceRoute | undefined): Readonly<Record<string, string>> | undefined {
  return route === undefined ? environment : { ...environment, [CLIENT_IP_HEADER_VARIABLE]: route.proxied ? 'CF-Connecting-IP' : 'X-Real-Ip' };
}

/** Labels a service's replicas carry for `docker inspect`: its tag, its planned reservations, why it has no probe. */
export function serviceInspectLabels(imageTag: string, resources: ResourceSpec, healthCheck: HealthCheck): Record<string, string> {
  return {
    'image.tag': imageTag,
    // Reservations are planned (capacity planning), not enforced by Docker: kept here for `docker inspect`.
    'reservation.cpus': String(resources.cpuReservation),
    'reservation.memory-mib': String(resources.memoryReservationMiB),
    // Why it has no probe, where `docker inspect` and the safety invariants see it.
    ...(healthCheck.disabledReason !== undefined ? { [HEALTH_CHECK_DISABLED_LABEL]: healthCheck.disabledReason } : {}),
  };
}

/**
 * The container of one catalog service, swapped without downtime.
 *
 * A new image tag (or any other change, which in Docker always replaces the
 * container) creates the new container first, under a new name
 * `<id>-<tag>-<revision>`, waits until Docker reports it healthy, and only
 * then destroys the old one. The edge proxy routes only to healthy containers
 * and reads identical routing labels from both, so traffic moves over as soon
 * as the new one is ready. The revision is a random id regenerated whenever
 * anything about the container changes, so two versions never share a name.
 */
export class ServiceContainer extends Construct {
  public readonly hardened: HardenedContainer;
  /** The route through the edge proxy, for `api`, `web` and `landing`. */
  public readonly route?: EdgeRoute;
  /** Changes whenever the container must be replaced; part of its name. */
  public readonly revision: Id;

  public constructor(scope: Construct, id: string, props: ServiceContainerProps) {
    super(scope, id);
    const name = props.serviceName;
    const fail = (message: string): never => {
      throw new Error(`ServiceContainer ${name}: ${message}`);
    };
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) fail('serviceName must be lowercase letters, digits and "-"');
    if (props.route !== undefined && props.port === undefined) fail(`is routed on ${props.route.domain} but declares no port`);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(props.imageTag)) fail(`imageTag "${props.imageTag}" cannot be part of a container name`);
    const replica = props.replica ?? 1;
    if (!Number.isInteger(replica) || replica < 1) fail(`replica must be a whole number from 1; got ${replica}`);
    // The first replica keeps the service's own addresses, so scaling 1 -> N adds containers and replaces none.
    const instance = props.instance ?? (replica === 1 ? name : `${name}-${replica}`);
    if (!/^[a-z0-9][a-z0-9-]*$/.test(instance)) fail(`instance "${instance}" must be lowercase letters, digits and "-"`);
    const secrets = props.secretEnvironment ?? {};
    const imageRef = props.image;
    const writablePaths = props.writablePaths ?? [];
    const readOnlyRootFilesystem = props.readOnlyRootFilesystem ?? true;
    const startFirst = (props.updateOrder ?? 'start-first') === 'start-first';

    this.route = props.route && new EdgeRoute({ name, port: props.port!, ...props.route });
    const environment = withClientIpHeader(props.environment, props.route);
    const labels = { ...props.labels, ...serviceInspectLabels(props.imageTag, props.resources, props.healthCheck), ...this.route?.toLabels() };
    const stopGraceSeconds = props.stopGraceSeconds ?? 30;
    if (!Number.isInteger(stopGraceSeconds) || stopGraceSeconds < 1) fail(`stopGraceSeconds must be a whole number >= 1; got ${stopGraceSeconds}`);
    const settings = {
      image: imageRef,
      command: props.command,
      environment,
      health: props.healthCheck.toDocker(props.healthPort ?? props.port),
      resources: props.resources,
      labels,
      networks: props.networks.map((network) => network.role),
      writablePaths,
      port: props.port,
      secretNames: Object.keys(secrets).sort(),
      // Only when not the default, so the digest of every existing container stays the same.
      ...(readOnlyRootFilesystem ? {} : { readOnlyRootFilesystem }),
    };

    this.revision = containerRevision(this, `${instance}-revision`, {
      image: imageRef,
      settings,
      references: [...Object.keys(secrets).sort().map((key) => secrets[key]!), ...props.networks.map((network) => network.name)],
      createBeforeDestroy: startFirst,
    });

    const restart = props.restart ?? 'unless-stopped';
    this.hardened = new HardenedContainer(this, instance, {
      name: `${instance}-${props.imageTag}-${this.revision.hex}`,
      image: props.sharedImage ?? imageRef,
      command: props.command,
      environment,
      secretEnvironment: secrets,
      stopGraceSeconds,
      healthCheck: settings.health,
      resources: props.resources,
      // The stable name is the service's alias on every network: links and the proxy never see the versioned container name.
      networks: props.networks.map((network) => ({ name: network.name, aliases: [name, ...(network.aliases ?? [])] })),
      writablePaths,
      readOnlyRootFilesystem,
      capabilities: props.port !== undefined && props.port < 1024 ? ['NET_BIND_SERVICE'] : undefined,
      labels,
      createBeforeDestroy: startFirst,
      restart: typeof restart === 'string' ? restart : 'on-failure',
      maxRetryCount: typeof restart === 'string' ? undefined : restart.onFailure.maxRetries,
      mayBeStopped: props.mayBeStopped,
      provider: props.provider,
    });
  }

  /**
   * Create this container only once `resources` are (the product's release
   * tasks): Terraform then never starts it, nor destroys the container it
   * replaces, before they succeeded.
   */
  public startAfter(...resources: ITerraformDependable[]): void {
    const container = this.hardened.container;
    container.dependsOn = [...(container.dependsOn ?? []), ...resources.map(dependable)];
  }
}
