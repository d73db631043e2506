/**
 * `npm run deploy -- <stack>...` and `npm run diff -- <stack>...`: check, synthesize, check, then hand
 * the stacks to `cdktf deploy --skip-synth`, one deploy stage after the other (stacks/deploy-order.ts),
 * or to `cdktf diff --skip-synth`, one stack at a time (cdktf diffs a single stack).
 *
 * cdktf's manifest holds no dependencies (so `cdktf deploy production-chat` works alone), so cdktf
 * would run every stack of `staging-*` at once: this wrapper deploys them stage by stage. It also
 * checks, before synth output reaches Terraform, that the upstream stacks have state (local file,
 * or the Terraform Cloud workspace) and production rules; Terraform itself stops a plan whose
 * upstream is missing (StackOutputs in stacks/system-stack.ts). The same checks run first on the
 * App built but not synthesized (preview.ts): a refusal costs no synth and writes no cdktf.out.
 *
 *   npm run deploy -- <stack|env-*>... [--allow-local-production] [-- <cdktf deploy options>]
 *   npm run diff -- <stack|env-*>... [-- <cdktf diff options>]
 *
 * Exit codes: 0 done, 1 refused or failed (message says why), 2 usage error.
 */
import { loadSystem, projectRoot, runCommand } from '../lib/command-line';
import { buildSystemApp, synthesizeOptionsFromEnv } from '../../stacks/app';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { environmentOf, readSynthesizedApp, SynthOutputError, type SynthesizedApp } from '../lib/synthesized';
import { previewApp } from './preview';
import { placeholderRefusal, placeholderUses } from '../release/release';
import { declaredReleaseTasks, describeRuns } from '../plan-comment/release-tasks';
import { OperatorError, quietEnv, requireBinary, terraformBinary } from '../lib/tools';
import {
  ALLOW_LOCAL_PRODUCTION_ENV,
  ALLOW_LOCAL_PRODUCTION_FLAG,
  checkUpstream,
  defaultStateProbe,
  deployRounds,
  localProductionRefusal,
  missingCredentials,
  missingCredentialsMessage,
  missingUpstreamMessage,
  selectStacks,
  type StateProbe,
  type StateStatus,
} from './preflight';

const ROOT = projectRoot();

export const USAGE = `Usage:
  npm run deploy -- <stack|env-*>... [${ALLOW_LOCAL_PRODUCTION_FLAG}] [-- <cdktf deploy options, e.g. --auto-approve>]
  npm run diff -- <stack|env-*>... [-- <cdktf diff options>]
Synthesizes, checks that every upstream stack has been deployed (and names the ones to deploy
first), refuses production with local state unless ${ALLOW_LOCAL_PRODUCTION_FLAG} or
${ALLOW_LOCAL_PRODUCTION_ENV}=1, then runs cdktf with telemetry and version checks off.`;

export type Verb = 'deploy' | 'diff';

/** The parsed command line. */
export interface DeployArgs {
  readonly verb: Verb;
  readonly stacks: readonly string[];
  readonly allowLocalProduction: boolean;
  /** Passed to cdktf unchanged (everything after `--`). */
  readonly cdktfArgs: readonly string[];
  readonly help: boolean;
}

/** A mistake in how the command was called: usage text, exit code 2. */
export class UsageError extends Error {}

export function parseDeployArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DeployArgs {
  const [verb, ...rest] = argv;
  if (verb !== 'deploy' && verb !== 'diff') throw new UsageError(`first argument must be deploy or diff, got "${verb ?? ''}"`);
  const separator = rest.indexOf('--');
  const own = separator === -1 ? rest : rest.slice(0, separator);
  const cdktfArgs = separator === -1 ? [] : rest.slice(separator + 1);
  let allowLocalProduction = env[ALLOW_LOCAL_PRODUCTION_ENV] === '1';
  let help = false;
  const stacks: string[] = [];
  for (const arg of own) {
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg === ALLOW_LOCAL_PRODUCTION_FLAG && verb === 'deploy') allowLocalProduction = true;
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}; options for cdktf go after "--"`);
    else stacks.push(arg);
  }
  return { verb, stacks, allowLocalProduction, cdktfArgs, help };
}

/** What the command does to the outside world; replaced in tests. */
export interface DeployIo {
  readonly log: (line: string) => void;
  /** Error messages (stderr). */
  readonly error: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Runs a program with inherited output; returns its exit code. */
  readonly run: (command: string, args: readonly string[], env: NodeJS.ProcessEnv) => number;
  readonly probe: StateProbe;
  readonly outdir: string;
  readonly isProduction: (environment: string) => boolean;
  /**
   * The App the synth step will write to `outdir`, built here without synthesizing it (preview.ts), so that a
   * refusal comes before the synth; undefined when it cannot be built here (another app entry). @default - none
   */
  readonly preview?: (env: NodeJS.ProcessEnv, outdir: string) => SynthesizedApp | undefined;
}

/** Production unless the system description says otherwise: an unknown environment is treated as production. */
function isProductionEnvironment(environment: string): boolean {
  return loadSystem().environments.find((spec) => spec.name === environment)?.production ?? true;
}

export function defaultIo(): DeployIo {
  return {
    log: (line) => process.stdout.write(`${line}\n`),
    error: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    run: (command, args, env) => {
      const result = spawnSync(command, [...args], { cwd: ROOT, env, stdio: 'inherit' });
      if (result.error !== undefined) throw new OperatorError(`could not start ${command}: ${result.error.message}`);
      return result.status ?? 1;
    },
    probe: defaultStateProbe(),
    outdir: path.join(ROOT, 'cdktf.out'),
    isProduction: isProductionEnvironment,
    preview: previewOfMainApp,
  };
}

/**
 * What main.ts synthesizes, built in this process: the same system (loadSystem) with the same options from the same
 * environment. Another app entry (MANACORE_APP_ENTRY, scripts/run-app.js) is not previewed. Warnings are left to the synth.
 */
function previewOfMainApp(env: NodeJS.ProcessEnv, outdir: string): SynthesizedApp | undefined {
  if (env.MANACORE_APP_ENTRY) return undefined;
  // cdktf's App creates its outdir and outdir/stacks when constructed: a directory of its own, so cdktf.out stays untouched.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'manacore-preview-'));
  try {
    return previewApp(buildSystemApp(loadSystem(), { ...synthesizeOptionsFromEnv(env), outdir: scratch, onWarning: () => {} }).app, outdir);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** A probe that asks once per stack and state location: the checks run before and after the synth. */
function probingOnce(probe: StateProbe): StateProbe {
  const answers = new Map<string, Promise<StateStatus>>();
  return (stack, location) => {
    const key = JSON.stringify([stack, location]);
    if (!answers.has(key)) answers.set(key, probe(stack, location));
    return answers.get(key)!;
  };
}

/** One step of the run, numbered as the operator reads them. */
function step(io: DeployIo, n: number, text: string): void {
  io.log(`[${n}/4] ${text}`);
}

/** Runs one invocation and returns its exit code. */
export async function runDeploy(args: DeployArgs, io: DeployIo): Promise<number> {
  const env = quietEnv(io.env);
  const checkedIo: DeployIo = { ...io, probe: probingOnce(io.probe) };
  await refuseBeforeSynth(args, checkedIo, env);

  step(io, 1, 'synthesizing (node scripts/run-app.js)');
  if (io.run(process.execPath, [path.join(ROOT, 'scripts', 'run-app.js')], { ...env, CDKTF_OUTDIR: io.outdir }) !== 0) {
    throw new OperatorError(`synth failed (see above); nothing was ${args.verb === 'diff' ? 'planned' : 'deployed'}`);
  }
  const app = readSynthesizedApp(io.outdir);
  const selected = selectStacks(app, args.stacks, args.verb);
  await checkStacks(app, selected, args, checkedIo, env);

  const cdktf = path.join(ROOT, 'node_modules', '.bin', 'cdktf');
  const rounds = args.verb === 'deploy' ? deployRounds(app, selected) : selected.map((stack) => [stack]);
  for (const [index, round] of rounds.entries()) {
    step(io, 4, `cdktf ${args.verb} ${round.join(' ')}${rounds.length > 1 ? ` (${index + 1} of ${rounds.length})` : ''}`);
    const code = io.run(cdktf, [args.verb, ...round, '--skip-synth', ...args.cdktfArgs], env);
    if (code !== 0) {
      const rest = rounds.slice(index + 1).flat();
      throw new OperatorError(`cdktf ${args.verb} exited with code ${code}${rest.length > 0 ? `; not run: ${rest.join(', ')}` : ''}`);
    }
  }
  return 0;
}

/**
 * The checks of the synth step's output, in the order an operator fixes what they find: production rules, release
 * tasks (said, not checked), upstream state, credentials, Terraform. Throws the refusal.
 */
async function checkStacks(app: SynthesizedApp, selected: readonly string[], args: DeployArgs, io: DeployIo, env: NodeJS.ProcessEnv): Promise<void> {
  step(io, 2, `checking ${selected.join(', ')}`);
  if (args.verb === 'deploy' && !args.allowLocalProduction) {
    const refusal = localProductionRefusal(app, selected, io.isProduction);
    if (refusal !== undefined) throw new OperatorError(refusal);
  }
  if (args.verb === 'deploy') {
    // Production never runs the placeholder of a product that was never released (issue 19), with any flag.
    for (const environment of new Set(selected.map((stack) => environmentOf(app, stack)))) {
      if (environment === undefined || !io.isProduction(environment)) continue;
      const uses = selected.filter((stack) => environmentOf(app, stack) === environment).flatMap((stack) => placeholderUses(app.stacks.get(stack)!));
      const refusal = placeholderRefusal(environment, uses);
      if (refusal !== undefined) throw new OperatorError(`${refusal}\nNothing was deployed.`);
    }
  }
  const tasks = selected.flatMap((stack) => declaredReleaseTasks(stack, app.stacks.get(stack)!.json));
  if (tasks.length > 0) {
    io.log('release tasks: each runs once, before its product\'s new containers, when the plan below creates its container (its tag is new here):');
    for (const line of describeRuns(tasks, (text) => text)) io.log(`  ${line}`);
  }
  const upstream = await checkUpstream(app, selected, io.probe);
  if (upstream.missing.length > 0) throw new OperatorError(missingUpstreamMessage(selected, upstream.missing));
  if (upstream.unchecked.length > 0) io.log(`note: could not check the state of ${upstream.unchecked.join(', ')} (Terraform Cloud without TFE_TOKEN); make sure they are deployed`);

  step(io, 3, 'looking for credentials and Terraform');
  const missing = new Map(selected.map((stack) => [stack, missingCredentials(app.stacks.get(stack)!, env)] as const).filter(([, names]) => names.length > 0));
  if (missing.size > 0) throw new OperatorError(missingCredentialsMessage(missing));
  const terraform = terraformBinary(env);
  requireBinary(terraform, 'cdktf runs Terraform for every plan and apply: install Terraform 1.x (https://developer.hashicorp.com/terraform/install) or set TERRAFORM_BINARY_NAME to its path.', env);
}

/**
 * The same checks, silently, on the App built here but not synthesized (io.preview): a refusal (missing credentials,
 * production with local state, ...) comes without the synth's second of CPU and without touching cdktf.out. Anything
 * else that fails here (bad configuration) is left to the synth, which reports it as `npm run synth` does.
 */
async function refuseBeforeSynth(args: DeployArgs, io: DeployIo, env: NodeJS.ProcessEnv): Promise<void> {
  let preview: SynthesizedApp | undefined;
  try {
    preview = io.preview?.(env, io.outdir);
    if (preview === undefined) return;
    await checkStacks(preview, selectStacks(preview, args.stacks, args.verb), args, { ...io, log: () => {} }, env);
  } catch (error) {
    if (error instanceof OperatorError) throw error;
  }
}

/** Entry point: parses, runs, maps errors to exit codes. */
export async function main(argv: readonly string[], io: DeployIo): Promise<number> {
  let args: DeployArgs;
  try {
    args = parseDeployArgs(argv, io.env);
  } catch (error) {
    io.error(`error: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    io.log(USAGE);
    return 0;
  }
  try {
    return await runDeploy(args, io);
  } catch (error) {
    if (error instanceof OperatorError || error instanceof SynthOutputError) {
      io.error(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (require.main === module) runCommand(() => main(process.argv.slice(2), defaultIo()));
