/**
 * How Cloudflare caches one service's public name, as a per-service setting
 * whose default is the kind's (kinds.ts), and the rules it becomes.
 */
import { CacheSettings, pathPrefix, type CacheSetting } from '../constructs/cloudflare/caching-rule';
import { Duration } from '../constructs/core/duration';

/**
 * - `none`: nothing is cached, every request reaches the origin (a bypass rule on `/*`);
 * - `static-assets`: Cloudflare's default, no rule: only files with a static
 *   extension (`.js`, `.css`, images, fonts) are cached, as their headers allow;
 * - `everything`: every response, HTML included, for the given TTLs, except
 *   the `neverCache` paths.
 */
export type ServiceCacheMode = 'none' | 'static-assets' | 'everything';

export const CACHE_MODES: readonly ServiceCacheMode[] = ['none', 'static-assets', 'everything'];

/** The caching of one service's domain. */
export interface ServiceCaching {
  /** What is cached. */
  readonly mode: ServiceCacheMode;
  /** `everything` only: how long the edge keeps a response. @default Duration.days(30) (the source documents' landing figure) */
  readonly edgeTtl?: Duration;
  /**
   * `everything` only: how long browsers keep a response, HTML included.
   * Short by default, so a release reaches browsers within minutes: as a page
   * rule it is a floor, and a longer `max-age` from the origin (hashed assets
   * served `immutable`) is kept; a cache rule overrides the origin's for every
   * response, assets included.
   * @default Duration.minutes(5)
   */
  readonly browserTtl?: Duration;
  /**
   * `everything` only: path patterns (`/api/*`) that are never cached,
   * because what they answer is per user or changes on every call: a static
   * site proxying its API or its sign-in to a backend. Replaces the default.
   * @default NEVER_CACHED_PATHS (`/api/*`, `/auth/*`)
   */
  readonly neverCache?: readonly string[];
  /** Path patterns whose images Cloudflare's Polish compresses losslessly (Pro plan and up). @default - none */
  readonly polish?: readonly string[];
}

/** Paths a cache-everything rule leaves alone unless the service says otherwise: API and sign-in answers are per user. */
export const NEVER_CACHED_PATHS: readonly string[] = ['/api/*', '/auth/*'];

/**
 * Edge 1 month (the source documents' landing figure; a release purges the
 * edge, scripts/release/purge.ts). Browsers 5 minutes, not the documents' week:
 * a browser keeps HTML it was told to keep, and no purge reaches it, so a week
 * meant pages up to a week stale after every release. Cloudflare's browser
 * cache TTL "will honor any larger times specified by your server" (API
 * reference, zone setting browser_cache_ttl, the same for the page-rule
 * action), so hashed assets keep their origin's long max-age under page rules.
 * 5 minutes is one of the values a page rule's browser TTL accepts.
 */
export const CACHE_EVERYTHING_TTLS = { edgeTtl: Duration.days(30), browserTtl: Duration.minutes(5) } as const;

/** A caching rule of one path of a service's domain. */
export interface KindCachingRule {
  /** Path pattern under the service's domain (`/*`). */
  readonly path: string;
  readonly setting: CacheSetting;
}

/** The rules a caching setting becomes, broader paths first (page rules and cache rules let specific paths win). */
export function cachingRules(caching: ServiceCaching): KindCachingRule[] {
  const base: KindCachingRule[] =
    caching.mode === 'none'
      ? [{ path: '/*', setting: CacheSettings.bypass() }]
      : caching.mode === 'everything'
        ? [
            {
              path: '/*',
              setting: CacheSettings.cacheEverything({
                edgeTtl: caching.edgeTtl ?? CACHE_EVERYTHING_TTLS.edgeTtl,
                browserTtl: caching.browserTtl ?? CACHE_EVERYTHING_TTLS.browserTtl,
              }),
            },
            ...(caching.neverCache ?? NEVER_CACHED_PATHS).map((path) => ({ path, setting: CacheSettings.bypass() })),
          ]
        : [];
  return [...base, ...(caching.polish ?? []).map((path) => ({ path, setting: CacheSettings.polish('lossless') }))];
}

/** Problems of a caching setting, as `[field under caching, value, allowed]`; empty when it is valid. */
export function cachingProblems(caching: ServiceCaching): Array<[string, unknown, string | readonly string[]]> {
  const problems: Array<[string, unknown, string | readonly string[]]> = [];
  if (!CACHE_MODES.includes(caching.mode)) problems.push(['mode', caching.mode, CACHE_MODES]);
  const path = 'a path pattern "/*" or a prefix ending in "/*" such as "/api/*"';
  for (const field of ['neverCache', 'polish'] as const) {
    for (const pattern of caching[field] ?? []) {
      if (!isPathPattern(pattern)) problems.push([field, pattern, path]);
    }
  }
  if (caching.mode !== 'everything') {
    for (const field of ['edgeTtl', 'browserTtl', 'neverCache'] as const) {
      if (caching[field] !== undefined) problems.push([field, describe(caching[field]), `nothing (only mode "everything" caches beyond Cloudflare's default)`]);
    }
  }
  for (const field of ['edgeTtl', 'browserTtl'] as const) {
    const ttl = caching[field];
    if (ttl !== undefined && (!(ttl instanceof Duration) || ttl.toSeconds() < 1 || !Number.isInteger(ttl.toSeconds()))) {
      problems.push([field, describe(ttl), 'a Duration of whole seconds, at least 1 (Duration.days(1))']);
    }
  }
  return problems;
}

const describe = (value: unknown) => (value instanceof Duration ? `${value.toSeconds()} seconds` : value);

function isPathPattern(pattern: unknown): boolean {
  if (typeof pattern !== 'string') return false;
  try {
    pathPrefix({ path: pattern, owner: '' });
    return true;
  } catch {
    return false;
  }
}
