/**
 * Caching rules: the same behaviour as page rules or as cache rules, the
 * page-rule quota counted over every stack on the shared zone, priorities
 * unique per zone, and cache-rule rulesets owned by one stack.
 */
import { Testing, TerraformStack } from 'cdktf';
import { compileCacheRules, CacheRules } from '../constructs/cloudflare/cache-rules';
import { CacheSettings, type CachingRule } from '../constructs/cloudflare/caching-rule';
import { compilePageRules } from '../constructs/cloudflare/page-rules';
import { CloudflareZone } from '../constructs/cloudflare/zone';
import { Duration } from '../constructs/core/duration';
import { manacore } from '../environments';
import type { CloudflareSettings, SystemSpec } from '../system/model';
import { resolveSystem } from '../system/resolve';
import { planCloudflare } from '../system/cloudflare-plan';
import { environmentOf, variant } from './helpers/spec';
import { resourceList, resources, SynthesizedSystem } from './helpers/synth';

const MONTH = 2_592_000;
const FIVE_MINUTES = 5 * 60;

/** Manacore with every environment on one Cloudflare setting. */
function withCloudflare(settings: CloudflareSettings, environments: readonly string[] = ['staging', 'production']): SystemSpec {
  return variant(manacore, (system) => {
    system.environments = system.environments.filter((environment) => environments.includes(environment.name));
    for (const environment of system.environments) environment.cloudflare = { ...settings };
  });
}

/** Page rules the catalog asks for in one environment: each routed service's kind rules (kinds.ts), one page rule each. */
function pageRulesNeeded(environment: string): number {
  const resolved = resolveSystem(manacore).environments.find((candidate) => candidate.name === environment)!;
  return resolved.products.flatMap((product) => product.services).reduce((count, service) => count + (service.domain === undefined ? 0 : service.caching.length), 0);
}
const PRODUCTION_RULES = pageRulesNeeded('production');
const ALL_RULES = PRODUCTION_RULES + pageRulesNeeded('staging');

let cacheRules: SynthesizedSystem;
let pageRules: SynthesizedSystem;
beforeAll(() => {
  cacheRules = new SynthesizedSystem(manacore);
  // Both environments' page rules (116 for 13 products) fit only the enterprise quota (125).
  pageRules = new SynthesizedSystem(withCloudflare({ plan: 'enterprise', caching: 'page-rules' }));
});

describe('cache-rule mode (the Manacore environments)', () => {
  const rulesets = () => resources(cacheRules.synth('production-network'), 'cloudflare_ruleset');

  it('puts the zone entrypoint rulesets in the primary environment network stack only', () => {
    expect(Object.keys(rulesets()).sort()).toEqual(['zone-caching-cache-settings', 'zone-caching-config-settings']);
    expect(rulesets()['zone-caching-cache-settings']).toMatchObject({ kind: 'zone', phase: 'http_request_cache_settings' });
    expect(rulesets()['zone-caching-config-settings']).toMatchObject({ kind: 'zone', phase: 'http_config_settings' });
    expect(resources(cacheRules.synth('staging-network'), 'cloudflare_ruleset')).toEqual({});
    for (const name of cacheRules.stackNames.filter((stack) => stack !== 'production-network' && !stack.startsWith('bootstrap'))) {
      expect(resources(cacheRules.synth(name), 'cloudflare_ruleset')).toEqual({});
      expect(resources(cacheRules.synth(name), 'cloudflare_page_rule')).toEqual({});
    }
  });

  it('caches every landing host of both environments for a month at the edge and 5 minutes in browsers (HTML reaches browsers soon after a release)', () => {
    const rule = rulesets()['zone-caching-cache-settings'].rules.find((r: any) => r.action_parameters.cache === true);
    expect(rule.action).toBe('set_cache_settings');
    expect(rule.action_parameters).toEqual({
      cache: true,
      edge_ttl: { mode: 'override_origin', default: MONTH },
      browser_ttl: { mode: 'override_origin', default: FIVE_MINUTES },
    });
    expect(rule.expression).toMatch(/^\(http\.host in \{.*\}\)$/);
    for (const host of ['chat.manacore.app', 'staging-chat.manacore.app', 'memoro.manacore.app', 'bauntown.manacore.app', 'staging-bauntown.manacore.app']) {
      expect(rule.expression).toContain(`"${host}"`);
    }
    expect(rule.expression).not.toContain('app-chat');
    expect(rule.expression).not.toContain('api-chat');
  });

  it('bypasses the cache for every API host, auth included', () => {
    const rule = rulesets()['zone-caching-cache-settings'].rules.find((r: any) => r.action_parameters.cache === false);
    for (const host of ['api-chat.manacore.app', 'staging-api-chat.manacore.app', 'auth.manacore.app', 'staging-auth.manacore.app']) {
      expect(rule.expression).toContain(`"${host}"`);
    }
    expect(rule.expression).not.toContain('"memoro.manacore.app"');
  });

  it('polishes landing images losslessly with a configuration rule on the /images/ path', () => {
    const [rule] = rulesets()['zone-caching-config-settings'].rules;
    expect(rule.action).toBe('set_config');
    expect(rule.action_parameters).toEqual({ polish: 'lossless' });
    expect(rule.expression).toMatch(/ and starts_with\(http\.request\.uri\.path, "\/images\/"\)\)$/);
    expect(rule.expression).toContain('"bauntown.manacore.app"');
  });

  it('keeps the rule count flat: 4 cache rules (API bypass, landing cache, its /api/* and /auth/* exclusions) and 1 configuration rule for 26 product stacks', () => {
    expect(rulesets()['zone-caching-cache-settings'].rules.map((rule: { description: string }) => rule.description.replace(/: \d+ hosts$/, ''))).toEqual([
      'bypass cache on /*',
      'cache everything, edge 30 days, browser 5 minutes on /*',
      'bypass cache on /api/*',
      'bypass cache on /auth/*',
    ]);
    expect(rulesets()['zone-caching-config-settings'].rules).toHaveLength(1);
  });
});

describe('page-rule mode', () => {
  const pageRulesOf = (stack: string) =>
    resourceList(pageRules.synth(stack), 'cloudflare_page_rule')
      .map(({ target, priority, actions, status }) => ({ target, priority, actions, status }))
      .sort((a, b) => a.priority - b.priority);

  it('gives chat its landing, landing images and API rules, the images rule repeating the landing caching', () => {
    const rules = pageRulesOf('production-chat');
    expect(rules.map(({ target, actions, status }) => ({ target, actions, status }))).toEqual([
      { target: 'api-chat.manacore.app/*', actions: { cache_level: 'bypass' }, status: 'active' },
      { target: 'chat.manacore.app/*', actions: { cache_level: 'cache_everything', edge_cache_ttl: MONTH, browser_cache_ttl: FIVE_MINUTES }, status: 'active' },
      // A landing that proxies its API or sign-in never serves them from the cache.
      { target: 'chat.manacore.app/api/*', actions: { cache_level: 'bypass' }, status: 'active' },
      { target: 'chat.manacore.app/auth/*', actions: { cache_level: 'bypass' }, status: 'active' },
      {
        target: 'chat.manacore.app/images/*',
        actions: { cache_level: 'cache_everything', edge_cache_ttl: MONTH, browser_cache_ttl: FIVE_MINUTES, polish: 'lossless' },
        status: 'active',
      },
    ]);
  });

  it('lets the images rule win over the landing rule of its host (higher priority)', () => {
    const rules = pageRulesOf('staging-chat');
    const priority = (target: string) => rules.find((rule) => rule.target === target)!.priority;
    expect(priority('staging-chat.manacore.app/images/*')).toBeGreaterThan(priority('staging-chat.manacore.app/*'));
  });

  it('gives memoro and bauntown landing rules only, and auth a bypass', () => {
    const landing = (host: string) => [`${host}/*`, `${host}/api/*`, `${host}/auth/*`, `${host}/images/*`];
    expect(pageRulesOf('production-memoro').map((rule) => rule.target)).toEqual(landing('memoro.manacore.app'));
    expect(pageRulesOf('staging-bauntown').map((rule) => rule.target)).toEqual(landing('staging-bauntown.manacore.app'));
    expect(pageRulesOf('production-mana-core-auth')).toEqual([
      { target: 'auth.manacore.app/*', priority: expect.any(Number), actions: { cache_level: 'bypass' }, status: 'active' },
    ]);
  });

  it('numbers priorities 1..N across every stack of the zone, the primary environment first', () => {
    const all = pageRules.stackNames.flatMap((stack) => resourceList(pageRules.synth(stack), 'cloudflare_page_rule').map((rule) => ({ stack, priority: rule.priority as number })));
    expect(all).toHaveLength(ALL_RULES);
    expect(all.map((rule) => rule.priority).sort((a, b) => a - b)).toEqual(Array.from({ length: ALL_RULES }, (_, index) => index + 1));
    expect(Math.max(...all.filter((rule) => rule.stack.startsWith('production-')).map((rule) => rule.priority))).toBe(PRODUCTION_RULES);
  });

  it('creates no rulesets in page-rule mode', () => {
    expect(resources(pageRules.synth('production-network'), 'cloudflare_ruleset')).toEqual({});
  });
});

describe('quota', () => {
  const plan = (system: SystemSpec) => planCloudflare(resolveSystem(system));

  it('fails synth for 13 products on a free-plan zone, naming count, quota, plan and the rules per stack', () => {
    const free = withCloudflare({ plan: 'free', caching: 'page-rules' }, ['production']);
    expect(() => new SynthesizedSystem(free)).toThrow(/zone manacore\.app on the free plan allows 3 page rules, but its stacks need 46/);
    expect(() => plan(free)).toThrow(/production-chat 4 \(api-chat\.manacore\.app\/\*, chat\.manacore\.app\/\*, chat\.manacore\.app\/api\/\*, chat\.manacore\.app\/auth\/\*\)/);
    expect(() => plan(free)).toThrow(/cloudflare\.caching "cache-rules".*or plan "business" \(50 page rules\)/);
  });

  it('counts the rules of every environment sharing the zone', () => {
    expect(() => plan(withCloudflare({ plan: 'business', caching: 'page-rules' }))).toThrow(
      new RegExp(`allows 50 page rules, but its stacks need ${ALL_RULES}: production-mana-core-auth 1`),
    );
  });

  it('passes 13 products on a business plan once the landings, which proxy nothing, drop their never-cached paths', () => {
    const business = variant(withCloudflare({ plan: 'business', caching: 'page-rules' }, ['production']), (system) => {
      for (const service of system.products.flatMap((product) => product.services).filter((s) => s.kind === 'landing')) {
        (service as { caching?: unknown }).caching = { mode: 'everything', neverCache: [], polish: ['/images/*'] };
      }
    });
    expect(() => plan(withCloudflare({ plan: 'business', caching: 'page-rules' }, ['production']))).toThrow(/allows 50 page rules, but its stacks need 58/);
    const planned = plan(business).get('production')!;
    expect(planned.pageRulesOf('production-chat')).toHaveLength(3);
    expect(planned.zoneCacheRules).toEqual([]);
  });

  it('passes cache-rule mode on the free plan, leaving out Polish (not offered there) with a warning', () => {
    const warnings: string[] = [];
    const free = new SynthesizedSystem(withCloudflare({ plan: 'free', caching: 'cache-rules' }, ['production']), { onWarning: (message) => warnings.push(message) });
    const rulesets = resources(free.synth('production-network'), 'cloudflare_ruleset');
    expect(Object.keys(rulesets)).toEqual(['zone-caching-cache-settings']);
    expect(warnings.some((warning) => /production-chat: Polish left out for chat\.manacore\.app\/images\/\* \(not offered on the free plan\)/.test(warning))).toBe(true);
  });

  it('refuses environments that disagree on the shared zone plan or caching mode', () => {
    const split = variant(manacore, (system) => {
      environmentOf(system, 'staging').cloudflare = { plan: 'free', caching: 'cache-rules' };
      environmentOf(system, 'production').cloudflare = { plan: 'business', caching: 'page-rules' };
    });
    expect(() => plan(split)).toThrow(/environment "production", field "cloudflare\.plan": got "business"; allowed: "free", as in environment "staging" \(.*a zone has one plan\)/);
    expect(() => plan(split)).toThrow(/field "cloudflare\.caching": got "page-rules"/);
  });
});

describe('compiling caching rules', () => {
  const landing = (host: string): CachingRule[] => [
    { host, path: '/*', setting: CacheSettings.cacheEverything({ edgeTtl: Duration.days(30), browserTtl: Duration.days(7) }), owner: host },
    { host, path: '/images/*', setting: CacheSettings.polish(), owner: host },
  ];

  it('refuses two contradicting settings for one target', () => {
    const rules: CachingRule[] = [...landing('a.example.com'), { host: 'a.example.com', path: '/*', setting: CacheSettings.bypass(), owner: 'api' }];
    expect(() => compilePageRules(rules)).toThrow(/a\.example\.com\/\* contradict each other/);
  });

  it('refuses path patterns page rules and cache rules cannot both express', () => {
    expect(() => compilePageRules([{ host: 'a.example.com', path: '/images', setting: CacheSettings.bypass(), owner: 'x' }])).toThrow(/path must be "\/\*" or a prefix ending in "\/\*"/);
  });

  it('splits a host list that would exceed the 4096-character expression limit', () => {
    const hosts = Array.from({ length: 200 }, (_, index) => `landing-number-${index}.example.com`);
    const compiled = compileCacheRules(hosts.flatMap(landing));
    expect(compiled.cache.length).toBeGreaterThan(1);
    for (const rule of [...compiled.cache, ...compiled.config]) expect(rule.expression.length).toBeLessThanOrEqual(4096);
    expect(new Set(compiled.cache.map((rule) => rule.ref)).size).toBe(compiled.cache.length);
  });

  it('CacheRules refuses Polish on the free plan and more rules than the plan allows', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const zone = new CloudflareZone(stack, 'zone', { name: 'example.com', zoneId: '0123456789abcdef0123456789abcdef' });
    expect(() => new CacheRules(stack, 'polish', { zone, plan: 'free', rules: landing('a.example.com'), managedBy: 'test' })).toThrow(/Polish is not available on the free plan/);
    const distinct: CachingRule[] = Array.from({ length: 11 }, (_, index) => ({
      host: 'a.example.com',
      path: `/p${index}/*`,
      setting: CacheSettings.bypass(),
      owner: 'test',
    }));
    expect(() => new CacheRules(stack, 'many', { zone, plan: 'free', rules: distinct, managedBy: 'test' })).toThrow(/needs 11 cache rules; the free plan allows 10/);
  });
});
