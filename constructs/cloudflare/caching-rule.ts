/**
 * What Cloudflare should do with requests for a host and path, independent of
 * how it is expressed (legacy page rules or cache/configuration rules).
 */
import { Duration } from '../core/duration';

/** One thing Cloudflare's edge does with matching requests. */
export type CacheSetting =
  | { readonly type: 'cache-everything'; readonly edgeTtl: Duration; readonly browserTtl: Duration }
  | { readonly type: 'bypass' }
  | { readonly type: 'polish'; readonly level: 'lossless' | 'lossy' };

/** Factories for the settings the source documents use. */
export const CacheSettings = {
  /** Cache every response, HTML included, for `edgeTtl` at the edge and `browserTtl` in browsers. */
  cacheEverything(ttls: { readonly edgeTtl: Duration; readonly browserTtl: Duration }): CacheSetting {
    for (const [name, ttl] of Object.entries(ttls)) {
      if (ttl.toSeconds() < 1 || !Number.isInteger(ttl.toSeconds())) {
        throw new Error(`CacheSettings.cacheEverything: ${name} must be a whole number of seconds, at least 1; got ${ttl.toSeconds()}`);
      }
    }
    return { type: 'cache-everything', edgeTtl: ttls.edgeTtl, browserTtl: ttls.browserTtl };
  },
  /** Never cache: every request reaches the origin (APIs). */
  bypass(): CacheSetting {
    return { type: 'bypass' };
  },
  /** Cloudflare's image optimisation; `lossless` keeps every pixel. Not available on the free plan. */
  polish(level: 'lossless' | 'lossy' = 'lossless'): CacheSetting {
    return { type: 'polish', level };
  },
} as const;

/** A caching setting for one host and path. */
export interface CachingRule {
  /** Fully qualified host (`chat.example.com`). */
  readonly host: string;
  /** Path pattern in page-rule syntax: `/*` for every path, or a prefix such as `/images/*`. */
  readonly path: string;
  /** What to do with matching requests. */
  readonly setting: CacheSetting;
  /** Who asked for it, for messages and rule descriptions (`chat landing`). */
  readonly owner: string;
}

/** The path prefix of a `/prefix/*` pattern (`/images/`), or `/` for `/*`. */
export function pathPrefix(rule: Pick<CachingRule, 'path' | 'owner'>): string {
  if (!/^\/([A-Za-z0-9._~-]+\/)*\*$/.test(rule.path)) {
    throw new Error(`Caching rule of ${rule.owner}: path must be "/*" or a prefix ending in "/*" such as "/images/*"; got "${rule.path}"`);
  }
  return rule.path.slice(0, -1);
}

/** A short human description of a setting (`cache everything, edge 30 days, browser 7 days`). */
export function describeSetting(setting: CacheSetting): string {
  switch (setting.type) {
    case 'cache-everything':
      return `cache everything, edge ${humanDuration(setting.edgeTtl)}, browser ${humanDuration(setting.browserTtl)}`;
    case 'bypass':
      return 'bypass cache';
    case 'polish':
      return `polish ${setting.level}`;
  }
}

/** A stable key: two settings with the same key do the same thing. */
export function settingKey(setting: CacheSetting): string {
  switch (setting.type) {
    case 'cache-everything':
      return `cache-everything-${setting.edgeTtl.toSeconds()}-${setting.browserTtl.toSeconds()}`;
    case 'bypass':
      return 'bypass';
    case 'polish':
      return `polish-${setting.level}`;
  }
}

function humanDuration(duration: Duration): string {
  const seconds = duration.toSeconds();
  if (seconds % 86_400 === 0) return `${seconds / 86_400} days`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600} hours`;
  if (seconds % 60 === 0) return `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}
