/**
 * R2: the data stack's backup bucket with retention per prefix, an OTA bucket
 * per mobile app behind its custom domain, prevent_destroy in production.
 */
import { Testing, TerraformStack, TerraformVariable } from 'cdktf';
import { BackupBucket } from '../constructs/cloudflare/backup-bucket';
import { R2Bucket } from '../constructs/cloudflare/r2-bucket';
import { Duration } from '../constructs/core/duration';
import { SecretValue } from '../constructs/core/secret-value';
import { manacore } from '../environments';
import { environmentOf, variant } from './helpers/spec';
import { onlyResource, resources, SynthesizedSystem } from './helpers/synth';

const DAY = 86_400;

let app: SynthesizedSystem;
beforeAll(() => {
  app = new SynthesizedSystem(manacore);
});

describe('backup bucket', () => {
  it('lives in the data stack at a stable address, near the hosts', () => {
    expect(resources(app.synth('production-data'), 'cloudflare_r2_bucket')).toEqual({
      'backup-bucket': expect.objectContaining({ name: 'manacore-production-backups', location: 'weur', account_id: '${var.cloudflare_account_id}' }),
    });
  });

  it('is protected from destroy in production, not in staging', () => {
    expect(onlyResource(app.synth('production-data'), 'cloudflare_r2_bucket').lifecycle).toEqual({ prevent_destroy: true });
    expect(onlyResource(app.synth('staging-data'), 'cloudflare_r2_bucket').lifecycle).toEqual({ prevent_destroy: false });
  });

  it('expires postgres/ after 30 days and redis/ after 7, and aborts stale multipart uploads', () => {
    const lifecycle = resources(app.synth('production-data'), 'cloudflare_r2_bucket_lifecycle')['backup-bucket-lifecycle'];
    expect(lifecycle.bucket_name).toBe('${cloudflare_r2_bucket.backup-bucket.name}');
    expect(lifecycle.rules).toEqual([
      { id: 'expire-postgres', enabled: true, conditions: { prefix: 'postgres/' }, delete_objects_transition: { condition: { type: 'Age', max_age: 30 * DAY } } },
      { id: 'expire-redis', enabled: true, conditions: { prefix: 'redis/' }, delete_objects_transition: { condition: { type: 'Age', max_age: 7 * DAY } } },
      { id: 'abort-incomplete-uploads', enabled: true, conditions: { prefix: '' }, abort_multipart_uploads_transition: { condition: { type: 'Age', max_age: DAY } } },
    ]);
  });

  it('gives the backup job its S3 settings, credentials only as sensitive variables', () => {
    const job = app.synth('production-data').resource!.docker_container!['backup-job'];
    // R2 ignores the region but S3 clients insist on one; "auto" is R2's.
    expect(job.env).toContain('AWS_DEFAULT_REGION=auto');
    const variables = app.synth('production-data').variable!;
    for (const name of ['backup_r2_access_key_id', 'backup_r2_secret_access_key']) {
      expect(variables[name]).toMatchObject({ sensitive: true, type: 'string' });
      expect(variables[name].default).toBeUndefined();
    }
    expect(variables.cloudflare_account_id.sensitive).toBeUndefined();
  });

  it('is left out when both data services are external (nothing to back up here)', () => {
    const external = new SynthesizedSystem(
      variant(manacore, (system) => {
        system.environments = system.environments.filter((environment) => environment.name === 'staging');
        environmentOf(system, 'staging').data = { postgres: { mode: 'external', provider: 'supabase' }, redis: { mode: 'external', provider: 'upstash' } };
      }),
    );
    expect(resources(external.synth('staging-data'), 'cloudflare_r2_bucket')).toEqual({});
    expect(external.environment('staging').data.backupBucket).toBeUndefined();
  });

  it('refuses overlapping prefixes, fractional days and credentials from a non-sensitive variable', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const credentials = {
      accessKeyId: SecretValue.variable(stack, 'key_id', 'test'),
      secretAccessKey: SecretValue.variable(stack, 'secret', 'test'),
    };
    const props = { accountId: '0123456789abcdef0123456789abcdef', name: 'backups', credentials };
    expect(
      () => new BackupBucket(stack, 'a', { ...props, retention: [{ prefix: 'db/', keepFor: Duration.days(30) }, { prefix: 'db/redis/', keepFor: Duration.days(7) }] }),
    ).toThrow(/"db\/redis\/" overlaps "db\/"/);
    expect(() => new BackupBucket(stack, 'b', { ...props, retention: [{ prefix: 'db/', keepFor: Duration.seconds(3600) }] })).toThrow(/whole number of days/);
    expect(() => new BackupBucket(stack, 'c', { ...props, retention: [] })).toThrow(/kept forever/);
    const plain = new TerraformVariable(stack, 'plain', { type: 'string' });
    expect(() => SecretValue.fromVariable(plain)).toThrow(/is not sensitive/);
  });
});

describe('OTA buckets', () => {
  it('give chat a protected bucket in production, published on ota-chat with TLS 1.2+', () => {
    const json = app.synth('production-chat');
    expect(resources(json, 'cloudflare_r2_bucket')).toEqual({
      'chat-mobile-ota': expect.objectContaining({ name: 'manacore-production-chat-mobile', location: 'weur', lifecycle: { prevent_destroy: true } }),
    });
    expect(onlyResource(json, 'cloudflare_r2_custom_domain')).toMatchObject({
      domain: 'ota-chat.manacore.app',
      enabled: true,
      min_tls: '1.2',
      bucket_name: '${cloudflare_r2_bucket.chat-mobile-ota.name}',
      zone_id: '${data.terraform_remote_state.outputs-production-network.outputs.cloudflare_zone_id}',
    });
  });

  it('allow GET from any origin', () => {
    expect(onlyResource(app.synth('production-chat'), 'cloudflare_r2_bucket_cors').rules).toEqual([
      { id: 'public-read', allowed: { methods: ['GET'], origins: ['*'] }, max_age_seconds: DAY },
    ]);
  });

  it('follow the staging prefix and leave staging buckets destroyable', () => {
    const json = app.synth('staging-memoro');
    expect(onlyResource(json, 'cloudflare_r2_custom_domain').domain).toBe('staging-ota-memoro.manacore.app');
    expect(onlyResource(json, 'cloudflare_r2_bucket')).toMatchObject({ name: 'manacore-staging-memoro-mobile', lifecycle: { prevent_destroy: false } });
  });

  it('exist only for products with a mobile app', () => {
    for (const stack of ['production-bauntown', 'production-mana-core-auth', 'staging-uload']) {
      expect(resources(app.synth(stack), 'cloudflare_r2_bucket')).toEqual({});
    }
    for (const stack of ['production-bauntown', 'staging-uload']) expect(app.synth(stack).variable?.cloudflare_account_id).toBeUndefined();
    // mana-core-auth migrates its database in production: its pre-migration backup writes to the backup bucket's account.
    expect(JSON.stringify(resources(app.synth('production-mana-core-auth'), 'docker_container')['mana-core-auth-pre-migration-backup'].env)).toContain('${var.cloudflare_account_id}.r2.cloudflarestorage.com');
  });
});

describe('R2Bucket', () => {
  it('refuses names R2 would reject and unknown locations', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    expect(() => new R2Bucket(stack, 'upper', { accountId: 'x', name: 'Backups' })).toThrow(/3 to 63 lowercase letters/);
    expect(() => new R2Bucket(stack, 'where', { accountId: 'x', name: 'backups', location: 'mars' as 'weur' })).toThrow(/location must be one of weur/);
  });

  it('is protected by default and uses the jurisdiction endpoint', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const bucket = new R2Bucket(stack, 'eu', { accountId: 'acct', name: 'eu-data', jurisdiction: 'eu' });
    expect(bucket.s3Endpoint).toBe('https://acct.eu.r2.cloudflarestorage.com');
    expect(JSON.parse(Testing.synth(stack)).resource.cloudflare_r2_bucket.eu.lifecycle).toEqual({ prevent_destroy: true });
  });
});
