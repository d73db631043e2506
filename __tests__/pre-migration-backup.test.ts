/**
 * The pre-migration backup in the synthesized JSON: production dumps the
 * product's database, as the product's own role, into the backup bucket
 * before its release tasks run, once per release; staging does not unless
 * asked. The script itself runs against real PostgreSQL in the restore drill.
 */
import { manacore } from '../environments';
import { resolveSystem } from '../system/resolve';
import { validateSystem } from '../system/validation';
import { PRE_MIGRATION_BACKUP_TASK } from '../constructs/docker/pre-migration-backup';
import { container, envOf, labelsOf } from './helpers/docker';
import { environmentOf, variant } from './helpers/spec';
import { SynthesizedSystem, resources, type TerraformJson } from './helpers/synth';

const BACKUP = `chat-${PRE_MIGRATION_BACKUP_TASK}`;
const MIGRATE = 'chat-backend-migrate';

function chatIn(environment: string, tag: string, mutate: (system: any) => void = () => undefined): TerraformJson {
  return new SynthesizedSystem(
    variant(manacore, (system) => {
      environmentOf(system, environment).products.find((deployment) => deployment.product === 'chat')!.imageTag = tag;
      mutate(system);
    }),
  ).synth(`${environment}-chat`);
}

let chat: TerraformJson;
let chatNext: TerraformJson;
beforeAll(() => {
  chat = chatIn('production', 'main-1111111');
  chatNext = chatIn('production', 'main-2222222');
});

describe('a pre-migration backup', () => {
  it('runs before every release task of the product, which depend on it', () => {
    const backup = container(chat, BACKUP);
    expect(backup.attach).toBe(true);
    expect(backup.must_run).toBe(false);
    expect(container(chat, MIGRATE).depends_on).toContain(`docker_container.${BACKUP}`);
    // and, through the task, every service container waits for it
    expect(container(chat, 'chat-backend').depends_on).toContain(`docker_container.${MIGRATE}`);
  });

  it("dumps as the product's own role (its DATABASE_URL from its credentials stack), never the superuser", () => {
    const env = envOf(container(chat, BACKUP));
    expect(env.DATABASE_URL).toBe(envOf(container(chat, MIGRATE)).DATABASE_URL);
    expect(env.DATABASE_URL).toMatch(/^\$\{data\.terraform_remote_state\..*credentials.*database_url/);
    expect(Object.keys(env).filter((name) => name.startsWith('PG'))).toEqual([]);
    expect(JSON.stringify(chat)).not.toMatch(/postgres_password|"PGUSER"/);
  });

  it('writes to the backup bucket with sensitive variables of this stack, nothing secret as a literal', () => {
    const env = envOf(container(chat, BACKUP));
    expect(env.S3_BUCKET).toBe('manacore-production-backups');
    expect(env.S3_ENDPOINT).toBe('https://${var.cloudflare_account_id}.r2.cloudflarestorage.com');
    expect(env.AWS_ACCESS_KEY_ID).toBe('${var.backup_r2_access_key_id}');
    expect(env.AWS_SECRET_ACCESS_KEY).toBe('${var.backup_r2_secret_access_key}');
    const variables = (chat as any).variable;
    expect(variables.backup_r2_access_key_id.sensitive).toBe(true);
    expect(variables.backup_r2_secret_access_key.sensitive).toBe(true);
    expect(env.BACKUP_AGE_RECIPIENT).toMatch(/^age1|^\$\{var\./);
  });

  it('names its object by product, released tag and time, under the Postgres prefix the bucket keeps 30 days', () => {
    const backup = container(chat, BACKUP);
    const env = envOf(backup);
    expect(env).toMatchObject({ BACKUP_PRODUCT: 'chat', BACKUP_RELEASE_TAG: 'main-1111111', BACKUP_POSTGRES_PREFIX: 'postgres/' });
    expect(backup.command.slice(-2)).toEqual(['backup-run', 'pre-migration']);
    expect(backup.command[2]).toContain('pre-migration/$${BACKUP_PRODUCT}/$${BACKUP_RELEASE_TAG}-$${stamp}.dump.age');
    expect(labelsOf(backup)).toMatchObject({ task: PRE_MIGRATION_BACKUP_TASK, product: 'chat', 'image.tag': 'main-1111111' });
  });

  it('reaches PostgreSQL on the data network and R2 through the backend network', () => {
    const networks = container(chat, BACKUP).networks_advanced.map((network: { name: string }) => network.name);
    expect(networks).toHaveLength(2);
    expect(networks.join(' ')).toMatch(/outputs-production-edge\.outputs\.host_app_1_docker_network_data\} .*host_app_1_docker_network_backend\}$/);
  });

  it('fails the apply naming itself, like every release task', () => {
    const [postcondition] = container(chat, BACKUP).lifecycle.postcondition;
    expect(postcondition.condition).toBe('${self.exit_code == 0}');
    expect(postcondition.error_message).toContain(`Release task "${PRE_MIGRATION_BACKUP_TASK}" of chat (main-1111111) failed`);
  });

  it('runs again exactly when a task it precedes does: its revision keeps the tasks\' revisions', () => {
    const revision = resources(chat, 'random_id')[`${BACKUP}-revision`];
    expect(revision.keepers.references).toContain(`random_id.${MIGRATE}-revision.hex`);
    // a new tag renames (replaces) both
    expect(container(chatNext, BACKUP).name).toContain('main-2222222');
    expect(container(chat, BACKUP).name).toMatch(/^chat-pre-migration-backup-main-1111111-\$\{random_id/);
  });

  it('is off in staging by default, and on when staging asks for it', () => {
    const staging = chatIn('staging', 'main-1111111');
    expect(resources(staging, 'docker_container')[BACKUP]).toBeUndefined();
    expect(resources(staging, 'docker_container')[MIGRATE]).toBeDefined();
    const asked = chatIn('staging', 'main-1111111', (system) => {
      const data = environmentOf(system, 'staging').data as any;
      data.preMigrationBackup = true;
      data.backupImageTag ??= 'main-abcdef0';
    });
    expect(container(asked, MIGRATE).depends_on).toContain(`docker_container.${BACKUP}`);
  });

  it('is off in production when asked, and refused without a backup image', () => {
    const off = chatIn('production', 'main-1111111', (system) => ((environmentOf(system, 'production').data as any).preMigrationBackup = false));
    expect(resources(off, 'docker_container')[BACKUP]).toBeUndefined();
    const spec = variant(manacore, (system) => {
      const data = environmentOf(system, 'staging').data as any;
      data.preMigrationBackup = true;
      delete data.backupImageTag;
    });
    expect(validateSystem(spec).map((issue) => JSON.stringify(issue)).join('\n')).toMatch(/staging.*data\.preMigrationBackup.*data\.backupImageTag/);
    expect(resolveSystem(manacore).environments.find((environment) => environment.name === 'production')!.data.preMigrationBackup).toBe(true);
  });
});
