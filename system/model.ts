/**
 * The typed description of a multi-product SaaS: one system, its product
 * catalog and its environments. Everything the stacks create is derived from
 * these values (see `resolve.ts`); nothing here knows about Terraform.
 */
import type { CachingMode, CloudflarePlan } from '../constructs/cloudflare/plans';
import type { HealthCheck } from '../constructs/core/health-check';
import type { ResourceSpec } from '../constructs/core/resources';
import { HOST_NETWORKS, type HostNetwork } from '../constructs/docker/host-networks';
import type { HetznerLocation } from '../constructs/hetzner/locations';
import type { InvariantExemption } from '../policy/invariants';
import type { ServiceCaching } from './caching';
import type { MonitoringSettings } from './monitoring';
import type { RedisEvictionPolicy } from '../constructs/docker/redis-container';
import type { RedisClientName } from './redis-clients';
import type { TaskSpec } from './tasks';
import type { ReleasePolicySpec, SmokeCheckSpec } from './releases';

/**
 * What a service is, which decides its networks, routing and defaults:
 * - `api`, `web`, `landing`: public HTTP, routed by the edge proxy on their domain;
 * - `internal`: HTTP reachable only by name on the host's backend network;
 * - `worker`: no ingress at all (a scheduler, a queue consumer);
 * - `mobile`: no container: an R2 bucket with a custom domain for OTA bundles.
 */
export type ServiceKind = 'api' | 'web' | 'landing' | 'internal' | 'worker' | 'mobile';

/** Data services a service can depend on; each becomes a connection-string variable. */
export type DataDependency = 'postgres' | 'redis';

export const DATA_DEPENDENCIES: readonly DataDependency[] = ['postgres', 'redis'];

/** Docker networks that exist on every host (created by the edge stack). */
export { HOST_NETWORKS, type HostNetwork };

/** CPU and memory of one container: limits are enforced by Docker, reservations plan capacity. */
export type { ResourceSpec };

/**
 * How a container is replaced on a change: `start-first` starts the new one
 * and stops the old once the new is healthy (no gap, both run meanwhile);
 * `stop-first` stops the old one first (a gap, never two at once).
 */
export type UpdateOrder = 'start-first' | 'stop-first';

export const UPDATE_ORDERS: readonly UpdateOrder[] = ['start-first', 'stop-first'];

/** One deployable unit of a product: a container, or for `mobile` an OTA bucket. */
export interface ServiceSpec {
  /** Name, unique within the product (`backend`, `web`, `landing`, `ml`). */
  readonly name: string;
  /** What the service is; decides networks, routing and defaults. */
  readonly kind: ServiceKind;
  /**
   * Port the container listens on.
   * @default - web 3000, landing 80; api and internal must declare one; worker and mobile have none
   */
  readonly port?: number;
  /**
   * Image repository under the registry owner (`ghcr.io/<owner>/<image>`),
   * tagged with the environment's image tag for the product.
   * @default - `<product>-<service>`
   */
  readonly image?: string;
  /**
   * Any image reference instead (a third-party image): `repository:tag`,
   * `repository@sha256:<digest>` or both; the environment's image tags do
   * not apply to it. Production requires an immutable one (a digest, or a tag
   * the environment's `immutableTags` declares immutable); pin third-party
   * images by digest.
   * @default - `image` under the registry owner
   */
  readonly imageRef?: string;
  /**
   * Further ports the container listens on, by name (`grpc`, `health`,
   * `metrics`); links may target them and the health check may probe one.
   * `port` is the main one, which the edge proxy routes.
   * @default - none
   */
  readonly ports?: Readonly<Record<string, number>>;
  /** Name of the port (in `ports`) the health check probes. @default - the main `port` */
  readonly healthPort?: string;
  /**
   * Containers of the service, each with its own address, health-checked and
   * routed as one load-balanced service. Per environment: `replicas` of the
   * product deployment.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * The service must run exactly once (a scheduler, a job that holds a
   * lease it never releases): replicas above 1 are refused, in the catalog
   * and in every environment, because every replica would run each job.
   * @default false
   */
  readonly singleton?: boolean;
  /** What Docker does when the container exits. @default 'unless-stopped' */
  readonly restart?: RestartPolicy;
  /** Command overriding the image's default. @default - the image's CMD */
  readonly command?: readonly string[];
  /**
   * How Docker (and so the edge proxy) decides the container is healthy.
   * @default - api and web `GET /api/health`, landing `GET /health`, worker a process check of its command
   */
  readonly healthCheck?: HealthCheck;
  /** CPU and memory, field by field over the kind's defaults. @default - the kind's defaults from the source documents */
  readonly resources?: Partial<ResourceSpec>;
  /** Plain (non-secret) environment variables. @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Names in `environment` that hold no secret although the secret check
   * takes them for one by their name (`CACHE_MAX_KEYS`, `SORT_KEY`): their
   * literal values are allowed, each variable on its own, and the stack
   * records each such waiver with its reason.
   * @default - none
   */
  readonly plainVariables?: readonly string[];
  /**
   * Names of environment variables whose values are secret. Each becomes a
   * sensitive Terraform variable of the product stack; never put a value here.
   * @default - none
   */
  readonly secrets?: readonly string[];
  /**
   * Secret variables its image can read from a file instead (the `*_FILE`
   * convention), each one on its own: names among its `secrets`, the
   * connection strings of what it `uses` (`DATABASE_URL`, `REDIS_URL`,
   * which carry its product's database and Redis passwords), its shared
   * secrets and its buckets' credentials. A list gives each `<VAR>_FILE`;
   * an object names the variable of each file for images with another
   * convention (`{ GF_DATABASE_PASSWORD: 'GF_DATABASE_PASSWORD__FILE' }`).
   * On a swarm each becomes a Swarm secret mounted under `/run/secrets`, and
   * the container receives only the file's path; the others stay
   * environment values. Plain containers, release tasks and smoke checks
   * (plain containers on a swarm too) keep the value in the environment:
   * the image must read either (docs/scaling.md, "Secrets as files").
   * @default - what its image is known to read from files (system/secret-files.ts: the official postgres image, Grafana), else none
   */
  readonly secretFiles?: readonly string[] | Readonly<Record<string, string>>;
  /**
   * Data services this service connects to (`postgres` gives `DATABASE_URL`,
   * `redis` `REDIS_URL`) and accessories by name (their `connection` variables).
   * @default - none
   */
  readonly uses?: readonly string[];
  /**
   * How it uses Redis (it lists `redis` in `uses`): the client libraries it
   * runs and whether it keeps a queue. It then receives the product's key
   * prefix (`REDIS_PREFIX=<product>:`) and each client's prefix.
   * @default - plain keys under `<product>:` only
   */
  readonly redis?: RedisUsageSpec;
  /**
   * Other services this one calls, as `ENV_VAR: 'service'` (same product) or
   * `ENV_VAR: 'product/service'`; the variable receives the target's URL.
   * The object form picks a named port and the form of the value.
   * @default - none
   */
  readonly links?: Readonly<Record<string, string | LinkSpec>>;
  /**
   * Variables that receive another service's public HTTPS URL, as
   * `ENV_VAR: 'service'` or `'product/service'` (for values a browser sees,
   * such as SvelteKit's `PUBLIC_*`).
   * @default - none
   */
  readonly publicUrls?: Readonly<Record<string, string>>;
  /**
   * First DNS label of the service's domain, for routed kinds and mobile.
   * @default - landing `<product>`, web `app-<product>`, api `api-<product>`, mobile `ota-<product>`
   */
  readonly subdomain?: string;
  /**
   * Host ports to publish. Always rejected: only the edge proxy publishes
   * ports. The field exists so the mistake gets an explanation, not a type error.
   * @default - none
   */
  readonly hostPorts?: readonly number[];
  /** Networks beyond the ones the kind joins. @default - none */
  readonly extraNetworks?: readonly HostNetwork[];
  /**
   * The shared host networks the service joins instead of its kind's (a
   * routed kind keeps `frontend`, the edge proxy's only way in); `data` and
   * `backend` are still added for data services and cross-product links.
   * @default - the kind's (api, web and landing `frontend`; others none)
   */
  readonly networks?: readonly HostNetwork[];
  /**
   * Paths kept writable (each a tmpfs, noexec) under the read-only root
   * filesystem, instead of the kind's; `/tmp` always is.
   * @default - the kind's (landing: nginx's `/var/cache/nginx` and `/var/run`; others none)
   */
  readonly writablePaths?: readonly string[];
  /** Mount the root filesystem read-only (an image that writes where it cannot be told otherwise needs false). @default true */
  readonly readOnlyRootFilesystem?: boolean;
  /**
   * How Cloudflare caches the service's domain, instead of the kind's.
   * @default - api `none`; web `static-assets`; landing `everything` for 30 days (browser 7) except `/api/*` and `/auth/*`, Polish on `/images/*`
   */
  readonly caching?: ServiceCaching;
  /**
   * How its container is replaced on a change: `start-first` (the new one
   * runs beside the old until healthy) or `stop-first` (the old one stops
   * first: a gap, but never two at once).
   * @default 'start-first'
   */
  readonly updateOrder?: UpdateOrder;
  /**
   * R2 buckets the service keeps objects in (uploads, media). Each is created
   * in the product stack (private, protected like every bucket in
   * production) with an API token that reads and writes that bucket only;
   * the service receives `<prefix>ENDPOINT`, `<prefix>BUCKET`,
   * `<prefix>ACCESS_KEY_ID` and `<prefix>SECRET_ACCESS_KEY` as secrets, and
   * `<prefix>REGION=auto` (and `<prefix>PUBLIC_URL` when public) in plain.
   * @default - none
   */
  readonly buckets?: readonly BucketSpec[];
  /**
   * A Prometheus metrics endpoint; the environment's Prometheus scrapes it,
   * labelled with environment, product and service.
   * @default - not scraped
   */
  readonly metrics?: MetricsSpec;
  /**
   * Release tasks by name (`migrate`): one-shot commands run with this
   * service's image and tag, data connections and secrets whenever a release
   * changes its tag, to completion, before any new container of the product
   * starts (system/tasks.ts).
   * @default - none
   */
  readonly tasks?: Readonly<Record<string, TaskSpec>>;
  /**
   * Smoke checks by name: run against the new version's own container once
   * it is healthy and before it receives traffic; one failure fails the
   * release and the previous version keeps serving (system/releases.ts,
   * docs/releasing.md).
   * @default - none
   */
  readonly smoke?: Readonly<Record<string, SmokeCheckSpec>>;
}

/** An R2 bucket of a service. */
export interface BucketSpec {
  /** Short lowercase name, unique within the product; the bucket is `<system>-<env>-<product>-<name>`. */
  readonly name: string;
  /** Prefix of the variables the service receives (`S3_` gives `S3_BUCKET`...). @default 'S3_' */
  readonly variablePrefix?: string;
  /**
   * First DNS label of a public custom domain serving its objects (GET, through
   * Cloudflare's cache), prefixed like every name of the environment.
   * @default - private: reachable only with the service's credentials
   */
  readonly publicSubdomain?: string;
}

/** Where a service serves its metrics in Prometheus's text format. */
export interface MetricsSpec {
  /** Path of the endpoint, starting with "/". @default '/metrics' */
  readonly path?: string;
  /** Port of the endpoint. @default - the service's port (a service without one must name it here) */
  readonly port?: number;
}

/**
 * How a service uses Redis. Its product's ACL user admits keys and channels
 * under `<product>:` only, so every client must be configured with a prefix
 * there; the facts about each library are in system/redis-clients.ts.
 */
export interface RedisUsageSpec {
  /**
   * Client libraries it runs (`bullmq`, `socket.io`): each receives its
   * prefix under the product's in a variable (`BULLMQ_PREFIX=<product>:bull`,
   * `SOCKET_IO_REDIS_PREFIX=<product>:socket.io`) to pass to the library, and
   * the product's ACL user gets the commands and pattern subscriptions it needs.
   * @default - none
   */
  readonly clients?: readonly RedisClientName[];
  /**
   * It keeps data that must never be evicted (a queue): the environment's
   * Redis then needs `maxMemoryPolicy: 'noeviction'`, and an evicting one is refused.
   * @default - true when one of its clients is a queue (bullmq)
   */
  readonly queue?: boolean;
  /**
   * Further channel patterns it PSUBSCRIBEs, each under `<product>:` (a
   * Socket.IO namespace beyond `/`: `<product>:socket.io#/admin#*`). Redis
   * admits a pattern subscription only when the pattern literally equals an
   * allowed one.
   * @default - none
   */
  readonly patternSubscriptions?: readonly string[];
}

export type { RedisClientName, RedisEvictionPolicy };

/** What Docker does when a container exits: restart always, unless stopped by hand, or on failure up to a limit. */
export type RestartPolicy = 'always' | 'unless-stopped' | { readonly onFailure: { readonly maxRetries: number } };

/** A link to another service, in full. */
export interface LinkSpec {
  /** `service` (same product) or `product/service`. */
  readonly target: string;
  /** Named port of the target (from its `ports`). @default - its main port */
  readonly port?: string;
  /**
   * What the variable receives: `url` (`http://host:port`), `host`, or
   * `host-port` (`host:port`).
   * @default 'url'
   */
  readonly form?: 'url' | 'host' | 'host-port';
  /** Path appended to the `url` form (`/v1` gives `http://api:3002/v1`). @default - none */
  readonly path?: string;
}

/**
 * Who can reach a product's containers on its own Docker networks:
 * - `product`: one network per product and host; every container of the product reaches every other;
 * - `linked`: least privilege: a service is reachable only by the services
 *   that link to it (each linked service has a network of its own, which only
 *   it and its callers join); a service on no network at all gets one of its
 *   own for its outbound traffic. Costs one Docker network per linked
 *   service and host, against a daemon's 31 default address pools.
 */
export type Reachability = 'product' | 'linked';

export const REACHABILITIES: readonly Reachability[] = ['product', 'linked'];

/** A product of the system: a name and its services. */
export interface ProductSpec {
  /** Lowercase DNS-safe name, used in stack names, domains and images. */
  readonly name: string;
  /** The services; at least one. */
  readonly services: readonly ServiceSpec[];
  /**
   * Name of the product's own PostgreSQL database and role.
   * @default - the product name with `-` replaced by `_`
   */
  readonly databaseName?: string;
  /**
   * Who can reach its containers on the product's own networks.
   * @default 'product' (one network: the layout of existing systems, one Docker network per product and host)
   */
  readonly reachability?: Reachability;
}

/** A Hetzner server of an environment. */
export interface HostSpec {
  /** Short name, unique in the environment (`app-1`); part of the server name and its reverse DNS. */
  readonly name: string;
  /** Hetzner server type (`ccx33`); validated against the table in `constructs/hetzner/server-types.ts`. */
  readonly serverType: string;
  /** OS image. @default 'ubuntu-24.04' */
  readonly image?: string;
  /** Group the host belongs to; on a swarm its node label `role=<group>`, which a product's `group` places it by. @default 'app' */
  readonly group?: string;
}

/** The release slots of one service in an environment's tags file. */
export interface ServiceSlots {
  /** The slot the edge sends the service's traffic to. */
  readonly live: 'blue' | 'green';
  /** Tag of the blue slot's containers. @default - no blue containers */
  readonly blue?: string;
  /** Tag of the green slot's containers. @default - no green containers */
  readonly green?: string;
  /**
   * When the host's release record last changed (promote, rollback, close-window) as `release record-slots` read
   * it: a host that changed since is refused an apply until its slots are recorded (docs/releasing.md).
   * @default - the host's record had no change time
   */
  readonly hostChangedAt?: string;
}

/** One product as deployed in one environment. */
export interface ProductDeployment {
  /** Catalog name of the product. */
  readonly product: string;
  /** Image tag for every service of the product (`main-<sha>`); `latest` is refused in production. */
  readonly imageTag: string;
  /** Per-service tags overriding `imageTag` (for a one-service rollback). @default - none */
  readonly imageTags?: Readonly<Record<string, string>>;
  /**
   * Per service released through slots (docs/releasing.md): which slot serves and the tag each
   * slot holds, as the release recorded them. A service declaring `smoke` without an entry here
   * is still moving to slots: its pre-slot container keeps serving beside the blue slot.
   * @default - none
   */
  readonly slots?: Readonly<Record<string, ServiceSlots>>;
  /**
   * Host the product runs on. On a swarm it stands for its host's group
   * (`node.labels.role==<group>`), so it must be the only host of its group.
   * @default - the environment's first host (containers); the group `app` (swarm)
   */
  readonly host?: string;
  /**
   * Host group the product runs on (swarm): Swarm schedules its replicas on
   * the nodes labelled `role=<group>`, spread over them, and reschedules a
   * lost node's replicas on the others.
   * @default - the group of `host`, else `app`
   */
  readonly group?: string;
  /** Replicas per service name, over the catalog's `replicas`. @default - the catalog's */
  readonly replicas?: Readonly<Record<string, number>>;
  /**
   * Data services this product takes from an external provider even where the
   * environment runs containers (seed 003: Supabase, Upstash).
   * @default - the environment's data settings
   */
  readonly externalData?: readonly DataDependency[];
}

/** A PostgreSQL or Redis: a container with its data on a Hetzner volume, or an external service. */
export type DataServiceSpec =
  | {
      readonly mode: 'container';
      /** Size of the Hetzner volume holding the data, in GiB (10 to 10240). */
      readonly volumeSizeGiB: number;
      /** Container resources over the data service's defaults. @default - POSTGRES_DEFAULTS.resources and REDIS_DEFAULTS.resources (Postgres 1 CPU 2 GiB, Redis 0.25 CPU with a 384 MiB limit and 256 MiB reserved) */
      readonly resources?: Partial<ResourceSpec>;
      /** Image reference (extensions, another version); immutable in production. @default - postgres:16-alpine, redis:7-alpine */
      readonly image?: string;
      /** PostgreSQL `max_connections`; at least the products' connection limits together plus 10. @default - exactly that */
      readonly maxConnections?: number;
      /** Further PostgreSQL server settings (`max_wal_size: '2GB'`), over the tuning derived from memory. @default - none */
      readonly settings?: Readonly<Record<string, string>>;
    }
  | {
      readonly mode: 'external';
      /** Who runs it (`supabase`, `upstash`): documentation and variable descriptions only. */
      readonly provider: string;
    };

/** When one data service is dumped and how long its dumps are kept. */
export interface BackupPlanSpec {
  /** Five-field cron expression, UTC. @default - BACKUP_PLAN (Postgres `0 3 * * *`, Redis `0 4 * * *`) */
  readonly cron?: string;
  /** Days the dumps are kept (and locked against deletion); at least twice the longest gap between runs. @default - BACKUP_PLAN (30 and 7) */
  readonly keepForDays?: number;
}

/** The environment's data services. */
export interface DataSettings {
  readonly postgres: DataServiceSpec & {
    /** Connections each product's role may hold; `max_connections` is sized from their sum. @default 20 */
    readonly connectionsPerProduct?: number;
  };
  readonly redis: DataServiceSpec & {
    /** Redis `maxmemory` in MiB; must stay below the container's memory limit. @default 256 */
    readonly maxMemoryMiB?: number;
    /**
     * What Redis does at `maxmemory`: `noeviction` refuses writes, the others
     * evict keys (`volatile-*` those with a TTL, `allkeys-*` any). A product
     * that keeps a queue here (`redis.queue`, or a queue client) needs `noeviction`.
     * @default - `noeviction` when a product using this Redis keeps a queue, else `volatile-lru`
     */
    readonly maxMemoryPolicy?: RedisEvictionPolicy;
  };
  /** Host the data containers run on. @default - the environment's first host */
  readonly host?: string;
  /**
   * Tag of the backup job image (`<registry>/<owner>/db-backup`), which dumps
   * the data containers into the backup bucket on the backup schedule.
   * @default - no backup job (refused in production while a data service runs as a container)
   */
  readonly backupImageTag?: string;
  /** Schedule and retention per data service, over BACKUP_PLAN. @default - BACKUP_PLAN */
  readonly backupPlan?: Readonly<Partial<Record<DataDependency, BackupPlanSpec>>>;
  /**
   * Public key the dumps are encrypted to: an age recipient (`age1...`), or
   * `{ variable }` naming a Terraform variable that holds one. The private
   * key never enters the project; restoring needs it (docs/data-recovery.md).
   * @default - required in production; elsewhere the variable `backup_age_recipient`
   */
  readonly backupEncryptionKey?: string | { readonly variable: string };
  /**
   * Dead-man's switch: a URL the job calls after every successful run, given
   * as `{ secret }`, the name of a sensitive Terraform variable (a plain URL
   * is refused: it would sit in the code and the state in clear).
   * @default - required in production; elsewhere no heartbeat
   */
  readonly backupHeartbeatUrl?: { readonly secret: string } | string;
  /**
   * Dump a product's database (as the product's own role, with the backup
   * job's image and script) into the backup bucket right before its release
   * tasks run, whenever a release runs them (docs/data-recovery.md,
   * "Pre-migration backups"). Needs the backup job (`backupImageTag`).
   * Staging leaves it off by default: it releases on every merge to main and
   * its data is not what a rollback must bring back.
   * @default - true in production, false elsewhere
   */
  readonly preMigrationBackup?: boolean;
}

/** A Hetzner volume of an accessory, mounted into its container. */
export interface AccessoryVolumeSpec {
  /** Short name, unique within the accessory; part of the volume's name and Terraform address. */
  readonly name: string;
  /** Where the container sees it (`/data`). */
  readonly mountPath: string;
  /** Size in GiB (10 to 10240); per environment: `volumeSizesGiB` of the deployment. */
  readonly sizeGiB: number;
}

/**
 * A stateful or third-party service the products use (an object store, a
 * search engine, a queue), declared once and run in the environments that
 * list it: on the data host, its data on Hetzner volumes protected like
 * PostgreSQL's, reachable by name on a network of its own by the services that
 * declare it in `uses` (from other hosts: at its host's private address,
 * admitted from their hosts alone), and counted by capacity planning.
 */
export interface AccessorySpec {
  /** Lowercase name: its network name, and what services list in `uses`. */
  readonly name: string;
  /** Image reference with tag or digest (`quay.io/minio/minio@sha256:...`); immutable in production. */
  readonly imageRef: string;
  /** Command overriding the image's default. @default - the image's CMD */
  readonly command?: readonly string[];
  /** Ports it listens on, by name; at least one. */
  readonly ports: Readonly<Record<string, number>>;
  /** Volumes holding its data. @default - none */
  readonly volumes?: readonly AccessoryVolumeSpec[];
  /** Plain environment variables. @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /** Names of secret variables, each a sensitive variable of the data stack (`TF_VAR_<name in lowercase>`). @default - none */
  readonly secrets?: readonly string[];
  /**
   * Secrets the accessory and the services that use it must both know (a
   * search engine's master key, an object store's root credentials), by
   * variable name: both receive it under this name. Generated once per
   * environment (32 letters and digits) in the credentials stack of the one
   * product that uses the accessory, like its database password; setting
   * that stack's variable `<name in lowercase>` supplies a value instead.
   * @default - none
   */
  readonly sharedSecrets?: readonly string[];
  /** How Docker decides it is healthy. */
  readonly healthCheck: HealthCheck;
  /** CPU and memory. @default - 0.5 CPU, 512 MiB limit and reservation */
  readonly resources?: Partial<ResourceSpec>;
  /** User the process runs as (third-party images expect their own). @default '1001' */
  readonly user?: string;
  /** Paths kept writable under the read-only root filesystem, besides its volumes. @default - none */
  readonly writablePaths?: readonly string[];
  /**
   * Variables the services that use it receive, as templates: `{host}` is
   * its name on its network (its host's private address with several hosts), `{port:<name>}` one of its ports
   * (`S3_ENDPOINT: 'http://{host}:{port:api}'`).
   * @default - `<NAME>_HOST` and `<NAME>_PORT` of its first port
   */
  readonly connection?: Readonly<Record<string, string>>;
  /** What Docker does when it exits. @default 'unless-stopped' */
  readonly restart?: RestartPolicy;
}

/** An accessory as run in one environment. */
export interface AccessoryDeployment {
  /** Name of the accessory (from the system's `accessories`). */
  readonly name: string;
  /** Host it runs on. @default - the environment's data host */
  readonly host?: string;
  /** Size of each volume by name, over the accessory's `sizeGiB`. @default - the accessory's */
  readonly volumeSizesGiB?: Readonly<Record<string, number>>;
  /** CPU and memory over the accessory's. @default - the accessory's */
  readonly resources?: Partial<ResourceSpec>;
}

/** The load balancer of an environment with several app hosts. */
export interface LoadBalancerSettings {
  /** Hetzner load balancer type; its limits on targets and services are checked. @default 'lb11' */
  readonly type?: string;
}

/** A Hetzner snapshot to take of a host (before a risky change). */
export interface SnapshotSpec {
  /** Short name, unique in the environment; part of the Terraform address. */
  readonly name: string;
  /** Host to snapshot. */
  readonly host: string;
  /** Why it was taken; stored as the snapshot's description. */
  readonly reason: string;
}

/** An administrator's SSH public key. Private keys never enter the code. */
export interface SshKeySpec {
  /** Key name, unique in the environment. */
  readonly name: string;
  /**
   * The OpenSSH public key (`ssh-ed25519 AAAA... comment`).
   * @default - read from the Terraform variable `ssh_public_key_<name>`
   */
  readonly publicKey?: string;
}

/** Cloudflare plan tiers, which decide the page-rule quota of a zone. */
export type { CachingMode, CloudflarePlan };

export interface CloudflareSettings {
  /** The zone's plan; page rules are counted against its quota. */
  readonly plan: CloudflarePlan;
  /**
   * How caching rules are expressed: legacy page rules (quota per plan) or
   * cache rules (one `http_request_cache_settings` ruleset per zone).
   * @default 'page-rules'
   */
  readonly caching?: CachingMode;
  /** Zone id, when known; otherwise the zone is looked up by the root domain. @default - looked up by name */
  readonly zoneId?: string;
}

export interface GithubSettings {
  /** Team slugs whose members must approve a deployment. @default - none */
  readonly reviewerTeams?: readonly string[];
  /** GitHub user names who must approve a deployment. @default - none */
  readonly reviewerUsers?: readonly string[];
  /** Minutes to wait before a deployment proceeds. @default 0 */
  readonly waitTimerMinutes?: number;
  /** Only `main` may deploy, and approvals are required. @default - true when reviewers are set */
  readonly requireApproval?: boolean;
}

/**
 * How Terraform reaches a host's Docker daemon. Neither mode opens a port to
 * the internet (22 stays limited to the admin CIDRs, 2376 is never opened):
 * - `ssh`: over SSH as the deploy user, from a machine inside `adminSshCidrs`
 *   (an administrator's laptop, which has verified the host key itself);
 * - `agent`: a Terraform Cloud agent runs on the host (started by cloud-init)
 *   and reaches the daemon over its local socket; the bootstrap stack creates
 *   the agent pool and token and puts the Docker-bearing workspaces in agent
 *   execution mode. Needs the `cloud` backend and one host.
 */
export type DockerAccess = { readonly mode: 'ssh' } | { readonly mode: 'agent' };

/** Where the edge proxy gets its certificates. */
export interface CertificateSettings {
  /**
   * Let's Encrypt directory: `production` (trusted) or `staging` (untrusted
   * certificates with far higher rate limits, for trying a new environment;
   * Cloudflare's strict SSL mode refuses them on proxied names).
   * @default 'production'
   */
  readonly directory?: 'production' | 'staging';
}

/** Terraform Cloud settings; when present, every stack uses the `cloud` backend. */
export interface TerraformCloudSettings {
  /** Organization name. */
  readonly organization: string;
  /** Workspace name prefix: workspaces are `<prefix>-<stack>`. @default - the system name */
  readonly workspacePrefix?: string;
  /** Terraform version the workspaces run. @default '1.11.4' */
  readonly terraformVersion?: string;
}

/** What schedules an environment's containers (docs/scaling.md). */
export type EngineKind = 'containers' | 'swarm';

/** One environment (staging, production): where and how the system runs. */
export interface EnvironmentSpec {
  /** Lowercase name; the first part of every stack name (`production-chat`). */
  readonly name: string;
  /** Is this production? Turns on the strict rules (no `latest`, protection required). */
  readonly production: boolean;
  /** Prefix of the first DNS label (`staging-` gives `staging-app-chat.<root>`). @default '' */
  readonly domainPrefix?: string;
  /** Hetzner location of every host and volume. */
  readonly location: HetznerLocation;
  /** Servers; at least one. Products and data services are placed on them by name. */
  readonly hosts: readonly HostSpec[];
  /**
   * What runs the containers: plain containers on each host's own Docker
   * daemon, or Docker's Swarm mode with the hosts as one swarm (services,
   * replicas rescheduled by Swarm, one Docker endpoint: a manager).
   * An environment of more than one host always runs as a swarm.
   * @default - 'containers' with one host, 'swarm' with more
   */
  readonly engine?: EngineKind;
  /**
   * How releases reach traffic here: the canary share and its watch, and
   * the rollback window (system/releases.ts).
   * @default - production: 10% canary watched 10 minutes; others: no canary; a rollback window of 60 minutes
   */
  readonly releases?: ReleasePolicySpec;
  /** Products running here, with their image tags. */
  readonly products: readonly ProductDeployment[];
  /** Accessories running here (from the system's `accessories`). @default - none */
  readonly accessories?: readonly AccessoryDeployment[];
  /**
   * A pattern (regular expression source) of tags this environment treats as
   * immutable besides `main-<sha>` and `vX.Y.Z` (a third-party release scheme
   * such as `^RELEASE\\.[0-9T-]+Z$`). Production refuses any other tag.
   * @default - none
   */
  readonly immutableTags?: string;
  /** CIDRs allowed to reach SSH (22); nothing else is. */
  readonly adminSshCidrs: readonly string[];
  /** Administrator public keys installed for the deploy user. */
  readonly sshKeys: readonly SshKeySpec[];
  /** Delete and rebuild protection, `prevent_destroy` on stateful resources. */
  readonly protection: boolean;
  /**
   * Factor (0 < x <= 1) applied to the CPU and memory reservations of app
   * containers (never to limits or data services): staging carries little
   * traffic, so it keeps less for each container and fits a smaller host.
   * @default 1
   */
  readonly reservationScale?: number;
  /** Hetzner automatic server backups. */
  readonly backups: boolean;
  /** Private network range and the subnet the hosts use. @default - 10.0.0.0/16 and 10.0.1.0/24 */
  readonly privateNetwork?: { readonly ipRange: string; readonly subnetRange: string };
  /** PostgreSQL and Redis: containers on volumes, or external. */
  readonly data: DataSettings;
  /** Snapshots to take. @default - none */
  readonly snapshots?: readonly SnapshotSpec[];
  /**
   * The Hetzner Load Balancer in front of the edge proxies, created when
   * routed services run on more than one host.
   * @default - type lb11 where needed
   */
  readonly loadBalancer?: LoadBalancerSettings;
  /** Cloudflare zone plan and caching mode. */
  readonly cloudflare: CloudflareSettings;
  /** Deployment protection of the GitHub environments. @default - no reviewers */
  readonly github?: GithubSettings;
  /** Let's Encrypt account e-mail of the edge proxy. */
  readonly acmeEmail: string;
  /** How Terraform reaches the Docker daemons. @default - `agent` under Terraform Cloud, otherwise `ssh` */
  readonly dockerAccess?: DockerAccess;
  /** One wildcard certificate per zone through the DNS-01 challenge. @default - Let's Encrypt's production directory */
  readonly certificates?: CertificateSettings;
  /**
   * The service answering the zone apex (`product/service`, a `web` or
   * `landing` service this environment runs); `www.<apex>` redirects to it.
   * Only the environment without a domain prefix may set it.
   * @default - no apex or www record
   */
  readonly apexService?: string;
  /**
   * Serve IPv6: AAAA records and an IPv6-enabled edge path (the frontend
   * Docker network and the daemon's ip6tables, or the load balancer).
   * A swarm without a load balancer cannot: its edge proxy's ports are on
   * an overlay, which has no IPv6 on Docker 20.10.
   * @default true, except false on a swarm without a load balancer
   */
  readonly ipv6?: boolean;
  /**
   * Pull Docker Hub images (Traefik, HAProxy, PostgreSQL, Redis) with an
   * account (sensitive variables `dockerhub_username`, `dockerhub_token`)
   * instead of anonymously, which Docker Hub rate-limits per address.
   * @default false
   */
  readonly dockerHubLogin?: boolean;
  /** Terraform Cloud remote runs. @default - local backend, or TFC_ORGANIZATION from the process environment */
  readonly terraformCloud?: TerraformCloudSettings;
  /**
   * Deliberate exceptions to the safety invariants (`policy/invariants.ts`),
   * each with a reason; they are written into the synthesized stack.
   * @default - none
   */
  readonly invariantExemptions?: readonly InvariantExemption[];
  /**
   * Metrics, logs, dashboards and alerts of the environment (the `<env>-monitoring` stack).
   * @default - on the first host, the source documents' retention and thresholds, no alert receivers
   */
  readonly monitoring?: MonitoringSettings;
}

export type { TaskSpec } from './tasks';
export type { AlertSeverity, AlertThresholds, AlertReceiverSpec, AlertRouteSpec, MonitoringSettings, UptimeSettings } from './monitoring';

/** The whole SaaS: what the App synthesizes. */
export interface SystemSpec {
  /** Lowercase system name; labels every resource and prefixes workspaces. */
  readonly name: string;
  /** Root DNS zone (`manacore.app`). */
  readonly rootDomain: string;
  /** Container registry, images are `<host>/<owner>/<image>:<tag>`. */
  readonly registry: { readonly host: string; readonly owner: string };
  /** The GitHub repository holding the deployment environments. */
  readonly repository: { readonly owner: string; readonly name: string };
  /** Every product the system knows. */
  readonly products: readonly ProductSpec[];
  /** Stateful or third-party services products may use, run where an environment lists them. @default - none */
  readonly accessories?: readonly AccessorySpec[];
  /** Every environment; each synthesizes its own stacks. */
  readonly environments: readonly EnvironmentSpec[];
}
