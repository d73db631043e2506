import { DnsRecord } from '@cdktf/provider-cloudflare/lib/dns-record';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { assertHostname } from './hostname';
import type { CloudflareZone } from './zone';

/** Cloudflare's value for "automatic" TTL; the only one a proxied record keeps. */
export const AUTOMATIC_TTL = 1;
/** TTL of records clients resolve directly: short, so moving a service to another host takes minutes. */
export const DEFAULT_UNPROXIED_TTL_SECONDS = 300;

export interface AddressRecordsProps {
  /** The zone holding the name. */
  readonly zone: CloudflareZone;
  /** Fully qualified name (`app-chat.example.com`), or the zone apex. */
  readonly name: string;
  /** IPv4 the `A` record points to. */
  readonly ipv4: string;
  /** IPv6 the `AAAA` record points to. @default - no AAAA record */
  readonly ipv6?: string;
  /**
   * Through Cloudflare's proxy (CDN, WAF, edge TLS)? Must be false for
   * clients that need the origin's own TLS or non-HTTP traffic.
   */
  readonly proxied: boolean;
  /**
   * Record TTL in seconds (60 to 86400), for unproxied records.
   * @default - 1 (automatic) when proxied; 300 otherwise
   */
  readonly ttlSeconds?: number;
  /** The stack that manages the records, written into their Cloudflare comment. */
  readonly managedBy: string;  /**
   * What must exist first: the containers answering the name, so the record
   * moves only once they are healthy.
   * @default - nothing
   */
  readonly dependsOn?: readonly ITerraformDependable[];
}

/**
 * The `A` and `AAAA` records of one name, pointing at a host's primary IPs.
 * Construct ids become the Terraform addresses `<id>-a` and `<id>-aaaa`.
 */
export class AddressRecords extends Construct {
  public readonly a: DnsRecord;
  public readonly aaaa?: DnsRecord;
  public readonly name: string;
  public readonly ttlSeconds: number;

  public constructor(scope: Construct, id: string, props: AddressRecordsProps) {
    super(scope, id);
    assertHostname(`AddressRecords ${id}`, { zone: props.zone.name, name: props.name, proxied: props.proxied });
    this.ttlSeconds = recordTtl(`AddressRecords ${id}`, props.proxied, props.ttlSeconds);
    this.name = props.name;
    const common = {
      zoneId: props.zone.zoneId,
      name: props.name,
      proxied: props.proxied,
      ttl: this.ttlSeconds,
      comment: managedComment(props.managedBy),
      dependsOn: props.dependsOn ? [...props.dependsOn] : undefined,
    };
    this.a = new DnsRecord(this, 'a', { ...common, type: 'A', content: props.ipv4 });
    this.a.overrideLogicalId(`${id}-a`);
    if (props.ipv6 !== undefined) {
      this.aaaa = new DnsRecord(this, 'aaaa', { ...common, type: 'AAAA', content: props.ipv6 });
      this.aaaa.overrideLogicalId(`${id}-aaaa`);
    }
  }
}

/** The comment Cloudflare shows next to a record, so nobody edits it by hand in the dashboard. */
export function managedComment(stack: string): string {
  return `managed by cdktf stack ${stack}; change it there, not here`;
}

/** The TTL a record gets; proxied records only ever have the automatic one. */
export function recordTtl(owner: string, proxied: boolean, ttlSeconds: number | undefined): number {
  if (proxied) {
    if (ttlSeconds !== undefined && ttlSeconds !== AUTOMATIC_TTL) {
      throw new Error(`${owner}: a proxied record's TTL is automatic (${AUTOMATIC_TTL}); Cloudflare answers with its own edge addresses, so ttlSeconds ${ttlSeconds} would never apply. Leave ttlSeconds unset`);
    }
    return AUTOMATIC_TTL;
  }
  const ttl = ttlSeconds ?? DEFAULT_UNPROXIED_TTL_SECONDS;
  if (ttl !== AUTOMATIC_TTL && (!Number.isInteger(ttl) || ttl < 60 || ttl > 86400)) {
    throw new Error(`${owner}: ttlSeconds must be a whole number from 60 to 86400 (or 1 for automatic); got ${ttl}`);
  }
  return ttl;
}
