/**
 * What the platform's own parts get unless the system says otherwise (per-kind
 * service defaults are in kinds.ts). The figures are the source documents'
 * (see DESIGN.md, "Facts from the source documents").
 */
import { Duration } from '../constructs/core/duration';
import { EDGE_PROXY_RESOURCES } from '../constructs/docker/edge-proxy';
import { POSTGRES_DEFAULTS } from '../constructs/docker/postgres-container';
import { REDIS_DEFAULTS } from '../constructs/docker/redis-container';
import { SERVICE_KIND_BEHAVIOUR } from './kinds';
import { DATA_DEPENDENCIES, type AccessorySpec, type DataDependency, type EngineKind, type EnvironmentSpec, type HostNetwork, type ResourceSpec, type ServiceSpec } from './model';

/** The engine an environment runs on: its own choice, else Swarm with more than one host (docs/scaling.md says why). */
export function engineOf(environment: Pick<EnvironmentSpec, 'engine' | 'hosts'>): EngineKind {
  return environment.engine ?? (environment.hosts.length > 1 ? 'swarm' : 'containers');
}

/** Defaults each construct owns, re-exported where the system's defaults are read. */
export { EDGE_PROXY_RESOURCES, POSTGRES_DEFAULTS, REDIS_DEFAULTS };


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

/** Terraform variable holding the age public key the dumps are encrypted to, where the environment names none. */
export const DEFAULT_BACKUP_KEY_VARIABLE = 'backup_age_recipient';

/** Connections each product's Postgres role may hold unless the environment says otherwise. */
export const DEFAULT_CONNECTIONS_PER_PRODUCT = 20;

/** The backup job's image under the registry owner (`ghcr.io/<owner>/db-backup`): pg_dump, redis-cli, crond and an S3 client. */
export const BACKUP_JOB_IMAGE = 'db-backup';

/** The backup job streams dumps to R2; it idles between runs. */
export const BACKUP_JOB_RESOURCES: ResourceSpec = { cpuLimit: 0.5, memoryLimitMiB: 256, cpuReservation: 0.1, memoryReservationMiB: 64 };

/** Environment variable each data dependency is handed in. */
export const DATA_ENV_VARS = { postgres: 'DATABASE_URL', redis: 'REDIS_URL' } as const;

/** Prefix of a bucket's variables when the catalog names none. */
export const DEFAULT_BUCKET_VARIABLE_PREFIX = 'S3_';

/** The secret variable names of a bucket (values from the product stack). */
export function bucketSecretNames(prefix: string): { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string } {
  return { endpoint: `${prefix}ENDPOINT`, bucket: `${prefix}BUCKET`, accessKeyId: `${prefix}ACCESS_KEY_ID`, secretAccessKey: `${prefix}SECRET_ACCESS_KEY` };
}

/** What an accessory's users receive, as templates: its own `connection`, else `<NAME>_HOST` and `<NAME>_PORT` of its first port. */
export function accessoryConnectionTemplates(accessory: AccessorySpec): Readonly<Record<string, string>> {
  const prefix = accessory.name.toUpperCase().replace(/-/g, '_');
  return accessory.connection ?? { [`${prefix}_HOST`]: '{host}', [`${prefix}_PORT`]: `{port:${Object.keys(accessory.ports ?? {})[0]}}` };
}

/** The backup bucket is `<system>-<env>-backups`. */
export const BACKUP_BUCKET_SUFFIX = 'backups';

/** Default OS image of a host. */
export const DEFAULT_HOST_IMAGE = 'ubuntu-24.04';

/** Group of a host that names none: where products run. */
export const DEFAULT_HOST_GROUP = 'app';

/** The smallest Hetzner load balancer: 25 targets, 5 services (the edge needs 2). */
export const DEFAULT_LOAD_BALANCER_TYPE = 'lb11';

/** The load balancer's fixed private address: .5 of the subnet, below the hosts (.10 on). */
export const LOAD_BALANCER_ADDRESS_OFFSET = 5;

/** Hosts take private addresses from .10 of the subnet on, leaving the gateway (.1) and room below. */
export const HOST_ADDRESS_OFFSET = 10;

export const DEFAULT_PRIVATE_NETWORK = { ipRange: '10.0.0.0/16', subnetRange: '10.0.1.0/24' } as const;

/**
 * The shared host networks a service joins: its own `networks` or else its kind's, its extra ones,
 * `data` when it uses PostgreSQL or Redis, and `backend` when it
 * calls another product or another product calls it (cross-product calls go
 * only through declared links). Calls within a product use the product's
 * own network, which every container of the product joins.
 */
export function networksOf(service: ServiceSpec, linksAcrossProducts: boolean): HostNetwork[] {
  const networks = new Set<HostNetwork>([...(service.networks ?? SERVICE_KIND_BEHAVIOUR[service.kind]?.networks ?? []), ...(service.extraNetworks ?? [])]);
  // An accessory has a network of its own (ResolvedAccessory.networkName): using one alone is no reason to be on `data`.
  if ((service.uses ?? []).some((name) => (DATA_DEPENDENCIES as readonly string[]).includes(name))) networks.add('data');
  if (linksAcrossProducts) networks.add('backend');
  return [...networks].sort();
}
