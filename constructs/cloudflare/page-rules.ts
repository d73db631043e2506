import { PageRule, type PageRuleActions } from '@cdktf/provider-cloudflare/lib/page-rule';
import { Construct } from 'constructs';
import { describeSetting, pathPrefix, type CachingRule } from './caching-rule';
import type { CloudflareZone } from './zone';

/** One legacy page rule, before it gets its zone-wide priority. */
export interface PageRuleSpec {
  /** URL pattern (`chat.example.com/images/*`). */
  readonly target: string;
  readonly host: string;
  /** Every setting that applies at this target, merged. */
  readonly actions: PageRuleActions;
  /** Human summary of the actions (`cache everything, edge 30 days, browser 7 days; polish lossless`). */
  readonly summary: string;
  /** Who asked for the rules merged here. */
  readonly owners: readonly string[];
}

/** A page rule with its priority, unique in the zone (a higher number wins). */
export interface PlannedPageRule extends PageRuleSpec {
  readonly priority: number;
}

/**
 * Turns caching rules into page rules. Only ONE page rule applies to a
 * request (the matching rule with the highest priority), so the rule for a
 * more specific path repeats every setting of the broader rules of its host:
 * `chat.example.com/images/*` carries "cache everything" as well as Polish,
 * or images would lose their caching. Per host, broader rules come first, so
 * priorities assigned in this order let specific rules win.
 */
export function compilePageRules(rules: readonly CachingRule[]): PageRuleSpec[] {
  const byHost = new Map<string, CachingRule[]>();
  for (const rule of rules) byHost.set(rule.host, [...(byHost.get(rule.host) ?? []), rule]);
  const specs: PageRuleSpec[] = [];
  for (const [host, hostRules] of byHost) {
    const prefixes = [...new Set(hostRules.map((rule) => pathPrefix(rule)))].sort((a, b) => a.length - b.length);
    for (const prefix of prefixes) {
      const covering = hostRules
        .filter((rule) => prefix.startsWith(pathPrefix(rule)))
        .sort((a, b) => pathPrefix(a).length - pathPrefix(b).length);
      assertNoConflict(host, prefix, covering);
      specs.push({
        target: `${host}${prefix}*`,
        host,
        actions: mergeActions(covering),
        summary: covering.map((rule) => describeSetting(rule.setting)).join('; '),
        owners: [...new Set(covering.map((rule) => rule.owner))],
      });
    }
  }
  return specs;
}

function assertNoConflict(host: string, prefix: string, covering: readonly CachingRule[]): void {
  const exact = covering.filter((rule) => pathPrefix(rule) === prefix && rule.setting.type !== 'polish');
  if (new Set(exact.map((rule) => rule.setting.type)).size > 1) {
    throw new Error(
      `Caching rules for ${host}${prefix}* contradict each other (${exact.map((rule) => `${rule.owner}: ${describeSetting(rule.setting)}`).join(' vs ')}); keep one`,
    );
  }
}

/** Broader rules first, so a specific rule's settings override theirs. */
function mergeActions(covering: readonly CachingRule[]): PageRuleActions {
  let actions: { -readonly [K in keyof PageRuleActions]: PageRuleActions[K] } = {};
  for (const { setting } of covering) {
    switch (setting.type) {
      case 'cache-everything':
        actions = { ...actions, cacheLevel: 'cache_everything', edgeCacheTtl: setting.edgeTtl.toSeconds(), browserCacheTtl: setting.browserTtl.toSeconds() };
        break;
      case 'bypass': {
        const { edgeCacheTtl: _edge, browserCacheTtl: _browser, ...rest } = actions;
        actions = { ...rest, cacheLevel: 'bypass' };
        break;
      }
      case 'polish':
        actions = { ...actions, polish: setting.level };
        break;
    }
  }
  return actions;
}

export interface PageRulesProps {
  /** The zone the rules belong to. */
  readonly zone: CloudflareZone;
  /** The rules, with priorities unique across every stack on the zone (see `planZoneCaching`). */
  readonly rules: readonly PlannedPageRule[];
}

/**
 * A stack's share of a zone's page rules. The zone-wide quota and priority
 * numbering are decided before any stack is built (`planZoneCaching`), since
 * one stack cannot see the rules of the others.
 */
export class PageRules extends Construct {
  public readonly rules: readonly PageRule[];

  public constructor(scope: Construct, id: string, props: PageRulesProps) {
    super(scope, id);
    const seen = new Map<number, string>();
    for (const rule of props.rules) {
      if (!Number.isInteger(rule.priority) || rule.priority < 1) {
        throw new Error(`PageRules ${id}: ${rule.target} has priority ${rule.priority}; priorities are whole numbers from 1`);
      }
      const other = seen.get(rule.priority);
      if (other !== undefined) throw new Error(`PageRules ${id}: ${rule.target} and ${other} share priority ${rule.priority}; priorities must be unique in the zone`);
      seen.set(rule.priority, rule.target);
    }
    this.rules = props.rules.map((rule) => {
      const logicalId = `page-rule-${rule.target.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
      const resource = new PageRule(this, logicalId, {
        zoneId: props.zone.zoneId,
        target: rule.target,
        priority: rule.priority,
        status: 'active',
        actions: rule.actions,
      });
      resource.overrideLogicalId(logicalId);
      return resource;
    });
  }
}
