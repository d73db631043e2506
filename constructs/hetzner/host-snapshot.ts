import { Construct } from 'constructs';
import { Token } from 'cdktf';
import { Snapshot } from '../../.gen/providers/hcloud/snapshot';

export interface HostSnapshotProps {
  /** Id of the server to image. */
  readonly serverId: string;
  /** Why the snapshot exists ("before postgres 17 upgrade"). */
  readonly description: string;
  /** Labels; the construct id is added as `snapshot`. @default - none */
  readonly labels?: Record<string, string>;
}

/**
 * A Hetzner snapshot of a server's disk, taken when the resource is created:
 * declare one before a risky change, remove it from the environment when it is
 * no longer needed. Not protected by `prevent_destroy`: removing it is the way
 * to delete it.
 */
export class HostSnapshot extends Construct {
  public readonly snapshot: Snapshot;

  public constructor(scope: Construct, id: string, props: HostSnapshotProps) {
    super(scope, id);
    this.snapshot = new Snapshot(this, 'snapshot', {
      serverId: Token.asNumber(props.serverId),
      description: props.description,
      labels: { ...props.labels, snapshot: id },
    });
    // Stateful: pin a readable address so a refactor of the tree never deletes one snapshot and takes another.
    this.snapshot.overrideLogicalId(id);
  }
}
