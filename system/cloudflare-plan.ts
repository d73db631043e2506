/**
 * What Cloudflare gets from the catalog, decided for the whole system at once,
 * before any stack exists: caching rules per product, the zone's page-rule
 * quota and priorities, and which stack owns the zone-wide things.
 *
 * Zone ownership. Every environment of a system publishes under one root
 * domain, so staging and production share ONE zone (and so one plan). Some
 * things exist once per zone and need exactly one owner stack:
 * - the cache-rule and configuration-rule rulesets: a zone has a single
 *   entrypoint ruleset per phase, so product stacks cannot each create
 *   their own; the rules of every environment on the zone live in the
 *   network stack of the zone's primary environment;
 * - the apex, `www` and the wildcard record.
 * The primary environment is the one without a domain prefix (production):
 * its network stack is reviewed before apply, which suits rules and records
 * that affect every environment. The price: a new staging product gets its
 * cache rules when production-network is next applied (until then it is
 * served uncached, which is safe). A wildcard per environment is not
 * possible: staging's names are `staging-<x>.<root>` (one label, so the
 * universal certificate covers them), and `staging-*` is not a DNS wildcard.
 * So the one wildcard `*.<root>` belongs to the primary environment too.
 *
 * Page-rule mode needs no single owner: each product stack owns its page
 * rules, with priorities numbered zone-wide here (primary environment first,
 * so the frequent staging additions never renumber production's rules).
 */
import type { CachingRule } from '../constructs/cloudflare/caching-rule';
import type { PlannedPageRule } from '../constructs/cloudflare/page-rules';
import type { CachingMode, CloudflarePlan } from '../constructs/cloudflare/plans';
import type { R2Location } from '../constructs/cloudflare/r2-bucket';
import { planZoneCaching, type StackCachingRules } from '../constructs/cloudflare/zone-caching-plan';
import { ConfigurationError, type ConfigurationIssue } from '../constructs/core/configuration-error';
import type { HetznerLocation } from '../constructs/hetzner/locations';
import type { ResolvedEnvironment, ResolvedProduct, ResolvedSystem } from './resolve';

/** Names the primary environment's network stack owns besides the apex and wildcard. */
export const ZONE_WIDE_LABELS = ['www'] as const;

/**
 * The caching rules of one product: each service's domain with its kind's
 * rules (kinds.ts: landing `/*` cache everything and `/images/*` Polish
 * lossless, API `/*` bypass, per the source documents).
 */
export function cachingRulesOf(product: ResolvedProduct): CachingRule[] {
  return product.services.flatMap((service): CachingRule[] => {
    const domain = service.domain;
    if (domain === undefined) return [];
    return service.caching.map(({ path, setting }) => ({ host: domain, path, setting, owner: `${product.name} ${service.name}` }));
  });
}

/** One environment's view of its zone. */
export interface EnvironmentCloudflare {
  readonly zone: { readonly name: string; readonly zoneId?: string };
  readonly plan: CloudflarePlan;
  readonly mode: CachingMode;
  /** Owns the apex, `www` and wildcard records (the environment without a domain prefix). */
  readonly ownsZoneRecords: boolean;
  /** Every cache rule of the zone, for the owner of its rulesets; empty for everyone else and in page-rule mode. */
  readonly zoneCacheRules: readonly CachingRule[];
  /** Page rules of a product stack (page-rule mode); empty otherwise. */
  pageRulesOf(stackName: string): readonly PlannedPageRule[];
  /** Settings the plan does not offer and that were left out. */
  readonly notes: readonly string[];
}

/**
 * Plans every environment's Cloudflare share; throws a ConfigurationError
 * when environments sharing the zone disagree or the rules exceed the plan.
 */
export function planCloudflare(resolved: ResolvedSystem): ReadonlyMap<string, EnvironmentCloudflare> {
  const environments = resolved.environments;
  if (environments.length === 0) return new Map();
  const zoneName = resolved.rootDomain;
  const issues = zoneAgreementIssues(zoneName, environments);
  if (issues.length > 0) throw new ConfigurationError(issues);

  const primary = environments.find((environment) => environment.domainPrefix === '');
  const rulesetOwner = primary ?? environments[0]!;
  const first = environments[0]!.cloudflare;
  const mode = first.caching;
  const ordered = [rulesetOwner, ...environments.filter((environment) => environment !== rulesetOwner)];
  const stacks: StackCachingRules[] = ordered.flatMap((environment) =>
    environment.products.map((product) => ({ stack: product.stackName, rules: cachingRulesOf(product) })),
  );
  const plan = planZoneCaching({ zone: zoneName, plan: first.plan, mode, stacks });
  if (plan.problems.length > 0) {
    const names = ordered.map((environment) => environment.name).join(', ');
    throw new ConfigurationError(plan.problems.map((problem) => ({ environment: names, ...problem })));
  }
  const zoneId = environments.map((environment) => environment.cloudflare.zoneId).find((id) => id !== undefined);
  return new Map(
    environments.map((environment) => [
      environment.name,
      {
        zone: { name: zoneName, zoneId },
        plan: first.plan,
        mode,
        ownsZoneRecords: environment === primary,
        zoneCacheRules: environment === rulesetOwner ? plan.cacheRules : [],
        pageRulesOf: (stackName: string) => plan.pageRules.get(stackName) ?? [],
        notes: plan.notes.filter((note) => environment.products.some((product) => note.startsWith(`${product.stackName}:`))),
      },
    ]),
  );
}

/** The plan of one environment on its own: for a stack built outside `createSystemStacks` (tests). */
export function planEnvironmentCloudflare(environment: ResolvedEnvironment): EnvironmentCloudflare {
  return planCloudflare({ name: environment.systemName, rootDomain: environment.rootDomain, environments: [environment], warnings: [] }).get(environment.name)!;
}

function zoneAgreementIssues(zoneName: string, environments: readonly ResolvedEnvironment[]): ConfigurationIssue[] {
  const issues: ConfigurationIssue[] = [];
  const first = environments[0]!;
  const shared = `environments ${environments.map((e) => `"${e.name}"`).join(', ')} share the zone ${zoneName}`;
  for (const environment of environments.slice(1)) {
    const settings = environment.cloudflare;
    const reference = first.cloudflare;
    if (settings.plan !== reference.plan) {
      issues.push({
        environment: environment.name,
        field: 'cloudflare.plan',
        value: settings.plan,
        allowed: `"${reference.plan}", as in environment "${first.name}"`,
        why: `${shared}, and a zone has one plan`,
      });
    }
    if (settings.caching !== reference.caching) {
      issues.push({
        environment: environment.name,
        field: 'cloudflare.caching',
        value: settings.caching,
        allowed: `"${reference.caching}", as in environment "${first.name}"`,
        why: `${shared}; the zone's caching is planned as a whole (one cache-rule ruleset per zone, one page-rule quota per zone)`,
      });
    }
  }
  const ids = environments.filter((environment) => environment.cloudflare.zoneId !== undefined);
  for (const environment of ids.slice(1)) {
    if (environment.cloudflare.zoneId !== ids[0]!.cloudflare.zoneId) {
      issues.push({
        environment: environment.name,
        field: 'cloudflare.zoneId',
        value: environment.cloudflare.zoneId,
        allowed: `"${ids[0]!.cloudflare.zoneId}", as in environment "${ids[0]!.name}"`,
        why: `${shared}`,
      });
    }
  }
  const byPrefix = new Map<string, string>();
  for (const environment of environments) {
    const prefix = environment.domainPrefix;
    const other = byPrefix.get(prefix);
    if (other !== undefined) {
      issues.push({
        environment: environment.name,
        field: 'domainPrefix',
        value: prefix,
        allowed: `a prefix not used by environment "${other}"`,
        why: `${shared}; the same prefix would give both environments the same DNS names`,
      });
    }
    byPrefix.set(prefix, environment.name);
    if (prefix !== '') continue;
    for (const product of environment.products) {
      for (const service of product.services) {
        const label = service.domain?.slice(0, -(zoneName.length + 1));
        if (label !== undefined && (ZONE_WIDE_LABELS as readonly string[]).includes(label)) {
          issues.push({
            environment: environment.name,
            product: product.name,
            field: `services.${service.name}.subdomain`,
            value: label,
            allowed: `a label other than ${ZONE_WIDE_LABELS.join(', ')}`,
            why: `"${service.domain}" is a zone-wide record owned by the primary environment's network stack`,
          });
        }
      }
    }
  }
  return issues;
}

/** The R2 location hint nearest to a Hetzner location, so backups and OTA bundles sit close to the hosts. */
export function r2LocationNear(location: HetznerLocation): R2Location {
  const nearest: Record<HetznerLocation, R2Location> = { fsn1: 'weur', nbg1: 'weur', hel1: 'eeur', ash: 'enam', hil: 'wnam', sin: 'apac' };
  return nearest[location];
}
