import { Construct } from 'constructs';
import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { HealthCheck } from '../core/health-check';
import type { BackupBucket } from '../cloudflare/backup-bucket';
import type { ResourceSpec } from '../core/resources';
import { HardenedContainer, type ContainerNetwork } from './hardened-container';
import { parseCron } from '../core/cron';
import { backupSchedulerScript } from './data-scripts';
import { terraformLiteral } from '../core/terraform-literal';
import { TerraformStack, TerraformVariable } from 'cdktf';
import { SwarmSecret } from './swarm-secret';
import { SwarmService } from './swarm-service';

/** One kind of dump: when it runs and where in the bucket it goes. */
export interface BackupSchedule {
  /** Cron expression, UTC (`0 3 * * *`). */
  readonly cron: string;
  /** Key prefix in the bucket; the bucket's lifecycle rule for it decides retention. */
  readonly prefix: string;
}

export interface BackupJobProps {
  /** Alpine image with busybox crond and wget, pg_dump, redis-cli, age and the aws CLI (`ghcr.io/<owner>/db-backup:<tag>`). */
  readonly image: string;
  /** Where the dumps go; its S3 endpoint and write credentials are handed to the job. */
  readonly bucket: BackupBucket;
  /** PostgreSQL to dump with `pg_dump`, one file per database. @default - no Postgres dumps */
  readonly postgres?: {
    readonly host: string;
    /** Superuser password (a token of the generated password). */
    readonly password: string;
    readonly databases: readonly string[];
    readonly schedule: BackupSchedule;
  };
  /** Redis to snapshot with `redis-cli --rdb`. @default - no Redis dumps */
  readonly redis?: {
    readonly host: string;
    /** The ACL user it dumps as: one that may run SYNC (`redis-cli --rdb` is a replica's sync). */
    readonly user: string;
    /** That user's password (a token of the generated password). */
    readonly password: string;
    readonly schedule: BackupSchedule;
  };
  /** The age public key (`age1...`, or a token of a variable holding one) every dump is encrypted to. */
  readonly encryptionRecipient: string;
  /** URL called after every successful run (a token of a sensitive variable): a dead-man's switch. @default - no heartbeat */
  readonly heartbeatUrl?: string;
  /** The data network, and one with internet access for R2 (the data network has none). */
  readonly networks: readonly ContainerNetwork[];
  readonly resources: ResourceSpec;
  readonly provider: DockerProvider;
  /** Labels of the container. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * The environment is a swarm: the job becomes a Swarm service on the data node, every credential a Swarm secret
   * file its dump script reads at dump time. @default - a plain container, the credentials in its environment
   */
  readonly swarm?: BackupJobSwarm;
}

/** The dump job of a swarm environment: see BackupJob. */
export interface BackupJobSwarm {
  /** Node labels of the data node (`{ data: 'true' }`): the task, and so its secrets, go there only. */
  readonly nodeLabels: Readonly<Record<string, string>>;
  /**
   * The Swarm secret already holding `postgres.password` (the provisioner's: PostgresContainer.superuserPasswordSecret),
   * so the value has one secret and one revision. @default - a secret of its own, `backup-postgres-password`
   */
  readonly postgresPasswordSecret?: SwarmSecret;
}

/**
 * Seconds a stopping job on a swarm waits for a running dump before Swarm kills it: the stop signal ends crond at
 * once (no new dump starts), and the shell waits for the dumps under way. A nightly dump of the library's sizes takes
 * seconds to minutes (docs/data-recovery.md, the drill's timings); a dump cut off is only retried the next night.
 */
export const BACKUP_STOP_GRACE_SECONDS = 900;

const CRON = /^(\S+\s+){4}\S+$/;

/**
 * The scheduled job that dumps the data services into the backup bucket:
 * Postgres and Redis at their own times, streamed straight to R2 (no dump
 * touches the host's disk). The job's image reads its whole configuration
 * from the environment set here; credentials are only ever references.
 *
 * On a swarm it is a Swarm service named `backup-job` on the data node
 * (`docker_service.backup-job`), and every credential (the superuser's
 * password, shared with the provisioner's secret; Redis's admin password;
 * the R2 token; the heartbeat URL) is a Swarm secret mounted as a file. Its
 * long-running processes (the shell, crond) hold only the files' paths: each
 * dump reads a file in a subshell that exports the value to its one tool
 * (backupRunScript), and no inspect of the service or its task shows one.
 */
export class BackupJob extends Construct {
  /** The job: a container, or on a swarm a service. */
  public readonly job: HardenedContainer | SwarmService;

  public constructor(scope: Construct, id: string, props: BackupJobProps) {
    super(scope, id);
    if (props.postgres === undefined && props.redis === undefined) {
      throw new Error(`BackupJob ${this.node.path}: nothing to back up; give postgres, redis or both`);
    }
    for (const [name, schedule] of [['postgres', props.postgres?.schedule], ['redis', props.redis?.schedule]] as const) {
      if (schedule !== undefined && !CRON.test(schedule.cron)) {
        throw new Error(`BackupJob ${this.node.path}: ${name} schedule "${schedule.cron}" is not a five-field cron expression such as "0 3 * * *"`);
      }
      if (schedule !== undefined) {
        try {
          parseCron(schedule.cron);
        } catch (error) {
          throw new Error(`BackupJob ${this.node.path}: ${name} schedule ${(error as Error).message}`);
        }
      }
    }
    const bucket = props.bucket;
    const environment: Record<string, string> = {
      TZ: 'UTC',
      S3_ENDPOINT: bucket.bucket.s3Endpoint,
      S3_BUCKET: bucket.bucket.bucketName,
      // R2 ignores the region but S3 clients insist on one; "auto" is R2's.
      AWS_DEFAULT_REGION: 'auto',
      BACKUP_AGE_RECIPIENT: props.encryptionRecipient,
    };
    const secrets: Record<string, string> = {
      AWS_ACCESS_KEY_ID: bucket.credentials.accessKeyId.value,
      AWS_SECRET_ACCESS_KEY: bucket.credentials.secretAccessKey.value,
    };
    if (props.postgres) {
      Object.assign(environment, {
        BACKUP_POSTGRES_CRON: props.postgres.schedule.cron,
        BACKUP_POSTGRES_PREFIX: props.postgres.schedule.prefix,
        BACKUP_POSTGRES_DATABASES: props.postgres.databases.join(' '),
        PGHOST: props.postgres.host,
        PGUSER: 'postgres',
      });
      secrets.PGPASSWORD = props.postgres.password;
    }
    if (props.redis) {
      Object.assign(environment, { BACKUP_REDIS_CRON: props.redis.schedule.cron, BACKUP_REDIS_PREFIX: props.redis.schedule.prefix, REDIS_HOST: props.redis.host, REDIS_USER: props.redis.user });
      // redis-cli reads its password from REDISCLI_AUTH, so it never appears on a command line.
      secrets.REDISCLI_AUTH = props.redis.password;
    }
    if (props.heartbeatUrl !== undefined) secrets.BACKUP_HEARTBEAT_URL = props.heartbeatUrl;
    const schedules = Object.fromEntries(Object.entries({ postgres: props.postgres?.schedule.cron, redis: props.redis?.schedule.cron }).filter(([, cron]) => cron !== undefined));
    const job = {
      name: 'backup-job',
      image: props.image,
      environment,
      // Healthy while the scheduler runs; a failed dump is the job's to report, not a reason to restart it.
      healthCheck: HealthCheck.process('crond').toDocker(),
      // busybox crond runs as root and switches to the crontab's user (root) for each job: it needs SETUID and SETGID.
      user: 'root',
      capabilities: ['SETGID', 'SETUID'],
      resources: props.resources,
      networks: props.networks,
      labels: props.labels,
      provider: props.provider,
    };
    if (props.swarm === undefined) {
      // The container's construct id is its Terraform address: `docker_container.<id>`.
      this.job = new HardenedContainer(this, id, {
        ...job,
        // The project owns the dump commands (data-scripts.ts, run by the restore drill); the image only brings the tools.
        command: ['sh', '-c', terraformLiteral(backupSchedulerScript(schedules))],
        secretEnvironment: secrets,
        init: true,
      });
      return;
    }
    const secretNames: Record<string, string> = {
      AWS_ACCESS_KEY_ID: 'backup-r2-access-key-id',
      AWS_SECRET_ACCESS_KEY: 'backup-r2-secret-access-key',
      PGPASSWORD: 'backup-postgres-password',
      REDISCLI_AUTH: 'backup-redis-password',
      BACKUP_HEARTBEAT_URL: 'backup-heartbeat-url',
    };
    const secretFiles = Object.fromEntries(
      Object.entries(secrets).map(([variable, value]) => {
        const given = variable === 'PGPASSWORD' ? props.swarm?.postgresPasswordSecret : undefined;
        const name = secretNames[variable]!;
        return [variable, given ?? new SwarmSecret(this, `${name}-secret`, { name, value, provider: props.provider })];
      }),
    );
    // Swarm has no init for a task (the Engine API has ContainerSpec.Init since 1.37, but the provider's
    // container_spec exposes none: kreuzwerker/terraform-provider-docker v3.6.2, @cdktf/provider-docker 12.0.3's
    // ServiceTaskSpecContainerSpec): the scheduler's shell stays PID 1, forwards the stop signal and reaps orphans.
    this.job = new SwarmService(this, id, {
      ...job,
      command: ['sh', '-c', terraformLiteral(backupSchedulerScript(schedules, { secretsFromFiles: true }))],
      // root by number: Swarm sets a secret file's owner by uid only, so the files are 0400 for uid 0 alone.
      user: '0',
      secretFiles,
      stopGraceSeconds: BACKUP_STOP_GRACE_SECONDS,
      // With the data: the credentials reach the data node alone (Swarm hands a secret only to its tasks' nodes).
      nodeLabels: props.swarm.nodeLabels,
    });
  }
}

/**
 * The age public key dumps are encrypted to, as a Terraform value: the
 * literal, or the stack's variable of that name (one per stack; every stack
 * writing dumps declares the same one), checked to be a public key.
 */
export function backupEncryptionRecipient(scope: Construct, key: { readonly recipient: string } | { readonly variable: string }): string {
  if ('recipient' in key) return key.recipient;
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild(key.variable);
  if (existing instanceof TerraformVariable) return existing.stringValue;
  return new TerraformVariable(stack, key.variable, {
    type: 'string',
    description: 'age public key (age1...) the backup dumps are encrypted to; its private key stays with the operators, never in this project',
    validation: [{ condition: `\${can(regex("^age1[02-9ac-hj-np-z]{58}$", var.${key.variable}))}`, errorMessage: 'must be an age public key: "age1" and 58 bech32 characters' }],
  }).stringValue;
}
