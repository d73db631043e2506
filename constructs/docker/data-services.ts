/**
 * PostgreSQL, Redis and the dump job of one host, placed together: they share
 * the host's data network, its provider and labels, and each starts only
 * after its volume is attached. Created directly in the given scope, so
 * their Terraform addresses (`postgres`, `redis`, `backup-job`) do not depend
 * on who places them.
 */
import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import type { Construct } from 'constructs';
import type { BackupBucket } from '../cloudflare/backup-bucket';
import type { ResourceSpec } from '../core/resources';
import type { DataVolume } from '../hetzner/data-volume';
import { BackupJob, type BackupSchedule } from './backup-job';
import type { RedisUserAccess } from './data-scripts';
import { PostgresContainer, type PostgresSwarm } from './postgres-container';
import { RedisContainer, type RedisEvictionPolicy } from './redis-container';

export interface DataServicesProps {
  /** Provider of the data host's daemon. */
  readonly provider: DockerProvider;
  /** Name of the host's data network (internal: no internet). */
  readonly dataNetwork: string;
  /** Name of a network with internet access, for the dump job's uploads. */
  readonly egressNetwork: string;
  /** Labels of every container. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** The environment is a swarm (PostgresSwarm: the provisioner and the dump job as services on the data node). @default - plain containers only */
  readonly swarm?: PostgresSwarm;
  /** PostgreSQL on its volume, one database per entry. @default - no PostgreSQL */
  readonly postgres?: {
    readonly volume: DataVolume;
    readonly databases: readonly string[];
    /** Each database role's password (tokens), by database. @default - generated with the container */
    readonly rolePasswords?: Readonly<Record<string, string>>;
    /** Password of the `postgres_exporter` role (a token). @default - no exporter role */
    readonly exporterPassword?: string;
    /** Connections each database's role may hold. @default 20 */
    readonly connectionLimitPerDatabase?: number;
    readonly resources: ResourceSpec;
    /** Image reference. @default - POSTGRES_DEFAULTS.image */
    readonly image?: string;
    /** `max_connections`. @default - the databases' connection limits together plus POSTGRES_RESERVED_CONNECTIONS */
    readonly maxConnections?: number;
    /** Further server settings. @default - none */
    readonly settings?: Readonly<Record<string, string>>;
    /** When and where the job dumps it. */
    readonly backup: BackupSchedule;
  };
  /** Redis on its volume. @default - no Redis */
  readonly redis?: {
    readonly volume: DataVolume;
    /** Products with their own ACL user. */
    readonly users: readonly string[];
    /** Each user's password (tokens), by user. @default - generated with the container */
    readonly userPasswords?: Readonly<Record<string, string>>;
    /** `maxmemory` in MiB. @default - REDIS_DEFAULTS.maxMemoryMiB */
    readonly maxMemoryMiB?: number;
    /** What Redis does at `maxmemory`. @default - REDIS_DEFAULTS.maxMemoryPolicy */
    readonly maxMemoryPolicy?: RedisEvictionPolicy;
    /** Rights of a user beyond its prefix, by user. @default - none */
    readonly access?: Readonly<Record<string, RedisUserAccess>>;
    /** Image reference. @default - REDIS_DEFAULTS.image */
    readonly image?: string;
    readonly resources: ResourceSpec;
    /** When and where the job dumps it. */
    readonly backup: BackupSchedule;
  };
  /** The dump job: its image, resources and the bucket it writes to. @default - no dump job */
  readonly backupJob?: {
    readonly image: string;
    readonly resources: ResourceSpec;
    readonly bucket: BackupBucket;
    /** age public key the dumps are encrypted to (a literal or a variable's token). */
    readonly encryptionRecipient: string;
    /** Dead-man's switch URL (a sensitive token). @default - none */
    readonly heartbeatUrl?: string;
  };
}

/** The data containers of one host. */
export interface DataServices {
  readonly postgres?: PostgresContainer;
  readonly redis?: RedisContainer;
  readonly backupJob?: BackupJob;
}

/** Places the data containers `props` asks for in `scope`. */
export function placeDataServices(scope: Construct, props: DataServicesProps): DataServices {
  const onVolume = (volume: DataVolume) => ({
    dataPath: volume.mountPath,
    volumeName: volume.deviceName,
    network: props.dataNetwork,
    labels: props.labels,
    provider: props.provider,
    dependsOn: [volume.attachment],
  });
  const postgres =
    props.postgres &&
    new PostgresContainer(scope, 'postgres', {
      ...onVolume(props.postgres.volume),
      databases: props.postgres.databases,
      rolePasswords: props.postgres.rolePasswords,
      exporterPassword: props.postgres.exporterPassword,
      connectionLimitPerDatabase: props.postgres.connectionLimitPerDatabase,
      resources: props.postgres.resources,
      image: props.postgres.image,
      maxConnections: props.postgres.maxConnections,
      settings: props.postgres.settings,
      swarm: props.swarm,
    });
  const redis =
    props.redis &&
    new RedisContainer(scope, 'redis', {
      ...onVolume(props.redis.volume),
      users: props.redis.users,
      userPasswords: props.redis.userPasswords,
      maxMemoryMiB: props.redis.maxMemoryMiB,
      maxMemoryPolicy: props.redis.maxMemoryPolicy,
      access: props.redis.access,
      resources: props.redis.resources,
      image: props.redis.image,
    });
  const job = props.backupJob;
  const backupJob =
    job &&
    new BackupJob(scope, 'backup-job', {
      image: job.image,
      bucket: job.bucket,
      encryptionRecipient: job.encryptionRecipient,
      heartbeatUrl: job.heartbeatUrl,
      postgres: postgres && {
        host: postgres.hostname,
        password: postgres.superuserPassword,
        databases: props.postgres!.databases,
        schedule: props.postgres!.backup,
      },
      redis: redis && { host: redis.hostname, user: redis.adminUser, password: redis.adminPassword.result, schedule: props.redis!.backup },
      // The data network has no internet; the egress network reaches R2.
      networks: [{ name: props.dataNetwork }, { name: props.egressNetwork }],
      resources: job.resources,
      provider: props.provider,
      labels: props.labels,
      // The superuser's password is the provisioner's secret: one secret, one revision per value.
      swarm: props.swarm && { nodeLabels: props.swarm.nodeLabels, postgresPasswordSecret: postgres?.superuserPasswordSecret },
    });
  return { postgres, redis, backupJob };
}
