import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { changedStacks, normalizeSynthesizedStack } from '../scripts/plan-comment/changed-stacks';
import { main } from '../scripts/plan-comment/cli';

interface SynthOptions {
  readonly cdktfVersion?: string;
  readonly constructPath?: string;
  readonly serverType?: string;
  readonly reverseKeys?: boolean;
}

/** A `cdk.tf.json` shaped like cdktf 0.21 writes it, `//` metadata included. */
function synthesized(stack: string, options: SynthOptions = {}): Record<string, unknown> {
  const server: Record<string, unknown> = {
    '//': {
      metadata: {
        path: options.constructPath ?? `${stack}/app/server`,
        uniqueId: 'app_server_1A2B3C',
        stackTrace: [`at new Server (${options.constructPath ?? 'constructs/hetzner/server.ts'}:12:5)`],
      },
    },
    image: 'debian-12',
    labels: { env: stack.split('-')[0], stack },
    name: `${stack}-app`,
    server_type: options.serverType ?? 'cx22',
  };
  const doc: Record<string, unknown> = {
    '//': {
      metadata: { backend: 'local', stackName: stack, version: options.cdktfVersion ?? '0.21.0' },
      outputs: { [stack]: { server_ip: 'server_ip' } },
    },
    output: { server_ip: { value: '${hcloud_server.app_server_1A2B3C.ipv4_address}' } },
    provider: { hcloud: [{}] },
    resource: { hcloud_server: { app_server_1A2B3C: server } },
    terraform: { required_providers: { hcloud: { source: 'hetznercloud/hcloud', version: '1.68.0' } } },
  };
  if (!options.reverseKeys) return doc;
  const reverse = (value: unknown): unknown =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverse(v)]))
      : value;
  return reverse(doc) as Record<string, unknown>;
}

describe('changedStacks', () => {
  let root: string;
  let base: string;
  let head: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'changed-stacks-'));
    base = path.join(root, 'base', 'cdktf.out');
    head = path.join(root, 'head', 'cdktf.out');
    fs.mkdirSync(base, { recursive: true });
    fs.mkdirSync(head, { recursive: true });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function write(outDir: string, stack: string, options: SynthOptions = {}): void {
    const dir = path.join(outDir, 'stacks', stack);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'cdk.tf.json'), JSON.stringify(synthesized(stack, options), null, 2));
  }

  function writeManifest(outDir: string, stacks: string[]): void {
    const entries = Object.fromEntries(
      stacks.map((name) => [name, { name, synthesizedStackPath: `stacks/${name}/cdk.tf.json`, workingDirectory: `stacks/${name}` }]),
    );
    fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify({ version: '0.21.0', stacks: entries }));
  }

  test('identical trees have no changed stacks', () => {
    write(base, 'staging-network');
    write(head, 'staging-network');
    expect(changedStacks(base, head)).toEqual({ changed: [], added: [], removed: [] });
  });

  test('a difference only in cdktf metadata (version, construct path, stack trace) is not a change', () => {
    write(base, 'staging-network');
    write(head, 'staging-network', { cdktfVersion: '0.21.1', constructPath: 'refactored/elsewhere/server' });
    expect(changedStacks(base, head).changed).toEqual([]);
  });

  test('a difference only in key order is not a change', () => {
    write(base, 'staging-network');
    write(head, 'staging-network', { reverseKeys: true });
    expect(changedStacks(base, head).changed).toEqual([]);
  });

  test('a real config difference is a change', () => {
    write(base, 'staging-network');
    write(base, 'staging-edge');
    write(head, 'staging-network', { serverType: 'cx32' });
    write(head, 'staging-edge');
    expect(changedStacks(base, head)).toEqual({ changed: ['staging-network'], added: [], removed: [] });
  });

  test('stacks only in head are added, stacks only in base are removed', () => {
    write(base, 'staging-network');
    write(base, 'staging-legacy');
    write(head, 'staging-network');
    write(head, 'production-chat');
    expect(changedStacks(base, head)).toEqual({ changed: [], added: ['production-chat'], removed: ['staging-legacy'] });
  });

  test('results are in rollout order: staging first, then network, edge, data, products', () => {
    const stacks = ['production-chat', 'staging-mail', 'staging-data', 'production-network', 'staging-network', 'staging-edge'];
    for (const stack of stacks) write(head, stack);
    expect(changedStacks(base, head).added).toEqual([
      'staging-network',
      'staging-edge',
      'staging-data',
      'staging-mail',
      'production-network',
      'production-chat',
    ]);
  });

  test('a base without any synthesized stacks counts every head stack as added', () => {
    write(head, 'staging-network');
    expect(changedStacks(base, head).added).toEqual(['staging-network']);
  });

  test('manifest.json decides which stacks exist, so a stale stack directory is ignored', () => {
    write(base, 'staging-network');
    write(head, 'staging-network');
    write(head, 'staging-old');
    writeManifest(head, ['staging-network']);
    expect(changedStacks(base, head)).toEqual({ changed: [], added: [], removed: [] });
  });

  test('a missing output directory is an error, not an empty tree', () => {
    expect(() => changedStacks(path.join(root, 'nope'), head)).toThrow(/Not a cdktf output directory/);
  });

  test('normalization drops every "//" key at any depth and nothing else', () => {
    expect(normalizeSynthesizedStack({ '//': 1, a: [{ '//': 2, b: 3 }], c: { '//': { x: 1 }, d: null } })).toEqual({
      a: [{ b: 3 }],
      c: { d: null },
    });
  });

  test('the CLI prints changed and added stacks one per line, or everything as JSON', () => {
    write(base, 'staging-network');
    write(base, 'staging-legacy');
    write(head, 'staging-network', { serverType: 'cx32' });
    write(head, 'production-chat');
    let stdout = '';
    let stderr = '';
    const io = { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stderr += t), env: {} };
    expect(main(['changed-stacks', base, head], io)).toBe(0);
    expect(stdout).toBe('staging-network\nproduction-chat\n');
    expect(stderr).toContain('staging-legacy');
    stdout = '';
    expect(main(['changed-stacks', '--json', base, head], io)).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      changed: ['staging-network'],
      added: ['production-chat'],
      removed: ['staging-legacy'],
      stacks: ['staging-network', 'production-chat'],
    });
  });
});
