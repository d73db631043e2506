import { ApiToken } from '@cdktf/provider-cloudflare/lib/api-token';
import { DataCloudflareApiTokenPermissionGroupsList } from '@cdktf/provider-cloudflare/lib/data-cloudflare-api-token-permission-groups-list';
import { Construct } from 'constructs';
import type { CloudflareZone } from './zone';

/**
 * Permission groups the ACME client needs on the zone: edit the
 * `_acme-challenge` TXT records, and read the zone to find it (go-acme/lego's
 * Cloudflare provider uses the one token for both when no separate zone
 * token is set; Cloudflare docs, "API token permissions": zone scope).
 */
export const DNS_CHALLENGE_PERMISSIONS = ['DNS Write', 'Zone Read'] as const;

/** Cloudflare's resource key for one zone in a token policy (`com.cloudflare.api.account.zone.<zone id>`). */
const ZONE_SCOPE = 'com.cloudflare.api.account.zone';

export interface DnsChallengeTokenProps {
  readonly zone: CloudflareZone;
  /** Token name as Cloudflare lists it (`manacore-staging-acme-dns`). */
  readonly name: string;
}

/**
 * A Cloudflare API token that can change DNS records of one zone and
 * nothing else, for the edge proxies' DNS-01 challenges. Created by
 * Terraform (the provider's token needs "API Tokens Write"); its value
 * lives only in state and leaves as a sensitive output.
 */
export class DnsChallengeToken extends Construct {
  public readonly token: ApiToken;

  public constructor(scope: Construct, id: string, props: DnsChallengeTokenProps) {
    super(scope, id);
    const groups = new DataCloudflareApiTokenPermissionGroupsList(this, 'permission-groups', { maxItems: 1000 });
    groups.overrideLogicalId(`${id}-permission-groups`);
    // Looked up by name at plan time: ids are Cloudflare's and not documented as stable.
    const groupIds = DNS_CHALLENGE_PERMISSIONS.map(
      (name) => `\${[for group in data.cloudflare_api_token_permission_groups_list.${id}-permission-groups.result : group.id if group.name == "${name}" && contains(group.scopes, "${ZONE_SCOPE}")][0]}`,
    );
    this.token = new ApiToken(this, 'token', {
      name: props.name,
      policies: [
        {
          effect: 'allow',
          permissionGroups: groupIds.map((groupId) => ({ id: groupId })),
          // v5 takes the resources map as a JSON string: this zone, every resource in it.
          resources: `{"${ZONE_SCOPE}.${props.zone.zoneId}":"*"}`,
        },
      ],
    });
    this.token.overrideLogicalId(id);
  }

  /** The token's secret value (sensitive in the provider's schema). */
  public get value(): string {
    return this.token.value;
  }
}
