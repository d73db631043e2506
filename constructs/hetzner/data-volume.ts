import { Construct } from 'constructs';
import { Token } from 'cdktf';
import { Volume } from '../../.gen/providers/hcloud/volume';
import { VolumeAttachment } from '../../.gen/providers/hcloud/volume-attachment';

export interface DataVolumeProps {
  /** Hetzner volume name. */
  readonly name: string;
  /** Size in GiB (10 to 10240). Volumes can grow, never shrink. */
  readonly sizeGiB: number;
  /** Location; must be the server's. */
  readonly location: string;
  /** Id of the server to attach to. */
  readonly serverId: string;
  /** Delete protection and `prevent_destroy`. @default true */
  readonly protection?: boolean;
  /** Labels of the volume. @default - none */
  readonly labels?: Record<string, string>;
}

/**
 * A Hetzner volume formatted ext4, attached and automounted on a host. Hetzner
 * mounts it at `/mnt/HC_Volume_<id>`; `mountPath` is that path, for the
 * containers that bind-mount their data from it.
 */
export class DataVolume extends Construct {
  public readonly volume: Volume;
  public readonly attachment: VolumeAttachment;
  /** Host path of the mounted volume. */
  public readonly mountPath: string;
  /** `HC_Volume_<id>`: the volume's stable device name (`/dev/disk/by-id/scsi-0HC_Volume_<id>`), also written into its sentinel file. */
  public readonly deviceName: string;

  public constructor(scope: Construct, id: string, props: DataVolumeProps) {
    super(scope, id);
    if (!Number.isInteger(props.sizeGiB) || props.sizeGiB < 10 || props.sizeGiB > 10240) {
      throw new Error(`DataVolume ${props.name}: sizeGiB must be a whole number from 10 to 10240; got ${props.sizeGiB}`);
    }
    const protection = props.protection ?? true;
    this.volume = new Volume(this, 'volume', {
      name: props.name,
      size: props.sizeGiB,
      location: props.location,
      format: 'ext4',
      deleteProtection: protection,
      labels: props.labels,
      lifecycle: { preventDestroy: protection },
    });
    // Stateful: a stable, readable address (`hcloud_volume.postgres-volume`), pinned before anything references it.
    this.volume.overrideLogicalId(id);
    this.attachment = new VolumeAttachment(this, 'attachment', {
      volumeId: Token.asNumber(this.volume.id),
      serverId: Token.asNumber(props.serverId),
      automount: true,
    });
    this.attachment.overrideLogicalId(`${id}-attachment`);
    this.deviceName = `HC_Volume_${this.volume.id}`;
    this.mountPath = `/mnt/${this.deviceName}`;
  }
}
