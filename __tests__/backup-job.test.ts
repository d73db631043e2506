import { Testing } from 'cdktf';
import { manacore } from '../environments';
import type { SystemSpec } from '../system/model';
import { resolveSystem } from '../system/resolve';
import { createSystemStacks } from '../stacks/system-stacks';
import { nutri } from '../examples/nutri';
import { planCapacity } from '../system/capacity';
import { variant } from './helpers/spec';

type Json = Record<string, any>;

function dataStackOf(system: SystemSpec, environment: string): Json {
  const app = Testing.app();
  const stacks = createSystemStacks(app, system, { onWarning: () => undefined });
  const data = stacks.find((s) => s.environment.name === environment)!.data;
  return JSON.parse(Testing.synth(data));
}

describe('backup job', () => {
  let production: Json;
  beforeAll(() => {
    production = dataStackOf(manacore, 'production');
  });

  it('dumps Postgres at 03:00 and Redis at 04:00 UTC into their bucket prefixes', () => {
    const env: string[] = production.resource.docker_container['backup-job'].env;
    expect(env).toEqual(
      expect.arrayContaining([
        'TZ=UTC',
        'BACKUP_POSTGRES_CRON=0 3 * * *',
        'BACKUP_POSTGRES_PREFIX=postgres/',
        'BACKUP_REDIS_CRON=0 4 * * *',
        'BACKUP_REDIS_PREFIX=redis/',
        'PGHOST=postgres',
        'REDIS_HOST=redis',
        // The admin ACL user: the `default` user may only PING, and `redis-cli --rdb` is a replica's SYNC.
        'REDIS_USER=ops_admin',
        'S3_BUCKET=${cloudflare_r2_bucket.backup-bucket.name}',
      ]),
    );
    expect(env.find((e) => e.startsWith('BACKUP_POSTGRES_DATABASES='))).toContain('chat');
  });

  it('keeps the dumps as long as the bucket lifecycle says: 30 days for postgres/, 7 for redis/', () => {
    const lifecycle = Object.values(production.resource.cloudflare_r2_bucket_lifecycle)[0] as Json;
    const days = Object.fromEntries(
      (lifecycle.rules as Json[]).filter((rule) => rule.delete_objects_transition).map((rule) => [rule.conditions.prefix, rule.delete_objects_transition.condition.max_age]),
    );
    expect(days).toEqual({ 'postgres/': 30 * 86400, 'redis/': 7 * 86400 });
  });

  it('gets every credential as a reference, never a value', () => {
    const env: string[] = production.resource.docker_container['backup-job'].env;
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'PGPASSWORD', 'REDISCLI_AUTH']) {
      expect(env.find((e) => e.startsWith(`${name}=`))).toMatch(new RegExp(`^${name}=\\$\\{(var|random_password)\\.`));
    }
    expect(production.variable.backup_r2_secret_access_key).toMatchObject({ sensitive: true });
  });

  it('joins the data network and, for R2, the backend network; runs hardened from a pinned image', () => {
    const job = production.resource.docker_container['backup-job'];
    expect(job.networks_advanced.map((n: Json) => n.name)).toEqual([
      '${data.terraform_remote_state.outputs-production-edge.outputs.host_app_1_docker_network_data}',
      '${data.terraform_remote_state.outputs-production-edge.outputs.host_app_1_docker_network_backend}',
    ]);
    // busybox crond switches to the crontab's user for each job: root, with SETUID/SETGID and nothing else.
    expect(job).toMatchObject({ user: 'root', read_only: true, capabilities: { drop: ['ALL'], add: ['SETGID', 'SETUID'] } });
    expect(job.ports).toBeUndefined();
    expect(production.resource.docker_image['backup-job'].name).toBe('ghcr.io/manacore/db-backup:main-0000000');
  });

  it('is required in production while a data service runs as a container', () => {
    const withoutJob: SystemSpec = {
      ...manacore,
      environments: manacore.environments.map((e) => (e.production ? { ...e, data: { ...e.data, backupImageTag: undefined } } : e)),
    };
    expect(() => resolveSystem(withoutJob)).toThrow(
      'environment "production", field "data.backupImageTag": got undefined; allowed: the tag of the backup job image, e.g. "main-<sha>" (production data containers are dumped to the backup bucket every night)',
    );
  });

  it('does not exist where the data services are external (Nutri: Supabase, Upstash)', () => {
    const data = dataStackOf(nutri, 'production');
    expect(data.resource?.docker_container?.['backup-job']).toBeUndefined();
  });

  it('is neither created nor counted by capacity planning where the data is external, even with a backup tag', () => {
    const tagged = variant(nutri, (system) => {
      system.environments[0]!.data.backupImageTag = 'v1.0.0';
    });
    const environment = resolveSystem(tagged).environments[0]!;
    expect(environment.data.backupJob).toBeUndefined();
    const consumers = planCapacity(environment).hosts.flatMap((host) => host.consumers.map((consumer) => consumer.name));
    expect(consumers).not.toContain('backup job');
    expect(dataStackOf(tagged, environment.name).resource?.docker_container?.['backup-job']).toBeUndefined();
  });

  it('is counted by capacity planning exactly where the data stack creates it', () => {
    const environment = resolveSystem(manacore).environments.find((e) => e.production)!;
    const consumers = planCapacity(environment).hosts.flatMap((host) => host.consumers.map((consumer) => consumer.name));
    expect(consumers).toContain('backup job');
    expect(production.resource.docker_container['backup-job']).toBeDefined();
  });
});
