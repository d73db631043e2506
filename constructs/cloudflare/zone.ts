import { DataCloudflareZone } from '@cdktf/provider-cloudflare/lib/data-cloudflare-zone';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { assertHostname } from './hostname';

export interface CloudflareZoneProps {
  /** The zone's domain name (`example.com`). */
  readonly name: string;
  /**
   * The zone's id (32 hex digits, or a reference such as another stack's
   * output), when known; saves a lookup per plan and pins the zone even if
   * another account holds a zone of the same name.
   * @default - looked up by name with the `cloudflare_zone` data source
   */
  readonly zoneId?: string;
}

/**
 * A reference to an existing Cloudflare zone. Zones are never created by
 * these stacks: a zone is bought, delegated and shared by every environment,
 * so its lifetime is not any one stack's.
 */
export class CloudflareZone extends Construct {
  /** The zone's domain name. */
  public readonly name: string;
  /** The zone's id: the given one, or a reference to the looked-up zone's. */
  public readonly zoneId: string;

  public constructor(scope: Construct, id: string, props: CloudflareZoneProps) {
    super(scope, id);
    assertHostname(`CloudflareZone ${id}`, { zone: props.name, name: props.name, proxied: false });
    if (!props.name.includes('.')) {
      throw new Error(`CloudflareZone ${id}: name must be a registered domain such as "example.com"; got "${props.name}"`);
    }
    if (props.zoneId !== undefined && !Token.isUnresolved(props.zoneId) && !/^[0-9a-f]{32}$/.test(props.zoneId)) {
      throw new Error(
        `CloudflareZone ${id}: zoneId must be the 32 lowercase hex digits shown on the zone's overview page in the Cloudflare dashboard; got "${props.zoneId}"`,
      );
    }
    this.name = props.name;
    if (props.zoneId !== undefined) {
      this.zoneId = props.zoneId;
    } else {
      const lookup = new DataCloudflareZone(this, 'lookup', { filter: { name: props.name } });
      this.zoneId = lookup.id;
    }
  }
}
