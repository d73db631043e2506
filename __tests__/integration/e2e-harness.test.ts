/**
 * The offline Terraform harness (tools/e2e) catches, through Terraform itself and the mock providers, the
 * mistakes the project's own checks might miss, and reports each with Terraform's message, the stack and the
 * line in cdk.tf.json. Also: the launched (non-reattached) path, where Terraform starts the mock itself and
 * negotiates go-plugin's AutoMTLS.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Terraform, TerraformError, startSharedMock, writeCliConfig, type SharedMock } from '../../tools/e2e/terraform';

jest.setTimeout(60_000);

let workDir: string;
let mock: SharedMock;
let terraform: Terraform;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-harness-'));
  const cliConfig = writeCliConfig(workDir);
  mock = await startSharedMock(workDir);
  terraform = new Terraform(cliConfig, mock, {});
});

afterAll(async () => {
  await mock?.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

const PROVIDERS = { required_providers: { hcloud: { source: 'hetznercloud/hcloud', version: '1.68.0' } } };

/** Writes a stack directory; cdk.tf.json is indented like cdktf's, one key per line, so lines can be asserted. */
function writeStack(name: string, stack: object): { dir: string; text: string } {
  const dir = path.join(workDir, 'stacks', name);
  fs.mkdirSync(dir, { recursive: true });
  const text = JSON.stringify({ terraform: { ...PROVIDERS, backend: { local: { path: path.join(workDir, `${name}.tfstate`) } } }, provider: { hcloud: [{}] }, ...stack }, null, 2);
  fs.writeFileSync(path.join(dir, 'cdk.tf.json'), text);
  return { dir, text };
}

function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`test setup: ${needle} not in the stack`);
  return index + 1;
}

/** Runs init, validate and plan the way the harness does; returns the harness's error message. */
async function failureOf(name: string, dir: string): Promise<string> {
  try {
    await terraform.run(name, dir, ['init', '-input=false', '-no-color'], { reattach: false });
    await terraform.run(name, dir, ['validate', '-json', '-no-color']);
    await terraform.run(name, dir, ['plan', '-input=false', '-no-color']);
  } catch (error) {
    expect(error).toBeInstanceOf(TerraformError);
    return (error as Error).message;
  }
  throw new Error(`${name}: Terraform accepted the stack`);
}

function expectLine(message: string, line: number): void {
  const reported = [...message.matchAll(/cdk\.tf\.json(?::| line )(\d+)/g)].map((m) => Number(m[1]));
  expect(reported).toContain(line);
}

const sshKey = (extra: object) => ({ resource: { hcloud_ssh_key: { admin: { name: 'admin', public_key: 'ssh-ed25519 AAAAC3Nz e2e', ...extra } } } });

test('an unknown attribute fails with Terraform\'s message, the stack and the line', async () => {
  const { dir, text } = writeStack('mistake-unknown-attribute', sshKey({ colour: 'red' }));
  const message = await failureOf('mistake-unknown-attribute', dir);
  expect(message).toMatch(/^mistake-unknown-attribute: terraform validate failed/);
  expect(message).toContain('Extraneous JSON object property');
  expect(message).toContain('No argument or block type is named "colour"');
  expectLine(message, lineOf(text, '"colour"'));
});

test('a missing required attribute fails', async () => {
  const { dir, text } = writeStack('mistake-missing-required', { resource: { hcloud_ssh_key: { admin: { name: 'admin' } } } });
  const message = await failureOf('mistake-missing-required', dir);
  expect(message).toContain('mistake-missing-required');
  expect(message).toContain('Missing required argument');
  expect(message).toContain('"public_key" is required');
  // Terraform points at the resource's body (its closing brace in JSON).
  const reported = [...message.matchAll(/cdk\.tf\.json(?::| line )(\d+)/g)].map((m) => Number(m[1]));
  const start = lineOf(text, '"admin": {');
  expect(reported.some((line) => line >= start && line <= start + 3)).toBe(true);
});

test('a value of the wrong type fails', async () => {
  const { dir, text } = writeStack('mistake-wrong-type', sshKey({ labels: ['env', 'staging'] }));
  const message = await failureOf('mistake-wrong-type', dir);
  expect(message).toContain('mistake-wrong-type');
  expect(message).toContain('Incorrect attribute value type');
  expectLine(message, lineOf(text, '"labels"'));
});

test('setting a computed-only attribute fails', async () => {
  const { dir, text } = writeStack('mistake-computed-only', sshKey({ fingerprint: 'aa:bb' }));
  const message = await failureOf('mistake-computed-only', dir);
  expect(message).toContain('mistake-computed-only');
  expect(message).toContain('Invalid Configuration for Read-Only Attribute');
  expect(message).toContain('fingerprint');
  expectLine(message, lineOf(text, '"fingerprint"'));
});

test('a reference to an output another stack does not declare fails at plan', async () => {
  // The other stack's state, as its apply would have left it: one output, "network_id".
  const otherState = path.join(workDir, 'other.tfstate');
  fs.writeFileSync(
    otherState,
    JSON.stringify({ version: 4, terraform_version: '1.11.4', serial: 1, lineage: 'e2e-other', outputs: { network_id: { value: '42', type: 'string' } }, resources: [] }),
  );
  const { dir, text } = writeStack('mistake-undeclared-output', {
    data: { terraform_remote_state: { other: { backend: 'local', config: { path: otherState } } } },
    ...sshKey({ name: '${data.terraform_remote_state.other.outputs.network_name}' }),
  });
  const message = await failureOf('mistake-undeclared-output', dir);
  expect(message).toMatch(/^mistake-undeclared-output: terraform plan failed/);
  expect(message).toContain('Unsupported attribute');
  expect(message).toContain('network_name');
  expectLine(message, lineOf(text, 'outputs.network_name'));
});

test('the declared output of the same reference plans and applies (the failure above is the name, not the harness)', async () => {
  const otherState = path.join(workDir, 'other-ok.tfstate');
  fs.writeFileSync(
    otherState,
    JSON.stringify({ version: 4, terraform_version: '1.11.4', serial: 1, lineage: 'e2e-ok', outputs: { network_id: { value: '42', type: 'string' } }, resources: [] }),
  );
  const { dir } = writeStack('correct-reference', {
    data: { terraform_remote_state: { other: { backend: 'local', config: { path: otherState } } } },
    ...sshKey({ name: 'key-${data.terraform_remote_state.other.outputs.network_id}' }),
  });
  await terraform.run('correct-reference', dir, ['init', '-input=false', '-no-color'], { reattach: false });
  await terraform.run('correct-reference', dir, ['apply', '-input=false', '-no-color', '-auto-approve']);
  const state = JSON.parse(fs.readFileSync(path.join(workDir, 'correct-reference.tfstate'), 'utf8'));
  const key = state.resources.find((r: { type: string }) => r.type === 'hcloud_ssh_key').instances[0].attributes;
  expect(key.name).toBe('key-42');
  expect(key.fingerprint).toMatch(/^mock-fingerprint-[0-9a-f]{10}$/); // a computed value, filled at apply
  expect(key.id).toMatch(/^\d+$/);
});

test('Terraform can launch the mock itself (go-plugin handshake with AutoMTLS, no reattach)', async () => {
  const { dir } = writeStack('launched', sshKey({}));
  await terraform.run('launched', dir, ['init', '-input=false', '-no-color'], { reattach: false });
  const result = await terraform.run('launched', dir, ['validate', '-json', '-no-color'], { reattach: false });
  expect(JSON.parse(result.stdout).valid).toBe(true);
});

test('a mock that crashes is reported with its own error, which Terraform would hide', async () => {
  const { dir } = writeStack('crashing-mock', sshKey({}));
  await terraform.run('crashing-mock', dir, ['init', '-input=false', '-no-color'], { reattach: false });
  const failure = terraform.run('crashing-mock', dir, ['validate', '-json', '-no-color'], { reattach: false, env: { E2E_MOCK_CRASH_IN: 'GetProviderSchema' } });
  await expect(failure).rejects.toThrow(/crashing-mock: terraform validate failed/);
  await expect(failure).rejects.toThrow(/mock provider log[\s\S]*deliberate crash in GetProviderSchema/);
});
