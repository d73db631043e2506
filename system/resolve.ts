/**
 * Turns the catalog and one environment into the fully derived view every
 * stack builds from: defaults filled in, domains, images, hosts, networks and
 * connection wiring computed once, here, instead of in each construct.
 */
import { ConfigurationError, type ConfigurationIssue } from '../constructs/core/configuration-error';
import { HealthCheck } from '../constructs/core/health-check';
import { HETZNER_LOCATIONS } from '../constructs/hetzner/locations';
import { HETZNER_SERVER_TYPES, type ServerTypeFacts } from '../constructs/hetzner/server-types';
import { Duration } from '../constructs/core/duration';
import { ipv4At } from '../constructs/core/cidr';
import type { RateLimit } from '../constructs/docker/edge-route';
import type { HetznerLocation } from '../constructs/hetzner/locations';
import type { PrivatePort } from '../constructs/hetzner/cloud-init';
import type { InvariantExemption } from '../policy/invariants';
import {
  accessoryConnectionTemplates,
  BACKUP_JOB_IMAGE,
  BACKUP_JOB_RESOURCES,
  BACKUP_PLAN,
  bucketSecretNames,
  DEFAULT_BUCKET_VARIABLE_PREFIX,
  DEFAULT_HOST_GROUP,
  DEFAULT_BACKUP_KEY_VARIABLE,
  DEFAULT_CONNECTIONS_PER_PRODUCT,
  DEFAULT_HOST_IMAGE,
  DEFAULT_LOAD_BALANCER_TYPE,
  DEFAULT_PRIVATE_NETWORK,
  engineOf,
  HOST_ADDRESS_OFFSET,
  LOAD_BALANCER_ADDRESS_OFFSET,
  networksOf,
  POSTGRES_DEFAULTS,
  REDIS_DEFAULTS,
} from './defaults';

/** Where the stacks read a bucket's secret names from. */
export { bucketSecretNames };
import { cachingRules } from './caching';
import { secretFilesOf } from './secret-files';
import { SERVICE_KIND_BEHAVIOUR, type KindCachingRule } from './kinds';
import { linkedReach, networkCountIssues } from './reachability';
import { resolveMonitoring, type ResolvedMonitoring } from './monitoring';
import { EXPORTER_PORTS } from '../constructs/monitoring/prometheus-config';
import { SWARM_ROLE_LABEL } from '../constructs/hetzner/swarm-formation';
import { MONITORING_RESOURCES } from '../constructs/monitoring/resources';
import {
  DATA_DEPENDENCIES,
  type CachingMode,
  type CloudflarePlan,
  type DataDependency,
  type EnvironmentSpec,
  type EngineKind,
  type AccessoryDeployment,
  type AccessorySpec,
  type HostNetwork,
  type LinkSpec,
  type ProductDeployment,
  type ProductSpec,
  type Reachability,
  type RestartPolicy,
  type ResourceSpec,
  type ServiceKind,
  type ServiceSpec,
  type SnapshotSpec,
  type SshKeySpec,
  type SystemSpec,
  type UpdateOrder,
} from './model';
import { planCapacity } from './capacity';
import { externalQueueWarnings, redisAccessOf, redisEvictionPolicy, redisVariables } from './redis-usage';
import type { RedisUserAccess } from '../constructs/docker/data-scripts';
import type { RedisEvictionPolicy } from '../constructs/docker/redis-container';
import { resolveTasks, type ResolvedTask } from './tasks';
import { releasedThroughSlots, resolveReleasePolicy, resolveSlots, resolveSmokeChecks, type ResolvedReleasePolicy, type ResolvedSlots, type ResolvedSmokeCheck } from './releases';
import { CREDENTIALS_STACK_SUFFIX, findLinkTarget, serviceLabel, validateSystem } from './validation';
import { accessoryUsers } from './validation/accessories';

/** A container image reference split into its parts. */
export interface ImageRef {
  /** `ghcr.io/<owner>/<image>` */
  readonly repository: string;
  /** The tag, or for a reference by digest only `sha256-<first 12 hex digits>`: safe in container names and labels. */
  readonly tag: string;
  /** What Docker pulls: `repository:tag`, `repository@sha256:...` or both. */
  readonly ref: string;
}

/** Splits an image reference (validated: `repository[:tag][@sha256:<hex>]`). */
export function parseImageRef(ref: string): ImageRef {
  const [name, digest] = ref.split('@') as [string, string | undefined];
  const colon = name.lastIndexOf(':');
  const hasTag = colon > name.lastIndexOf('/');
  const repository = hasTag ? name.slice(0, colon) : name;
  const tag = hasTag ? name.slice(colon + 1) : `sha256-${digest!.replace(/^sha256:/, '').slice(0, 12)}`;
  return { repository, tag, ref };
}

/** Terraform reads `${...}` and `%{...}` in any string as an expression: user text keeps them literal by doubling the sigil. */
export function escapeForTerraform(text: string): string {
  return text.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

const escapeValues = (values: Readonly<Record<string, string>> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(values ?? {}).map(([name, value]) => [name, escapeForTerraform(value)]));

/** A stateful or third-party service as run in one environment. */
export interface ResolvedAccessory {
  readonly name: string;
  readonly image: ImageRef;
  readonly command?: readonly string[];
  readonly ports: Readonly<Record<string, number>>;
  readonly volumes: readonly { readonly name: string; readonly mountPath: string; readonly sizeGiB: number }[];
  /** Plain variables, escaped for Terraform. */
  readonly environment: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
  /** Secrets it shares with its users, generated in the credentials stack of `sharedSecretsOwner`. */
  readonly sharedSecrets: readonly string[];
  /** The one product using it, whose credentials stack generates its shared secrets; undefined when it has none. */
  readonly sharedSecretsOwner?: string;
  readonly healthCheck: HealthCheck;
  readonly resources: ResourceSpec;
  readonly user: string;
  readonly writablePaths: readonly string[];
  readonly restart: RestartPolicy;
  /** Host it runs on. */
  readonly host: string;
  /**
   * Its own Docker network (`<system>-accessory-<name>`), which only it and
   * the services using it join: a bridge on the one host, an encrypted
   * overlay on a swarm (it is a plain container, so the overlay is attachable).
   */
  readonly networkName: string;
  /** What its users receive, templates filled in: `{host}` is its name on its network. */
  readonly connection: Readonly<Record<string, string>>;
}

/** An R2 bucket of a service in one environment. */
export interface ResolvedBucket {
  /** Short name from the catalog; part of Terraform addresses. */
  readonly name: string;
  /** The bucket's name in the Cloudflare account (`<system>-<env>-<product>-<name>`). */
  readonly bucketName: string;
  /** Prefix of the variables the service receives. */
  readonly variablePrefix: string;
  /** Fully qualified public name serving its objects; undefined when private. */
  readonly publicDomain?: string;
}

/** A secret an accessory and the services using it both receive, under one variable name. */
export interface SharedSecret {
  readonly accessory: string;
  /** The variable name, in the accessory and in the services. */
  readonly name: string;
}

/** CPU and memory of an accessory that declares none. */
export const ACCESSORY_RESOURCES: ResourceSpec = { cpuLimit: 0.5, memoryLimitMiB: 512, cpuReservation: 0.5, memoryReservationMiB: 512 };

/** Where a product's Postgres or Redis comes from in one environment. */
export type DataSource = 'container' | 'external';

export interface ResolvedService {
  readonly product: string;
  readonly name: string;
  readonly kind: ServiceKind;
  /** `<product>-<service>`: the stable network alias of the container and base of its Terraform ids. */
  readonly id: string;
  readonly port?: number;
  /** Named further ports. */
  readonly ports: Readonly<Record<string, number>>;
  /** Port the health check probes. */
  readonly healthPort?: number;
  /** Containers (one host) or tasks (swarm) of the service. */
  readonly replicas: number;
  /** Where Swarm schedules its tasks; undefined with plain containers (every replica on `host`). */
  readonly placement?: SwarmPlacement;
  readonly restart: RestartPolicy;
  /** Image for container kinds; undefined for mobile. */
  readonly image?: ImageRef;
  readonly command?: readonly string[];
  readonly healthCheck?: HealthCheck;
  readonly resources: ResourceSpec;
  /** Plain variables, including the URLs of linked services. */
  readonly environment: Readonly<Record<string, string>>;
  /** Names of secret variables (values come from sensitive Terraform variables). */
  readonly secrets: readonly string[];
  /**
   * Secret variables (of any source) its image reads from a file, each with the variable naming the file
   * (`DATABASE_URL` -> `DATABASE_URL_FILE`): Swarm secrets on a swarm, environment values on plain containers.
   */
  readonly secretFiles: Readonly<Record<string, string>>;
  /** Names in `environment` declared free of secrets despite their names (the secret check waives each). */
  readonly plainVariables: readonly string[];
  /** PostgreSQL and Redis, when it uses them. */
  readonly uses: readonly DataDependency[];
  /** Accessories it uses, by name. */
  readonly accessories: readonly string[];
  /** Secrets it shares with the accessories it uses (their `sharedSecrets`), from its product's credentials stack. */
  readonly sharedSecrets: readonly SharedSecret[];
  /** Its R2 buckets (`buckets`), whose credentials it receives as secrets. */
  readonly buckets: readonly ResolvedBucket[];
  /** Fully qualified public name, for routed kinds and mobile. */
  readonly domain?: string;
  readonly routed: boolean;
  /** Whether the DNS record goes through Cloudflare's proxy. */
  readonly proxied: boolean;
  readonly networks: readonly HostNetwork[];
  /**
   * The product networks it joins, by the name of the service owning each
   * (reachability `linked`); undefined: the one product network (`product`).
   */
  readonly productNetworks?: readonly string[];
  readonly writablePaths: readonly string[];
  /** Is the container's root filesystem read-only? */
  readonly readOnlyRootFilesystem: boolean;
  /** How its container is replaced on a change. */
  readonly updateOrder: UpdateOrder;
  /** Host its containers run on (one host); on a swarm the first host of its placement group. */
  readonly host: string;
  readonly runsContainer: boolean;
  /** Per-client request budget of its route, when routed. */
  readonly rateLimit?: RateLimit;
  /** Caching rules of its domain. */
  readonly caching: readonly KindCachingRule[];
  /** Publishes an R2 bucket for over-the-air updates on its domain. */
  readonly otaBucket: boolean;
  /** Seconds the container gets to shut down on stop and destroy (the kind's `stopGraceSeconds`). */
  readonly stopGraceSeconds: number;
  /** Where Prometheus scrapes the service's metrics; undefined: it declares none. */
  readonly metrics?: { readonly path: string; readonly port: number };
  /** The HTTP route its health check probes, for the monitoring's probes; undefined for command and process checks. */
  readonly healthEndpoint?: { readonly path: string; readonly port: number };
  /** Release tasks, run once per released tag before the product's new containers start (system/tasks.ts). */
  readonly tasks: readonly ResolvedTask[];
  /** Smoke checks run against a new version before it receives traffic (system/releases.ts). */
  readonly smoke: readonly ResolvedSmokeCheck[];
  /** Its release slots, when its versions are released through them (releasedThroughSlots). @default - one set of containers, swapped by the apply */
  readonly slots?: ResolvedSlots;
}

/** Where Swarm places a service's tasks. */
export interface SwarmPlacement {
  /** Node labels a task requires: `{ role: <host group> }` (swarmNodeLabels). */
  readonly nodeLabels: Readonly<Record<string, string>>;
  /** Hosts carrying those labels, in the environment's order. */
  readonly nodes: readonly string[];
  /**
   * At most this many tasks on one node: the replicas over the nodes less one, so a node loss takes a bounded
   * share and the others can still take its tasks; undefined where that bound is no bound (it would be >= replicas).
   */
  readonly maxReplicasPerNode?: number;
}

export interface ResolvedProduct {
  readonly name: string;
  /** `<env>-<product>`: stack, GitHub environment and workspace suffix. */
  readonly stackName: string;
  /** Hosts its containers may run on, in the environment's host order (on a swarm, its group's nodes); `host` is the first. */
  readonly hosts: readonly string[];
  /**
   * Name of the product's own Docker network, which all its containers join
   * (`<system>-<product>`); under `linked` reachability the base of its
   * services' networks (`<system>-<product>.<service>`).
   */
  readonly networkName: string;
  /** Who reaches its containers on its own networks: all of each other (`product`) or their callers only (`linked`). */
  readonly reachability: Reachability;
  /** Services owning a network of their own, which only they and their callers join (`linked`); empty under `product`. */
  readonly serviceNetworks: readonly string[];
  readonly host: string;
  readonly services: readonly ResolvedService[];
  readonly databaseName: string;
  /**
   * `<env>-<product>-credentials`: the stack holding the passwords of its roles on the environment's PostgreSQL
   * and Redis containers, read by the data stack and this product's stack only; undefined when it uses none.
   */
  readonly credentialsStackName?: string;
  /** Secrets its credentials stack generates for the accessories it alone uses, and its services receive. */
  readonly sharedSecrets: readonly SharedSecret[];
  /** Data services the product uses and where each comes from. */
  readonly data: Readonly<Partial<Record<DataDependency, DataSource>>>;
  /** Who runs each external data service the product uses (`supabase`), for variable descriptions. */
  readonly externalProviders: Readonly<Partial<Record<DataDependency, string>>>;
  /** Public URL shown on the GitHub environment: web, else landing, else api. */
  readonly publicUrl?: string;
  /** Rights its Redis ACL user has beyond its prefix, for the clients its services declare; undefined: none. */
  readonly redisAccess?: RedisUserAccess;
}

export interface ResolvedHost {
  readonly name: string;
  /** `<system>-<env>-<host>`: the Hetzner server name. */
  readonly serverName: string;
  readonly serverType: string;
  readonly facts: ServerTypeFacts;
  readonly image: string;
  /** Reverse DNS name of the host's primary IPs. */
  readonly fqdn: string;
  /** Its host group (`app` unless the environment says otherwise). */
  readonly group: string;
  /** Its fixed address in the environment's subnet (`.10` on, in host order). */
  readonly privateIp: string;
}

/** How Terraform reaches a host's Docker daemon, defaults filled in. */
export type ResolvedDockerAccess =
  | { readonly mode: 'ssh' }
  | {
      readonly mode: 'agent';
      /** Terraform Cloud agent pool of the environment (`<prefix>-<env>`), created by the bootstrap stack. */
      readonly agentPool: string;
    };

/** Let's Encrypt's ACME directories (https://letsencrypt.org/docs/staging-environment/). */
export const ACME_DIRECTORIES = {
  production: 'https://acme-v02.api.letsencrypt.org/directory',
  staging: 'https://acme-staging-v02.api.letsencrypt.org/directory',
} as const;

/** The service answering the zone apex, and its names. */
export interface ResolvedApex {
  readonly product: string;
  readonly service: string;
  /** The zone apex (`manacore.app`). */
  readonly domain: string;
  /** `www.<apex>`, redirected to the apex. */
  readonly wwwDomain: string;
}

/** Where every stack of an environment keeps its state and how other stacks read its outputs. */
export type BackendSettings =
  | { readonly kind: 'local' }
  | {
      readonly kind: 'cloud';
      readonly organization: string;
      /** Workspaces are `<prefix>-<stack>`. */
      readonly workspacePrefix: string;
      /** Terraform version the workspaces run. */
      readonly terraformVersion: string;
    };

/** A PostgreSQL or Redis run as a container on a volume of the data host. */
export interface ResolvedDataService {
  readonly name: DataDependency;
  /** Size of its Hetzner volume, GiB. */
  readonly volumeSizeGiB: number;
  /** Container CPU and memory, defaults filled in. */
  readonly resources: ResourceSpec;
  /** Redis `maxmemory`, MiB; undefined for Postgres. */
  readonly maxMemoryMiB?: number;
  /** Redis `maxmemory-policy`; undefined for Postgres. */
  readonly maxMemoryPolicy?: RedisEvictionPolicy;
  /** Image reference. @default - the construct's (postgres:16-alpine, redis:7-alpine) */
  readonly image?: string;
  /** PostgreSQL `max_connections`. @default - the construct's */
  readonly maxConnections?: number;
  /** Further PostgreSQL server settings. */
  readonly settings?: Readonly<Record<string, string>>;
  /** When it is dumped (cron, UTC), under which key prefix of the backup bucket, and for how long the dumps are kept. */
  readonly backup: { readonly cron: string; readonly prefix: string; readonly keepFor: Duration };
  /** Products with their own database or connection on it. */
  readonly users: readonly ResolvedProduct[];
  /** Where its users connect: its name on the data network (a bridge on one host, an overlay on a swarm). */
  readonly connectionHost: string;
  /** Postgres: connections each product's role may hold. */
  readonly connectionsPerProduct?: number;
  /** Postgres: the metrics exporter beside it (postgres_exporter), scraped by its host's collector. */
  readonly exporter?: { readonly resources: ResourceSpec };
}

/** The nightly dump job, when the environment has one. */
export interface ResolvedBackupJob {
  /** Full image reference (`ghcr.io/<owner>/db-backup:<tag>`). */
  readonly image: string;
  readonly resources: ResourceSpec;
  /** Public key the dumps are encrypted to: a literal age recipient or the Terraform variable holding one. */
  readonly encryptionKey: { readonly recipient: string } | { readonly variable: string };
  /** Name of the sensitive Terraform variable holding the heartbeat URL; undefined for none. */
  readonly heartbeatSecret?: string;
}

/** A load balancer passing 80/443 to the edge proxies of several hosts. */
export interface ResolvedLoadBalancer {
  /** Hetzner type (`lb11`). */
  readonly type: string;
  /** Hosts whose edge proxies receive traffic: the nodes routed services are placed on. */
  readonly targets: readonly string[];
  /** Its fixed address in the hosts' subnet: the only source the edge proxies take the PROXY protocol from. */
  readonly privateIp: string;
}

/** The environment's data services. */
export interface ResolvedData {
  /** Host the data containers run on. */
  readonly host: string;
  /** Data services run as containers here (none when all are external), Postgres first. */
  readonly containers: readonly ResolvedDataService[];
  /** The dump job: exists exactly when a backup image tag is set and a data service runs as a container. */
  readonly backupJob?: ResolvedBackupJob;
  /** Dump a product's database before its release tasks run: set (default: in production) and a backup job and a PostgreSQL container exist. */
  readonly preMigrationBackup: boolean;
}

/** GitHub deployment protection, defaults filled in. */
export interface ResolvedGithub {
  readonly reviewerTeams?: readonly string[];
  readonly reviewerUsers?: readonly string[];
  readonly waitTimerMinutes: number;
  readonly requireApproval?: boolean;
}

/**
 * One environment, fully derived: every fact a stack or capacity planning
 * needs, defaults filled in, computed once here. Nothing downstream reads the
 * raw description.
 */
export interface ResolvedEnvironment {
  readonly name: string;
  readonly production: boolean;
  /** The system's name; labels resources and prefixes their names. */
  readonly systemName: string;
  /** Root DNS zone. */
  readonly rootDomain: string;
  /** Prefix of the first DNS label (`staging-`), '' for the primary environment. */
  readonly domainPrefix: string;
  readonly location: HetznerLocation;
  readonly networkZone: string;
  readonly privateNetwork: { readonly ipRange: string; readonly subnetRange: string };
  readonly hosts: readonly ResolvedHost[];
  /** Plain containers per host, or one swarm of every host. */
  readonly engine: EngineKind;
  /** Canary share and rollback window of its releases, defaults filled in (system/releases.ts). */
  readonly releases: ResolvedReleasePolicy;
  /** Host the Postgres and Redis containers run on. */
  readonly dataHost: string;
  readonly products: readonly ResolvedProduct[];
  /** Products using a Postgres/Redis container (they get a database and credentials in the data stack). */
  readonly containerDataUsers: Readonly<Record<DataDependency, readonly ResolvedProduct[]>>;
  readonly data: ResolvedData;
  /** Accessories running here. */
  readonly accessories: readonly ResolvedAccessory[];
  /** The load balancer in front of the edge proxies, when routed services run on more than one host. */
  readonly loadBalancer?: ResolvedLoadBalancer;
  /** Per host, the ports published on its private address (the monitoring host's Prometheus and Loki, for the other hosts' collectors), each with the sources admitted to it. */
  readonly privatePorts: Readonly<Record<string, readonly PrivatePort[]>>;
  /** Delete and rebuild protection, `prevent_destroy` on stateful resources. */
  readonly protection: boolean;
  /** Hetzner automatic server backups. */
  readonly backups: boolean;
  readonly adminSshCidrs: readonly string[];
  readonly sshKeys: readonly SshKeySpec[];
  readonly snapshots: readonly SnapshotSpec[];
  readonly dockerAccess: ResolvedDockerAccess;
  readonly acmeEmail: string;
  /** ACME directory the edge proxy orders its wildcard certificate from. */
  readonly acmeDirectory: string;
  /** The service answering the apex and `www`, when this environment has one. */
  readonly apex?: ResolvedApex;
  /** Does the edge serve IPv6 (AAAA records, IPv6 frontend network)? */
  readonly ipv6: boolean;
  /** Log in to Docker Hub for its images (optional credentials against pull rate limits). */
  readonly dockerHubLogin: boolean;
  /** The container registry images are pulled from. */
  readonly registry: { readonly host: string; readonly owner: string };
  /** The GitHub repository holding the deployment environments. */
  readonly repository: { readonly owner: string; readonly name: string };
  readonly github: ResolvedGithub;
  readonly cloudflare: { readonly plan: CloudflarePlan; readonly caching: CachingMode; readonly zoneId?: string };
  readonly backend: BackendSettings;
  readonly invariantExemptions: readonly InvariantExemption[];
  /** Metrics, logs, dashboards and alerts: the `<env>-monitoring` stack. */
  readonly monitoring: ResolvedMonitoring;
  /** `<env>-<name>` */
  stackName(name: string): string;
  /** `<prefix><label>.<root>` */
  domain(label: string): string;
  /** `<system>-<env>-<name>`: the name of a cloud resource of this environment. */
  resourceName(name: string): string;
}

/** The whole system, validated and resolved per environment. */
export interface ResolvedSystem {
  readonly name: string;
  readonly rootDomain: string;
  readonly environments: readonly ResolvedEnvironment[];
  /** Things that are allowed but close to a limit (a host over 85% reserved); printed at synth. */
  readonly warnings: readonly string[];
}

export interface ResolveOptions {
  /**
   * Terraform Cloud organization for every environment without its own
   * `terraformCloud` setting (`TFC_ORGANIZATION` in `main.ts`).
   * @default - local backend
   */
  readonly terraformCloudOrganization?: string;
}

/** Terraform version Terraform Cloud workspaces run unless the environment says otherwise: the one this project is tested with. */
export const DEFAULT_TERRAFORM_VERSION = '1.11.4';

/** Validates the whole system and resolves every environment; throws a ConfigurationError listing every problem. */
export function resolveSystem(system: SystemSpec, options: ResolveOptions = {}): ResolvedSystem {
  const issues = validateSystem(system);
  if (issues.length > 0) throw new ConfigurationError(issues);
  const environments = system.environments.map((environment) => resolveEnvironment(system, environment, options, issues));
  if (issues.length > 0) throw new ConfigurationError(issues);
  const capacity = environments.map(planCapacity);
  const overCommitted = capacity.flatMap((report) => report.issues);
  if (overCommitted.length > 0) throw new ConfigurationError(overCommitted);
  const unrouted = environments.flatMap((environment) =>
    environment.monitoring.unroutedSeverities.map(
      (severity) =>
        `environment "${environment.name}": no receiver for ${severity} alerts (monitoring.receivers and monitoring.routes); they are shown in Alertmanager and Grafana only`,
    ),
  );
  const hiddenGrafana = environments
    .filter((environment) => !grafanaIsPublic(environment))
    .map(
      (environment) =>
        `environment "${environment.name}": Grafana gets no public name ${
          environment.engine === 'swarm'
            ? "on a swarm (the edge's Swarm provider routes services' labels only; Grafana is a plain container)"
            : "behind the load balancer (only the monitoring host's edge proxy knows it)"
        }; reach it through an SSH tunnel (docs/observability.md)`,
    );
  const unwatched = environments
    .filter((environment) => environment.monitoring.uptime.mode === 'none')
    .map(
      (environment) =>
        `environment "${environment.name}": no external uptime checks (Cloudflare health checks need a Pro zone or higher); name a monitor in monitoring.uptime ({ mode: 'external', monitor: '...' })`,
    );
  const unusedBalancerType = system.environments
    .filter((spec) => spec.loadBalancer?.type !== undefined && environments.find((environment) => environment.name === spec.name)?.loadBalancer === undefined)
    .map(
      (spec) =>
        `environment "${spec.name}": loadBalancer.type "${spec.loadBalancer!.type}" is unused: no routed service runs on more than one host, so there is no load balancer`,
    );
  return {
    name: system.name,
    rootDomain: system.rootDomain,
    environments,
    warnings: [...capacity.flatMap((report) => report.warnings), ...unrouted, ...unwatched, ...hiddenGrafana, ...unusedBalancerType, ...externalQueueWarnings(system)],
  };
}

function backendOf(system: SystemSpec, spec: EnvironmentSpec, options: ResolveOptions): BackendSettings {
  const cloud = spec.terraformCloud;
  const organization = cloud?.organization ?? options.terraformCloudOrganization;
  if (organization === undefined || organization === '') return { kind: 'local' };
  return {
    kind: 'cloud',
    organization,
    workspacePrefix: cloud?.workspacePrefix ?? system.name,
    terraformVersion: cloud?.terraformVersion ?? DEFAULT_TERRAFORM_VERSION,
  };
}

function resolveEnvironment(system: SystemSpec, spec: EnvironmentSpec, options: ResolveOptions, issues: ConfigurationIssue[]): ResolvedEnvironment {
  const prefix = spec.domainPrefix ?? '';
  const domain = (label: string) => `${prefix}${label}.${system.rootDomain}`;
  const stackName = (name: string) => `${spec.name}-${name}`;
  const resourceName = (name: string) => `${system.name}-${spec.name}-${name}`;
  const imageRepository = (image: string) => `${system.registry.host}/${system.registry.owner}/${image}`;
  const firstHost = spec.hosts[0]!.name;
  const subnet = (spec.privateNetwork ?? DEFAULT_PRIVATE_NETWORK).subnetRange;
  const hosts = spec.hosts.map(
    (host, index): ResolvedHost => ({
      privateIp: ipv4At(subnet, HOST_ADDRESS_OFFSET + index),
      name: host.name,
      serverName: resourceName(host.name),
      serverType: host.serverType,
      facts: HETZNER_SERVER_TYPES[host.serverType]!,
      image: host.image ?? DEFAULT_HOST_IMAGE,
      fqdn: domain(host.name),
      group: host.group ?? DEFAULT_HOST_GROUP,
    }),
  );
  const engine: EngineKind = engineOf(spec);
  const dataHost = spec.data.host ?? firstHost;
  // Plain containers: the one host (validation refuses more). Swarm: the nodes of the product's group, which Swarm
  // schedules over; a product placed by `host` stands for that host's group (validation: its only member).
  const groupOfProduct = (d: ProductDeployment) => d.group ?? hosts.find((h) => h.name === d.host)?.group ?? DEFAULT_HOST_GROUP;
  const hostsOfProduct = new Map(
    spec.products.map((d) => [d.product, engine === 'swarm' ? hosts.filter((h) => h.group === groupOfProduct(d)).map((h) => h.name) : [d.host ?? firstHost]]),
  );
  const replicasOf = (deployment: ProductDeployment, service: ServiceSpec) => deployment.replicas?.[service.name] ?? service.replicas ?? 1;
  const placementOf = (deployment: ProductDeployment, service: ServiceSpec): SwarmPlacement | undefined => {
    if (engine !== 'swarm') return undefined;
    const nodes = hostsOfProduct.get(deployment.product)!;
    const replicas = replicasOf(deployment, service);
    // Swarm spreads a service's tasks over the matching nodes by itself (fewest tasks of the service first); the
    // bound keeps that spread after rescheduling and still leaves N-1 nodes room for every replica.
    const bound = nodes.length > 1 ? Math.ceil(replicas / (nodes.length - 1)) : undefined;
    return {
      nodeLabels: { [SWARM_ROLE_LABEL]: groupOfProduct(deployment) },
      nodes,
      maxReplicasPerNode: bound !== undefined && bound < replicas ? bound : undefined,
    };
  };
  const resolvedAccessories = (spec.accessories ?? []).map((deployment) => {
    const accessory = system.accessories!.find((a) => a.name === deployment.name)!;
    const host = deployment.host ?? dataHost;
    // Validation allows shared secrets only on an accessory exactly one product uses.
    const owner = (accessory.sharedSecrets ?? []).length > 0 ? accessoryUsers(system, spec, accessory.name)[0] : undefined;
    return resolveAccessory(accessory, deployment, host, owner, `${system.name}-accessory-${accessory.name}`);
  });
  const accessoryConnection = new Map(resolvedAccessories.map((accessory) => [accessory.name, accessory.connection]));
  const sharedSecretsOf = (name: string): SharedSecret[] =>
    (resolvedAccessories.find((accessory) => accessory.name === name)?.sharedSecrets ?? []).map((secret) => ({ accessory: name, name: secret }));
  const linkedAcrossProducts = crossProductLinkEnds(system, spec);

  const products = spec.products.map((deployment): ResolvedProduct => {
    const product = system.products.find((p) => p.name === deployment.product)!;
    const productHosts = hostsOfProduct.get(product.name)!;
    const host = productHosts[0]!;
    const hostNetworksOf = (service: ServiceSpec) => networksOf(service, linkedAcrossProducts.has(`${product.name}/${service.name}`));
    const reach = linkedReach(product, (name) => hostNetworksOf(product.services.find((service) => service.name === name)!));
    const services = product.services.map((service): ResolvedService => {
      const kind = SERVICE_KIND_BEHAVIOUR[service.kind];
      const label = serviceLabel(product, service);
      const uses = (service.uses ?? []).filter((name): name is DataDependency => (DATA_DEPENDENCIES as readonly string[]).includes(name));
      const accessories = (service.uses ?? []).filter((name) => !(DATA_DEPENDENCIES as readonly string[]).includes(name));
      const tag = deployment.imageTags?.[service.name] ?? deployment.imageTag;
      const buckets = (service.buckets ?? []).map(
        (bucket): ResolvedBucket => ({
          name: bucket.name,
          bucketName: resourceName(`${product.name}-${bucket.name}`),
          variablePrefix: bucket.variablePrefix ?? DEFAULT_BUCKET_VARIABLE_PREFIX,
          publicDomain: bucket.publicSubdomain === undefined ? undefined : domain(bucket.publicSubdomain),
        }),
      );
      const repository = imageRepository(service.image ?? `${product.name}-${service.name}`);
      const port = service.port ?? kind.port;
      const ports = service.ports ?? {};
      const image = service.imageRef !== undefined ? parseImageRef(service.imageRef) : { repository, tag, ref: `${repository}:${tag}` };
      const replicas = replicasOf(deployment, service);
      const resources = scaleReservations({ ...kind.resources!, ...service.resources }, spec.reservationScale ?? 1);
      return {
        product: product.name,
        name: service.name,
        kind: service.kind,
        id: `${product.name}-${service.name}`,
        port,
        ports,
        healthPort: service.healthPort !== undefined ? ports[service.healthPort] : port,
        replicas,
        placement: kind.container ? placementOf(deployment, service) : undefined,
        restart: service.restart ?? 'unless-stopped',
        image: kind.container ? image : undefined,
        command: service.command?.map(escapeForTerraform),
        // User text like the command: its `${` and `%{` stay literal for Terraform.
        healthCheck: kind.container ? (service.healthCheck?.withCommandText(escapeForTerraform) ?? kind.healthCheck ?? commandCheck(kind.probesCommand, service.command)) : undefined,
        resources,
        environment: {
          ...escapeValues(service.environment),
          ...resolveLinks(system, spec, product, service, domain, issues),
          ...Object.assign({}, ...accessories.map((name) => accessoryConnection.get(name) ?? {})),
          ...redisVariables(product.name, service),
          ...Object.assign({}, ...buckets.map((bucket) => bucketPlainVariables(bucket))),
        },
        secrets: service.secrets ?? [],
        secretFiles: kind.container ? secretFilesOf(system, service) : {},
        plainVariables: service.plainVariables ?? [],
        uses,
        accessories,
        sharedSecrets: accessories.flatMap((name) => sharedSecretsOf(name)),
        buckets,
        domain: label === undefined ? undefined : domain(label),
        routed: kind.routed,
        proxied: kind.proxied,
        networks: kind.container ? hostNetworksOf(service) : [],
        productNetworks: reach?.get(service.name)?.joins,
        writablePaths: service.writablePaths ?? kind.writablePaths,
        readOnlyRootFilesystem: service.readOnlyRootFilesystem ?? kind.readOnlyRootFilesystem,
        // A singleton never runs twice, not even while it is replaced.
        updateOrder: service.updateOrder ?? (service.singleton === true ? 'stop-first' : kind.updateOrder),
        host,
        runsContainer: kind.container,
        rateLimit: kind.routed ? kind.rateLimit : undefined,
        caching: cachingRules(service.caching ?? kind.caching),
        otaBucket: kind.otaBucket,
        stopGraceSeconds: kind.stopGraceSeconds,
        metrics: kind.container && service.metrics !== undefined ? { path: service.metrics.path ?? '/metrics', port: service.metrics.port ?? port! } : undefined,
        healthEndpoint: healthEndpointOf(kind.container ? (service.healthCheck ?? kind.healthCheck) : undefined, service.healthPort !== undefined ? ports[service.healthPort] : port),
        tasks: kind.container ? resolveTasks(product.name, service, resources, escapeForTerraform) : [],
        smoke: kind.container ? resolveSmokeChecks(service, port, ports, (service.healthCheck ?? kind.healthCheck)?.httpClient ?? 'wget', escapeForTerraform) : [],
        slots: releasedThroughSlots(service, kind, engine) ? resolveSlots(deployment.slots?.[service.name], tag) : undefined,
      };
    });
    const data: Partial<Record<DataDependency, DataSource>> = {};
    const externalProviders: Partial<Record<DataDependency, string>> = {};
    for (const dependency of new Set(services.flatMap((s) => s.uses))) {
      const settings = spec.data[dependency];
      const external = deployment.externalData?.includes(dependency) || settings.mode === 'external';
      data[dependency] = external ? 'external' : 'container';
      if (external) externalProviders[dependency] = settings.mode === 'external' ? settings.provider : 'an external provider';
    }
    const productSharedSecrets = resolvedAccessories.filter((accessory) => accessory.sharedSecretsOwner === product.name).flatMap((accessory) => sharedSecretsOf(accessory.name));
    const publicDomain = services
      .filter((service) => service.domain !== undefined && SERVICE_KIND_BEHAVIOUR[service.kind].publicUrlRank !== undefined)
      .sort((a, b) => SERVICE_KIND_BEHAVIOUR[a.kind].publicUrlRank! - SERVICE_KIND_BEHAVIOUR[b.kind].publicUrlRank!)[0]?.domain;
    return {
      name: product.name,
      hosts: productHosts,
      stackName: stackName(product.name),
      networkName: `${system.name}-${product.name}`,
      reachability: product.reachability ?? 'product',
      serviceNetworks: reach === undefined ? [] : [...reach].filter(([, r]) => r.owns).map(([name]) => name),
      host,
      services,
      databaseName: product.databaseName ?? product.name.replace(/-/g, '_'),
      credentialsStackName:
        Object.values(data).includes('container') || productSharedSecrets.length > 0 ? stackName(`${product.name}${CREDENTIALS_STACK_SUFFIX}`) : undefined,
      sharedSecrets: productSharedSecrets,
      data,
      externalProviders,
      publicUrl: publicDomain === undefined ? undefined : `https://${publicDomain}`,
      redisAccess: data.redis === 'container' ? redisAccessOf(product) : undefined,
    };
  });

  const accessories = resolvedAccessories;

  // Each product creates its bridge networks on its host; a daemon's default address pools bound their number. (A
  // swarm's overlays come from its own pool, 10.0.0.0/8 in /24s by default: 65,536 networks, no bound worth a check.)
  if (engine === 'containers') {
    const networksPerHost = new Map<string, Map<string, number>>(hosts.map((h) => [h.name, new Map()]));
    for (const product of products.filter((p) => p.services.some((service) => service.runsContainer))) {
      networksPerHost.get(product.host)!.set(product.name, product.reachability === 'linked' ? product.serviceNetworks.length : 1);
    }
    for (const accessory of accessories) networksPerHost.get(accessory.host)!.set(`accessory ${accessory.name}`, 1);
    issues.push(...networkCountIssues(spec.name, networksPerHost));
  }

  // Prometheus joins the hosts' shared networks only; a service on its product's own network alone is out of its reach.
  for (const service of products.flatMap((product) => product.services)) {
    if (service.metrics !== undefined && !service.networks.some((network) => network === 'frontend' || network === 'backend')) {
      issues.push({
        environment: spec.name,
        product: service.product,
        field: `services.${service.name}.metrics`,
        value: service.metrics,
        allowed: `a service on the host's frontend or backend network (add extraNetworks: ['backend'] to ${service.product}/${service.name})`,
        why: 'Prometheus reaches services by name on the shared host networks; this one is on its product network only',
      });
    }
  }
  const loadBalancer = loadBalancerOf(spec, products);
  // A swarm's edge is a global service on an overlay: its published ports answer IPv4 only (Docker 20.10 gives an
  // overlay no IPv6 and the daemons run without the userland proxy), so without a balancer to take IPv6 it serves none.
  const edgeCanServeIpv6 = engine !== 'swarm' || loadBalancer !== undefined;
  if (spec.ipv6 === true && !edgeCanServeIpv6) {
    issues.push({
      environment: spec.name,
      field: 'ipv6',
      value: true,
      allowed: 'false (the default here), or routed services on two or more nodes, where a load balancer answers IPv6',
      why: "a swarm's edge proxy takes its ports on an overlay network, which carries no IPv6 on Docker 20.10",
    });
  }
  const containerUsers = (dependency: DataDependency) => products.filter((p) => p.data[dependency] === 'container');
  const containerDataUsers = { postgres: containerUsers('postgres'), redis: containerUsers('redis') };
  const dataContainers = DATA_DEPENDENCIES.flatMap((name): ResolvedDataService[] => {
    const settings = spec.data[name];
    if (settings.mode !== 'container') return [];
    const defaults = name === 'postgres' ? POSTGRES_DEFAULTS.resources : REDIS_DEFAULTS.resources;
    return [
      {
        name,
        volumeSizeGiB: settings.volumeSizeGiB,
        resources: { ...defaults, ...settings.resources },
        image: settings.image,
        maxConnections: name === 'postgres' ? settings.maxConnections : undefined,
        settings: name === 'postgres' ? settings.settings : undefined,
        maxMemoryMiB: name === 'redis' ? spec.data.redis.maxMemoryMiB : undefined,
        maxMemoryPolicy: name === 'redis' ? redisEvictionPolicy(system, spec) : undefined,
        backup: {
          cron: spec.data.backupPlan?.[name]?.cron ?? BACKUP_PLAN[name].cron,
          prefix: `${name}/`,
          keepFor: spec.data.backupPlan?.[name]?.keepForDays !== undefined ? Duration.days(spec.data.backupPlan[name]!.keepForDays!) : BACKUP_PLAN[name].keepFor,
        },
        users: containerDataUsers[name],
        connectionHost: name,
        connectionsPerProduct: name === 'postgres' ? (spec.data.postgres.connectionsPerProduct ?? DEFAULT_CONNECTIONS_PER_PRODUCT) : undefined,
        exporter: name === 'postgres' ? { resources: MONITORING_RESOURCES.postgresExporter } : undefined,
      },
    ];
  });
  const backupTag = spec.data.backupImageTag;
  const backend = backendOf(system, spec, options);
  const accessMode = spec.dockerAccess?.mode ?? (backend.kind === 'cloud' ? 'agent' : 'ssh');
  if (accessMode === 'agent' && backend.kind !== 'cloud') {
    issues.push({
      environment: spec.name,
      field: 'dockerAccess.mode',
      value: 'agent',
      allowed: '"ssh", or "agent" with Terraform Cloud (terraformCloud or TFC_ORGANIZATION)',
      why: 'the agent runs Terraform Cloud runs; local state has no agent pool',
    });
  }
  if (accessMode === 'ssh' && backend.kind === 'cloud' && spec.dockerAccess !== undefined) {
    issues.push({
      environment: spec.name,
      field: 'dockerAccess.mode',
      value: 'ssh',
      allowed: '"agent" under Terraform Cloud',
      why: 'remote runs hold no SSH key and no address inside adminSshCidrs, and must not trust a host key on first use',
    });
  }
  if (accessMode === 'agent' && hosts.length > 1) {
    // The agent runs on the swarm's endpoint, the data host (stacks/docker-hosts.ts swarmManagerHost), and reaches
    // only its daemon: a plain container on another host would need that host's provider (docs/scaling.md, "One endpoint").
    const why = (what: string) =>
      `under Terraform Cloud the agent on the data host ("${dataHost}") is the environment's one Docker endpoint; ${what} is a plain container on its host, which only that host's daemon can create (docs/scaling.md, "One endpoint per environment")`;
    if (spec.monitoring?.host !== undefined && spec.monitoring.host !== dataHost) {
      issues.push({ environment: spec.name, field: 'monitoring.host', value: spec.monitoring.host, allowed: `"${dataHost}" (the data host), or unset`, why: why('the monitoring server') });
    }
    for (const deployment of spec.accessories ?? []) {
      if (deployment.host !== undefined && deployment.host !== dataHost) {
        issues.push({ environment: spec.name, field: `accessories.${deployment.name}.host`, value: deployment.host, allowed: `"${dataHost}" (the data host), or unset`, why: why('an accessory') });
      }
    }
  }
  // Data services and accessories are reached by name on networks every node joins (bridges on one host, encrypted
  // overlays on a swarm): nothing of theirs is published. So are Prometheus and Loki on a swarm, whose collectors are
  // services on the backend overlay. Plain containers of several hosts (refused by validation since Swarm) would
  // publish them on the monitoring host's private address, its firewall unit admitting the subnet only.
  // On a swarm the monitoring server runs on the endpoint (the data host) unless placed: the monitoring stack needs no other provider.
  const monitoring = resolveMonitoring(spec.monitoring, { defaultHost: engine === 'swarm' ? dataHost : firstHost, domain, plan: spec.cloudflare.plan });
  const monitoringPorts: PrivatePort[] = [EXPORTER_PORTS.prometheus, EXPORTER_PORTS.loki].map((port) => ({ port, sources: [subnet] }));
  const [apexProduct, apexService] = (spec.apexService ?? '').split('/');
  const github = spec.github ?? {};
  return {
    name: spec.name,
    production: spec.production,
    systemName: system.name,
    rootDomain: system.rootDomain,
    domainPrefix: prefix,
    location: spec.location,
    networkZone: HETZNER_LOCATIONS[spec.location].networkZone,
    privateNetwork: spec.privateNetwork ?? DEFAULT_PRIVATE_NETWORK,
    hosts,
    engine,
    releases: resolveReleasePolicy(spec),
    dataHost,
    products,
    accessories,
    loadBalancer,
    privatePorts: hosts.length > 1 && engine !== 'swarm' ? { [monitoring.host]: monitoringPorts } : {},
    containerDataUsers,
    data: {
      host: spec.data.host ?? firstHost,
      containers: dataContainers,
      backupJob:
        backupTag !== undefined && dataContainers.length > 0
          ? {
              image: `${imageRepository(BACKUP_JOB_IMAGE)}:${backupTag}`,
              resources: BACKUP_JOB_RESOURCES,
              encryptionKey: encryptionKeyOf(spec.data.backupEncryptionKey),
              heartbeatSecret: typeof spec.data.backupHeartbeatUrl === 'object' ? spec.data.backupHeartbeatUrl.secret : undefined,
            }
          : undefined,
      preMigrationBackup:
        (spec.data.preMigrationBackup ?? spec.production) && backupTag !== undefined && dataContainers.some((service) => service.name === 'postgres'),
    },
    protection: spec.protection,
    backups: spec.backups,
    adminSshCidrs: spec.adminSshCidrs,
    sshKeys: spec.sshKeys,
    snapshots: spec.snapshots ?? [],
    dockerAccess: accessMode === 'agent' ? { mode: 'agent', agentPool: `${backend.kind === 'cloud' ? backend.workspacePrefix : system.name}-${spec.name}` } : { mode: 'ssh' },
    acmeEmail: spec.acmeEmail,
    acmeDirectory: ACME_DIRECTORIES[spec.certificates?.directory ?? 'production'],
    apex:
      spec.apexService === undefined
        ? undefined
        : { product: apexProduct!, service: apexService!, domain: system.rootDomain, wwwDomain: `www.${system.rootDomain}` },
    ipv6: spec.ipv6 ?? edgeCanServeIpv6,
    dockerHubLogin: spec.dockerHubLogin ?? false,
    registry: system.registry,
    repository: system.repository,
    github: {
      reviewerTeams: github.reviewerTeams,
      reviewerUsers: github.reviewerUsers,
      waitTimerMinutes: github.waitTimerMinutes ?? 0,
      requireApproval: github.requireApproval,
    },
    cloudflare: { plan: spec.cloudflare.plan, caching: spec.cloudflare.caching ?? 'page-rules', zoneId: spec.cloudflare.zoneId },
    backend,
    invariantExemptions: spec.invariantExemptions ?? [],
    monitoring,
    stackName,
    domain,
    resourceName,
  };
}

function healthEndpointOf(check: HealthCheck | undefined, servicePort: number | undefined): ResolvedService['healthEndpoint'] {
  const route = check?.httpRoute;
  const port = route?.port ?? servicePort;
  return route === undefined || port === undefined ? undefined : { path: route.path, port };
}

function scaleReservations(resources: ResourceSpec, scale: number): ResourceSpec {
  if (scale === 1) return resources;
  return {
    ...resources,
    cpuReservation: Math.round(resources.cpuReservation * scale * 1000) / 1000,
    memoryReservationMiB: Math.round(resources.memoryReservationMiB * scale),
  };
}

/** Validation refuses a missing key in production; elsewhere it defaults to a Terraform variable. */
function encryptionKeyOf(key: string | { readonly variable: string } | undefined): ResolvedBackupJob['encryptionKey'] {
  if (key === undefined) return { variable: DEFAULT_BACKUP_KEY_VARIABLE };
  return typeof key === 'string' ? { recipient: key } : { variable: key.variable };
}

function commandCheck(probesCommand: boolean, command: readonly string[] | undefined): HealthCheck | undefined {
  // Validation guarantees a kind that probes its command has one when it declares no health check.
  return probesCommand && command !== undefined ? HealthCheck.process(command.join(' ')) : undefined;
}

/** The variables of a bucket its service receives in plain (the secret ones come from the product stack: endpoint, bucket, credentials). */
export function bucketPlainVariables(bucket: ResolvedBucket): Record<string, string> {
  const prefix = bucket.variablePrefix;
  // R2 takes any region; S3 clients that require one are told `auto` (Cloudflare docs, R2 S3 API compatibility).
  return { [`${prefix}REGION`]: 'auto', ...(bucket.publicDomain === undefined ? {} : { [`${prefix}PUBLIC_URL`]: `https://${bucket.publicDomain}` }) };
}

/** One accessory in one environment: sizes and resources over the catalog's, its connection templates filled in. */
function resolveAccessory(
  spec: AccessorySpec,
  deployment: AccessoryDeployment,
  host: string,
  sharedSecretsOwner: string | undefined,
  networkName: string,
): ResolvedAccessory {
  const templates = accessoryConnectionTemplates(spec);
  const fill = (template: string) =>
    escapeForTerraform(template.replace(/\{host\}/g, spec.name).replace(/\{port:([a-z0-9-]+)\}/g, (_, name: string) => String(spec.ports[name])));
  return {
    name: spec.name,
    image: parseImageRef(spec.imageRef),
    command: spec.command?.map(escapeForTerraform),
    ports: spec.ports,
    volumes: (spec.volumes ?? []).map((volume) => ({ ...volume, sizeGiB: deployment.volumeSizesGiB?.[volume.name] ?? volume.sizeGiB })),
    environment: escapeValues(spec.environment),
    secrets: spec.secrets ?? [],
    sharedSecrets: spec.sharedSecrets ?? [],
    sharedSecretsOwner,
    healthCheck: spec.healthCheck.withCommandText(escapeForTerraform),
    resources: { ...ACCESSORY_RESOURCES, ...spec.resources, ...deployment.resources },
    user: spec.user ?? '1001',
    writablePaths: spec.writablePaths ?? [],
    restart: spec.restart ?? 'unless-stopped',
    host,
    networkName,
    connection: Object.fromEntries(Object.entries(templates).map(([name, template]) => [name, fill(template)])),
  };
}

/**
 * Balancer of the edge: only where routed services may run on more than one node; its targets are those nodes.
 * Each one's edge proxy reaches every task over the overlay networks, wherever Swarm scheduled it.
 */
function loadBalancerOf(spec: EnvironmentSpec, products: readonly ResolvedProduct[]): ResolvedLoadBalancer | undefined {
  const routed = products.flatMap((product) => product.services.filter((service) => service.routed && service.placement !== undefined));
  // Routed services each on a group of one node keep the direct layout: each name on its node.
  if (!routed.some((service) => service.placement!.nodes.length > 1)) return undefined;
  const routedHosts = new Set(routed.flatMap((service) => service.placement!.nodes));
  const subnet = (spec.privateNetwork ?? DEFAULT_PRIVATE_NETWORK).subnetRange;
  return {
    type: spec.loadBalancer?.type ?? DEFAULT_LOAD_BALANCER_TYPE,
    targets: spec.hosts.map((host) => host.name).filter((name) => routedHosts.has(name)),
    privateIp: ipv4At(subnet, LOAD_BALANCER_ADDRESS_OFFSET),
  };
}

/** `product/service` of both ends of every link between two products deployed in the environment. */
function crossProductLinkEnds(system: SystemSpec, spec: EnvironmentSpec): Set<string> {
  const deployed = new Set(spec.products.map((deployment) => deployment.product));
  const ends = new Set<string>();
  for (const product of system.products.filter((p) => deployed.has(p.name))) {
    for (const service of product.services) {
      for (const link of Object.values(service.links ?? {})) {
        const found = findLinkTarget(system, product, linkSpecOf(link).target);
        if (found === undefined || found.product.name === product.name || !deployed.has(found.product.name)) continue;
        ends.add(`${product.name}/${service.name}`);
        ends.add(`${found.product.name}/${found.service.name}`);
      }
    }
  }
  return ends;
}

/** A link target in full form. */
function linkSpecOf(link: string | LinkSpec): LinkSpec {
  return typeof link === 'string' ? { target: link } : link;
}

/**
 * A link becomes the target's address by name: within a product its short
 * name on the product's network, across products `<product>-<service>` on
 * the shared backend network. Both are bridges on the one host, or overlays
 * spanning every node of a swarm, so any caller reaches any target by name.
 * A public URL is always the HTTPS domain of a routed target.
 */
function resolveLinks(
  system: SystemSpec,
  spec: EnvironmentSpec,
  product: ProductSpec,
  service: ServiceSpec,
  domain: (label: string) => string,
  issues: ConfigurationIssue[],
): Record<string, string> {
  const deployed = new Set(spec.products.map((deployment) => deployment.product));
  const resolved: Record<string, string> = {};
  const entries = [
    ...Object.entries(service.links ?? {}).map(([envVar, link]) => ({ envVar, link: linkSpecOf(link), via: 'links' as const })),
    ...Object.entries(service.publicUrls ?? {}).map(([envVar, target]) => ({ envVar, link: { target } as LinkSpec, via: 'publicUrls' as const })),
  ];
  for (const { envVar, link, via } of entries) {
    const target = link.target;
    const found = findLinkTarget(system, product, target)!;
    const report = (allowed: string) =>
      issues.push({ environment: spec.name, product: product.name, field: `services.${service.name}.${via}.${envVar}`, value: target, allowed });
    if (!deployed.has(found.product.name)) {
      report(`a product deployed in "${spec.name}" (deploy ${found.product.name} here or drop the link)`);
      continue;
    }
    const kind = SERVICE_KIND_BEHAVIOUR[found.service.kind];
    const sameProduct = found.product.name === product.name;
    if (via === 'links') {
      const host = sameProduct ? found.service.name : `${found.product.name}-${found.service.name}`;
      const port = link.port !== undefined ? found.service.ports![link.port]! : (found.service.port ?? kind.port);
      const form = link.form ?? 'url';
      resolved[envVar] = form === 'host' ? host : form === 'host-port' ? `${host}:${port}` : `http://${host}:${port}${link.path ?? ''}`;
    } else if (kind.routed && (link.form ?? 'url') === 'url' && link.port === undefined) {
      resolved[envVar] = `https://${domain(serviceLabel(found.product, found.service)!)}${link.path ?? ''}`;
    } else {
      report('a routed service (a public URL is its public HTTPS name)');
    }
  }
  return resolved;
}

/**
 * Does Grafana get its public name? Only where the edge proxy of the monitoring host routes it from Grafana's
 * container labels. Not behind a load balancer: the balancer spreads requests over every edge proxy, and only the
 * monitoring host's knows Grafana. Not on a swarm: its edge is a Swarm service whose Swarm provider reads services'
 * labels only, never a plain container's ("While in Swarm Mode, Traefik uses labels found on services, not on
 * individual containers": doc.traefik.io/traefik/routing/providers/swarm/), and Grafana is a plain container.
 * Resolve warns; docs/observability.md says how to reach it then.
 */
export function grafanaIsPublic(environment: { readonly loadBalancer?: unknown; readonly engine: EngineKind }): boolean {
  return environment.loadBalancer === undefined && environment.engine !== 'swarm';
}
