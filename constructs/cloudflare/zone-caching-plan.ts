/**
 * The caching rules of every stack on one zone, checked against the zone's
 * plan before any stack is built. A single stack cannot do this: page-rule
 * quotas and priorities are per zone, and staging and production usually
 * share the zone.
 */
import type { ConfigurationIssue } from '../core/configuration-error';
import { compileCacheRules } from './cache-rules';
import type { CachingRule } from './caching-rule';
import { compilePageRules, type PlannedPageRule } from './page-rules';
import {
  CACHE_RULE_QUOTA,
  CONFIG_RULE_QUOTA,
  PAGE_RULE_QUOTA,
  planHasPolish,
  smallestPlanForPageRules,
  type CachingMode,
  type CloudflarePlan,
} from './plans';

/** The caching rules one stack wants. */
export interface StackCachingRules {
  readonly stack: string;
  readonly rules: readonly CachingRule[];
}

export interface ZoneCachingInput {
  /** The zone's name. */
  readonly zone: string;
  readonly plan: CloudflarePlan;
  readonly mode: CachingMode;
  /**
   * Every stack with caching rules on the zone, in a stable order: page-rule
   * priorities are numbered 1..N in this order, so appending a stack never
   * renumbers the rules before it.
   */
  readonly stacks: readonly StackCachingRules[];
}

/** A problem with the zone as a whole; the caller adds which environments it concerns. */
export type ZoneProblem = Omit<ConfigurationIssue, 'environment' | 'product'>;

export interface ZoneCachingPlan {
  readonly zone: string;
  readonly plan: CloudflarePlan;
  readonly mode: CachingMode;
  /** Page-rule mode: each stack's page rules, priorities unique across the zone. Empty in cache-rule mode. */
  readonly pageRules: ReadonlyMap<string, readonly PlannedPageRule[]>;
  /** Cache-rule mode: every rule of the zone, for the one stack owning its rulesets. Empty in page-rule mode. */
  readonly cacheRules: readonly CachingRule[];
  /** Settings left out because the plan does not offer them. */
  readonly notes: readonly string[];
  /** What does not fit the plan; empty when everything does. */
  readonly problems: readonly ZoneProblem[];
}

export function planZoneCaching(input: ZoneCachingInput): ZoneCachingPlan {
  const notes: string[] = [];
  const stacks = input.stacks.map((stack) => {
    if (planHasPolish(input.plan)) return stack;
    const dropped = stack.rules.filter((rule) => rule.setting.type === 'polish');
    if (dropped.length > 0) {
      notes.push(`${stack.stack}: Polish left out for ${dropped.map((rule) => rule.host + rule.path).join(', ')} (not offered on the ${input.plan} plan)`);
    }
    return { stack: stack.stack, rules: stack.rules.filter((rule) => rule.setting.type !== 'polish') };
  });
  const base = { zone: input.zone, plan: input.plan, mode: input.mode, notes };
  if (input.mode === 'cache-rules') {
    const cacheRules = stacks.flatMap((stack) => stack.rules);
    return { ...base, pageRules: new Map(), cacheRules, problems: cacheRuleProblems(input, cacheRules) };
  }

  const pageRules = new Map<string, PlannedPageRule[]>();
  let priority = 0;
  for (const stack of stacks) {
    const planned = compilePageRules(stack.rules).map((spec) => ({ ...spec, priority: ++priority }));
    if (planned.length > 0) pageRules.set(stack.stack, planned);
  }
  const quota = PAGE_RULE_QUOTA[input.plan];
  const problems: ZoneProblem[] = [];
  if (priority > quota) {
    const breakdown = [...pageRules].map(([stack, rules]) => `${stack} ${rules.length} (${rules.map((rule) => rule.target).join(', ')})`).join('; ');
    const bigger = smallestPlanForPageRules(priority);
    problems.push({
      field: 'cloudflare.plan',
      value: input.plan,
      allowed:
        `cloudflare.caching "cache-rules" on every environment of the zone (cache rules share one rule among all hosts and fit every plan)` +
        (bigger ? `, or plan "${bigger}" (${PAGE_RULE_QUOTA[bigger]} page rules)` : ' (no plan holds that many page rules)'),
      why: `zone ${input.zone} on the ${input.plan} plan allows ${quota} page rules, but its stacks need ${priority}: ${breakdown}`,
    });
  }
  return { ...base, pageRules, cacheRules: [], problems };
}

function cacheRuleProblems(input: ZoneCachingInput, rules: readonly CachingRule[]): ZoneProblem[] {
  const compiled = compileCacheRules(rules);
  const problems: ZoneProblem[] = [];
  const limits: Array<[string, number, number]> = [
    ['cache rules', compiled.cache.length, CACHE_RULE_QUOTA[input.plan]],
    ['configuration rules', compiled.config.length, CONFIG_RULE_QUOTA[input.plan]],
  ];
  for (const [what, count, quota] of limits) {
    if (count <= quota) continue;
    problems.push({
      field: 'cloudflare.plan',
      value: input.plan,
      allowed: `a plan allowing ${count} ${what}`,
      why: `zone ${input.zone} on the ${input.plan} plan allows ${quota} ${what} and needs ${count}: ${(what === 'cache rules' ? compiled.cache : compiled.config).map((rule) => rule.description).join('; ')}`,
    });
  }
  return problems;
}
