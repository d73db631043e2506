import { R2BucketLifecycle, type R2BucketLifecycleRules } from '@cdktf/provider-cloudflare/lib/r2-bucket-lifecycle';
import { R2BucketLock } from '@cdktf/provider-cloudflare/lib/r2-bucket-lock';
import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import type { SecretValue } from '../core/secret-value';
import { R2Bucket, type R2Jurisdiction, type R2Location } from './r2-bucket';

/** How long the objects under one key prefix are kept. */
export interface BackupRetention {
  /** Key prefix, ending in "/" (`postgres/`). */
  readonly prefix: string;
  /** Objects older than this are deleted by R2. */
  readonly keepFor: Duration;
}

/** S3 credentials of an R2 API token scoped to the bucket (R2 > Manage API tokens). */
export interface R2Credentials {
  readonly accessKeyId: SecretValue;
  readonly secretAccessKey: SecretValue;
}

export interface BackupBucketProps {
  /** Cloudflare account owning the bucket. */
  readonly accountId: string;
  /** Bucket name, unique in the account. */
  readonly name: string;
  /** Retention per key prefix; each backup kind writes under its own prefix. */
  readonly retention: readonly BackupRetention[];
  /** Credentials the backup job writes with. */
  readonly credentials: R2Credentials;
  /** Location hint. @default 'weur' */
  readonly location?: R2Location;
  /** Jurisdiction. @default 'default' */
  readonly jurisdiction?: R2Jurisdiction;
  /** `prevent_destroy` on the bucket. @default true */
  readonly protection?: boolean;
  /** Multipart uploads left unfinished (a backup job killed mid-upload) are aborted after this. @default Duration.days(1) */
  readonly abortIncompleteUploadsAfter?: Duration;
}

/**
 * The R2 bucket backups are written to, with lifecycle rules that expire each
 * prefix after its retention: R2 deletes old dumps itself, so a failing
 * clean-up script cannot fill the bucket, and nothing outlives its retention.
 */
export class BackupBucket extends Construct {
  public readonly bucket: R2Bucket;
  public readonly lifecycle: R2BucketLifecycle;
  /** Objects under each prefix cannot be deleted or overwritten until they are as old as its retention. */
  public readonly lock: R2BucketLock;
  public readonly credentials: R2Credentials;

  public constructor(scope: Construct, id: string, props: BackupBucketProps) {
    super(scope, id);
    validateRetention(id, props.retention);
    const abortAfter = props.abortIncompleteUploadsAfter ?? Duration.days(1);
    this.credentials = props.credentials;
    this.bucket = new R2Bucket(this, id, {
      accountId: props.accountId,
      name: props.name,
      location: props.location,
      jurisdiction: props.jurisdiction,
      protection: props.protection,
    });
    const rules: R2BucketLifecycleRules[] = props.retention.map((rule) => ({
      id: `expire-${rule.prefix.replace(/\/$/, '').replace(/[^a-z0-9-]+/g, '-')}`,
      enabled: true,
      conditions: { prefix: rule.prefix },
      // R2 lifecycle ages are in seconds.
      deleteObjectsTransition: { condition: { type: 'Age', maxAge: rule.keepFor.toSeconds() } },
    }));
    rules.push({
      id: 'abort-incomplete-uploads',
      enabled: true,
      conditions: { prefix: '' },
      abortMultipartUploadsTransition: { condition: { type: 'Age', maxAge: abortAfter.toSeconds() } },
    });
    this.lifecycle = new R2BucketLifecycle(this, 'lifecycle', {
      accountId: props.accountId,
      bucketName: this.bucket.bucketName,
      jurisdiction: this.bucket.jurisdiction,
      rules,
    });
    this.lifecycle.overrideLogicalId(`${id}-lifecycle`);
    // cloudflare_r2_bucket_lock (provider 5.14.0, @cdktf/provider-cloudflare 13.9.1): an Age rule per prefix, as long as
    // its retention, so no token (the job's included) can delete a dump before the lifecycle rule expires it.
    // "Bucket locks prevent the deletion and overwriting of objects ... for a specified period"
    // (developers.cloudflare.com/r2/buckets/bucket-locks); removing a rule needs a token that may edit bucket settings.
    this.lock = new R2BucketLock(this, 'lock', {
      accountId: props.accountId,
      bucketName: this.bucket.bucketName,
      jurisdiction: this.bucket.jurisdiction,
      rules: props.retention.map((rule) => ({
        id: `lock-${rule.prefix.replace(/\/$/, '').replace(/[^a-z0-9-]+/g, '-')}`,
        enabled: true,
        prefix: rule.prefix,
        condition: { type: 'Age', maxAgeSeconds: rule.keepFor.toSeconds() },
      })),
    });
    this.lock.overrideLogicalId(`${id}-lock`);
  }
}

function validateRetention(id: string, retention: readonly BackupRetention[]): void {
  if (retention.length === 0) throw new Error(`BackupBucket ${id}: give at least one retention rule (prefix and keepFor), or backups are kept forever`);
  const prefixes = retention.map((rule) => rule.prefix);
  for (const rule of retention) {
    if (!/^[a-z0-9][a-z0-9/_-]*\/$/.test(rule.prefix)) {
      throw new Error(`BackupBucket ${id}: retention prefix "${rule.prefix}" must be a key prefix ending in "/" such as "postgres/"`);
    }
    const days = rule.keepFor.toDays();
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(`BackupBucket ${id}: retention of "${rule.prefix}" must be a whole number of days, at least 1 (R2 lifecycle rules count in days); got ${days}`);
    }
    const overlapping = prefixes.find((other) => other !== rule.prefix && rule.prefix.startsWith(other));
    if (overlapping !== undefined || prefixes.filter((other) => other === rule.prefix).length > 1) {
      throw new Error(`BackupBucket ${id}: retention prefix "${rule.prefix}" overlaps "${overlapping ?? rule.prefix}"; the shorter retention would win for the shared keys`);
    }
  }
}
