/**
 * Everything that differs between service kinds, in one table: ingress,
 * ports, networks, probe, resources, writable paths, rate limit, caching and
 * what a kind publishes. Adding a kind is one row here plus its name in
 * `ServiceKind` (model.ts); validation, resolution, capacity planning and
 * the stacks read only this table. The figures are the source documents'
 * (see DESIGN.md, "Facts from the source documents"). The table gives
 * defaults, never limits: writable paths, read-only root, caching, probe,
 * networks and update order are each a ServiceSpec field over the kind's.
 */
import { HealthCheck } from '../constructs/core/health-check';
import type { ResourceSpec } from '../constructs/core/resources';
import { API_RATE_LIMIT, type RateLimit } from '../constructs/docker/edge-route';
import type { HostNetwork } from '../constructs/docker/host-networks';
import type { ServiceCaching } from './caching';
import type { ServiceKind, UpdateOrder } from './model';


export type { KindCachingRule } from './caching';


/** How one kind of service behaves. */
export interface ServiceKindBehaviour {
  /** Does the kind run a container at all? (`mobile` is an R2 bucket.) */
  readonly container: boolean;
  /** Is it routed by the edge proxy on a public domain? */
  readonly routed: boolean;
  /** Is its Cloudflare record proxied (orange cloud)? APIs are not: clients talk to the origin's TLS. */
  readonly proxied: boolean;
  /** First DNS label of its public name for `<product>`; undefined: the kind has no public name. */
  readonly subdomain?: (product: string) => string;
  /** Port when the service declares none; undefined: the kind must declare one, or has none. */
  readonly port?: number;
  /** Must the service declare its port? */
  readonly requiresPort: boolean;
  /** May the service declare a port at all? (Kinds without ingress may not.) */
  readonly acceptsPort: boolean;
  /**
   * Shared host networks the kind always joins. Every container also joins
   * its product's own network; `data` is added for services that use a data
   * service, `backend` for both ends of a link between products.
   */
  readonly networks: readonly HostNetwork[];
  /** May it join the edge proxy's `frontend` network? Kinds that must stay unreachable from outside may not. */
  readonly mayJoinFrontend: boolean;
  /** Can other services link to it by name? */
  readonly linkable: boolean;
  /** CPU and memory unless the service says otherwise. */
  readonly resources?: ResourceSpec;
  /**
   * Probe unless the service declares one. Any probe fits any kind
   * (`HealthCheck.http`, `.command` in exec form, `.shell`, `.none(reason)`):
   * the probe runs inside the image, so it is the image that decides.
   */
  readonly healthCheck?: HealthCheck;
  /** Without a declared probe, check that the service's command is running (the kind has no HTTP route). */
  readonly probesCommand: boolean;
  /**
   * Programs the default probe runs inside the container, which the image
   * must have or the container never turns healthy (a test keeps this equal
   * to the probe's own `requiredTools`): `sh` and `wget` for the HTTP
   * default (alpine and busybox images have both; Debian slim images have
   * neither wget nor curl; distroless and scratch have no shell), `pgrep`
   * for a worker's process check (not in Debian slim). Declare another
   * `healthCheck` for an image without them.
   */
  readonly probeTools: readonly string[];
  /** Paths that must stay writable under a read-only root filesystem (tmpfs). */
  readonly writablePaths: readonly string[];
  /** Is the container's root filesystem read-only? */
  readonly readOnlyRootFilesystem: boolean;
  /** How its container is replaced on a change. */
  readonly updateOrder: UpdateOrder;
  /** Per-client request budget of its route. @default - none */
  readonly rateLimit?: RateLimit;
  /** Caching of its domain (page rules or cache rules). */
  readonly caching: ServiceCaching;
  /** Rank when choosing a product's public URL (lowest wins); undefined: never the public URL. */
  readonly publicUrlRank?: number;
  /** Does the kind publish an R2 bucket on its domain for over-the-air updates? */
  readonly otaBucket: boolean;
  /**
   * Seconds an old container gets after SIGTERM before it is killed, on stop
   * and on destroy (`destroy_grace_seconds`: without it the Docker provider
   * stops with a timeout of 0, killing in-flight requests; kreuzwerker
   * terraform-provider-docker, resourceDockerContainerDelete). HTTP kinds get
   * at least 30 s to drain; 0 for kinds without a container.
   */
  readonly stopGraceSeconds: number;
}

const BACKEND_RESOURCES: ResourceSpec = { cpuLimit: 1, memoryLimitMiB: 512, cpuReservation: 0.5, memoryReservationMiB: 256 };

/** What a kind without ingress or container has; rows spread it and say what differs. */
const QUIET = {
  routed: false,
  proxied: false,
  requiresPort: false,
  acceptsPort: true,
  mayJoinFrontend: true,
  linkable: true,
  probesCommand: false,
  probeTools: [],
  writablePaths: [],
  readOnlyRootFilesystem: true,
  updateOrder: 'start-first',
  // Cloudflare's default: static file extensions only.
  caching: { mode: 'static-assets' },
  otaBucket: false,
  stopGraceSeconds: 30,
} as const;

export const SERVICE_KIND_BEHAVIOUR: Readonly<Record<ServiceKind, ServiceKindBehaviour>> = {
  api: {
    ...QUIET,
    container: true,
    routed: true,
    requiresPort: true,
    subdomain: (product) => `api-${product}`,
    // frontend: reachable by the edge proxy. Calls to other products add `backend` (resolve.ts).
    networks: ['frontend'],
    resources: BACKEND_RESOURCES,
    healthCheck: HealthCheck.http('/api/health'),
    probeTools: ['sh', 'wget'],
    rateLimit: API_RATE_LIMIT,
    caching: { mode: 'none' },
    publicUrlRank: 2,
  },
  web: {
    ...QUIET,
    container: true,
    routed: true,
    proxied: true,
    port: 3000,
    subdomain: (product) => `app-${product}`,
    networks: ['frontend'],
    // The source gives one figure for web; it is both the limit and what the host keeps.
    resources: { cpuLimit: 0.25, memoryLimitMiB: 256, cpuReservation: 0.25, memoryReservationMiB: 256 },
    healthCheck: HealthCheck.http('/api/health'),
    probeTools: ['sh', 'wget'],
    // Web apps (SSR, per-user pages) keep Cloudflare's default caching.
    publicUrlRank: 0,
  },
  landing: {
    ...QUIET,
    container: true,
    routed: true,
    proxied: true,
    port: 80,
    subdomain: (product) => product,
    networks: ['frontend'],
    resources: { cpuLimit: 0.1, memoryLimitMiB: 128, cpuReservation: 0.1, memoryReservationMiB: 128 },
    healthCheck: HealthCheck.http('/health'),
    probeTools: ['sh', 'wget'],
    // nginx writes its pid and proxy cache even when serving static files.
    writablePaths: ['/var/cache/nginx', '/var/run'],
    // Static: cached everywhere (edge 1 month, browser 1 week), except the API and sign-in paths it may proxy.
    caching: { mode: 'everything', polish: ['/images/*'] },
    publicUrlRank: 1,
  },
  internal: {
    ...QUIET,
    container: true,
    requiresPort: true,
    // Reachable within its product by name; other products reach it through a declared link, which adds `backend`.
    networks: [],
    mayJoinFrontend: false,
    resources: BACKEND_RESOURCES,
    healthCheck: HealthCheck.http('/health'),
    probeTools: ['sh', 'wget'],
  },
  worker: {
    ...QUIET,
    container: true,
    // Ports for its health and metrics only: a worker is never routed or linked to.
    networks: [],
    mayJoinFrontend: false,
    linkable: false,
    resources: BACKEND_RESOURCES,
    probesCommand: true,
    probeTools: ['pgrep'],
    // A queue consumer finishes the job in hand.
    stopGraceSeconds: 60,
  },
  mobile: {
    ...QUIET,
    container: false,
    proxied: true,
    acceptsPort: false,
    subdomain: (product) => `ota-${product}`,
    networks: [],
    linkable: false,
    otaBucket: true,
    stopGraceSeconds: 0,
  },
};

/** Every kind, in the order of the behaviour table, which has one row per kind. */
export const SERVICE_KINDS = Object.keys(SERVICE_KIND_BEHAVIOUR) as readonly ServiceKind[];

/** The kind's behaviour, or undefined for a name that is not a kind (validation reports it). */
export function behaviourOf(kind: string): ServiceKindBehaviour | undefined {
  return (SERVICE_KIND_BEHAVIOUR as Record<string, ServiceKindBehaviour | undefined>)[kind];
}
