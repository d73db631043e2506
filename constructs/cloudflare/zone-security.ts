import { AuthenticatedOriginPullsSettings } from '@cdktf/provider-cloudflare/lib/authenticated-origin-pulls-settings';
import { ZoneSetting } from '@cdktf/provider-cloudflare/lib/zone-setting';
import { Construct } from 'constructs';
import type { CloudflareZone } from './zone';

/**
 * Zone settings the edge depends on, as `cloudflare_zone_setting` ids and
 * values (Cloudflare provider v5; API `/zones/{zone_id}/settings/{setting_id}`):
 * - `ssl` `strict`: Cloudflare verifies the origin's certificate (the edge's
 *   Let's Encrypt wildcard), so nobody in between can pose as the origin;
 * - `always_use_https` `on`: plain HTTP visitors get a 301 at Cloudflare;
 * - `min_tls_version` `1.2`: TLS 1.0 and 1.1 clients are refused.
 */
export const EDGE_ZONE_SETTINGS: Readonly<Record<string, string>> = {
  ssl: 'strict',
  always_use_https: 'on',
  min_tls_version: '1.2',
};

export interface ZoneSecurityProps {
  readonly zone: CloudflareZone;
}

/**
 * The zone's TLS settings and zone-level Authenticated Origin Pulls:
 * Cloudflare presents its origin-pull client certificate to the origin on
 * every proxied request, which the edge proxy requires on proxied routes
 * (`cloudflare_authenticated_origin_pulls_settings`, "enabled"). A zone has
 * each setting once: one stack of the system owns them (the one owning the
 * zone-wide records). Addresses: `cloudflare_zone_setting.<id>-<setting>`
 * and `cloudflare_authenticated_origin_pulls_settings.<id>-origin-pulls`.
 */
export class ZoneSecurity extends Construct {
  public readonly settings: ReadonlyMap<string, ZoneSetting>;
  public readonly originPulls: AuthenticatedOriginPullsSettings;

  public constructor(scope: Construct, id: string, props: ZoneSecurityProps) {
    super(scope, id);
    const settings = new Map<string, ZoneSetting>();
    for (const [settingId, value] of Object.entries(EDGE_ZONE_SETTINGS)) {
      // The binding types `value` as a map; the v5 schema takes any value (a string here), passed through unchanged.
      const setting = new ZoneSetting(this, settingId, { zoneId: props.zone.zoneId, settingId, value: value as unknown as Record<string, string> });
      setting.overrideLogicalId(`${id}-${settingId.replace(/_/g, '-')}`);
      settings.set(settingId, setting);
    }
    this.settings = settings;
    this.originPulls = new AuthenticatedOriginPullsSettings(this, 'origin-pulls', { zoneId: props.zone.zoneId, enabled: true });
    this.originPulls.overrideLogicalId(`${id}-origin-pulls`);
  }
}
