/**
 * What each service kind gets unless the catalog says otherwise. The figures
 * are the source documents' (see DESIGN.md, "Facts from the source documents").
 */
import { Duration } from '../constructs/core/duration';
import { HealthCheck } from '../constructs/core/health-check';
import type { DataDependency, HostNetwork, ResourceSpec, ServiceKind, ServiceSpec } from './model';

export interface KindDefaults {
  /** Port when the service declares none; undefined means the kind must declare one (or has none). */
  readonly port?: number;
  /** Must the service declare its port? */
  readonly requiresPort: boolean;
  /** Does the kind run a container at all? */
  readonly container: boolean;
  /** Is it routed by the edge proxy on a public domain? */
  readonly routed: boolean;
  /** Is its Cloudflare record proxied (orange cloud)? APIs are not: clients talk to the origin's TLS. */
  readonly proxied: boolean;
  /** First DNS label for `<product>`. */
  readonly subdomain?: (product: string) => string;
  /** Networks the kind always joins; `data` is added for services that use Postgres or Redis. */
  readonly networks: readonly HostNetwork[];
  readonly resources?: ResourceSpec;
  readonly healthCheck?: HealthCheck;
  /** Paths that must stay writable under a read-only root filesystem (tmpfs). */
  readonly writablePaths: readonly string[];
}

const BACKEND_RESOURCES: ResourceSpec = { cpuLimit: 1, memoryLimitMiB: 512, cpuReservation: 0.5, memoryReservationMiB: 256 };

export const KIND_DEFAULTS: Readonly<Record<ServiceKind, KindDefaults>> = {
  api: {
    requiresPort: true,
    container: true,
    routed: true,
    proxied: false,
    subdomain: (product) => `api-${product}`,
    // frontend: reachable by the edge proxy and by web apps; backend: reaches internal services.
    networks: ['frontend', 'backend'],
    resources: BACKEND_RESOURCES,
    healthCheck: HealthCheck.http('/api/health'),
    writablePaths: [],
  },
  web: {
    port: 3000,
    requiresPort: false,
    container: true,
    routed: true,
    proxied: true,
    subdomain: (product) => `app-${product}`,
    networks: ['frontend'],
    // The source gives one figure for web; it is both the limit and what the host keeps.
    resources: { cpuLimit: 0.25, memoryLimitMiB: 256, cpuReservation: 0.25, memoryReservationMiB: 256 },
    healthCheck: HealthCheck.http('/api/health'),
    writablePaths: [],
  },
  landing: {
    port: 80,
    requiresPort: false,
    container: true,
    routed: true,
    proxied: true,
    subdomain: (product) => product,
    networks: ['frontend'],
    resources: { cpuLimit: 0.1, memoryLimitMiB: 128, cpuReservation: 0.1, memoryReservationMiB: 128 },
    healthCheck: HealthCheck.http('/health'),
    // nginx writes its pid and proxy cache even when serving static files.
    writablePaths: ['/var/cache/nginx', '/var/run'],
  },
  internal: {
    requiresPort: true,
    container: true,
    routed: false,
    proxied: false,
    networks: ['backend'],
    resources: BACKEND_RESOURCES,
    healthCheck: HealthCheck.http('/health'),
    writablePaths: [],
  },
  worker: {
    requiresPort: false,
    container: true,
    routed: false,
    proxied: false,
    networks: ['backend'],
    resources: BACKEND_RESOURCES,
    writablePaths: [],
  },
  mobile: {
    requiresPort: false,
    container: false,
    routed: false,
    proxied: true,
    subdomain: (product) => `ota-${product}`,
    networks: [],
    writablePaths: [],
  },
};

/** Data service health checks poll faster than apps: dependents wait on them. */
const DATA_TIMING = {
  interval: Duration.seconds(10),
  timeout: Duration.seconds(5),
  retries: 5,
  startPeriod: Duration.seconds(30),
};

export const POSTGRES_DEFAULTS = {
  image: 'postgres:16-alpine',
  port: 5432,
  resources: { cpuLimit: 1, memoryLimitMiB: 2048, cpuReservation: 1, memoryReservationMiB: 2048 } satisfies ResourceSpec,
  healthCheck: HealthCheck.command(['pg_isready', '-U', 'postgres'], DATA_TIMING),
} as const;

export const REDIS_DEFAULTS = {
  image: 'redis:7-alpine',
  port: 6379,
  maxMemoryMiB: 256,
  resources: { cpuLimit: 0.25, memoryLimitMiB: 384, cpuReservation: 0.25, memoryReservationMiB: 256 } satisfies ResourceSpec,
  // REDISCLI_AUTH is set in the container, so the password never appears in the command line.
  healthCheck: HealthCheck.command(['redis-cli', 'ping'], DATA_TIMING),
} as const;

/** The edge proxy (Traefik) on every host: small, but it carries all traffic. */
export const EDGE_PROXY_RESOURCES: ResourceSpec = { cpuLimit: 1, memoryLimitMiB: 256, cpuReservation: 0.25, memoryReservationMiB: 128 };

/** What the host keeps for itself: kernel, dockerd, containerd, sshd, fail2ban, page cache headroom. */
export const OS_ALLOWANCE = { cpus: 0.5, memoryMiB: 1024 } as const;

/**
 * When each data service is dumped (cron, UTC) and how long R2 keeps the
 * dumps (the bucket's lifecycle rule for the prefix `<service>/`): the source
 * documents' backup schedule, in one place for the job and the bucket.
 */
export const BACKUP_PLAN: Readonly<Record<DataDependency, { readonly cron: string; readonly keepFor: Duration }>> = {
  postgres: { cron: '0 3 * * *', keepFor: Duration.days(30) },
  redis: { cron: '0 4 * * *', keepFor: Duration.days(7) },
};

/** The backup job's image under the registry owner (`ghcr.io/<owner>/db-backup`): pg_dump, redis-cli, crond and an S3 client. */
export const BACKUP_JOB_IMAGE = 'db-backup';

/** The backup job streams dumps to R2; it idles between runs. */
export const BACKUP_JOB_RESOURCES: ResourceSpec = { cpuLimit: 0.5, memoryLimitMiB: 256, cpuReservation: 0.1, memoryReservationMiB: 64 };

/** Environment variable each data dependency is handed in. */
export const DATA_ENV_VARS = { postgres: 'DATABASE_URL', redis: 'REDIS_URL' } as const;

/** Default OS image of a host. */
export const DEFAULT_HOST_IMAGE = 'ubuntu-24.04';

/** Hosts take private addresses from .10 of the subnet on, leaving the gateway (.1) and room below. */
export const HOST_ADDRESS_OFFSET = 10;

export const DEFAULT_PRIVATE_NETWORK = { ipRange: '10.0.0.0/16', subnetRange: '10.0.1.0/24' } as const;

/** The host networks a service joins: its kind's, its extra ones, and `data` when it uses Postgres or Redis. */
export function networksOf(service: ServiceSpec): HostNetwork[] {
  const networks = new Set<HostNetwork>([...(KIND_DEFAULTS[service.kind]?.networks ?? []), ...(service.extraNetworks ?? [])]);
  if ((service.uses ?? []).length > 0) networks.add('data');
  return [...networks].sort();
}
