/**
 * Command line of the delivery pipeline (.github/workflows/apply.yml, drift.yml, plan.yml).
 *
 *   Commands and arguments: USAGE below (`--help` prints it).
 *
 * Exit codes: 0 success, 1 failure, 2 usage error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listSynthesizedStacks } from '../plan-comment/changed-stacks';
import { DEPLOY_STAGES, parseStackName, sortStacks, stageOf } from '../plan-comment/stack-order';
import { configDigest, outputsDigest, readAppliedRecords, selectStacks, upstreamsOf, type AppliedRecord, type HeadStack } from './applied';
import { driftReport, type DriftResult } from './drift';
import { renderEnvExample } from './env-example';
import { lockFileForStack, requiredProviderPins } from './provider-lock';
import { runCommand } from '../lib/command-line';

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {}

export const USAGE = `Usage:
  tsx scripts/pipeline/cli.ts select <cdktf.out> <applied dir> [--only a,b] [--kinds network,edge|credentials|data|products|<kind>] [--env staging] [--force all|a,b]
    Prints {"stacks":[...],"reasons":{stack: reason}} for the stacks to plan (applied.ts).
    <applied dir> holds <stack>.json records read from refs/applied/<stack>.
  tsx scripts/pipeline/cli.ts downstream <cdktf.out> <stack>...
    Prints, as JSON, every stack that reads the given stacks' outputs, directly or not.
  tsx scripts/pipeline/cli.ts record <cdktf.out> <applied dir> <stack> <outputs digest> <commit>
    Prints the AppliedRecord for a stack just applied.
  tsx scripts/pipeline/cli.ts outputs-digest <outputs.json>
    Prints the sha256 of \`terraform output -json\` (never the values).
  tsx scripts/pipeline/cli.ts outputs-readable <stack>
    Prints yes when the pipeline may read the stack's outputs, no for a credentials stack (passwords only).
  tsx scripts/pipeline/cli.ts config-digest <cdktf.out> <stack>
    The stack's configuration digest: its outputs digest when those may not be read.
  tsx scripts/pipeline/cli.ts stack-locks <cdktf.out> <providers.lock.hcl>
    Writes every stack's .terraform.lock.hcl into its directory (provider-lock.ts).
  tsx scripts/pipeline/cli.ts providers-config <cdktf.out> <providers.lock.hcl> <dir>
    Writes a configuration requiring every provider, to fill the plugin cache once.
  tsx scripts/pipeline/cli.ts stack-lock <cdktf.out> <stack> <providers.lock.hcl>
    Writes the stack's .terraform.lock.hcl into its directory (provider-lock.ts).
  tsx scripts/pipeline/cli.ts provider-pins <cdktf.out>
    Prints \`source version\` for every provider the stacks require (for lock-providers.sh).
  tsx scripts/pipeline/cli.ts drift-report <results.json> <out.md>
    results.json: [{"stack": ..., "exitCode": 0|1|2|null}]; prints {"open":bool,...}.
  tsx scripts/pipeline/cli.ts landing-hosts <stack>
    Prints {"zone": ..., "hosts": [...]}: the stack's landing hostnames, purged from Cloudflare's cache.
  tsx scripts/pipeline/cli.ts env-example <cdktf.out> [--check <file>] [--out <file>]`;

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read ${file}: ${(error as Error).message}`);
  }
}

/** Every stack of a synth output directory, parsed. */
export function readStacks(outDir: string): Map<string, unknown> {
  return new Map([...listSynthesizedStacks(outDir)].map(([name, file]) => [name, readJson(file)]));
}

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  if (index < 0) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
  args.splice(index, 2);
  return value;
}

const list = (text: string | undefined) => (text ?? '').split(',').map((item) => item.trim()).filter(Boolean);

/** Every stack that reads `roots`' outputs, directly or through other stacks, in rollout order. */
export function downstreamOf(stacks: ReadonlyMap<string, unknown>, roots: readonly string[]): string[] {
  const readers = new Map<string, string[]>();
  for (const [name, json] of stacks) for (const upstream of upstreamsOf(json)) readers.set(upstream, [...(readers.get(upstream) ?? []), name]);
  const found = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    for (const reader of readers.get(queue.shift()!) ?? []) {
      if (!found.has(reader)) {
        found.add(reader);
        queue.push(reader);
      }
    }
  }
  return sortStacks(found);
}

/** Runs one invocation and returns the exit code. */
export function main(argv: readonly string[], stdout: (text: string) => void): number {
  const [command, ...rest] = argv;
  const args = [...rest];
  if (command === undefined || command === '--help' || command === '-h' || rest.includes('--help') || rest.includes('-h')) {
    stdout(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case 'select': {
      const only = list(option(args, 'only'));
      const kinds = list(option(args, 'kinds'));
      const env = option(args, 'env');
      const forceText = option(args, 'force');
      if (args.length !== 2) throw new UsageError('select needs <cdktf.out> <applied dir>');
      const stacks = readStacks(args[0]);
      const head = new Map<string, HeadStack>([...stacks].map(([name, json]) => [name, { configDigest: configDigest(json), upstreams: upstreamsOf(json) }]));
      const knownKinds = new Set<string>([...DEPLOY_STAGES, ...[...head.keys()].map((name) => parseStackName(name).kind)]);
      const unknownKinds = kinds.filter((kind) => !knownKinds.has(kind));
      if (unknownKinds.length > 0) throw new UsageError(`--kinds: unknown ${unknownKinds.join(', ')}; allowed: a stage (${DEPLOY_STAGES.join(', ')}) or a stack kind such as chat`);
      const unknownOnly = only.filter((name) => !head.has(name));
      if (unknownOnly.length > 0) throw new Error(`--only: unknown stack(s) ${unknownOnly.join(', ')}; allowed: ${sortStacks(head.keys()).join(', ')}`);
      // With --only (a manual run for some stacks), their downstream stacks stay candidates, but
      // are taken only when the outputs they read changed: re-planned, never silently left stale.
      const downstream = new Set(only.length > 0 ? downstreamOf(stacks, only) : []);
      const candidates = [...head.keys()].filter((name) => {
        const parsed = parseStackName(name);
        const kindMatches = kinds.length === 0 || kinds.includes(parsed.kind) || kinds.includes(stageOf(parsed.kind));
        return (only.length === 0 || only.includes(name) || downstream.has(name)) && kindMatches && (env === undefined || parsed.env === env);
      });
      const force = forceText === undefined || forceText === '' ? undefined : forceText === 'all' ? 'all' : list(forceText).filter((name) => candidates.includes(name) || !head.has(name));
      const selected = selectStacks({ head, applied: readAppliedRecords(args[1]), candidates, force }).filter(
        (item) => only.length === 0 || only.includes(item.stack) || item.reason.startsWith('outputs of '),
      );
      stdout(`${JSON.stringify({ stacks: selected.map((s) => s.stack), reasons: Object.fromEntries(selected.map((s) => [s.stack, s.reason])) })}\n`);
      return 0;
    }
    case 'downstream': {
      if (args.length < 2) throw new UsageError('downstream needs <cdktf.out> <stack>...');
      stdout(`${JSON.stringify(downstreamOf(readStacks(args[0]), args.slice(1)))}\n`);
      return 0;
    }
    case 'record': {
      if (args.length !== 5) throw new UsageError('record needs <cdktf.out> <applied dir> <stack> <outputs digest> <commit>');
      const [outDir, appliedDir, stack, digest, commit] = args;
      if (!/^[0-9a-f]{64}$/.test(digest)) throw new UsageError(`record: outputs digest of ${stack} is "${digest}"; allowed: sha256 hex (cli.ts outputs-digest)`);
      const json = readStacks(outDir).get(stack);
      if (json === undefined) throw new Error(`no synthesized stack ${stack} in ${outDir}`);
      const applied = readAppliedRecords(appliedDir);
      const upstreamOutputs = Object.fromEntries(
        upstreamsOf(json).flatMap((upstream) => {
          const digest = applied.get(upstream)?.outputsDigest;
          return digest === undefined ? [] : [[upstream, digest]];
        }),
      );
      const record: AppliedRecord = {
        stack,
        commit,
        configDigest: configDigest(json),
        outputsDigest: digest,
        upstreamOutputs,
        appliedAt: new Date().toISOString(),
        ...(process.env.GITHUB_RUN_ID ? { runUrl: `${process.env.GITHUB_SERVER_URL}/${process.env.GITHUB_REPOSITORY}/actions/runs/${process.env.GITHUB_RUN_ID}` } : {}),
      };
      stdout(`${JSON.stringify(record)}\n`);
      return 0;
    }
    case 'stack-lock': {
      if (args.length !== 3) throw new UsageError('stack-lock needs <cdktf.out> <stack> <providers.lock.hcl>');
      const [outDir, stack, lockFile] = args;
      const files = listSynthesizedStacks(outDir);
      const file = files.get(stack);
      if (file === undefined) throw new Error(`no synthesized stack ${stack} in ${outDir}`);
      if (!fs.existsSync(lockFile)) throw new Error(`${lockFile} does not exist: run scripts/pipeline/lock-providers.sh (needs the Terraform registry) and commit it`);
      fs.writeFileSync(path.join(path.dirname(file), '.terraform.lock.hcl'), lockFileForStack(stack, readJson(file), fs.readFileSync(lockFile, 'utf8')));
      return 0;
    }
    case 'stack-locks': {
      if (args.length !== 2) throw new UsageError('stack-locks needs <cdktf.out> <providers.lock.hcl>');
      const [outDir, lockFile] = args;
      if (!fs.existsSync(lockFile)) throw new Error(`${lockFile} does not exist: run scripts/pipeline/lock-providers.sh (needs the Terraform registry) and commit it`);
      const master = fs.readFileSync(lockFile, 'utf8');
      for (const [stack, file] of listSynthesizedStacks(outDir)) {
        fs.writeFileSync(path.join(path.dirname(file), '.terraform.lock.hcl'), lockFileForStack(stack, readJson(file), master));
      }
      return 0;
    }
    case 'providers-config': {
      // A configuration requiring every provider, so one `terraform init` fills the plugin cache for all jobs.
      if (args.length !== 3) throw new UsageError('providers-config needs <cdktf.out> <providers.lock.hcl> <dir>');
      const [outDir, lockFile, dir] = args;
      const pins = requiredProviderPins(readStacks(outDir).values());
      const required = Object.fromEntries([...pins].map(([source, version]) => [source.split('/').pop()!, { source, version }]));
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'main.tf.json'), `${JSON.stringify({ terraform: { required_providers: required } }, null, 2)}\n`);
      fs.writeFileSync(path.join(dir, '.terraform.lock.hcl'), lockFileForStack('providers', { terraform: { required_providers: required } }, fs.readFileSync(lockFile, 'utf8')));
      return 0;
    }
    case 'outputs-readable': {
      // "yes" when the pipeline may read the stack's outputs; a credentials stack's are passwords (bootstrap-stack.ts).
      if (args.length !== 1) throw new UsageError('outputs-readable needs <stack>');
      stdout(stageOf(parseStackName(args[0]).kind) === 'credentials' ? 'no\n' : 'yes\n');
      return 0;
    }
    case 'config-digest': {
      // Stands in for the outputs digest of a stack whose outputs the pipeline may not read: they change only with it.
      if (args.length !== 2) throw new UsageError('config-digest needs <cdktf.out> <stack>');
      const json = readStacks(args[0]).get(args[1]);
      if (json === undefined) throw new Error(`no synthesized stack ${args[1]} in ${args[0]}`);
      stdout(`${configDigest(json)}\n`);
      return 0;
    }
    case 'outputs-digest': {
      if (args.length !== 1) throw new UsageError('outputs-digest needs <outputs.json>');
      stdout(`${outputsDigest(readJson(args[0]))}\n`);
      return 0;
    }
    case 'provider-pins': {
      if (args.length !== 1) throw new UsageError('provider-pins needs <cdktf.out>');
      for (const [source, version] of requiredProviderPins(readStacks(args[0]).values())) stdout(`${source} ${version}\n`);
      return 0;
    }
    case 'drift-report': {
      if (args.length !== 2) throw new UsageError('drift-report needs <results.json> <out.md>');
      const results = readJson(args[0]);
      if (!Array.isArray(results)) throw new Error(`${args[0]}: expected a list of {stack, exitCode}`);
      const runUrl = process.env.GITHUB_RUN_ID ? `${process.env.GITHUB_SERVER_URL}/${process.env.GITHUB_REPOSITORY}/actions/runs/${process.env.GITHUB_RUN_ID}` : undefined;
      const report = driftReport(
        results.map((item: { stack: string; exitCode: unknown }) => ({ stack: String(item.stack), exitCode: typeof item.exitCode === 'number' ? item.exitCode : undefined }) satisfies DriftResult),
        runUrl,
      );
      fs.writeFileSync(args[1], `${report.body}\n`);
      stdout(`${JSON.stringify({ open: report.open, drifted: report.drifted, failed: report.failed })}\n`);
      return 0;
    }
    case 'landing-hosts': {
      if (args.length !== 1) throw new UsageError('landing-hosts needs <stack>');
      // Loaded here only: the other commands must not pay for (or depend on) the system definition.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { landingPurgeOf } = require('./landing-hosts') as typeof import('./landing-hosts');
      stdout(`${JSON.stringify(landingPurgeOf(args[0]))}\n`);
      return 0;
    }
    case 'env-example': {
      const check = option(args, 'check');
      const out = option(args, 'out');
      if (args.length !== 1) throw new UsageError('env-example needs <cdktf.out>');
      const text = renderEnvExample(readStacks(args[0]));
      if (check !== undefined) {
        if (!fs.existsSync(check) || fs.readFileSync(check, 'utf8') !== text) {
          throw new Error(`${check} is out of date with the stacks: run npm run generate and commit it`);
        }
        return 0;
      }
      if (out !== undefined) fs.writeFileSync(out, text);
      else stdout(text);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command ?? ''}"; allowed: select, downstream, record, outputs-readable, config-digest, outputs-digest, stack-lock, stack-locks, providers-config, provider-pins, drift-report, landing-hosts, env-example`);
  }
}

if (require.main === module) {
  runCommand(() => {
    try {
      return main(process.argv.slice(2), (text) => process.stdout.write(text));
    } catch (error) {
      // Every failure here is the pipeline's input (a file, a record): its message, no trace.
      if (!(error instanceof UsageError)) {
        process.stderr.write(`error: ${(error as Error).message}\n`);
        return 1;
      }
      process.stderr.write(`error: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
  });
}
