import { Ruleset, type RulesetRules, type RulesetRulesActionParameters } from '@cdktf/provider-cloudflare/lib/ruleset';
import { Construct } from 'constructs';
import { describeSetting, pathPrefix, settingKey, type CacheSetting, type CachingRule } from './caching-rule';
import { CACHE_RULE_QUOTA, CONFIG_RULE_QUOTA, MAX_RULE_EXPRESSION_LENGTH, planHasPolish, type CloudflarePlan } from './plans';
import type { CloudflareZone } from './zone';

/** The rules of a zone's two entrypoint rulesets that caching needs. */
export interface CompiledCacheRules {
  /** `http_request_cache_settings`: cache eligibility and TTLs. */
  readonly cache: readonly RulesetRules[];
  /** `http_config_settings`: Polish. */
  readonly config: readonly RulesetRules[];
}

/**
 * Turns caching rules into cache rules and configuration rules. Unlike page
 * rules, every matching rule applies, later rules overriding earlier ones, so
 * hosts that want the same thing share one rule (`http.host in {...}`): the
 * count stays flat as products are added, which is why this mode fits every
 * plan. Broader paths come first so that specific paths override them.
 */
export function compileCacheRules(rules: readonly CachingRule[]): CompiledCacheRules {
  const groups = new Map<string, { prefix: string; setting: CacheSetting; hosts: string[] }>();
  for (const rule of rules) {
    const prefix = pathPrefix(rule);
    const key = `${prefix} ${settingKey(rule.setting)}`;
    const group = groups.get(key) ?? { prefix, setting: rule.setting, hosts: [] };
    if (!group.hosts.includes(rule.host)) group.hosts.push(rule.host);
    groups.set(key, group);
  }
  const ordered = [...groups.values()].sort((a, b) => a.prefix.length - b.prefix.length);
  const cache: RulesetRules[] = [];
  const config: RulesetRules[] = [];
  for (const group of ordered) {
    const chunks = hostChunks(group.hosts, group.prefix);
    chunks.forEach((hosts, index) => {
      const ref = [settingKey(group.setting), slug(group.prefix) || 'all', chunks.length > 1 ? String(index + 1) : undefined].filter(Boolean).join('_');
      const rule: RulesetRules = {
        ref,
        description: `${describeSetting(group.setting)} on ${group.prefix}*: ${hosts.length} host${hosts.length === 1 ? '' : 's'}`,
        expression: expression(hosts, group.prefix),
        enabled: true,
        ...action(group.setting),
      };
      (group.setting.type === 'polish' ? config : cache).push(rule);
    });
  }
  return { cache, config };
}

function action(setting: CacheSetting): { action: string; actionParameters: RulesetRulesActionParameters } {
  switch (setting.type) {
    case 'cache-everything':
      return {
        action: 'set_cache_settings',
        actionParameters: {
          cache: true,
          edgeTtl: { mode: 'override_origin', default: setting.edgeTtl.toSeconds() },
          browserTtl: { mode: 'override_origin', default: setting.browserTtl.toSeconds() },
        },
      };
    case 'bypass':
      return { action: 'set_cache_settings', actionParameters: { cache: false } };
    case 'polish':
      return { action: 'set_config', actionParameters: { polish: setting.level } };
  }
}

function expression(hosts: readonly string[], prefix: string): string {
  const hostTest = hosts.length === 1 ? `http.host eq "${hosts[0]}"` : `http.host in {${hosts.map((host) => `"${host}"`).join(' ')}}`;
  return prefix === '/' ? `(${hostTest})` : `(${hostTest} and starts_with(http.request.uri.path, "${prefix}"))`;
}

/** Splits hosts so no expression exceeds Cloudflare's length limit. */
function hostChunks(hosts: readonly string[], prefix: string): string[][] {
  const chunks: string[][] = [[]];
  for (const host of hosts) {
    const current = chunks[chunks.length - 1]!;
    if (current.length > 0 && expression([...current, host], prefix).length > MAX_RULE_EXPRESSION_LENGTH) {
      chunks.push([host]);
    } else {
      current.push(host);
    }
  }
  return chunks.filter((chunk) => chunk.length > 0);
}

function slug(text: string): string {
  return text.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '');
}

export interface CacheRulesProps {
  /** The zone the rulesets belong to. */
  readonly zone: CloudflareZone;
  /** The zone's plan, which bounds the number of rules per ruleset and decides whether Polish exists. */
  readonly plan: CloudflarePlan;
  /** Every caching rule of the zone, from every stack and environment on it. */
  readonly rules: readonly CachingRule[];
  /** The stack that owns the rulesets, written into their descriptions. */
  readonly managedBy: string;
}

/**
 * The zone's cache rules (`http_request_cache_settings`) and, when Polish is
 * asked for, its configuration rules (`http_config_settings`). A zone has ONE
 * entrypoint ruleset per phase, so exactly one stack per zone may own these;
 * a second owner would overwrite the first one's rules on every apply. If the
 * zone already has such a ruleset (made in the dashboard), import it into
 * this resource before the first apply instead of creating a new one.
 */
export class CacheRules extends Construct {
  public readonly cacheRuleset?: Ruleset;
  public readonly configRuleset?: Ruleset;
  public readonly compiled: CompiledCacheRules;

  public constructor(scope: Construct, id: string, props: CacheRulesProps) {
    super(scope, id);
    const polish = props.rules.filter((rule) => rule.setting.type === 'polish');
    if (polish.length > 0 && !planHasPolish(props.plan)) {
      throw new Error(`CacheRules ${id}: Polish is not available on the ${props.plan} plan (asked for by ${[...new Set(polish.map((r) => r.owner))].join(', ')}); drop the polish rules or use the pro plan or higher`);
    }
    this.compiled = compileCacheRules(props.rules);
    const limits: Array<[string, number, number]> = [
      ['cache rules', this.compiled.cache.length, CACHE_RULE_QUOTA[props.plan]],
      ['configuration rules', this.compiled.config.length, CONFIG_RULE_QUOTA[props.plan]],
    ];
    for (const [what, count, quota] of limits) {
      if (count > quota) throw new Error(`CacheRules ${id}: zone ${props.zone.name} needs ${count} ${what}; the ${props.plan} plan allows ${quota}`);
    }
    const ruleset = (phase: string, name: string, rules: readonly RulesetRules[], suffix: string) => {
      if (rules.length === 0) return undefined;
      const created = new Ruleset(this, suffix, {
        zoneId: props.zone.zoneId,
        kind: 'zone',
        phase,
        name,
        description: `Managed by cdktf stack ${props.managedBy}: the single entrypoint ruleset of this phase for the zone`,
        rules: [...rules],
      });
      created.overrideLogicalId(`${id}-${suffix}`);
      return created;
    };
    this.cacheRuleset = ruleset('http_request_cache_settings', 'cache rules', this.compiled.cache, 'cache-settings');
    this.configRuleset = ruleset('http_config_settings', 'configuration rules', this.compiled.config, 'config-settings');
  }
}
