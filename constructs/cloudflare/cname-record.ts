import { DnsRecord } from '@cdktf/provider-cloudflare/lib/dns-record';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { managedComment, recordTtl } from './address-records';
import { assertHostname } from './hostname';
import type { CloudflareZone } from './zone';

export interface CnameRecordProps {
  /** The zone holding the name. */
  readonly zone: CloudflareZone;
  /** Fully qualified alias (`www.example.com`, `*.example.com`). */
  readonly name: string;
  /** The name it points to (`example.com`). */
  readonly target: string;
  /** Through Cloudflare's proxy? Proxied CNAMEs are flattened by Cloudflare. */
  readonly proxied: boolean;
  /** TTL in seconds for an unproxied alias. @default - 1 (automatic) when proxied; 300 otherwise */
  readonly ttlSeconds?: number;
  /** The stack that manages the record, written into its Cloudflare comment. */
  readonly managedBy: string;  /**
   * What must exist first: the containers answering the name, so the record
   * moves only once they are healthy.
   * @default - nothing
   */
  readonly dependsOn?: readonly ITerraformDependable[];
}

/** One `CNAME` record; its Terraform address is the construct id. */
export class CnameRecord extends Construct {
  public readonly record: DnsRecord;

  public constructor(scope: Construct, id: string, props: CnameRecordProps) {
    super(scope, id);
    assertHostname(`CnameRecord ${id}`, { zone: props.zone.name, name: props.name, proxied: props.proxied });
    if (props.name === props.zone.name) {
      throw new Error(`CnameRecord ${id}: the zone apex cannot be a CNAME (it holds the zone's SOA and NS records); use AddressRecords for ${props.name}`);
    }
    if (props.target === props.name) throw new Error(`CnameRecord ${id}: "${props.name}" cannot point to itself`);
    this.record = new DnsRecord(this, 'record', {
      zoneId: props.zone.zoneId,
      name: props.name,
      type: 'CNAME',
      content: props.target,
      proxied: props.proxied,
      ttl: recordTtl(`CnameRecord ${id}`, props.proxied, props.ttlSeconds),
      comment: managedComment(props.managedBy),
      dependsOn: props.dependsOn ? [...props.dependsOn] : undefined,
    });
    this.record.overrideLogicalId(id);
  }
}
