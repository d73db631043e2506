/**
 * The upgrade to credentials stacks keeps every password (docs/deploying.md, "Upgrading from passwords in
 * the data stack"), proven with the real terraform binary and the harness's mock random provider: a data
 * state of the old layout is applied, scripts/migrate/credentials.ts moves the passwords, and a plan of the
 * synthesized credentials stack against the moved state has nothing to change.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { manacore } from '../../environments';
import { applyLocalMoves, describeMoves, passwordMoves } from '../../scripts/migrate/credentials';
import { readSynthesizedApp } from '../../scripts/lib/synthesized';
import { synthesizeSystem } from '../../stacks/app';
import { Terraform, startSharedMock, writeCliConfig, type SharedMock } from '../../tools/e2e/terraform';

jest.setTimeout(120_000);

let root: string;
let mock: SharedMock;
let terraform: Terraform;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-credentials-'));
  mock = await startSharedMock(root);
  terraform = new Terraform(writeCliConfig(root), mock, {});
  synthesizeSystem(manacore, { outdir: path.join(root, 'cdktf.out'), onWarning: () => undefined });
});

afterAll(async () => {
  await mock?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** What a saved plan would do to each resource, from `terraform show -json`. */
async function plannedActions(stack: string, dir: string): Promise<Record<string, string[]>> {
  await terraform.run(stack, dir, ['plan', '-input=false', '-no-color', '-out=tfplan']);
  const shown = JSON.parse((await terraform.run(stack, dir, ['show', '-json', 'tfplan'])).stdout) as { resource_changes?: Array<{ address: string; change: { actions: string[] } }> };
  return Object.fromEntries((shown.resource_changes ?? []).map((change) => [change.address, change.change.actions]));
}

type State = { resources: Array<{ type: string; name: string; instances: Array<{ attributes: { result: string } }> }> };
const readState = (stack: string): State => JSON.parse(fs.readFileSync(path.join(root, `terraform.${stack}.tfstate`), 'utf8'));
const resultOf = (state: State, name: string) => state.resources.find((resource) => resource.type === 'random_password' && resource.name === name)?.instances[0]?.attributes.result;

it('moves chat\'s passwords out of the old data state, keeps their values, and the credentials stack then plans no change', async () => {
  // The data stack as it was: chat's role and ACL-user passwords generated there, beside the superuser's.
  const oldData = path.join(root, 'old-data');
  fs.mkdirSync(oldData);
  const password = { length: 32, special: false };
  fs.writeFileSync(
    path.join(oldData, 'main.tf.json'),
    JSON.stringify({
      terraform: { required_providers: { random: { source: 'hashicorp/random', version: '3.7.2' } }, backend: { local: { path: path.join(root, 'terraform.production-data.tfstate') } } },
      provider: { random: [{}] },
      resource: { random_password: { 'postgres-superuser-password': password, 'postgres-password-chat': password, 'redis-password-chat': password } },
    }),
  );
  await terraform.run('old-data', oldData, ['init', '-input=false', '-no-color'], { reattach: false });
  await terraform.run('old-data', oldData, ['apply', '-input=false', '-no-color', '-auto-approve']);
  const before = readState('production-data');

  const app = readSynthesizedApp(path.join(root, 'cdktf.out'));
  const moves = passwordMoves(app);
  expect(moves.filter((move) => move.credentialsStack === 'production-chat-credentials')).toEqual([
    { dataStack: 'production-data', credentialsStack: 'production-chat-credentials', from: 'random_password.postgres-password-chat', to: 'random_password.postgres-role-password' },
    { dataStack: 'production-data', credentialsStack: 'production-chat-credentials', from: 'random_password.redis-password-chat', to: 'random_password.redis-user-password' },
  ]);
  // Only what is still in a data state is pending: chat's two, nobody else's (their old passwords were never applied here).
  const { commands, pending } = describeMoves(app, root, moves);
  expect(pending.map((move) => move.from)).toEqual(['random_password.postgres-password-chat', 'random_password.redis-password-chat']);
  expect(commands[0]).toBe(
    'terraform state mv -state=terraform.production-data.tfstate -state-out=terraform.production-chat-credentials.tfstate random_password.postgres-password-chat random_password.postgres-role-password',
  );
  applyLocalMoves(root, commands);

  const credentials = readState('production-chat-credentials');
  expect(resultOf(credentials, 'postgres-role-password')).toBe(resultOf(before, 'postgres-password-chat'));
  expect(resultOf(credentials, 'redis-user-password')).toBe(resultOf(before, 'redis-password-chat'));
  const after = readState('production-data');
  expect(after.resources.map((resource) => resource.name)).toEqual(['postgres-superuser-password']);
  // Run again: nothing left to move.
  expect(describeMoves(app, root, moves).pending).toEqual([]);
  // A credentials stack applied before the move would keep a new password: refused, naming the way out.
  fs.copyFileSync(path.join(root, 'terraform.production-chat-credentials.tfstate'), path.join(root, 'terraform.production-news-credentials.tfstate'));
  const newsMove = { dataStack: 'production-data', credentialsStack: 'production-news-credentials', from: 'random_password.postgres-superuser-password', to: 'random_password.postgres-role-password' };
  expect(() => describeMoves(app, root, [newsMove])).toThrow(
    'production-news-credentials already has random_password.postgres-role-password while production-data still holds random_password.postgres-superuser-password: to keep the current password, run `terraform state rm -state=terraform.production-news-credentials.tfstate random_password.postgres-role-password` (only while production-data is not yet applied with the new code), then this again',
  );
  fs.rmSync(path.join(root, 'terraform.production-news-credentials.tfstate'));

  // Terraform itself: the synthesized credentials stack against the moved state has nothing to do...
  const chatDir = path.join(root, 'cdktf.out', 'stacks', 'production-chat-credentials');
  await terraform.run('production-chat-credentials', chatDir, ['init', '-input=false', '-no-color'], { reattach: false });
  const actions = await plannedActions('production-chat-credentials', chatDir);
  // Only the new outputs are written ("without changing any real infrastructure").
  expect(actions).toEqual({ 'random_password.postgres-role-password': ['no-op'], 'random_password.redis-user-password': ['no-op'] });
  // ...while one that was not migrated would generate new passwords (the rotation the move avoids).
  const newsDir = path.join(root, 'cdktf.out', 'stacks', 'production-news-credentials');
  await terraform.run('production-news-credentials', newsDir, ['init', '-input=false', '-no-color'], { reattach: false });
  expect(await plannedActions('production-news-credentials', newsDir)).toEqual({ 'random_password.postgres-role-password': ['create'], 'random_password.redis-user-password': ['create'] });
});

it('under Terraform Cloud prints pull, move, push and the removal of the clear-text copies, in that order', () => {
  const outdir = path.join(root, 'cloud-out');
  synthesizeSystem(manacore, { outdir, terraformCloudOrganization: 'acme', onWarning: () => undefined });
  const app = readSynthesizedApp(outdir);
  const moves = passwordMoves(app).filter((move) => move.credentialsStack === 'staging-chat-credentials');
  const { commands, pending } = describeMoves(app, root, moves);
  expect(pending).toHaveLength(2);
  const kinds = commands.map((command) => (/state pull/.test(command) ? 'pull' : /state push/.test(command) ? 'push' : /state mv/.test(command) ? 'mv' : /^rm -f/.test(command) ? 'rm' : command));
  expect(kinds).toEqual(['pull', 'mv', 'push', 'pull', 'mv', 'push', 'rm']);
  expect(commands[1]).toBe('terraform state mv -state=staging-data.tfstate -state-out=staging-chat-credentials.tfstate random_password.postgres-password-chat random_password.postgres-role-password');
  expect(commands.at(-1)).toBe('rm -f staging-data.tfstate staging-chat-credentials.tfstate');
});
