/**
 * The e2e harness runs Terraform Cloud stacks against local state: the `cloud` block becomes the local backend
 * and `tfe_outputs` becomes `terraform_remote_state` (tools/e2e/backend-swap.ts). Checked on the real synth
 * with TFC_ORGANIZATION set.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { manacore } from '../../environments';
import { swapCloudForLocal } from '../../tools/e2e/backend-swap';
import { synthesize } from '../../tools/e2e/synth';

let outdir: string;
const stackJson = (stack: string) => JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8'));
const options = (stack: string) => ({
  stack,
  stackOfWorkspace: (workspace: string) => {
    if (!workspace.startsWith('manacore-')) throw new Error(`not a manacore workspace: ${workspace}`);
    return workspace.slice('manacore-'.length);
  },
  statePath: (name: string) => `/state/terraform.${name}.tfstate`,
});

beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-swap-'));
  synthesize(manacore, outdir, 'acme');
});
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

test('the cloud block becomes the local backend at the stack\'s own state file', () => {
  const original = stackJson('staging-chat');
  expect(original.terraform.cloud).toEqual({ organization: 'acme', workspaces: { name: 'manacore-staging-chat' } });
  const swapped = swapCloudForLocal(original, options('staging-chat'));
  expect(swapped.terraform.cloud).toBeUndefined();
  expect(swapped.terraform.backend).toEqual({ local: { path: '/state/terraform.staging-chat.tfstate' } });
  expect(swapped.terraform.required_providers).toEqual(original.terraform.required_providers);
});

test('each tfe_outputs becomes a terraform_remote_state of that workspace, and every reference follows', () => {
  const original = stackJson('staging-chat');
  expect(Object.keys(original.data.tfe_outputs).sort()).toEqual(['outputs-staging-chat-credentials', 'outputs-staging-edge', 'outputs-staging-network']);
  const swapped = swapCloudForLocal(original, options('staging-chat'));
  expect(swapped.data.tfe_outputs).toBeUndefined();
  expect(swapped.data.terraform_remote_state['outputs-staging-chat-credentials']).toMatchObject({
    backend: 'local',
    config: { path: '/state/terraform.staging-chat-credentials.tfstate' },
    // Read in deploy order, with the check that the producer's state holds what is read (StackOutputs).
    depends_on: ['data.terraform_remote_state.outputs-staging-edge'],
    lifecycle: { postcondition: [{ condition: '${alltrue([for name in ["database_url","redis_url"] : contains(keys(self.outputs), name)])}' }] },
  });
  expect(original.data.tfe_outputs['outputs-staging-chat-credentials'].lifecycle.postcondition[0].condition).toContain('keys(nonsensitive(self.values))');
  // cdktf's own metadata ("//") lists which overrides it applied, by resource type; Terraform ignores it.
  const text = JSON.stringify({ ...swapped, '//': undefined });
  expect(text).not.toMatch(/tfe_outputs/);
  // values (sensitive) and nonsensitive_values both read the remote state's outputs.
  const env = (json: any) => json.resource.docker_container['chat-backend'].env as string[];
  expect(env(original)).toContain('DATABASE_URL=${data.tfe_outputs.outputs-staging-chat-credentials.values["database_url"]}');
  expect(env(swapped)).toContain('DATABASE_URL=${data.terraform_remote_state.outputs-staging-chat-credentials.outputs["database_url"]}');
  const zone = (json: any) => json.resource.cloudflare_dns_record['dns-chat-web-a'].zone_id as string;
  expect(zone(original)).toBe('${data.tfe_outputs.outputs-staging-network.nonsensitive_values["cloudflare_zone_id"]}');
  expect(zone(swapped)).toBe('${data.terraform_remote_state.outputs-staging-network.outputs["cloudflare_zone_id"]}');
  // Nothing else changed: the swap only rewrote the backend and the cross-stack reads.
  expect(Object.keys(swapped.resource)).toEqual(Object.keys(original.resource));
});

test('a stack without a cloud block, or a workspace of another system, is refused with a clear error', () => {
  expect(() => swapCloudForLocal({ terraform: { backend: { local: {} } } }, options('x'))).toThrow('e2e: stack x has no cloud block to swap');
  const stray = { terraform: { cloud: {} }, data: { tfe_outputs: { other: { organization: 'acme', workspace: 'billing-network' } } } };
  expect(() => swapCloudForLocal(stray, options('y'))).toThrow('not a manacore workspace: billing-network');
});
