import { Image } from '@cdktf/provider-docker/lib/image';
import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { Construct } from 'constructs';
import type { DockerHealthCheck } from '../core/health-check';
import type { ResourceSpec } from '../core/resources';
import type { DataVolume } from '../hetzner/data-volume';
import { HardenedContainer } from './hardened-container';

/** A Hetzner volume mounted into the accessory. */
export interface AccessoryMount {
  /** The volume (already attached to the accessory's host). */
  readonly volume: DataVolume;
  /** Where the container sees it. */
  readonly containerPath: string;
}

export interface AccessoryContainerProps {
  /** Container name, and its DNS name on the network (what its users connect to). */
  readonly hostname: string;
  /** Image reference with tag or digest. */
  readonly image: string;
  /** Command overriding the image's CMD. @default - the image's CMD */
  readonly command?: readonly string[];
  /** Plain environment variables. @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /** Secret environment variables: tokens of sensitive variables only. @default - none */
  readonly secretEnvironment?: Readonly<Record<string, string>>;
  /** The Docker healthcheck. */
  readonly healthCheck: DockerHealthCheck;
  /** CPU and memory. */
  readonly resources: ResourceSpec;
  /** Name of the network its users reach it on (the host's internal data network). */
  readonly network: string;
  /** Volumes holding its data. @default - none */
  readonly mounts?: readonly AccessoryMount[];
  /** User (uid or uid:gid) the process runs as; owns its data directories. @default '1001' */
  readonly user?: string;
  /** Paths kept writable under the read-only root filesystem. @default - none */
  readonly writablePaths?: readonly string[];
  /** Docker restart policy. @default 'unless-stopped' */
  readonly restart?: 'always' | 'unless-stopped' | { readonly onFailure: { readonly maxRetries: number } };
  /** Labels of its containers. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Provider of the host's daemon. */
  readonly provider: DockerProvider;
}

/**
 * A stateful or third-party service on its Hetzner volumes, hardened like
 * every container here (read-only root, no capabilities, limits, health
 * check). Each volume's data lives in a directory `<volume>/data`: Docker
 * creates a missing bind source as root, so a one-shot task first hands that
 * directory to the service's user (with only CHOWN), and the service starts
 * after it. Addresses: `docker_image.<id>`, `docker_container.<id>`, `docker_container.<id>-data-owner`.
 */
export class AccessoryContainer extends Construct {
  public readonly server: HardenedContainer;
  /** The one-shot task that owns the data directories to the service's user; undefined without volumes. */
  public readonly dataOwner?: HardenedContainer;

  public constructor(scope: Construct, id: string, props: AccessoryContainerProps) {
    super(scope, id);
    const user = props.user ?? '1001';
    if (!/^\d+(:\d+)?$/.test(user)) throw new Error(`AccessoryContainer ${id}: user must be a numeric uid or uid:gid (what chown and Docker agree on); got "${user}"`);
    const mounts = (props.mounts ?? []).map((mount) => ({ hostPath: `${mount.volume.mountPath}/data`, containerPath: mount.containerPath }));
    const attachments = (props.mounts ?? []).map((mount) => mount.volume.attachment);
    const labels = { ...props.labels, service: id };
    // One image for the service and its one-shot task; kept on the host when replaced, like every image here.
    const image = new Image(this, 'image', { name: props.image, keepLocally: true, provider: props.provider });
    image.overrideLogicalId(id);
    if (mounts.length > 0 && !user.startsWith('0')) {
      this.dataOwner = new HardenedContainer(this, `${id}-data-owner`, {
        name: `${props.hostname}-data-owner`,
        image,
        entrypoint: ['chown', '-R', user.includes(':') ? user : `${user}:${user}`, ...mounts.map((mount) => mount.containerPath)],
        resources: { cpuLimit: 0.25, memoryLimitMiB: 64, cpuReservation: 0.05, memoryReservationMiB: 16 },
        networks: [{ name: props.network }],
        user: '0',
        capabilities: ['CHOWN'],
        bindMounts: mounts,
        runOnce: true,
        labels: { ...labels, service: `${id}-data-owner` },
        provider: props.provider,
        dependsOn: attachments,
      });
    }
    const restart = props.restart ?? 'unless-stopped';
    this.server = new HardenedContainer(this, id, {
      name: props.hostname,
      image,
      command: props.command,
      environment: props.environment,
      secretEnvironment: props.secretEnvironment,
      healthCheck: props.healthCheck,
      resources: props.resources,
      networks: [{ name: props.network, aliases: [props.hostname] }],
      user,
      writablePaths: props.writablePaths,
      bindMounts: mounts,
      restart: typeof restart === 'string' ? restart : 'on-failure',
      maxRetryCount: typeof restart === 'string' ? undefined : restart.onFailure.maxRetries,
      labels,
      provider: props.provider,
      dependsOn: this.dataOwner ? [this.dataOwner.container] : attachments,
    });
  }
}
