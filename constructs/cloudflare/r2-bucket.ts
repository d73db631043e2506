import { R2Bucket as R2BucketResource } from '@cdktf/provider-cloudflare/lib/r2-bucket';
import { R2CustomDomain } from '@cdktf/provider-cloudflare/lib/r2-custom-domain';
import { TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { assertHostname } from './hostname';
import type { CloudflareZone } from './zone';

/** R2 location hints: where Cloudflare places a bucket's primary copy. */
export type R2Location = 'weur' | 'eeur' | 'enam' | 'wnam' | 'apac' | 'oc';

export const R2_LOCATIONS: readonly R2Location[] = ['weur', 'eeur', 'enam', 'wnam', 'apac', 'oc'];

/** R2 jurisdictions: `eu` guarantees objects stay in the EU, at the price of a jurisdiction-specific endpoint. */
export type R2Jurisdiction = 'default' | 'eu';

const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export interface R2BucketProps {
  /** Cloudflare account owning the bucket (see `cloudflareAccountIdVariable`). */
  readonly accountId: string;
  /** Bucket name, unique in the account: 3 to 63 lowercase letters, digits and "-". */
  readonly name: string;
  /** Location hint. @default 'weur' (Western Europe, next to Hetzner's German sites) */
  readonly location?: R2Location;
  /** Jurisdiction. @default 'default' */
  readonly jurisdiction?: R2Jurisdiction;
  /** `prevent_destroy`: Terraform refuses to delete the bucket and everything in it. @default true */
  readonly protection?: boolean;
}

/**
 * An R2 bucket. Its Terraform address is the construct id
 * (`cloudflare_r2_bucket.<id>`), pinned because the bucket holds data.
 */
export class R2Bucket extends Construct {
  public readonly bucket: R2BucketResource;
  /** The bucket's name, as a reference (so dependants wait for the bucket). */
  public readonly bucketName: string;
  public readonly accountId: string;
  public readonly jurisdiction: R2Jurisdiction;

  public constructor(scope: Construct, id: string, props: R2BucketProps) {
    super(scope, id);
    if (!BUCKET_NAME.test(props.name)) {
      throw new Error(`R2Bucket ${id}: name must be 3 to 63 lowercase letters, digits and "-", starting and ending with a letter or digit; got "${props.name}"`);
    }
    const location = props.location ?? 'weur';
    if (!R2_LOCATIONS.includes(location)) throw new Error(`R2Bucket ${id}: location must be one of ${R2_LOCATIONS.join(', ')}; got "${location}"`);
    this.jurisdiction = props.jurisdiction ?? 'default';
    this.accountId = props.accountId;
    this.bucket = new R2BucketResource(this, 'bucket', {
      accountId: props.accountId,
      name: props.name,
      location,
      jurisdiction: this.jurisdiction,
      lifecycle: { preventDestroy: props.protection ?? true },
    });
    // Stateful: a stable, readable address, pinned before anything references the bucket.
    this.bucket.overrideLogicalId(id);
    this.bucketName = this.bucket.name;
  }

  /**
   * Serves the bucket's objects publicly (GET) on `domain`, one label below
   * `zone`. An R2 custom domain is always proxied: Cloudflare creates and owns
   * its DNS record and serves it through its cache. Address `cloudflare_r2_custom_domain.<bucket id>-domain`.
   */
  public publishOn(zone: CloudflareZone, domain: string): R2CustomDomain {
    assertHostname(`R2Bucket ${this.node.id}`, { zone: zone.name, name: domain, proxied: true });
    const customDomain = new R2CustomDomain(this, 'custom-domain', {
      accountId: this.accountId,
      bucketName: this.bucketName,
      zoneId: zone.zoneId,
      domain,
      enabled: true,
      minTls: '1.2',
    });
    customDomain.overrideLogicalId(`${this.node.id}-domain`);
    return customDomain;
  }

  /** The S3-compatible endpoint of the bucket's account (and jurisdiction). */
  public get s3Endpoint(): string {
    return r2S3Endpoint(this.accountId, this.jurisdiction);
  }
}

/** The S3-compatible endpoint of an account's R2 buckets in a jurisdiction, for a stack that writes to a bucket another stack owns. */
export function r2S3Endpoint(accountId: string, jurisdiction: R2Jurisdiction = 'default'): string {
  return `https://${accountId}${jurisdiction === 'default' ? '' : `.${jurisdiction}`}.r2.cloudflarestorage.com`;
}

/**
 * The Cloudflare account id as a (non-secret) variable of the stack: R2
 * resources are account-scoped, and the id differs between Cloudflare
 * accounts, so it is supplied per workspace (`TF_VAR_cloudflare_account_id`).
 * One per stack; calling again returns the same variable.
 */
export function cloudflareAccountIdVariable(scope: Construct): TerraformVariable {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild('cloudflare_account_id');
  if (existing instanceof TerraformVariable) return existing;
  return new TerraformVariable(stack, 'cloudflare_account_id', {
    type: 'string',
    description: 'Cloudflare account id (32 hex digits) owning the R2 buckets; shown on the account overview in the dashboard',
    validation: [
      {
        condition: '${can(regex("^[0-9a-f]{32}$", var.cloudflare_account_id))}',
        errorMessage: 'cloudflare_account_id must be 32 lowercase hex digits.',
      },
    ],
  });
}
