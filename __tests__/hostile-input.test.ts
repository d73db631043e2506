/**
 * One property per class of hostile or mistaken input (issue 28): whatever
 * the draw, the class is refused with a ConfigurationError naming the field,
 * and what stays inside the rule is accepted.
 */
import fc from 'fast-check';
import { ConfigurationError } from '../constructs/core/configuration-error';
import { minCronIntervalMinutes } from '../constructs/core/cron';
import { manacore } from '../environments';
import { INVARIANT_RULES } from '../policy/invariants';
import { DATA_ENV_VARS } from '../system/defaults';
import type { SystemSpec } from '../system/model';
import { resolveSystem } from '../system/resolve';
import { MIN_BACKUP_INTERVAL_MINUTES } from '../system/validation/data';
import { WIDEST_ALLOWED_PREFIX } from '../system/validation/network';
import { environmentOf, keepOnly, productOf, serviceOf, variant, type WritableSystem } from './helpers/spec';

/** A small valid system: staging and production with chat and the auth it links to, so each run resolves in milliseconds. */
const small = variant(manacore, (s) => keepOnly(s, ['staging', 'production'], ['chat', 'mana-core-auth']));

/** The issues a system is refused with; [] when accepted. */
function issuesOf(system: SystemSpec): ConfigurationError['issues'] {
  try {
    resolveSystem(system);
    return [];
  } catch (error) {
    if (error instanceof ConfigurationError) return error.issues;
    throw error;
  }
}

const formatIpv4 = (value: number) => [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
/** Any IPv4 block, host bits cleared, of the given prefix range. */
const ipv4Block = (min: number, max: number) =>
  fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min, max })).map(([address, prefix]) => {
    const size = 2 ** (32 - prefix);
    return `${formatIpv4(Math.floor(address / size) * size)}/${prefix}`;
  });
/** Any IPv6 block, host bits cleared, of the given prefix range (the first 64 bits drawn). */
const ipv6Block = (min: number, max: number) =>
  fc.tuple(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 4, maxLength: 4 }), fc.integer({ min, max })).map(([groups, prefix]) => {
    const value = groups.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n) << 64n;
    const masked = prefix === 0 ? 0n : (value >> BigInt(128 - prefix)) << BigInt(128 - prefix);
    const text = Array.from({ length: 8 }, (_, index) => ((masked >> BigInt(112 - 16 * index)) & 0xffffn).toString(16)).join(':');
    return `${text}/${prefix}`;
  });

describe('allow lists that open a port', () => {
  it(`refuse any network wider than /${WIDEST_ALLOWED_PREFIX[4]} (IPv4) or /${WIDEST_ALLOWED_PREFIX[6]} (IPv6), alone or beside narrow ones`, () => {
    fc.assert(
      fc.property(fc.oneof(ipv4Block(0, WIDEST_ALLOWED_PREFIX[4] - 1), ipv6Block(0, WIDEST_ALLOWED_PREFIX[6] - 1)), fc.boolean(), (wide, withNarrow) => {
        const bad = variant(small, (s) => (environmentOf(s, 'production').adminSshCidrs = withNarrow ? ['203.0.113.10/32', wide] : [wide]));
        const issues = issuesOf(bad);
        expect(issues.some((issue) => issue.environment === 'production' && issue.field === 'adminSshCidrs' && (issue.value === wide || String(issue.value).includes(wide)))).toBe(true);
      }),
      { seed: 28, numRuns: 200 },
    );
  });

  it('accept any network within the limit', () => {
    fc.assert(
      fc.property(fc.oneof(ipv4Block(WIDEST_ALLOWED_PREFIX[4], 32), ipv6Block(WIDEST_ALLOWED_PREFIX[6], 64)), (narrow) => {
        const good = variant(small, (s) => (environmentOf(s, 'production').adminSshCidrs = [narrow]));
        expect(issuesOf(good)).toEqual([]);
      }),
      { seed: 28, numRuns: 50 },
    );
  });
});

describe('production protection', () => {
  const github = fc.record({
    reviewerTeams: fc.option(fc.subarray(['platform', 'security']), { nil: undefined }),
    reviewerUsers: fc.option(fc.subarray(['lead']), { nil: undefined }),
    requireApproval: fc.option(fc.boolean(), { nil: undefined }),
    waitTimerMinutes: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
  });

  it('is never weakened by any combination of the GitHub switches: accepted means reviewers and approval', () => {
    fc.assert(
      fc.property(github, (settings) => {
        const system = variant(small, (s) => (environmentOf(s, 'production').github = settings));
        const issues = issuesOf(system).filter((issue) => issue.environment === 'production');
        const reviewers = (settings.reviewerTeams ?? []).length + (settings.reviewerUsers ?? []).length;
        const weakened = reviewers === 0 || settings.requireApproval === false;
        expect(issues.length > 0).toBe(weakened);
        if (settings.requireApproval === false) expect(issues.map((issue) => issue.field)).toContain('github.requireApproval');
      }),
      { seed: 28, numRuns: 60 },
    );
  });
});

describe('variable sources', () => {
  const sources = ['environment', 'secrets', 'links', 'publicUrls', 'postgres'] as const;
  type Source = (typeof sources)[number];
  /** Sets `name` through one source on chat's web service (postgres: the name is DATABASE_URL). */
  const setThrough = (s: WritableSystem, source: Source, name: string) => {
    const web = serviceOf(s, 'chat', 'web');
    if (source === 'environment') web.environment = { ...web.environment, [name]: 'value' };
    if (source === 'secrets') web.secrets = [...(web.secrets ?? []), name];
    if (source === 'links') web.links = { ...web.links, [name]: 'backend' };
    if (source === 'publicUrls') web.publicUrls = { ...web.publicUrls, [name]: 'landing' };
    if (source === 'postgres') web.uses = [...(web.uses ?? []), 'postgres'];
  };

  it('refuse one variable set by any two sources, naming the variable', () => {
    const pairs = sources.flatMap((first, index) => sources.slice(index + 1).map((second) => [first, second] as const));
    fc.assert(
      fc.property(fc.constantFrom(...pairs), fc.stringMatching(/^[A-Z][A-Z0-9_]{2,12}$/), ([first, second], drawn) => {
        const name = first === 'postgres' || second === 'postgres' ? DATA_ENV_VARS.postgres : drawn;
        fc.pre(!(name in (small.products.find((p) => p.name === 'chat')!.services.find((s) => s.name === 'web')!.environment ?? {})));
        const bad = variant(small, (s) => {
          setThrough(s, first, name);
          setThrough(s, second, name);
        });
        const issues = issuesOf(bad);
        expect(issues.some((issue) => issue.product === 'chat' && issue.field.startsWith('services.web.') && issue.value === name)).toBe(true);
      }),
      { seed: 28, numRuns: 60 },
    );
  });
});

describe('waivers', () => {
  const stacks = ['staging-network', 'staging-edge', 'staging-data', 'staging-monitoring', 'staging-chat', 'staging-chat-credentials', 'staging-mana-core-auth', 'staging-mana-core-auth-credentials'];
  it('refuse an unknown rule, an unknown stack, a wildcard or an empty reason, each by its field', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(INVARIANT_RULES), 'no-root', 'all'),
        fc.constantFrom(...stacks, 'staging-recipes', 'production-chat'),
        fc.constantFrom('docker_container.chat-web', '*', 'everything'),
        fc.constantFrom('a stock image that runs as root', '', '   '),
        (rule, stack, resource, reason) => {
          const system = variant(small, (s) => (environmentOf(s, 'staging').invariantExemptions = [{ rule: rule as 'pinned-image', stack, resource, reason }]));
          const fields = issuesOf(system).filter((issue) => issue.environment === 'staging').map((issue) => issue.field);
          expect(fields.includes('invariantExemptions[0].rule')).toBe(!(rule in INVARIANT_RULES));
          expect(fields.includes('invariantExemptions[0].stack')).toBe(!stacks.includes(stack));
          expect(fields.includes('invariantExemptions[0].resource')).toBe(resource !== 'docker_container.chat-web');
          expect(fields.includes('invariantExemptions[0].reason')).toBe(reason.trim() === '');
        },
      ),
      { seed: 28, numRuns: 80 },
    );
  });
});

describe('singletons', () => {
  it('refuse any replica count above 1, in the catalog or in an environment', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.boolean(), (replicas, perEnvironment) => {
        const system = variant(small, (s) => {
          productOf(s, 'chat').services.push({ name: 'scheduler', kind: 'worker', command: ['node', 'scheduler.js'], singleton: true, ...(perEnvironment ? {} : { replicas }) });
          if (perEnvironment) environmentOf(s, 'staging').products.find((d) => d.product === 'chat')!.replicas = { scheduler: replicas };
        });
        const fields = issuesOf(system).map((issue) => issue.field);
        const field = perEnvironment ? 'replicas.scheduler' : 'services.scheduler.replicas';
        expect(fields.includes(field)).toBe(replicas > 1);
      }),
      { seed: 28, numRuns: 40 },
    );
  });
});

describe('backup schedules', () => {
  it(`refuse any schedule whose runs come closer than ${MIN_BACKUP_INTERVAL_MINUTES} minutes, and accept the rest`, () => {
    const schedule = fc.oneof(
      fc.integer({ min: 1, max: 59 }).map((step) => `*/${step} * * * *`),
      fc.integer({ min: 1, max: 12 }).map((step) => `0 */${step} * * *`),
      fc.subarray([0, 15, 30, 45], { minLength: 1 }).map((minutes) => `${minutes.join(',')} 3 * * *`),
    );
    fc.assert(
      fc.property(schedule, (cron) => {
        const system = variant(small, (s) => (environmentOf(s, 'production').data.backupPlan = { postgres: { cron, keepForDays: 30 } }));
        const refused = issuesOf(system).some((issue) => issue.field === 'data.backupPlan.postgres.cron');
        expect(refused).toBe(minCronIntervalMinutes(cron) < MIN_BACKUP_INTERVAL_MINUTES);
      }),
      { seed: 28, numRuns: 20 },
    );
  });
});

describe('names that become DNS labels or bucket names', () => {
  it('refuse any container name over 63 characters and any system name that makes a bucket name over 63', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 80 }), fc.integer({ min: 2, max: 60 }), (serviceLength, systemLength) => {
        const service = 'w'.repeat(serviceLength);
        const systemName = 's'.repeat(systemLength);
        const system = variant(small, (s) => {
          s.name = systemName;
          productOf(s, 'chat').services.push({ name: service, kind: 'worker', command: ['run'] });
        });
        const issues = issuesOf(system);
        expect(issues.some((issue) => issue.field === `services.${service}.name` && issue.environment === undefined)).toBe(`chat-${service}`.length > 63);
        expect(issues.some((issue) => issue.field === 'system.name' && issue.environment === 'production')).toBe(`${systemName}-production-backups`.length > 63);
      }),
      { seed: 28, numRuns: 60 },
    );
  });
});
