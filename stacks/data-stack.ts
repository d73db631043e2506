import { CloudflareProvider } from '@cdktf/provider-cloudflare/lib/provider';
import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import type { Construct } from 'constructs';
import { HcloudProvider } from '../.gen/providers/hcloud/provider';
import { BackupBucket } from '../constructs/cloudflare/backup-bucket';
import { cloudflareAccountIdVariable } from '../constructs/cloudflare/r2-bucket';
import { SecretValue } from '../constructs/core/secret-value';
import { AccessoryContainer } from '../constructs/docker/accessory-container';
import { placeDataServices, type DataServices } from '../constructs/docker/data-services';
import { backupEncryptionRecipient } from '../constructs/docker/backup-job';
import { generatedPassword } from '../constructs/core/random-provider';
import { PostgresExporter } from '../constructs/monitoring/postgres-exporter';
import { DataVolume } from '../constructs/hetzner/data-volume';
import { HostSnapshot } from '../constructs/hetzner/host-snapshot';
import { SWARM_DATA_NODE_LABEL } from '../constructs/hetzner/swarm-formation';
import { r2LocationNear } from '../system/cloudflare-plan';
import { BACKUP_BUCKET_SUFFIX } from '../system/defaults';
import type { DataDependency } from '../system/model';
import type { ResolvedBackupJob, ResolvedDataService } from '../system/resolve';
import { connectDockerHost } from './docker-hosts';
import type { CredentialsStack } from './credentials-stack';
import type { EdgeStack } from './edge-stack';
import type { NetworkStack } from './network-stack';
import { accessoryNetworkOutputName, dataPasswordOutputName, sharedSecretOutputName, dockerNetworkOutputName, hostOutputName } from './outputs';
import { SystemStack, type SystemStackProps } from './system-stack';

export interface DataStackProps extends SystemStackProps {
  /** The environment's network stack, whose hosts carry the volumes. */
  readonly network: NetworkStack;
  /** The environment's edge stack (the data network). @default - no data containers, only volumes */
  readonly edge?: EdgeStack;
  /**
   * The credentials stack of every product using a data container, by product name: the passwords this
   * stack sets on the servers. @default - none (then no product may use a data container here)
   */
  readonly credentials?: ReadonlyMap<string, CredentialsStack>;
}

/**
 * `<env>-data`: everything stateful: the Hetzner volumes holding PostgreSQL
 * and Redis data (protected in production), the containers on them with each
 * product's role set to the password from its credentials stack, the R2
 * bucket the dump job writes to, and snapshots taken before risky changes.
 * It publishes no connection string: no product stack reads its state.
 */
export class DataStack extends SystemStack {
  /** The data volume of each data service run as a container here. */
  public readonly volumes: ReadonlyMap<DataDependency, DataVolume>;
  /** Where the dump job writes; undefined when nothing runs here to back up (external ones have their provider's backups). */
  public readonly backupBucket?: BackupBucket;
  /** The PostgreSQL and Redis containers and the dump job run here. */
  public readonly containers: DataServices;
  /** The environment's accessories, by name. */
  public readonly accessories: ReadonlyMap<string, AccessoryContainer>;

  public constructor(scope: Construct, props: DataStackProps) {
    const environment = props.environment;
    super(scope, environment.stackName('data'), props);
    new HcloudProvider(this, 'hcloud', {});
    const network = this.outputsOf(props.network);
    const serverIdOf = (host: string) => network.getString(hostOutputName(host, 'server_id'));
    const services = environment.data.containers;

    this.volumes = new Map(
      services.map((service) => [
        service.name,
        new DataVolume(this, `${service.name}-volume`, {
          name: environment.resourceName(service.name),
          sizeGiB: service.volumeSizeGiB,
          location: environment.location,
          serverId: serverIdOf(environment.data.host),
          protection: environment.protection,
          labels: { ...this.labels('data'), service: service.name },
        }),
      ]),
    );
    this.backupBucket = services.length > 0 ? this.addBackupBucket(services) : undefined;
    this.containers = props.edge === undefined ? {} : this.placeContainers(props.network, props.edge, props.credentials ?? new Map());
    this.accessories = props.edge === undefined ? new Map() : this.placeAccessories(props.network, props.edge, serverIdOf, props.credentials ?? new Map());

    for (const snapshot of environment.snapshots) {
      new HostSnapshot(this, `snapshot-${snapshot.name}`, {
        serverId: serverIdOf(snapshot.host),
        description: snapshot.reason,
        labels: { ...this.labels('snapshot'), host: snapshot.host },
      });
    }
  }

  /**
   * Each accessory on its host: its volumes (protected like PostgreSQL's),
   * its container on its own network (created by the edge stack), its secrets from sensitive
   * variables of this stack (`TF_VAR_<name in lowercase>`), its shared
   * secrets from the credentials stack of the product using it.
   */
  private placeAccessories(
    networkStack: NetworkStack,
    edgeStack: EdgeStack,
    serverIdOf: (host: string) => string,
    credentials: ReadonlyMap<string, CredentialsStack>,
  ): Map<string, AccessoryContainer> {
    const environment = this.environment;
    const placed = new Map<string, AccessoryContainer>();
    for (const accessory of environment.accessories) {
      const mounts = accessory.volumes.map((volume) => ({
        containerPath: volume.mountPath,
        volume: new DataVolume(this, `${accessory.name}-${volume.name}-volume`, {
          name: environment.resourceName(`${accessory.name}-${volume.name}`),
          sizeGiB: volume.sizeGiB,
          location: environment.location,
          serverId: serverIdOf(accessory.host),
          protection: environment.protection,
          labels: { ...this.labels('data'), service: accessory.name },
        }),
      }));
      const sharedFrom = () => {
        const stack = accessory.sharedSecretsOwner === undefined ? undefined : credentials.get(accessory.sharedSecretsOwner);
        if (stack === undefined) throw new Error(`Stack ${this.stackName}: no credentials stack holds the shared secrets of ${accessory.name}`);
        return this.outputsOf(stack);
      };
      const secrets = Object.fromEntries([
        ...accessory.secrets.map((name) => [name, SecretValue.variable(this, name.toLowerCase(), `${name} of the ${accessory.name} accessory in ${environment.name}`).value]),
        ...accessory.sharedSecrets.map((name) => [name, sharedFrom().getString(sharedSecretOutputName(accessory.name, name))]),
      ]);
      placed.set(
        accessory.name,
        new AccessoryContainer(this, accessory.name, {
          hostname: accessory.name,
          image: accessory.image.ref,
          command: accessory.command,
          environment: accessory.environment,
          secretEnvironment: secrets,
          healthCheck: accessory.healthCheck.toDocker(Object.values(accessory.ports)[0]),
          resources: accessory.resources,
          network: this.outputsOf(edgeStack).getString(accessoryNetworkOutputName(accessory.name)),
          mounts,
          user: accessory.user,
          writablePaths: accessory.writablePaths,
          restart: accessory.restart,
          labels: { ...this.labels('data'), host: accessory.host },
          provider: this.dockerProvider(networkStack, accessory.host),
        }),
      );
    }
    return placed;
  }

  private readonly dockerProviders = new Map<string, DockerProvider>();

  /**
   * The Docker provider of a host: the stack's default for the data host, an
   * alias for any other. It logs in to the system's registry where a private
   * image is pulled there (the backup job, an accessory from that registry),
   * and to Docker Hub when the environment asks (PostgreSQL, Redis).
   */
  private dockerProvider(networkStack: NetworkStack, host: string): DockerProvider {
    let provider = this.dockerProviders.get(host);
    if (provider === undefined) {
      const environment = this.environment;
      const registry = `${environment.registry.host}/`;
      const privateImages = [
        ...(host === environment.data.host && environment.data.containers.length > 0 && environment.data.backupJob !== undefined ? [environment.data.backupJob.image] : []),
        ...environment.accessories.filter((accessory) => accessory.host === host).map((accessory) => accessory.image.ref),
      ].filter((image) => image.startsWith(registry));
      provider = connectDockerHost(this, networkStack, host, {
        aliased: host !== environment.data.host,
        registryLogin: privateImages.length > 0,
        dockerHubImages: true,
      });
      this.dockerProviders.set(host, provider);
    }
    return provider;
  }

  /** Where the dump job writes, one key prefix per data service, R2 expiring each after its retention. */
  private addBackupBucket(services: readonly ResolvedDataService[]): BackupBucket {
    const environment = this.environment;
    // Authenticates from CLOUDFLARE_API_TOKEN.
    new CloudflareProvider(this, 'cloudflare', {});
    return new BackupBucket(this, 'backup-bucket', {
      accountId: cloudflareAccountIdVariable(this).stringValue,
      name: environment.resourceName(BACKUP_BUCKET_SUFFIX),
      location: r2LocationNear(environment.location),
      protection: environment.protection,
      retention: services.map((service) => ({ prefix: service.backup.prefix, keepFor: service.backup.keepFor })),
      credentials: {
        // A token scoped to this bucket with object write only (permission group "Workers R2 Storage Bucket Item
        // Write"): no bucket settings, no other bucket. R2 has no put-only permission (object write covers delete),
        // so the bucket lock is what refuses deletes and overwrites within retention: a compromised host cannot
        // destroy the dumps. Made by hand, not here (docs/data-recovery.md, "Setting up").
        accessKeyId: SecretValue.variable(this, 'backup_r2_access_key_id', 'Access key id of the R2 token the backup job writes with (Bucket Item Write on the backup bucket only)'),
        secretAccessKey: SecretValue.variable(this, 'backup_r2_secret_access_key', 'Secret access key of the R2 token the backup job writes with'),
      },
    });
  }

  /** The dump job's image and resources, its encryption key and heartbeat as Terraform values. */
  private backupJobSettings(job: ResolvedBackupJob) {
    const encryptionRecipient = backupEncryptionRecipient(this, job.encryptionKey);
    const heartbeatUrl =
      job.heartbeatSecret === undefined
        ? undefined
        : SecretValue.variable(this, job.heartbeatSecret, "Dead-man's switch URL the backup job calls after every successful dump").value;
    return { image: job.image, resources: job.resources, encryptionRecipient, heartbeatUrl };
  }

  /** PostgreSQL and Redis on the data host's volumes, each product's role with the password of its credentials stack, and the dump job. */
  private placeContainers(networkStack: NetworkStack, edgeStack: EdgeStack, credentials: ReadonlyMap<string, CredentialsStack>): DataServices {
    const environment = this.environment;
    if (this.volumes.size === 0) return {};
    const host = environment.data.host;
    const provider = this.dockerProvider(networkStack, host);
    const edge = this.outputsOf(edgeStack);
    const dataNetwork = edge.getString(dockerNetworkOutputName(host, 'data'));
    const serviceOf = (name: DataDependency) => environment.data.containers.find((service) => service.name === name);
    const postgres = serviceOf('postgres');
    const redis = serviceOf('redis');
    const schedule = (service: ResolvedDataService) => ({ cron: service.backup.cron, prefix: service.backup.prefix });
    const passwordOf = (product: string, dependency: DataDependency) => {
      const stack = credentials.get(product);
      if (stack === undefined) throw new Error(`Stack ${this.stackName}: no credentials stack for ${product}, which uses the ${dependency} container`);
      return this.outputsOf(stack).getString(dataPasswordOutputName(dependency));
    };
    // The exporter's password lives here with the superuser's: it reads statistics, and no other stack needs it.
    const exporterPassword = postgres?.exporter === undefined ? undefined : generatedPassword(this, 'postgres-exporter-password');
    const placed = placeDataServices(this, {
      provider,
      dataNetwork,
      egressNetwork: edge.getString(dockerNetworkOutputName(host, 'backend')),
      labels: { ...this.labels('data'), host },
      swarm: environment.engine === 'swarm' ? { nodeLabels: SWARM_DATA_NODE_LABEL } : undefined,
      postgres: postgres && {
        volume: this.volumes.get('postgres')!,
        databases: postgres.users.map((product) => product.databaseName),
        rolePasswords: Object.fromEntries(postgres.users.map((product) => [product.databaseName, passwordOf(product.name, 'postgres')])),
        exporterPassword,
        connectionLimitPerDatabase: postgres.connectionsPerProduct,
        resources: postgres.resources,
        image: postgres.image,
        maxConnections: postgres.maxConnections,
        settings: postgres.settings,
        backup: schedule(postgres),
      },
      redis: redis && {
        volume: this.volumes.get('redis')!,
        users: redis.users.map((product) => product.name),
        userPasswords: Object.fromEntries(redis.users.map((product) => [product.name, passwordOf(product.name, 'redis')])),
        maxMemoryMiB: redis.maxMemoryMiB,
        maxMemoryPolicy: redis.maxMemoryPolicy,
        access: Object.fromEntries(redis.users.flatMap((product) => (product.redisAccess === undefined ? [] : [[product.name, product.redisAccess]]))),
        resources: redis.resources,
        image: redis.image,
        backup: schedule(redis),
      },
      backupJob: environment.data.backupJob && { ...this.backupJobSettings(environment.data.backupJob), bucket: this.backupBucket! },
    });
    if (placed.postgres !== undefined && exporterPassword !== undefined) {
      new PostgresExporter(this, 'postgres-exporter', {
        postgresHost: placed.postgres.hostname,
        password: exporterPassword,
        dataNetwork,
        scrapeNetwork: edge.getString(dockerNetworkOutputName(host, 'backend')),
        resources: postgres!.exporter!.resources,
        labels: { ...this.labels('monitoring'), host },
        provider,
        // The provisioner creates the role; before it the exporter could only fail to log in.
        dependsOn: [placed.postgres.provisioned],
        swarm: environment.engine === 'swarm' ? { nodeLabels: SWARM_DATA_NODE_LABEL, passwordSecret: placed.postgres.exporterPasswordSecret } : undefined,
      });
    }
    return placed;
  }
}
