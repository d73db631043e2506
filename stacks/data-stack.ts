import type { Construct } from 'constructs';
import { HcloudProvider } from '../.gen/providers/hcloud/provider';
import { DataVolume } from '../constructs/hetzner/data-volume';
import { HostSnapshot } from '../constructs/hetzner/host-snapshot';
import { DATA_DEPENDENCIES, type DataDependency } from '../environments/model';
import { hostOutputName, type NetworkStack } from './network-stack';
import { SystemStack, type SystemStackProps } from './system-stack';
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

    // Issue 3: PostgreSQL and Redis containers on the volumes; products' connection strings as sensitive outputs.
    this.containers = props.edge === undefined ? {} : placeDataContainers(this, { network: props.network, edge: props.edge }, volumes);

    for (const snapshot of spec.snapshots ?? []) {
      new HostSnapshot(this, `snapshot-${snapshot.name}`, {
        serverId: serverIdOf(snapshot.host),
        description: snapshot.reason,
        labels: { ...this.labels('snapshot'), host: snapshot.host },
      });
    }
  }
}
