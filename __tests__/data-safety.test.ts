/**
 * Issue 15 in the synthesized stacks and the validation: the dump job's
 * encryption key, heartbeat and schedule, the bucket lock, the cron gaps the
 * RPO is derived from, and the errors for bad backup settings.
 */
import { maxCronIntervalMinutes, parseCron } from '../constructs/core/cron';
import { manacore } from '../environments';
import { container, envOf } from './helpers/docker';
import { databasesOf, environmentOf, variant, type WritableSystem } from './helpers/spec';
import { SynthesizedSystem, resources, type TerraformJson } from './helpers/synth';
import { issueLines } from './helpers/issues';


const production = (system: WritableSystem) => environmentOf(system, 'production');
const staging = (system: WritableSystem) => environmentOf(system, 'staging');
/** Production products with a database of their own (the data stack's postgres-password-* resources). */
const PRODUCTS_WITH_DATABASES = databasesOf(manacore, 'production').length;
const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

let app: SynthesizedSystem;
let data: TerraformJson;
beforeAll(() => {
  app = new SynthesizedSystem(manacore);
  data = app.synth('production-data');
});

describe('the dump job in production', () => {
  it('encrypts to the age public key from a validated Terraform variable and calls the heartbeat from a sensitive one', () => {
    const env = envOf(container(data, 'backup-job'));
    expect(env.BACKUP_AGE_RECIPIENT).toBe('${var.backup_age_recipient}');
    expect(env.BACKUP_HEARTBEAT_URL).toBe('${var.backup_heartbeat_url}');
    expect(data.variable?.backup_heartbeat_url).toMatchObject({ sensitive: true });
    expect(data.variable?.backup_age_recipient.validation[0].condition).toContain('^age1[02-9ac-hj-np-z]{58}$');
  });

  it('runs the project\'s own dump script under busybox crond, the process its health check looks for', () => {
    const job = container(data, 'backup-job');
    const script: string = job.command[2];
    expect(script).toContain('0 3 * * * /bin/sh /tmp/backup-run postgres');
    expect(script).toContain('0 4 * * * /bin/sh /tmp/backup-run redis');
    expect(script).toContain('pg_dump --format=custom');
    expect(script).toContain('exec crond -f');
    expect(job.healthcheck.test).toEqual(['CMD', 'pgrep', '-f', '^([^ ]*/)?crond( |$)']);
  });

  it('locks every prefix of the bucket for exactly its retention, so no token can delete a dump early', () => {
    const lock = resources(data, 'cloudflare_r2_bucket_lock')['backup-bucket-lock'];
    const lifecycle = resources(data, 'cloudflare_r2_bucket_lifecycle')['backup-bucket-lifecycle'];
    const retention = Object.fromEntries(lifecycle.rules.filter((rule: any) => rule.delete_objects_transition).map((rule: any) => [rule.conditions.prefix, rule.delete_objects_transition.condition.max_age]));
    expect(lock.bucket_name).toBe('${cloudflare_r2_bucket.backup-bucket.name}');
    expect(Object.fromEntries(lock.rules.map((rule: any) => [rule.prefix, rule.condition]))).toEqual({
      'postgres/': { type: 'Age', max_age_seconds: retention['postgres/'] },
      'redis/': { type: 'Age', max_age_seconds: retention['redis/'] },
    });
  });

  it('takes the schedule and retention the environment gives', () => {
    const custom = variant(manacore, (s) => (production(s).data.backupPlan = { postgres: { cron: '15 */6 * * *', keepForDays: 14 } }));
    const json = new SynthesizedSystem(custom).synth('production-data');
    expect(container(json, 'backup-job').command[2]).toContain('15 */6 * * * /bin/sh /tmp/backup-run postgres');
    const lock = resources(json, 'cloudflare_r2_bucket_lock')['backup-bucket-lock'];
    expect(lock.rules.find((rule: any) => rule.prefix === 'postgres/').condition.max_age_seconds).toBe(14 * 86400);
  });

  it('staging encrypts to the default variable and has no heartbeat', () => {
    const env = envOf(container(app.synth('staging-data'), 'backup-job'));
    expect(env.BACKUP_AGE_RECIPIENT).toBe('${var.backup_age_recipient}');
    expect(env.BACKUP_HEARTBEAT_URL).toBeUndefined();
  });

  it('a literal public key is used as it is', () => {
    const literal = variant(manacore, (s) => (staging(s).data.backupEncryptionKey = RECIPIENT));
    expect(envOf(container(new SynthesizedSystem(literal).synth('staging-data'), 'backup-job')).BACKUP_AGE_RECIPIENT).toBe(RECIPIENT);
  });
});

describe('scripts inside Terraform strings', () => {
  it("escape every shell ${...} so Terraform passes the scripts on unchanged (no interpolation, no directive)", () => {
    let scripts = 0;
    for (const [name, resource] of Object.entries(resources(data, 'docker_container'))) {
      for (const part of [...(resource.command ?? []), ...(resource.entrypoint ?? [])] as string[]) {
        // A `${` not preceded by `$` is a Terraform expression; only the generated ones (tokens) may be.
        const expressions = part.match(/(?<!\$)\$\{[^}]*\}/g) ?? [];
        expect([name, expressions.filter((expression) => !/^\$\{(var|random_password|data|docker_image|hcloud_volume)\./.test(expression))]).toEqual([name, []]);
        expect([name, /(?<!%)%\{/.test(part)]).toEqual([name, false]);
        if (part.includes('$${')) scripts++;
      }
    }
    expect(scripts).toBeGreaterThanOrEqual(2);
    const job = container(data, 'backup-job');
    expect((job.command[2] as string).replace(/\$\$\{/g, '${')).toContain('upload "${BACKUP_POSTGRES_PREFIX}${db}/${stamp}.dump.age"');
  });
});

describe('data credentials reach only the services that declare them', () => {
  it('every production container has DATABASE_URL / REDIS_URL exactly when its service uses postgres / redis', () => {
    let checked = 0;
    for (const product of app.environment('production').environment.products) {
      const json = app.synth(product.stackName);
      for (const service of product.services.filter((s) => s.runsContainer)) {
        const env = envOf(container(json, service.id));
        expect([service.id, 'DATABASE_URL' in env]).toEqual([service.id, service.uses.includes('postgres')]);
        expect([service.id, 'REDIS_URL' in env]).toEqual([service.id, service.uses.includes('redis')]);
        checked++;
      }
    }
    // Public web and landing containers exist and were among those checked.
    expect(checked).toBeGreaterThan(20);
  });
});

describe('cron gaps (the RPO of a schedule)', () => {
  it.each([
    ['0 3 * * *', 1440],
    ['15 */6 * * *', 360],
    ['0 3 * * 0', 7 * 1440],
    ['0 3,15 * * 1-5', 3 * 1440 - 12 * 60],
    ['*/5 * * * *', 5],
    ['0 0 1 * *', 31 * 1440],
  ])('%s runs at least every %d minutes', (cron, minutes) => {
    expect(maxCronIntervalMinutes(cron)).toBe(minutes);
  });

  it('refuses what it cannot read: four fields, out-of-range values, names', () => {
    expect(() => parseCron('0 3 * *')).toThrow(/not a five-field cron expression/);
    expect(() => parseCron('0 25 * * *')).toThrow(/hour "25" must stay within 0-23/);
    expect(() => parseCron('0 3 * * MON')).toThrow(/day of week "MON" must be/);
    expect(() => maxCronIntervalMinutes('0 0 30 2 *')).toThrow(/never runs twice/);
  });
});

describe('bad backup settings', () => {
  it.each<[string, (s: WritableSystem) => void, string[]]>([
    [
      'a retention shorter than the schedule',
      (s) => (production(s).data.backupPlan = { postgres: { cron: '0 3 * * 0', keepForDays: 3 } }),
      [
        'environment "production", field "data.backupPlan.postgres.keepForDays": got 3; allowed: a whole number of days, at least 14 (twice the longest gap of 7 day(s) between runs of "0 3 * * 0") (a retention shorter than the schedule leaves moments with no dump at all, and one failed run loses the last good one)',
      ],
    ],
    [
      'a schedule that is not cron',
      (s) => (production(s).data.backupPlan = { redis: { cron: 'daily' } }),
      [
        'environment "production", field "data.backupPlan.redis.cron": got "daily"; allowed: a five-field cron expression (UTC) with *, numbers, ranges, lists and /steps, e.g. "0 3 * * *" ("daily" is not a five-field cron expression such as "0 3 * * *")',
      ],
    ],
    [
      'a heartbeat URL as a plain value',
      (s) => ((production(s).data as { backupHeartbeatUrl?: unknown }).backupHeartbeatUrl = 'https://hc-ping.com/0f6e-secret'),
      [
        'environment "production", field "data.backupHeartbeatUrl": got "(a plain URL, not shown)"; allowed: { secret: "<sensitive terraform variable>" } (the heartbeat URL is a credential of the monitor (anyone holding it can fake a good backup); it must not be a plain value in the code or the plan)',
      ],
    ],
    [
      'no encryption key and no heartbeat in production',
      (s) => {
        delete production(s).data.backupEncryptionKey;
        delete production(s).data.backupHeartbeatUrl;
      },
      [
        'environment "production", field "data.backupEncryptionKey": got undefined; allowed: an age public key ("age1...") or { variable: "<terraform variable>" } holding one (production dumps leave the host for the bucket and must be encrypted; the private key stays with the operators)',
        'environment "production", field "data.backupHeartbeatUrl": got undefined; allowed: { secret: "<sensitive terraform variable>" } holding a dead-man\'s-switch URL (healthchecks.io, Better Stack, ...) (without it, dumps that stop are noticed only when a restore is needed)',
      ],
    ],
    [
      'a private key instead of the public one',
      (s) => (production(s).data.backupEncryptionKey = 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ'),
      [
        'environment "production", field "data.backupEncryptionKey": got "(an age private key, not shown)"; allowed: the public key (age1...) only (the private key never enters the project; the operators keep it offline for restores)',
      ],
    ],
    [
      'a malformed public key',
      (s) => (staging(s).data.backupEncryptionKey = 'age1short'),
      [
        'environment "staging", field "data.backupEncryptionKey": got "age1short"; allowed: an age public key ("age1" and 58 bech32 characters, from age-keygen -y) or { variable: "<terraform variable>" }',
      ],
    ],
    [
      'a connection limit of zero',
      (s) => (production(s).data.postgres = { mode: 'container', volumeSizeGiB: 100, connectionsPerProduct: 0 }),
      ['environment "production", field "data.postgres.connectionsPerProduct": got 0; allowed: a whole number from 1 to 500'],
    ],
    [
      'max_connections below the products\' limits',
      (s) => (production(s).data.postgres = { mode: 'container', volumeSizeGiB: 100, maxConnections: 100, connectionsPerProduct: 15 }),
      [
        `environment "production", field "data.postgres.maxConnections": got 100; allowed: at least ${PRODUCTS_WITH_DATABASES * 15 + 10}: ${PRODUCTS_WITH_DATABASES} product database(s) x 15 connections (data.postgres.connectionsPerProduct) + 10 reserved, or leave it unset to get exactly that (each product role may hold its connection limit; the server must admit them all plus the superuser, the dump job and the provisioner)`,
      ],
    ],
  ])('%s', (_name, mutate, lines) => {
    expect(issueLines(variant(manacore, mutate))).toEqual(lines);
  });
});
