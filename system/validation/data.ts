/** PostgreSQL and Redis, their backups, and snapshots. */
import { BACKUP_PLAN, DEFAULT_CONNECTIONS_PER_PRODUCT, REDIS_DEFAULTS } from '../defaults';
import { maxCronIntervalMinutes, minCronIntervalMinutes } from '../../constructs/core/cron';
import { POSTGRES_RESERVED_CONNECTIONS } from '../../constructs/docker/postgres-container';
import { DATA_DEPENDENCIES, type DataDependency, type EnvironmentSpec, type SystemSpec } from '../model';
import { checkImageTag, isImageRef } from './images';
import { AGE_RECIPIENT, IMAGE_REF_ALLOWED, NAME, Report, TERRAFORM_VARIABLE } from './shared';

/**
 * Shortest gap between two dumps of one data service. A dump reads the whole
 * database and is kept (locked against deletion) for the retention period:
 * hourly is already 24 a day; a smaller recovery point needs WAL archiving, not more dumps.
 */
export const MIN_BACKUP_INTERVAL_MINUTES = 60;

export function validateData(environment: EnvironmentSpec, report: Report): void {
  const hostNames = environment.hosts.map((h) => h.name);
  if (environment.data.host !== undefined && !hostNames.includes(environment.data.host)) {
    report({ field: 'data.host', value: environment.data.host, allowed: hostNames });
  }
  for (const name of DATA_DEPENDENCIES) {
    const spec = environment.data[name];
    if (spec.mode === 'container') {
      if (!Number.isInteger(spec.volumeSizeGiB) || spec.volumeSizeGiB < 10 || spec.volumeSizeGiB > 10240) {
        report({ field: `data.${name}.volumeSizeGiB`, value: spec.volumeSizeGiB, allowed: 'a whole number of GiB from 10 to 10240 (Hetzner volume limits)' });
      }
      if (spec.image !== undefined && !isImageRef(spec.image)) report({ field: `data.${name}.image`, value: spec.image, allowed: IMAGE_REF_ALLOWED });
      if (name === 'redis' && (spec.maxConnections !== undefined || spec.settings !== undefined)) {
        report({ field: `data.redis.${spec.maxConnections !== undefined ? 'maxConnections' : 'settings'}`, value: spec.maxConnections ?? spec.settings, allowed: 'nothing: maxConnections and settings are PostgreSQL server settings' });
      }
      if (spec.maxConnections !== undefined && (!Number.isInteger(spec.maxConnections) || spec.maxConnections < 10 || spec.maxConnections > 5000)) {
        report({ field: `data.${name}.maxConnections`, value: spec.maxConnections, allowed: 'a whole number from 10 to 5000' });
      }
      for (const [setting, value] of Object.entries(spec.settings ?? {})) {
        if (!/^[a-z][a-z0-9_.]*$/.test(setting) || /[\n\r'"]/.test(value) || setting === 'max_connections') {
          report({
            field: `data.${name}.settings.${setting}`,
            value,
            allowed: 'a PostgreSQL parameter name (lowercase, "_", ".") with a one-line value without quotes; max_connections has its own field',
          });
        }
      }
    } else if (spec.mode !== 'external') {
      report({ field: `data.${name}.mode`, value: (spec as { mode: unknown }).mode, allowed: ['container', 'external'] });
    }
  }
  const backupTag = environment.data.backupImageTag;
  const runsDataContainers = DATA_DEPENDENCIES.some((name) => environment.data[name].mode === 'container');
  if (backupTag !== undefined) {
    checkImageTag(environment, 'data.backupImageTag', backupTag, report);
  } else if (environment.production && runsDataContainers) {
    report({
      field: 'data.backupImageTag',
      value: undefined,
      allowed: 'the tag of the backup job image, e.g. "main-<sha>"',
      why: 'production data containers are dumped to the backup bucket every night',
    });
  }
  validateBackups(environment, report, backupTag !== undefined && runsDataContainers);
  const preMigration = environment.data.preMigrationBackup;
  if (preMigration !== undefined && typeof preMigration !== 'boolean') {
    report({ field: 'data.preMigrationBackup', value: preMigration, allowed: 'true or false' });
  } else if (preMigration === true && environment.data.postgres.mode === 'container' && backupTag === undefined) {
    report({
      field: 'data.preMigrationBackup',
      value: true,
      allowed: 'false, or set data.backupImageTag',
      why: 'the pre-migration dump runs the backup job image, which data.backupImageTag names',
    });
  }
  const perProduct = environment.data.postgres.connectionsPerProduct;
  if (perProduct !== undefined && (!Number.isInteger(perProduct) || perProduct < 1 || perProduct > 500)) {
    report({ field: 'data.postgres.connectionsPerProduct', value: perProduct, allowed: 'a whole number from 1 to 500' });
  }
  const redis = environment.data.redis;
  if (redis.mode === 'container') {
    const maxMemory = redis.maxMemoryMiB ?? REDIS_DEFAULTS.maxMemoryMiB;
    const limit = redis.resources?.memoryLimitMiB ?? REDIS_DEFAULTS.resources.memoryLimitMiB;
    if (maxMemory >= limit) {
      report({
        field: 'data.redis.maxMemoryMiB',
        value: maxMemory,
        allowed: `less than the Redis container's memory limit (${limit} MiB)`,
        why: 'Redis needs headroom above maxmemory for buffers and the AOF rewrite, or the kernel kills it',
      });
    }
  }
}

/** Schedules and retention, the encryption key and the heartbeat of the dump job. */
function validateBackups(environment: EnvironmentSpec, report: Report, hasJob: boolean): void {
  const data = environment.data;
  for (const [name, plan] of Object.entries(data.backupPlan ?? {})) {
    if (!(DATA_DEPENDENCIES as readonly string[]).includes(name)) {
      report({ field: `data.backupPlan.${name}`, value: name, allowed: [...DATA_DEPENDENCIES] });
      continue;
    }
    const cron = plan?.cron ?? BACKUP_PLAN[name as DataDependency].cron;
    let intervalMinutes: number | undefined;
    try {
      intervalMinutes = maxCronIntervalMinutes(cron);
    } catch (error) {
      report({ field: `data.backupPlan.${name}.cron`, value: cron, allowed: 'a five-field cron expression (UTC) with *, numbers, ranges, lists and /steps, e.g. "0 3 * * *"', why: (error as Error).message });
      continue;
    }
    const shortestMinutes = minCronIntervalMinutes(cron);
    if (shortestMinutes < MIN_BACKUP_INTERVAL_MINUTES) {
      report({
        field: `data.backupPlan.${name}.cron`,
        value: cron,
        allowed: `a schedule whose runs are at least ${formatMinutes(MIN_BACKUP_INTERVAL_MINUTES)} apart (e.g. "0 * * * *" hourly, "0 3 * * *" daily); "${cron}" runs ${formatMinutes(shortestMinutes)} apart`,
        why: `every run dumps the whole ${name} under load and keeps the dump locked for keepForDays: a run every ${formatMinutes(shortestMinutes)} is ${Math.floor(1440 / shortestMinutes)} locked dumps a day`,
      });
    }
    const keepForDays = plan?.keepForDays ?? BACKUP_PLAN[name as DataDependency].keepFor.toDays();
    const minimumDays = Math.ceil((2 * intervalMinutes) / 1440);
    if (!Number.isInteger(keepForDays) || keepForDays < minimumDays) {
      report({
        field: `data.backupPlan.${name}.keepForDays`,
        value: keepForDays,
        allowed: `a whole number of days, at least ${minimumDays} (twice the longest gap of ${formatMinutes(intervalMinutes)} between runs of "${cron}")`,
        why: 'a retention shorter than the schedule leaves moments with no dump at all, and one failed run loses the last good one',
      });
    }
  }
  const key = data.backupEncryptionKey;
  if (typeof key === 'string') {
    if (/^AGE-SECRET-KEY-/i.test(key)) {
      report({ field: 'data.backupEncryptionKey', value: '(an age private key, not shown)', allowed: 'the public key (age1...) only', why: 'the private key never enters the project; the operators keep it offline for restores' });
    } else if (!AGE_RECIPIENT.test(key)) {
      report({ field: 'data.backupEncryptionKey', value: key, allowed: 'an age public key ("age1" and 58 bech32 characters, from age-keygen -y) or { variable: "<terraform variable>" }' });
    }
  } else if (key !== undefined && !TERRAFORM_VARIABLE.test(key.variable)) {
    report({ field: 'data.backupEncryptionKey.variable', value: key.variable, allowed: 'a Terraform variable name: lowercase letters, digits and "_"' });
  } else if (key === undefined && environment.production && hasJob) {
    report({
      field: 'data.backupEncryptionKey',
      value: undefined,
      allowed: 'an age public key ("age1...") or { variable: "<terraform variable>" } holding one',
      why: 'production dumps leave the host for the bucket and must be encrypted; the private key stays with the operators',
    });
  }
  const heartbeat = data.backupHeartbeatUrl;
  if (typeof heartbeat === 'string') {
    report({
      field: 'data.backupHeartbeatUrl',
      value: /:\/\//.test(heartbeat) ? '(a plain URL, not shown)' : heartbeat,
      allowed: '{ secret: "<sensitive terraform variable>" }',
      why: 'the heartbeat URL is a credential of the monitor (anyone holding it can fake a good backup); it must not be a plain value in the code or the plan',
    });
  } else if (heartbeat !== undefined && !TERRAFORM_VARIABLE.test(heartbeat.secret)) {
    report({ field: 'data.backupHeartbeatUrl.secret', value: heartbeat.secret, allowed: 'a Terraform variable name: lowercase letters, digits and "_"' });
  } else if (heartbeat === undefined && environment.production && hasJob) {
    report({
      field: 'data.backupHeartbeatUrl',
      value: undefined,
      allowed: '{ secret: "<sensitive terraform variable>" } holding a dead-man\'s-switch URL (healthchecks.io, Better Stack, ...)',
      why: 'without it, dumps that stop are noticed only when a restore is needed',
    });
  }
}

/** `max_connections`, when set, must hold every product's connection limit plus the reserved ones. */
export function validatePostgresConnections(system: SystemSpec, environment: EnvironmentSpec, report: Report): void {
  const postgres = environment.data.postgres;
  if (postgres.mode !== 'container' || postgres.maxConnections === undefined) return;
  const users = environment.products.filter((deployment) => {
    const product = system.products.find((p) => p.name === deployment.product);
    return !deployment.externalData?.includes('postgres') && (product?.services ?? []).some((service) => service.uses?.includes('postgres'));
  }).length;
  const perProduct = postgres.connectionsPerProduct ?? DEFAULT_CONNECTIONS_PER_PRODUCT;
  const needed = users * perProduct + POSTGRES_RESERVED_CONNECTIONS;
  if (postgres.maxConnections < needed) {
    report({
      field: 'data.postgres.maxConnections',
      value: postgres.maxConnections,
      allowed: `at least ${needed}: ${users} product database(s) x ${perProduct} connections (data.postgres.connectionsPerProduct) + ${POSTGRES_RESERVED_CONNECTIONS} reserved, or leave it unset to get exactly that`,
      why: 'each product role may hold its connection limit; the server must admit them all plus the superuser, the dump job and the provisioner',
    });
  }
}

function formatMinutes(minutes: number): string {
  return minutes % 1440 === 0 ? `${minutes / 1440} day(s)` : minutes % 60 === 0 ? `${minutes / 60} hour(s)` : `${minutes} minute(s)`;
}

export function validateSnapshots(environment: EnvironmentSpec, report: Report): void {
  const hostNames = environment.hosts.map((h) => h.name);
  const names = new Set<string>();
  for (const snapshot of environment.snapshots ?? []) {
    if (names.has(snapshot.name) || !NAME.test(snapshot.name)) {
      report({ field: `snapshots.${snapshot.name}`, value: snapshot.name, allowed: 'unique lowercase names' });
    }
    names.add(snapshot.name);
    if (!hostNames.includes(snapshot.host)) report({ field: `snapshots.${snapshot.name}.host`, value: snapshot.host, allowed: hostNames });
    if (snapshot.reason.trim() === '') report({ field: `snapshots.${snapshot.name}.reason`, value: snapshot.reason, allowed: 'a short reason' });
  }
}
