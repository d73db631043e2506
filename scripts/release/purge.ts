/**
 * What a release purges from Cloudflare's edge: every public name of the
 * released services that Cloudflare caches (proxied, caching other than
 * `none`), by hostname where the zone's plan offers it, otherwise the whole
 * zone where the plan offers that; when neither fits, the release says so.
 * A purge never reaches browsers: their copy lasts the browser TTL
 * (system/caching.ts keeps it short for HTML).
 */
import { PURGE_METHODS, PURGE_OPERATIONS_PER_REQUEST, type CloudflarePlan, type PurgeMethod } from '../../constructs/cloudflare/plans';
import type { ResolvedEnvironment } from '../../system/resolve';
import type { ReleaseTarget } from './release';

/** The purge of one release: request bodies for `POST /zones/{zone_id}/purge_cache`, or why there is none. */
export interface ReleasePurge {
  /** Cached public names of the released services. */
  readonly hostnames: readonly string[];
  readonly method?: Extract<PurgeMethod, 'hostname' | 'everything'>;
  /** One JSON body per request (hosts in chunks of PURGE_OPERATIONS_PER_REQUEST). */
  readonly requests: readonly Readonly<Record<string, unknown>>[];
  /** A line for the release output. */
  readonly summary: string;
}

/** The cached hostnames of the target's services in the environment, and how the zone's plan lets them be purged. */
export function releasePurge(environment: ResolvedEnvironment, target: ReleaseTarget, offered: readonly PurgeMethod[] = PURGE_METHODS[environment.cloudflare.plan]): ReleasePurge {
  const product = environment.products.find((candidate) => candidate.name === target.product);
  const hostnames = (product?.services ?? [])
    .filter((service) => target.service === undefined || service.name === target.service)
    // A release changes images: an OTA bucket's name (no container) is published apart from releases.
    .filter((service) => service.runsContainer && service.domain !== undefined && service.proxied && !service.caching.some((rule) => rule.path === '/*' && rule.setting.type === 'bypass'))
    .map((service) => service.domain!)
    .sort();
  const plan: CloudflarePlan = environment.cloudflare.plan;
  if (hostnames.length === 0) return { hostnames, requests: [], summary: `purge: nothing (no released service of ${target.product} is cached by Cloudflare)` };
  if (offered.includes('hostname')) {
    const requests = [];
    for (let index = 0; index < hostnames.length; index += PURGE_OPERATIONS_PER_REQUEST) requests.push({ hosts: hostnames.slice(index, index + PURGE_OPERATIONS_PER_REQUEST) });
    return { hostnames, method: 'hostname', requests, summary: `purge: by hostname on the ${plan} plan: ${hostnames.join(', ')}` };
  }
  if (offered.includes('everything')) {
    return { hostnames, method: 'everything', requests: [{ purge_everything: true }], summary: `purge: the whole zone (the ${plan} plan offers no purge by hostname), for ${hostnames.join(', ')}` };
  }
  return {
    hostnames,
    requests: [],
    summary: `purge: NOT DONE: the ${plan} plan offers neither purge by hostname nor purge everything; ${hostnames.join(', ')} serve their cached copies until the edge TTL ends`,
  };
}
