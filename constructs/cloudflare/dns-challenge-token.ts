import type { ApiToken } from '@cdktf/provider-cloudflare/lib/api-token';
import { Construct } from 'constructs';
import { ScopedApiToken } from './scoped-api-token';
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
    this.token = new ScopedApiToken(this, id, { name: props.name, permissions: DNS_CHALLENGE_PERMISSIONS, scope: ZONE_SCOPE, resource: props.zone.zoneId }).token;
  }

  /** The token's secret value (sensitive in the provider's schema). */
  public get value(): string {
    return this.token.value;
  }
}
