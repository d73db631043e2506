import { R2BucketCors } from '@cdktf/provider-cloudflare/lib/r2-bucket-cors';
import type { R2CustomDomain } from '@cdktf/provider-cloudflare/lib/r2-custom-domain';
import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import { R2Bucket, type R2Location } from './r2-bucket';
import type { CloudflareZone } from './zone';

export interface OtaBucketProps {
  /** Cloudflare account owning the bucket. */
  readonly accountId: string;
  /** Bucket name, unique in the account. */
  readonly name: string;
  /** The zone serving the bucket. */
  readonly zone: CloudflareZone;
  /** Public name of the bucket (`ota-chat.example.com`), one label below the zone. */
  readonly domain: string;
  /** Location hint. @default 'weur' */
  readonly location?: R2Location;
  /** `prevent_destroy` on the bucket. @default true */
  readonly protection?: boolean;
  /** How long browsers may cache the CORS preflight answer. @default Duration.days(1) */
  readonly corsMaxAge?: Duration;
}

/**
 * Expo over-the-air update bundles: an R2 bucket published on a custom
 * domain, readable (GET) from any origin. An R2 custom domain is always
 * proxied: Cloudflare creates and owns its DNS record (no `dns_record` here)
 * and serves it through its cache, so bundles are cached at the edge by the
 * Cache-Control the uploader sets. Writes need an R2 API token; there is no
 * public write path.
 */
export class OtaBucket extends Construct {
  public readonly bucket: R2Bucket;
  public readonly customDomain: R2CustomDomain;
  public readonly cors: R2BucketCors;
  /** `https://<domain>`: where the app fetches its updates. */
  public readonly url: string;

  public constructor(scope: Construct, id: string, props: OtaBucketProps) {
    super(scope, id);
    const maxAge = (props.corsMaxAge ?? Duration.days(1)).toSeconds();
    if (maxAge > 86_400) throw new Error(`OtaBucket ${id}: corsMaxAge is at most one day (86400 seconds), R2's limit; got ${maxAge}`);
    this.bucket = new R2Bucket(this, id, {
      accountId: props.accountId,
      name: props.name,
      location: props.location,
      protection: props.protection,
    });
    this.customDomain = this.bucket.publishOn(props.zone, props.domain);
    this.cors = new R2BucketCors(this, 'cors', {
      accountId: props.accountId,
      bucketName: this.bucket.bucketName,
      rules: [{ id: 'public-read', allowed: { methods: ['GET'], origins: ['*'] }, maxAgeSeconds: maxAge }],
    });
    this.cors.overrideLogicalId(`${id}-cors`);
    this.url = `https://${props.domain}`;
  }
}
