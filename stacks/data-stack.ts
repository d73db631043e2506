import type { Construct } from 'constructs';
import { HcloudProvider } from '../.gen/providers/hcloud/provider';
import { DataVolume } from '../constructs/hetzner/data-volume';
import { HostSnapshot } from '../constructs/hetzner/host-snapshot';
import { DATA_DEPENDENCIES, type DataDependency } from '../system/model';
import { hostOutputName, type NetworkStack } from './network-stack';
import { SystemStack, type SystemStackProps } from './system-stack';
// --- R2 backup bucket (issue 4) ---
import { CloudflareProvider } from '@cdktf/provider-cloudflare/lib/provider';
import { BackupBucket, type BackupRetention } from '../constructs/cloudflare/backup-bucket';
import { cloudflareAccountIdVariable } from '../constructs/cloudflare/r2-bucket';
import { BACKUP_PLAN } from '../system/defaults';
import { SecretValue } from '../constructs/core/secret-value';
import { r2LocationNear } from '../system/cloudflare-plan';

/** How long backups are kept, per data service (the source documents: Postgres 30 days, Redis 7 days). */
// --- end issue 4 ---
// --- PostgreSQL and Redis containers (issue 3) ---
import { placeDataContainers, type DataContainers } from './docker-wiring';
import type { EdgeStack } from './edge-stack';
// --- end issue 3 ---

export interface DataStackProps extends SystemStackProps {
  /** The environment's network stack, whose hosts carry the volumes. */
  readonly network: NetworkStack;
  /** The environment's edge stack (the data network), issue 3. @default - no data containers, only volumes */
  readonly edge?: EdgeStack;
}

/**
 * `<env>-data`: everything stateful: the Hetzner volumes holding PostgreSQL
 * and Redis data (protected in production), and snapshots taken before risky
 * changes.
 */
export class DataStack extends SystemStack {
  /** The data volume of each data service run as a container here. */
  public readonly volumes: ReadonlyMap<DataDependency, DataVolume>;
  /** The PostgreSQL and Redis containers run here (issue 3). */
  public readonly containers: DataContainers;

  public constructor(scope: Construct, props: DataStackProps) {
    const environment = props.environment;
    super(scope, environment.stackName('data'), props);
    const spec = environment.spec;
    new HcloudProvider(this, 'hcloud', {});
    const network = this.outputsOf(props.network);
    const serverIdOf = (host: string) => network.getString(hostOutputName(host, 'server_id'));

    const volumes = new Map<DataDependency, DataVolume>();
    for (const service of DATA_DEPENDENCIES) {
      const settings = spec.data[service];
      // External services (Supabase, Upstash) need nothing here but their variables in the product stacks.
      if (settings.mode !== 'container') continue;
      volumes.set(
        service,
        new DataVolume(this, `${service}-volume`, {
          name: `${environment.system.name}-${environment.name}-${service}`,
          sizeGiB: settings.volumeSizeGiB,
          location: spec.location,
          serverId: serverIdOf(environment.dataHost),
          protection: spec.protection,
          labels: { ...this.labels('data'), service },
        }),
      );
    }
    this.volumes = volumes;

    // Issue 4: the R2 bucket the backup job writes to.
    this.backupBucket = this.addBackupBucket();

    // Issue 3: PostgreSQL and Redis containers on the volumes; products' connection strings as sensitive outputs;
    // the backup job dumping them into the bucket.
    this.containers =
      props.edge === undefined ? {} : placeDataContainers(this, { network: props.network, edge: props.edge }, volumes, this.backupBucket);

    for (const snapshot of spec.snapshots ?? []) {
      new HostSnapshot(this, `snapshot-${snapshot.name}`, {
        serverId: serverIdOf(snapshot.host),
        description: snapshot.reason,
        labels: { ...this.labels('snapshot'), host: snapshot.host },
      });
    }
  }

  // --- R2 backup bucket (issue 4) ---

  /**
   * Where the backup job writes, under `postgres/` and `redis/`, with R2
   * expiring each prefix after its retention. Only data services run here as
   * containers are backed up by this stack (external ones have their
   * provider's backups). Undefined when there is nothing to back up.
   */
  public readonly backupBucket?: BackupBucket;

  private addBackupBucket(): BackupBucket | undefined {
    const environment = this.environment;
    const retention: BackupRetention[] = DATA_DEPENDENCIES.filter((service) => environment.spec.data[service].mode === 'container').map((service) => ({
      prefix: `${service}/`,
      keepFor: BACKUP_PLAN[service].keepFor,
    }));
    if (retention.length === 0) return undefined;
    // Authenticates from CLOUDFLARE_API_TOKEN.
    new CloudflareProvider(this, 'cloudflare', {});
    return new BackupBucket(this, 'backup-bucket', {
      accountId: cloudflareAccountIdVariable(this).stringValue,
      name: `${environment.system.name}-${environment.name}-backups`,
      location: r2LocationNear(environment.spec.location),
      protection: environment.spec.protection,
      retention,
      credentials: {
        // An R2 API token with Object Read & Write on this bucket only (R2 > Manage API tokens).
        accessKeyId: SecretValue.variable(this, 'backup_r2_access_key_id', 'Access key id of the R2 token the backup job writes with'),
        secretAccessKey: SecretValue.variable(this, 'backup_r2_secret_access_key', 'Secret access key of the R2 token the backup job writes with'),
      },
    });
  }
  // --- end issue 4 ---
}
