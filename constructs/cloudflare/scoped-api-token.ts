import { ApiToken } from '@cdktf/provider-cloudflare/lib/api-token';
import { DataCloudflareApiTokenPermissionGroupsList } from '@cdktf/provider-cloudflare/lib/data-cloudflare-api-token-permission-groups-list';
import { Construct } from 'constructs';

export interface ScopedApiTokenProps {
  /** Token name as Cloudflare lists it. */
  readonly name: string;
  /** Permission groups by name (`DNS Write`), all of the one scope `scope`. */
  readonly permissions: readonly string[];
  /** Cloudflare's resource key prefix the groups apply to (`com.cloudflare.api.account.zone`). */
  readonly scope: string;
  /** The one resource the token acts on: its key under `scope` (`<zone id>`, `<account>_default_<bucket>`). */
  readonly resource: string;
}

/**
 * A Cloudflare API token allowed `permissions` on one resource and nothing
 * else. Terraform creates it, so the provider's own token needs "API Tokens
 * Write"; the value lives only in state. Addresses:
 * `data.cloudflare_api_token_permission_groups_list.<id>-permission-groups`
 * and `cloudflare_api_token.<id>`.
 */
export class ScopedApiToken extends Construct {
  public readonly token: ApiToken;

  public constructor(scope: Construct, id: string, props: ScopedApiTokenProps) {
    super(scope, id);
    const groups = new DataCloudflareApiTokenPermissionGroupsList(this, 'permission-groups', { maxItems: 1000 });
    groups.overrideLogicalId(`${id}-permission-groups`);
    // Looked up by name at plan time: ids are Cloudflare's and not documented as stable.
    const groupIds = props.permissions.map(
      (name) => `\${[for group in data.cloudflare_api_token_permission_groups_list.${id}-permission-groups.result : group.id if group.name == "${name}" && contains(group.scopes, "${props.scope}")][0]}`,
    );
    this.token = new ApiToken(this, 'token', {
      name: props.name,
      policies: [
        {
          effect: 'allow',
          permissionGroups: groupIds.map((groupId) => ({ id: groupId })),
          // v5 takes the resources map as a JSON string: this one resource.
          resources: `{"${props.scope}.${props.resource}":"*"}`,
        },
      ],
    });
    this.token.overrideLogicalId(id);
  }

  /** The token's id (what R2 takes as the S3 access key id). */
  public get tokenId(): string {
    return this.token.id;
  }

  /** The token's secret value (sensitive in the provider's schema). */
  public get value(): string {
    return this.token.value;
  }
}
