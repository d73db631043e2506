import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultIo, main, parseDeployArgs, type DeployIo } from '../../scripts/deploy/cli';
import { checkUpstream, cloudStateStatus, localStateStatus, missingCredentials, selectStacks, stateLocation, upstreamOf, type StateStatus } from '../../scripts/deploy/preflight';
import { readSynthesizedApp, type SynthesizedApp } from '../../scripts/lib/synthesized';
import { findOnPath, quietEnv } from '../../scripts/lib/tools';
import { synthToTemp } from '../helpers/synth-out';

const outdir = synthToTemp();
const app = readSynthesizedApp(outdir);

/**
 * A copy of a synth output in which production-chat runs a released tag, as after a promotion:
 * the committed production tags are placeholders, which the wrapper refuses (tested below).
 */
function withReleasedProductionChat(source: string): string {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'manacore-released-'));
  fs.cpSync(source, copy, { recursive: true });
  const file = path.join(copy, 'stacks', 'production-chat', 'cdk.tf.json');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replaceAll('main-0000000', 'main-4f2c9e1'));
  return copy;
}
const releasedOutdir = withReleasedProductionChat(outdir);

let cloudSynth: string | undefined;
/** The App synthesized under Terraform Cloud (TFC_ORGANIZATION=acme), once for the tests that read it. */
const cloudOutdir = (): string => (cloudSynth ??= synthToTemp({ TFC_ORGANIZATION: 'acme' }));

interface Recorded {
  readonly io: DeployIo;
  readonly out: string[];
  readonly err: string[];
  readonly runs: { command: string; args: readonly string[]; env: NodeJS.ProcessEnv }[];
}

/** An io whose synth step is a no-op (outdir is synthesized already) and whose cdktf call is recorded. */
function recordingIo(applied: readonly string[], env: NodeJS.ProcessEnv = { PATH: process.env.PATH }): Recorded {
  const out: string[] = [];
  const err: string[] = [];
  const runs: Recorded['runs'] = [];
  const io: DeployIo = {
    log: (line) => out.push(line),
    error: (line) => err.push(line),
    env,
    run: (command, args, runEnv) => {
      runs.push({ command, args, env: runEnv });
      return 0;
    },
    probe: async (stack): Promise<StateStatus> => (applied.includes(stack) ? 'applied' : 'missing'),
    outdir,
    isProduction: (environment) => environment === 'production',
  };
  return { io, out, err, runs };
}

/** Every credential the product and production stacks ask for, as dummy values. */
function credentials(): Record<string, string> {
  const names = ['staging-chat', 'production-chat'].flatMap((stack) => missingCredentials(app.stacks.get(stack)!, {}));
  return Object.fromEntries(names.flatMap((name) => name.split(' or ').slice(0, 1)).map((name) => [name, 'dummy']));
}

/** A PATH with a fake `terraform` and nothing else, so the test does not depend on the machine. */
function pathWithTerraform(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bin-'));
  fs.writeFileSync(path.join(dir, 'terraform'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return dir;
}

describe('deploy preflight', () => {
  test('upstream stacks come from each stack\'s "//".deploy.after, not the manifest, in deploy order', () => {
    // cdktf would refuse `cdktf deploy production-chat` alone if its manifest listed dependencies.
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
    expect(Object.values<any>(manifest.stacks).filter((stack) => (stack.dependencies ?? []).length > 0)).toEqual([]);
    // The data stack reads every product's credentials stack, so all of them come before it.
    const credentials = [...app.stacks.keys()].filter((stack) => /^production-.*-credentials$/.test(stack));
    expect(credentials).toContain('production-chat-credentials');
    const upstream = upstreamOf(app, 'production-chat');
    expect(upstream.slice(0, 2)).toEqual(['production-network', 'production-edge']);
    expect(upstream.slice(2, -1).sort()).toEqual(credentials.sort());
    expect(upstream.at(-1)).toBe('production-data');
    expect(upstreamOf(app, 'staging-network')).toEqual([]);
  });

  test('cdktf itself accepts any stack alone, and would start every stack of a glob at once', () => {
    // cdktf's own checks (@cdktf/cli-core, the cdktf-cli 0.21 that `npx cdktf` runs), against the synthesized manifest.
    const { checkIfAllDependenciesAreIncluded, checkIfAllDependantsAreIncluded, getMultipleStacks } = require('@cdktf/cli-core/src/lib/helpers/stack-helpers');
    const stacks = [...app.stacks.values()].map((stack) => ({ name: stack.name, dependencies: JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')).stacks[stack.name].dependencies ?? [] }));
    for (const name of ['production-chat', 'production-edge', 'production-monitoring', 'production-chat-credentials', 'staging-network']) {
      const selected = getMultipleStacks(stacks, [name], 'deploy');
      expect(() => checkIfAllDependenciesAreIncluded(selected)).not.toThrow(); // deploy
      expect(() => checkIfAllDependantsAreIncluded(selected, stacks)).not.toThrow(); // destroy
    }
    // A glob: nothing in the manifest makes one stack wait for another, hence README's "not ordered" and the wrapper's stages.
    expect(getMultipleStacks(stacks, ['production-*'], 'deploy').filter((stack: any) => stack.dependencies.length > 0)).toEqual([]);
  });

  test('env-* selects an environment in deploy order; an unknown stack names the stacks of its environment', () => {
    const selected = selectStacks(app, ['staging-*']);
    expect(selected.slice(0, 2)).toEqual(['staging-network', 'staging-edge']);
    expect(selected).toHaveLength([...app.stacks.keys()].filter((stack) => stack.startsWith('staging-')).length);
    for (const [index, stack] of selected.entries()) {
      for (const upstream of upstreamOf(app, stack)) expect(selected.indexOf(upstream)).toBeLessThan(index);
    }
    expect(() => selectStacks(app, ['staging-chta'])).toThrow(/no stack "staging-chta" in cdktf.out; stacks of staging: staging-.*staging-chat/);
  });

  test('local state: missing file, empty resource list and applied are told apart', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-'));
    expect(localStateStatus(path.join(dir, 'none.tfstate'))).toBe('missing');
    fs.writeFileSync(path.join(dir, 'empty.tfstate'), JSON.stringify({ version: 4, resources: [] }));
    expect(localStateStatus(path.join(dir, 'empty.tfstate'))).toBe('empty');
    fs.writeFileSync(path.join(dir, 'full.tfstate'), JSON.stringify({ version: 4, resources: [{ type: 'hcloud_server' }] }));
    expect(localStateStatus(path.join(dir, 'full.tfstate'))).toBe('applied');
  });

  test('the local state path is the synthesized backend path, resolved from the stack directory to the project root', () => {
    const location = stateLocation(app.stacks.get('staging-network')!);
    expect(location).toEqual({ kind: 'local', file: path.resolve(outdir, '..', 'terraform.staging-network.tfstate') });
  });

  test('Terraform Cloud: the workspace current-state-version decides; no token means unknown', async () => {
    const location = { kind: 'cloud' as const, organization: 'acme', workspace: 'manacore-staging-network' };
    const calls: string[] = [];
    const fakeFetch = (state: unknown, status = 200) =>
      (async (url: string) => {
        calls.push(url);
        return { status, ok: status < 300, json: async () => ({ data: { relationships: { 'current-state-version': { data: state } } } }) };
      }) as unknown as typeof fetch;
    expect(await cloudStateStatus(location, {}, fakeFetch(null))).toBe('unknown');
    expect(calls).toEqual([]);
    expect(await cloudStateStatus(location, { TFE_TOKEN: 't' }, fakeFetch({ id: 'sv-1', type: 'state-versions' }))).toBe('applied');
    expect(calls[0]).toBe('https://app.terraform.io/api/v2/organizations/acme/workspaces/manacore-staging-network');
    expect(await cloudStateStatus(location, { TFE_TOKEN: 't' }, fakeFetch(null))).toBe('empty');
    expect(await cloudStateStatus(location, { TFE_TOKEN: 't' }, fakeFetch(null, 404))).toBe('missing');
  });

  test('stacks deployed earlier in the same command count as present', async () => {
    const check = await checkUpstream(app, ['staging-network', 'staging-edge'], async () => 'missing');
    expect(check.missing).toEqual([]);
  });
});

describe('deploy checks before the synth (preview.ts)', () => {
  /** main.ts's App as the deploy command builds it, not synthesized, read as if synthesized into `dir`. */
  const previewOf = (env: NodeJS.ProcessEnv, dir: string): SynthesizedApp => defaultIo().preview!(env, dir)!;

  test('the stacks are rendered as the synth writes them: same stacks, JSON (key order included), upstream, stage and directory', () => {
    const preview = previewOf({}, outdir);
    expect([...preview.stacks.keys()].sort()).toEqual([...app.stacks.keys()].sort());
    // One stack of each kind in each environment (rendering is the same code for all; each costs ~10 ms).
    const kinds = ['network', 'edge', 'data', 'monitoring', 'chat-credentials', 'chat', 'mana-core-auth', 'bauntown'];
    for (const name of ['staging', 'production'].flatMap((environment) => kinds.map((kind) => `${environment}-${kind}`))) {
      const synthesized = app.stacks.get(name)!;
      const rendered = preview.stacks.get(name)!;
      expect({ name, json: JSON.stringify(rendered.json) }).toEqual({ name, json: JSON.stringify(synthesized.json) });
      expect({ name, dependencies: rendered.dependencies, stage: rendered.stage, workingDirectory: rendered.workingDirectory }).toEqual({
        name,
        dependencies: synthesized.dependencies,
        stage: synthesized.stage,
        workingDirectory: synthesized.workingDirectory,
      });
    }
  });

  test('under Terraform Cloud too (TFC_ORGANIZATION): backend and credentials as synthesized', () => {
    const cloud = readSynthesizedApp(cloudOutdir());
    const preview = previewOf({ TFC_ORGANIZATION: 'acme' }, cloud.outdir);
    for (const name of ['staging-network', 'production-chat', 'production-data']) {
      expect(JSON.stringify(preview.stacks.get(name)!.json)).toBe(JSON.stringify(cloud.stacks.get(name)!.json));
      expect(missingCredentials(preview.stacks.get(name)!, {}, '/nonexistent-home')).toEqual(missingCredentials(cloud.stacks.get(name)!, {}, '/nonexistent-home'));
    }
  });

  const targets: string[] = [];
  afterAll(() => targets.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  /** A recording io whose preview is the real one (main.ts's App built in this process) and whose outdir does not exist yet. */
  function previewingIo(applied: readonly string[], env: NodeJS.ProcessEnv): Recorded & { readonly outdir: string } {
    const recorded = recordingIo(applied, env);
    const target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-target-')), 'cdktf.out');
    targets.push(path.dirname(target));
    return { ...recorded, io: { ...recorded.io, outdir: target, preview: defaultIo().preview }, outdir: target };
  }

  test('missing credentials are refused with the same message without synthesizing: no synth run, no cdktf.out written', async () => {
    const { io, err, runs, outdir: target } = previewingIo([], { PATH: pathWithTerraform() });
    expect(await main(['diff', 'staging-network'], io)).toBe(1);
    expect(err.join('\n')).toBe(
      [
        'error: these credentials are not set (README "Secrets", docs/deploying.md "Credentials Terraform needs"):',
        '  staging-network: CLOUDFLARE_API_TOKEN, GITHUB_TOKEN, HCLOUD_TOKEN, TF_VAR_ssh_public_key_platform_admin',
      ].join('\n'),
    );
    expect(runs).toEqual([]);
    expect(fs.existsSync(target)).toBe(false);
  });

  test('production with local state and missing upstream stacks are refused before the synth too, in the same order as after it', async () => {
    const production = previewingIo(upstreamOf(app, 'production-chat'), { PATH: pathWithTerraform() });
    expect(await main(['deploy', 'production-chat'], production.io)).toBe(1);
    expect(production.err.join('\n')).toMatch(/^error: refusing to deploy production-chat: a production stack with local state/);
    expect(production.runs).toEqual([]);
    // Without credentials either: the upstream stacks are named first, as after a synth (test above).
    const upstream = previewingIo(['staging-network'], { PATH: pathWithTerraform() });
    expect(await main(['deploy', 'staging-chat'], upstream.io)).toBe(1);
    expect(upstream.err.join('\n')).toMatch(/^error: staging-chat depends on stacks that have not been deployed[^]*npm run deploy -- staging-edge/);
    expect(upstream.runs).toEqual([]);
    expect(fs.existsSync(upstream.outdir)).toBe(false);
  });

  test('when the preview passes, the synth and cdktf run as before, saying each step once and probing each upstream stack once', async () => {
    const probed: string[] = [];
    const recorded = recordingIo(upstreamOf(app, 'staging-chat'), { ...credentials(), PATH: pathWithTerraform() });
    const probe = recorded.io.probe;
    const io: DeployIo = { ...recorded.io, preview: defaultIo().preview, probe: (stack, location) => (probed.push(stack), probe(stack, location)) };
    expect(await main(['deploy', 'staging-chat'], io)).toBe(0);
    expect(recorded.runs.map((run) => path.basename(run.command))).toEqual(['node', 'cdktf']);
    expect(recorded.out.filter((line) => line.startsWith('['))).toEqual([
      '[1/4] synthesizing (node scripts/run-app.js)',
      '[2/4] checking staging-chat',
      '[3/4] looking for credentials and Terraform',
      '[4/4] cdktf deploy staging-chat',
    ]);
    expect(probed).toEqual(upstreamOf(app, 'staging-chat'));
  });

  test('an App that fails to build here is left to the synth, which reports it as npm run synth does', async () => {
    const recorded = recordingIo(upstreamOf(app, 'staging-chat'), { ...credentials(), PATH: pathWithTerraform() });
    const io: DeployIo = {
      ...recorded.io,
      preview: () => {
        throw new Error('Invalid configuration');
      },
    };
    expect(await main(['deploy', 'staging-chat'], io)).toBe(0);
    expect(recorded.runs.map((run) => path.basename(run.command))).toEqual(['node', 'cdktf']);
  });
});

describe('npm run deploy', () => {
  test('names the upstream stacks to deploy first, in order, and runs nothing', async () => {
    const { io, err, runs } = recordingIo(['staging-network'], { PATH: pathWithTerraform() });
    expect(await main(['deploy', 'staging-chat'], io)).toBe(1);
    expect(err.join('\n')).toBe(
      [
        'error: staging-chat depends on stacks that have not been deployed. Deploy them first, in this order:',
        ...upstreamOf(app, 'staging-chat')
          .slice(1)
          .map((stack) => `  npm run deploy -- ${stack}    # no state yet`),
      ].join('\n'),
    );
    expect(runs.map((run) => path.basename(run.command))).toEqual(['node']);
  });

  test('runs cdktf deploy for the stack with telemetry and version checks off once upstream exists', async () => {
    const { io, out, runs } = recordingIo(upstreamOf(app, 'staging-chat'), { ...credentials(), PATH: pathWithTerraform(), TF_CLI_CONFIG_FILE: '/nonexistent/.terraformrc' });
    expect(await main(['deploy', 'staging-chat', '--', '--auto-approve'], io)).toBe(0);
    const cdktf = runs[1];
    expect(path.basename(cdktf.command)).toBe('cdktf');
    expect(cdktf.args).toEqual(['deploy', 'staging-chat', '--skip-synth', '--auto-approve']);
    expect(cdktf.env).toMatchObject({ CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: 'true' });
    expect(cdktf.env.TF_CLI_CONFIG_FILE).toBeUndefined();
    expect(out).toEqual([
      '[1/4] synthesizing (node scripts/run-app.js)',
      '[2/4] checking staging-chat',
      "release tasks: each runs once, before its product's new containers, when the plan below creates its container (its tag is new here):",
      '  - staging-chat: chat: runs migrate (backend) with main-0000000',
      '[3/4] looking for credentials and Terraform',
      '[4/4] cdktf deploy staging-chat',
    ]);
  });

  test('a whole environment deploys stage by stage, one cdktf run per stage, and stops at the first that fails', async () => {
    const { io, runs } = recordingIo([], { ...credentials(), PATH: pathWithTerraform() });
    // Every selected stack is credentialled the way the test's credentials() covers: only check the cdktf runs.
    const staging = [...app.stacks.keys()].filter((stack) => stack.startsWith('staging-'));
    const env = { ...io.env, ...Object.fromEntries(staging.flatMap((stack) => missingCredentials(app.stacks.get(stack)!, {})).map((name) => [name.split(' or ')[0], 'dummy'])) };
    expect(await main(['deploy', 'staging-*', '--', '--auto-approve'], { ...io, env })).toBe(0);
    const rounds = runs.slice(1).map((run) => run.args.filter((arg) => arg.startsWith('staging-')));
    expect(rounds.slice(0, 2)).toEqual([['staging-network'], ['staging-edge']]);
    expect(rounds[2].every((stack) => stack.endsWith('-credentials'))).toBe(true);
    expect(rounds[3]).toEqual(['staging-data']);
    expect(rounds[4]).toEqual(expect.arrayContaining(['staging-chat', 'staging-monitoring']));
    expect(rounds.flat().sort()).toEqual(staging.sort());
    // No stack runs before a stack it builds on.
    for (const [index, round] of rounds.entries()) {
      for (const stack of round) for (const upstream of upstreamOf(app, stack)) expect(rounds.slice(0, index).flat()).toContain(upstream);
    }

    const failing = recordingIo([], { ...env });
    const run = failing.io.run;
    expect(await main(['deploy', 'staging-*'], { ...failing.io, run: (command, args, runEnv) => (args.includes('staging-edge') ? 1 : run(command, args, runEnv)) })).toBe(1);
    expect(failing.runs.slice(1).map((r) => r.args[1])).toEqual(['staging-network']);
    expect(failing.err.join('\n')).toMatch(/cdktf deploy exited with code 1; not run: staging-.*-credentials, .*staging-data, .*staging-chat/);
  });

  test('refuses production with local state unless the flag or the variable overrides it', async () => {
    const applied = upstreamOf(app, 'production-chat');
    const refused = recordingIo(applied, { PATH: pathWithTerraform() });
    expect(await main(['deploy', 'production-chat'], refused.io)).toBe(1);
    expect(refused.err.join('\n')).toMatch(/^error: refusing to deploy production-chat: a production stack with local state/);
    expect(refused.err.join('\n')).toContain('--allow-local-production');
    expect(refused.runs).toHaveLength(1);

    const flagged = recordingIo(applied, { ...credentials(), PATH: pathWithTerraform() });
    expect(await main(['deploy', 'production-chat', '--allow-local-production'], { ...flagged.io, outdir: releasedOutdir })).toBe(0);
    const variable = recordingIo(applied, { ...credentials(), PATH: pathWithTerraform(), MANACORE_ALLOW_LOCAL_PRODUCTION: '1' });
    expect(await main(['deploy', 'production-chat'], { ...variable.io, outdir: releasedOutdir })).toBe(0);
    // diff changes nothing: no refusal.
    const diff = recordingIo(applied, { ...credentials(), PATH: pathWithTerraform() });
    expect(await main(['diff', 'production-chat'], diff.io)).toBe(0);
    expect(diff.runs[1].args.slice(0, 2)).toEqual(['diff', 'production-chat']);
  });

  test('diff and deploy name the release tasks their stacks declare before Terraform plans (issue 29)', async () => {
    const diff = recordingIo(upstreamOf(app, 'production-chat'), { ...credentials(), PATH: pathWithTerraform() });
    expect(await main(['diff', 'production-chat'], { ...diff.io, outdir: releasedOutdir })).toBe(0);
    expect(diff.out).toContain("  - production-chat: chat: backs up chat's database, then runs migrate (backend) with main-4f2c9e1");
    // Printed before cdktf runs, so a reviewer reads it above the plan.
    expect(diff.out.findIndex((line) => line.startsWith('release tasks:'))).toBeLessThan(diff.out.findIndex((line) => line.startsWith('[4/4]')));
    // A stack without tasks says nothing about them.
    const networkCredentials = Object.fromEntries(missingCredentials(app.stacks.get('production-network')!, {}).map((name) => [name.split(' or ')[0], 'dummy']));
    const network = recordingIo([], { ...networkCredentials, PATH: pathWithTerraform() });
    expect(await main(['diff', 'production-network'], network.io)).toBe(0);
    expect(network.out.some((line) => line.startsWith('release tasks:'))).toBe(false);
  });

  test('refuses placeholder image tags in production, with any flag, naming product, service and tag (issue 19)', async () => {
    const applied = upstreamOf(app, 'production-chat');
    const refused = recordingIo(applied, { ...credentials(), PATH: pathWithTerraform(), MANACORE_ALLOW_LOCAL_PRODUCTION: '1' });
    expect(await main(['deploy', 'production-chat', '--allow-local-production'], refused.io)).toBe(1);
    const message = refused.err.join('\n');
    expect(message).toMatch(/^error: refusing to apply placeholder image tags to production/);
    expect(message).toContain('environment "production", product "chat", service "backend": image tag main-0000000 (production-chat)');
    expect(message).toContain('product "chat", service "landing"');
    expect(message).toContain('Nothing was deployed.');
    // Only the synth ran; cdktf was never called.
    expect(refused.runs).toHaveLength(1);
    // Staging may run them (it is where a product's first release lands), and diff changes nothing.
    const staging = recordingIo(upstreamOf(app, 'staging-chat'), { ...credentials(), PATH: pathWithTerraform() });
    expect(await main(['deploy', 'staging-chat'], staging.io)).toBe(0);
    const diff = recordingIo(applied, { ...credentials(), PATH: pathWithTerraform() });
    expect(await main(['diff', 'production-chat'], diff.io)).toBe(0);
  });

  test('production under Terraform Cloud is not refused', async () => {
    const cloudOut = cloudOutdir();
    const { io, err } = recordingIo(upstreamOf(app, 'production-chat'), { PATH: pathWithTerraform(), TF_TOKEN_app_terraform_io: 'dummy' });
    expect(await main(['deploy', 'production-chat'], { ...io, outdir: withReleasedProductionChat(cloudOut) })).toBe(0);
    // Remote execution: provider credentials and variables live in the workspace; only the CLI token is needed here.
    expect(missingCredentials(readSynthesizedApp(cloudOut).stacks.get('production-chat')!, {}, '/nonexistent-home')).toEqual(['TF_TOKEN_app_terraform_io (or run `terraform login`)']);
    expect(err).toEqual([]);
  });

  test('a missing terraform binary is named as such', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'empty-bin-'));
    const { io, err, runs } = recordingIo(upstreamOf(app, 'staging-chat'), { ...credentials(), PATH: empty });
    expect(await main(['deploy', 'staging-chat'], io)).toBe(1);
    expect(err[0]).toMatch(/^error: "terraform" was not found on PATH\. .*install Terraform/);
    expect(runs).toHaveLength(1);
    expect(findOnPath('terraform', { PATH: empty })).toBeUndefined();
  });

  test('missing provider credentials and variables are listed per stack before Terraform runs', async () => {
    const { io, err, runs } = recordingIo(upstreamOf(app, 'staging-chat'), { PATH: pathWithTerraform(), HCLOUD_TOKEN: 'dummy' });
    expect(await main(['deploy', 'staging-network', 'staging-chat'], io)).toBe(1);
    const message = err.join('\n');
    expect(message).toMatch(/^error: these credentials are not set/);
    // GITHUB_TOKEN: staging-network creates the staging-platform GitHub environment (issue 16).
    expect(message).toContain('  staging-network: CLOUDFLARE_API_TOKEN, GITHUB_TOKEN, TF_VAR_ssh_public_key_platform_admin');
    expect(message).toMatch(/ {2}staging-chat: CLOUDFLARE_API_TOKEN, GITHUB_TOKEN, .*TF_VAR_registry_password/);
    expect(runs).toHaveLength(1);
  });

  test('usage errors exit 2 with the usage text; --help exits 0', async () => {
    const { io, err, out } = recordingIo([]);
    expect(await main(['deploy', '--force'], io)).toBe(2);
    expect(err[0]).toContain('unknown option --force; options for cdktf go after "--"');
    expect(await main(['deploy', '--help'], io)).toBe(0);
    expect(out[0]).toMatch(/^Usage:\n {2}npm run deploy -- <stack\|env-\*>/);
    expect(() => parseDeployArgs(['apply'])).toThrow('first argument must be deploy or diff');
  });

  test('quietEnv sets the switches cdktf and Terraform read', () => {
    expect(quietEnv({})).toEqual({ CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: 'true' });
  });
});
