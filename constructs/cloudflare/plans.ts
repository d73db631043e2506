/**
 * What a Cloudflare zone may hold, by plan. The figures are Cloudflare's
 * published per-zone limits; they decide whether caching fits as page rules
 * or needs cache rules, and whether Polish exists at all.
 */

/** Cloudflare plan tiers (the same union as the environment file's `cloudflare.plan`). */
export type CloudflarePlan = 'free' | 'pro' | 'business' | 'enterprise';

export const CLOUDFLARE_PLANS: readonly CloudflarePlan[] = ['free', 'pro', 'business', 'enterprise'];

/** How a zone's caching rules are expressed. */
export type CachingMode = 'page-rules' | 'cache-rules';

/** Page rules a zone may have (legacy page rules, counted zone-wide, active or not). */
export const PAGE_RULE_QUOTA: Readonly<Record<CloudflarePlan, number>> = { free: 3, pro: 20, business: 50, enterprise: 125 };

/** Rules in the zone's `http_request_cache_settings` entrypoint ruleset (cache rules). */
export const CACHE_RULE_QUOTA: Readonly<Record<CloudflarePlan, number>> = { free: 10, pro: 25, business: 50, enterprise: 300 };

/** Rules in the zone's `http_config_settings` entrypoint ruleset (configuration rules, where Polish is set). */
export const CONFIG_RULE_QUOTA: Readonly<Record<CloudflarePlan, number>> = { free: 10, pro: 25, business: 50, enterprise: 125 };

/** Longest rule expression Cloudflare accepts, in characters. */
export const MAX_RULE_EXPRESSION_LENGTH = 4096;

/** Polish (image optimisation) is not part of the free plan; requesting it there is rejected by the API. */
export function planHasPolish(plan: CloudflarePlan): boolean {
  return plan !== 'free';
}

/** The smallest plan whose page-rule quota holds `count` rules, if any does. */
export function smallestPlanForPageRules(count: number): CloudflarePlan | undefined {
  return CLOUDFLARE_PLANS.find((plan) => PAGE_RULE_QUOTA[plan] >= count);
}

/** Ways to purge a zone's edge cache (`POST /zones/{zone_id}/purge_cache`). */
export type PurgeMethod = 'url' | 'hostname' | 'tag' | 'prefix' | 'everything';

/**
 * Purge methods each plan offers. Cloudflare's purge-cache page ("Availability
 * and limits", developers.cloudflare.com/cache/how-to/purge-cache/) lists URL,
 * hostname, tag, prefix and purge everything for Free, Pro, Business and
 * Enterprise alike since 2025 (hostname, tag and prefix used to be
 * Enterprise-only); at most 100 hosts per request on every plan.
 */
export const PURGE_METHODS: Readonly<Record<CloudflarePlan, readonly PurgeMethod[]>> = {
  free: ['url', 'hostname', 'tag', 'prefix', 'everything'],
  pro: ['url', 'hostname', 'tag', 'prefix', 'everything'],
  business: ['url', 'hostname', 'tag', 'prefix', 'everything'],
  enterprise: ['url', 'hostname', 'tag', 'prefix', 'everything'],
};

/** Hostnames (or other operations) one purge request may carry. */
export const PURGE_OPERATIONS_PER_REQUEST = 100;
