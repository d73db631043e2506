import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { R2Bucket, type R2Location } from './r2-bucket';
import { ScopedApiToken } from './scoped-api-token';
import type { CloudflareZone } from './zone';

/**
 * Permission groups of an R2 token that reads and writes objects of the
 * buckets it is scoped to, and nothing else: the dashboard's "Object Read &
 * Write" (Cloudflare docs, R2 "Authentication", Permissions table), named as
 * the provider's `cloudflare_api_token_permission_groups_list` returns them.
 */
export const R2_OBJECT_PERMISSIONS = ['Workers R2 Storage Bucket Item Read', 'Workers R2 Storage Bucket Item Write'] as const;

/** Cloudflare's resource key prefix for one R2 bucket: `<prefix>.<account id>_<jurisdiction>_<bucket>`. */
const BUCKET_SCOPE = 'com.cloudflare.edge.r2.bucket';

export interface ServiceBucketProps {
  /** Cloudflare account owning the bucket. */
  readonly accountId: string;
  /** Bucket name, unique in the account. */
  readonly name: string;
  /** Location hint. @default 'weur' */
  readonly location?: R2Location;
  /** `prevent_destroy` on the bucket. @default true */
  readonly protection?: boolean;
  /** Serve its objects publicly on a custom domain of `zone`. @default - private: only the token reaches it */
  readonly publicDomain?: { readonly zone: CloudflareZone; readonly domain: string };
}

/**
 * Object storage of one service (uploads, media): a private R2 bucket, a
 * Cloudflare API token that reads and writes that bucket's objects only, and
 * the S3-compatible credentials derived from it. R2 takes an API token as S3
 * credentials: the access key id is the token's id, the secret access key
 * the SHA-256 hex digest of its value (Cloudflare docs, R2 "Authentication",
 * "Get S3 API credentials from an API token"). Provider 5.x
 * `cloudflare_api_token`: `id` and the sensitive `value` are computed.
 * Addresses: `cloudflare_r2_bucket.<id>`, `cloudflare_api_token.<id>-token`,
 * `cloudflare_r2_custom_domain.<id>-domain` when public.
 */
export class ServiceBucket extends Construct {
  public readonly bucket: R2Bucket;
  public readonly token: ScopedApiToken;
  /** `https://<domain>` when public. */
  public readonly publicUrl?: string;

  public constructor(scope: Construct, id: string, props: ServiceBucketProps) {
    super(scope, id);
    this.bucket = new R2Bucket(this, id, { accountId: props.accountId, name: props.name, location: props.location, protection: props.protection });
    if (props.publicDomain !== undefined) {
      this.bucket.publishOn(props.publicDomain.zone, props.publicDomain.domain);
      this.publicUrl = `https://${props.publicDomain.domain}`;
    }
    this.token = new ScopedApiToken(this, `${id}-token`, {
      name: `r2-${props.name}`,
      permissions: R2_OBJECT_PERMISSIONS,
      scope: BUCKET_SCOPE,
      // The bucket's name as a reference: the token is created once the bucket exists.
      resource: `${props.accountId}_${this.bucket.jurisdiction}_${this.bucket.bucketName}`,
    });
  }

  /** The S3 access key id: the token's id. */
  public get accessKeyId(): string {
    return this.token.tokenId;
  }

  /** The S3 secret access key: SHA-256 (hex) of the token's value; sensitive, since the value is. */
  public get secretAccessKey(): string {
    return Fn.sha256(this.token.value);
  }
}
