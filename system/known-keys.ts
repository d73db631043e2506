/**
 * Every key the description accepts, per object, so a typo (`dockerAcces`)
 * or a field from another tool (`replica`) is reported with a suggestion
 * instead of being ignored. Each table is typed against its interface: a
 * field added to the model without a row here fails type-checking.
 */
import type { ConfigurationIssue } from '../constructs/core/configuration-error';
import type { ResourceSpec } from '../constructs/core/resources';
import { DEFAULT_ALERT_THRESHOLDS } from '../constructs/monitoring/alert-rules';
import type { InvariantExemption } from '../policy/invariants';
import type { ServiceCaching } from './caching';
import type { AlertReceiverSpec, AlertRouteSpec, AlertThresholds, MonitoringSettings } from './monitoring';
import type {
  AccessoryDeployment,
  AccessorySpec, BucketSpec,
  AccessoryVolumeSpec,
  CertificateSettings,
  CloudflareSettings,
  BackupPlanSpec,
  DataSettings,
  EnvironmentSpec,
  GithubSettings,
  HostSpec,
  LinkSpec,
  LoadBalancerSettings,
  MetricsSpec,
  ProductDeployment,
  ServiceSlots,
  ProductSpec,
  RedisUsageSpec,
  ServiceSpec,
  SnapshotSpec,
  SshKeySpec,
  SystemSpec,
  TerraformCloudSettings,
} from './model';
import type { TaskSpec } from './tasks';
import type { CanarySpec, ReleasePolicySpec, SmokeCheckSpec, SmokeHttpSpec } from './releases';

/** Exactly the keys of `T`, each `true`. */
type KeyTable<T> = { readonly [K in keyof Required<T>]: true };

/** How to check one object: its keys, and the schemas of the fields that hold objects or lists of objects. */
interface ObjectSchema {
  readonly keys: Readonly<Record<string, true>>;
  readonly fields?: Readonly<Record<string, ObjectSchema | { readonly each: ObjectSchema } | { readonly values: ObjectSchema }>>;
}

const RESOURCES: ObjectSchema = { keys: { cpuLimit: true, memoryLimitMiB: true, cpuReservation: true, memoryReservationMiB: true } satisfies KeyTable<ResourceSpec> };

const LINK: ObjectSchema = { keys: { target: true, port: true, form: true, path: true } satisfies KeyTable<LinkSpec> };

const CACHING: ObjectSchema = { keys: { mode: true, edgeTtl: true, browserTtl: true, neverCache: true, polish: true } satisfies KeyTable<ServiceCaching> };

const SERVICE: ObjectSchema = {
  keys: {
    name: true,
    kind: true,
    port: true,
    ports: true,
    healthPort: true,
    image: true,
    imageRef: true,
    command: true,
    healthCheck: true,
    resources: true,
    environment: true,
    secrets: true,
    uses: true,
    links: true,
    publicUrls: true,
    subdomain: true,
    hostPorts: true,
    extraNetworks: true,
    networks: true,
    writablePaths: true,
    readOnlyRootFilesystem: true,
    caching: true,
    updateOrder: true,
    replicas: true,
    singleton: true,
    restart: true,
    metrics: true,
    redis: true,
    plainVariables: true,
    secretFiles: true,
    buckets: true,
    tasks: true,
    smoke: true,
  } satisfies KeyTable<ServiceSpec>,
  fields: {
    resources: RESOURCES,
    links: { values: LINK },
    caching: CACHING,
    metrics: { keys: { path: true, port: true } satisfies KeyTable<MetricsSpec> },
    redis: { keys: { clients: true, queue: true, patternSubscriptions: true } satisfies KeyTable<RedisUsageSpec> },
    buckets: { each: { keys: { name: true, variablePrefix: true, publicSubdomain: true } satisfies KeyTable<BucketSpec> } },
    tasks: { values: { keys: { command: true, timeoutSeconds: true, dryRunCommand: true, resources: true } satisfies KeyTable<TaskSpec>, fields: { resources: RESOURCES } } },
    smoke: {
      values: {
        keys: { http: true, command: true, timeoutSeconds: true } satisfies KeyTable<SmokeCheckSpec>,
        fields: { http: { keys: { path: true, status: true, bodyContains: true, port: true } satisfies KeyTable<SmokeHttpSpec> } },
      },
    },
  },
};

const PRODUCT: ObjectSchema = {
  keys: { name: true, services: true, databaseName: true, reachability: true } satisfies KeyTable<ProductSpec>,
  fields: { services: { each: SERVICE } },
};

const ACCESSORY: ObjectSchema = {
  keys: {
    name: true,
    imageRef: true,
    command: true,
    ports: true,
    volumes: true,
    environment: true,
    secrets: true,
    sharedSecrets: true,
    healthCheck: true,
    resources: true,
    user: true,
    writablePaths: true,
    connection: true,
    restart: true,
  } satisfies KeyTable<AccessorySpec>,
  fields: {
    resources: RESOURCES,
    volumes: { each: { keys: { name: true, mountPath: true, sizeGiB: true } satisfies KeyTable<AccessoryVolumeSpec> } },
  },
};

const DATA_SERVICE: ObjectSchema = {
  // One table for both modes of the union: which keys fit which mode is validation's business (validateData).
  keys: { mode: true, volumeSizeGiB: true, resources: true, provider: true, image: true, maxConnections: true, settings: true, maxMemoryMiB: true, maxMemoryPolicy: true, connectionsPerProduct: true },
  fields: { resources: RESOURCES },
};

const BACKUP_PLAN_ENTRY: ObjectSchema = { keys: { cron: true, keepForDays: true } satisfies KeyTable<BackupPlanSpec> };

const MONITORING: ObjectSchema = {
  keys: {
    host: true,
    volumeSizeGiB: true,
    retention: true,
    ingest: true,
    alerts: true,
    receivers: true,
    routes: true,
    uptime: true,
    subdomain: true,
  } satisfies KeyTable<MonitoringSettings>,
  fields: {
    retention: { keys: { logsDays: true, metricsDays: true } },
    ingest: { keys: { logsGiBPerDay: true, metricsGiBPerDay: true } },
    alerts: { keys: Object.fromEntries(Object.keys(DEFAULT_ALERT_THRESHOLDS).map((key) => [key, true])) as KeyTable<AlertThresholds> },
    receivers: { each: { keys: { name: true, kind: true, channel: true } satisfies KeyTable<AlertReceiverSpec> } },
    routes: { each: { keys: { severity: true, receiver: true } satisfies KeyTable<AlertRouteSpec> } },
    // One table for both modes of the union, as for data services.
    uptime: { keys: { mode: true, monitor: true } },
  },
};

const ENVIRONMENT: ObjectSchema = {
  keys: {
    name: true,
    production: true,
    domainPrefix: true,
    location: true,
    hosts: true,
    products: true,
    accessories: true,
    adminSshCidrs: true,
    sshKeys: true,
    protection: true,
    reservationScale: true,
    backups: true,
    privateNetwork: true,
    data: true,
    snapshots: true,
    cloudflare: true,
    github: true,
    acmeEmail: true,
    dockerAccess: true,
    certificates: true,
    apexService: true,
    ipv6: true,
    dockerHubLogin: true,
    terraformCloud: true,
    invariantExemptions: true,
    immutableTags: true,
    loadBalancer: true,
    monitoring: true,
    engine: true,
    releases: true,
  } satisfies KeyTable<EnvironmentSpec>,
  fields: {
    monitoring: MONITORING,
    releases: {
      keys: { canary: true, rollbackWindowMinutes: true } satisfies KeyTable<ReleasePolicySpec>,
      fields: { canary: { keys: { sharePercent: true, watchMinutes: true, maxErrorRatioIncreasePoints: true, maxLatencyRatio: true } satisfies KeyTable<CanarySpec> } },
    },
    hosts: { each: { keys: { name: true, serverType: true, image: true, group: true } satisfies KeyTable<HostSpec> } },
    loadBalancer: { keys: { type: true } satisfies KeyTable<LoadBalancerSettings> },
    products: {
      each: {
        keys: { product: true, imageTag: true, imageTags: true, slots: true, host: true, group: true, externalData: true, replicas: true } satisfies KeyTable<ProductDeployment>,
        fields: { slots: { values: { keys: { live: true, blue: true, green: true, hostChangedAt: true } satisfies KeyTable<ServiceSlots> } } },
      },
    },
    accessories: {
      each: { keys: { name: true, host: true, volumeSizesGiB: true, resources: true } satisfies KeyTable<AccessoryDeployment>, fields: { resources: RESOURCES } },
    },
    sshKeys: { each: { keys: { name: true, publicKey: true } satisfies KeyTable<SshKeySpec> } },
    privateNetwork: { keys: { ipRange: true, subnetRange: true } },
    data: {
      keys: {
        postgres: true,
        redis: true,
        host: true,
        backupImageTag: true,
        backupPlan: true,
        backupEncryptionKey: true,
        backupHeartbeatUrl: true,
        preMigrationBackup: true,
      } satisfies KeyTable<DataSettings>,
      fields: {
        postgres: DATA_SERVICE,
        redis: DATA_SERVICE,
        backupPlan: { keys: { postgres: true, redis: true }, fields: { postgres: BACKUP_PLAN_ENTRY, redis: BACKUP_PLAN_ENTRY } },
      },
    },
    snapshots: { each: { keys: { name: true, host: true, reason: true } satisfies KeyTable<SnapshotSpec> } },
    cloudflare: { keys: { plan: true, caching: true, zoneId: true } satisfies KeyTable<CloudflareSettings> },
    github: { keys: { reviewerTeams: true, reviewerUsers: true, waitTimerMinutes: true, requireApproval: true } satisfies KeyTable<GithubSettings> },
    // port and allowedCidrs belonged to the removed "tls" mode: known, so the mode itself is what gets reported.
    dockerAccess: { keys: { mode: true, port: true, allowedCidrs: true } },
    certificates: { keys: { directory: true } satisfies KeyTable<CertificateSettings> },
    terraformCloud: { keys: { organization: true, workspacePrefix: true, terraformVersion: true } satisfies KeyTable<TerraformCloudSettings> },
    invariantExemptions: { each: { keys: { rule: true, resource: true, stack: true, variable: true, reason: true } satisfies KeyTable<InvariantExemption> } },
  },
};

const SYSTEM: ObjectSchema = {
  keys: {
    name: true,
    rootDomain: true,
    registry: true,
    repository: true,
    products: true,
    accessories: true,
    environments: true,
  } satisfies KeyTable<SystemSpec>,
  fields: {
    registry: { keys: { host: true, owner: true } },
    repository: { keys: { owner: true, name: true } },
    products: { each: PRODUCT },
    accessories: { each: ACCESSORY },
    environments: { each: ENVIRONMENT },
  },
};

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      previous[j] = Math.min(previous[j]! + 1, previous[j - 1]! + 1, diagonal + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

/** The known key closest to `key`, when it is close enough to be a typo. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const ranked = known.map((candidate) => ({ candidate, cost: distance(key, candidate) })).sort((a, b) => a.cost - b.cost);
  const best = ranked[0];
  return best !== undefined && best.cost <= Math.max(2, Math.floor(key.length / 3)) ? best.candidate : undefined;
}

interface Where {
  readonly environment?: string;
  readonly product?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function checkObject(value: unknown, schema: ObjectSchema, path: string, where: Where, issues: ConfigurationIssue[]): void {
  if (!isObject(value)) return;
  const known = Object.keys(schema.keys);
  for (const key of Object.keys(value)) {
    if (schema.keys[key]) continue;
    const suggestion = closestKey(key, known);
    issues.push({
      ...where,
      field: path === '' ? key : `${path}.${key}`,
      value: value[key],
      allowed: suggestion !== undefined ? `"${suggestion}" (did you mean it?), or another known field: ${known.join(', ')}` : `a known field: ${known.join(', ')}`,
      why: 'an unknown field would be silently ignored',
    });
  }
  for (const [field, child] of Object.entries(schema.fields ?? {})) {
    const childValue = value[field];
    const childPath = path === '' || path === 'system' ? field : `${path}.${field}`;
    if ('each' in child) {
      if (!Array.isArray(childValue)) continue;
      childValue.forEach((item, index) => {
        const name = isObject(item) && typeof item.name === 'string' ? item.name : isObject(item) && typeof item.product === 'string' ? item.product : String(index);
        const inner = { ...where, ...contextOf(field, item) };
        const itemPath = field === 'services' ? `services.${name}` : field === 'environments' || field === 'products' ? '' : `${childPath}.${name}`;
        checkObject(item, child.each, itemPath, inner, issues);
      });
    } else if ('values' in child) {
      if (!isObject(childValue)) continue;
      for (const [key, item] of Object.entries(childValue)) checkObject(item, child.values, `${childPath}.${key}`, where, issues);
    } else {
      checkObject(childValue, child, childPath, where, issues);
    }
  }
}

/** Which environment or product an item of a list is, for the issue's context. */
function contextOf(field: string, item: unknown): Where {
  if (!isObject(item)) return {};
  if (field === 'environments' && typeof item.name === 'string') return { environment: item.name };
  if (field === 'products' && typeof item.name === 'string') return { product: item.name };
  if (field === 'products' && typeof item.product === 'string') return { product: item.product };
  return {};
}

/** Every key of the description that no field of the model has. */
export function unknownKeys(system: SystemSpec): ConfigurationIssue[] {
  const issues: ConfigurationIssue[] = [];
  checkObject(system, SYSTEM, 'system', {}, issues);
  return issues;
}
