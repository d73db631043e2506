import { Image } from '@cdktf/provider-docker/lib/image';
import { dependable, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { terraformLiteral } from '../core/terraform-literal';
import type { ResourceSpec } from '../core/resources';
import { backupRunScript, PRE_MIGRATION_VARIABLES } from './data-scripts';
import type { ContainerNetwork } from './hardened-container';
import { ReleaseTask } from './release-task';

/** The task name of a product's pre-migration backup: its `task` label and part of its container name. */
export const PRE_MIGRATION_BACKUP_TASK = 'pre-migration-backup';

/** Where the dump goes: the environment's backup bucket, written with a token that may write objects there and nothing else. */
export interface BackupTarget {
  /** S3 endpoint of the bucket's account (`https://<account>.r2.cloudflarestorage.com`). */
  readonly s3Endpoint: string;
  /** Bucket name (`production-backups`). */
  readonly bucketName: string;
  /** Key prefix of PostgreSQL dumps (`postgres/`); its lifecycle rule keeps the pre-migration dumps as long as the nightly ones. */
  readonly prefix: string;
  /** S3 access key id (a token of a sensitive variable). */
  readonly accessKeyId: string;
  /** S3 secret access key (a token of a sensitive variable). */
  readonly secretAccessKey: string;
  /** The age public key (or a token of the variable holding one) the dump is encrypted to. */
  readonly encryptionRecipient: string;
}

export interface PreMigrationBackupProps {
  /** Product whose database is dumped: part of the object key and the container name. */
  readonly product: string;
  /** The product's connection string (a token): the dump runs as the product's own role, never the superuser. */
  readonly databaseUrl: string;
  /** The tag being released (its first task's service's): part of the object key and container name. */
  readonly releaseTag: string;
  /** The dump job's image (`ghcr.io/<owner>/db-backup:<tag>`: pg_dump, age, the aws CLI, busybox `timeout`). */
  readonly image: string;
  readonly target: BackupTarget;
  /** The revisions of the release tasks it precedes: whenever one of them runs again, the backup runs first. */
  readonly precedes: readonly ReleaseTask[];
  /** The data network (PostgreSQL) and one with internet access (R2): the data network has none. */
  readonly networks: readonly ContainerNetwork[];
  readonly resources: ResourceSpec;
  /** Seconds before the dump is stopped and the release fails. @default 900 */
  readonly timeoutSeconds?: number;
  /** Labels of the container; `task` and `image.tag` are added. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Provider of the host's daemon. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
}

/**
 * A dump of one product's database taken right before its release tasks
 * (schema migrations) run: the nightly dump job's own script
 * (data-scripts.ts, `backup-run pre-migration`) as a release task of its
 * own, `docker_container.<product>-pre-migration-backup`, with the job's
 * image. Every task it precedes depends on it, so a failed dump fails the
 * apply with its name, exit code and output (ReleaseTask's postcondition),
 * and no migration runs and no container is replaced. It runs again exactly
 * when one of those tasks does (a new tag, a changed task), never on a
 * re-apply. The object: `<prefix>pre-migration/<product>/<tag>-<UTC time>.dump.age`.
 */
export class PreMigrationBackup extends Construct {
  public readonly task: ReleaseTask;

  public constructor(scope: Construct, id: string, props: PreMigrationBackupProps) {
    super(scope, id);
    if (props.precedes.length === 0) throw new Error(`PreMigrationBackup ${props.product}: precedes no release task; nothing to back up for`);
    const image = new Image(this, 'image', { name: props.image, keepLocally: true, provider: props.provider });
    image.overrideLogicalId(`${props.product}-${PRE_MIGRATION_BACKUP_TASK}`);
    const target = props.target;
    this.task = new ReleaseTask(this, `${props.product}-${PRE_MIGRATION_BACKUP_TASK}`, {
      taskName: PRE_MIGRATION_BACKUP_TASK,
      serviceName: props.product,
      image,
      imageRef: props.image,
      imageTag: props.releaseTag,
      // `sh -c <script> <$0> <$1>`: the project's script, as the nightly job runs it; the image only brings the tools.
      command: ['sh', '-c', terraformLiteral(backupRunScript()), 'backup-run', 'pre-migration'],
      timeoutSeconds: props.timeoutSeconds ?? 900,
      environment: {
        TZ: 'UTC',
        // The aws CLI writes its cache under $HOME; /tmp is the writable tmpfs.
        HOME: '/tmp',
        S3_ENDPOINT: target.s3Endpoint,
        S3_BUCKET: target.bucketName,
        // R2 ignores the region but S3 clients insist on one; "auto" is R2's.
        AWS_DEFAULT_REGION: 'auto',
        BACKUP_AGE_RECIPIENT: target.encryptionRecipient,
        BACKUP_POSTGRES_PREFIX: target.prefix,
        [PRE_MIGRATION_VARIABLES.product]: props.product,
        [PRE_MIGRATION_VARIABLES.tag]: props.releaseTag,
      },
      secretEnvironment: {
        AWS_ACCESS_KEY_ID: target.accessKeyId,
        AWS_SECRET_ACCESS_KEY: target.secretAccessKey,
        [PRE_MIGRATION_VARIABLES.databaseUrl]: props.databaseUrl,
      },
      networks: props.networks,
      resources: props.resources,
      labels: { ...props.labels, product: props.product },
      provider: props.provider,
      runsAgainWith: props.precedes.map((task) => task.revision.hex),
    });
    for (const task of props.precedes) {
      const container = task.hardened.container;
      container.dependsOn = [...(container.dependsOn ?? []), dependable(this.task.hardened.container)];
    }
  }
}
