/**
 * Command line for the plan comment, used by .github/workflows/plan.yml and apply.yml, and by hand:
 *
 *   npm run plan:comment -- [options] <plan>...
 *     <plan> is one of
 *       <stack>=<path>   plan JSON (`terraform show -json`) of that stack
 *       <path>           stack name from the file name: <stack>.plan.json or <stack>.json
 *       <directory>      every *.json file in it, named as above
 *     --out <file>         write the comment body there and print `has_changes=true|false`
 *                          (default: print the body on stdout)
 *     --expect <a,b,...>   stacks that should have a plan; missing ones are reported as failed
 *     --run-url <url>      link for "see the workflow run" (default: this GitHub Actions run)
 *     --max-length <n>     body size limit (default: GitHub's 65536)
 *     --base-out <dir> --head-out <dir>
 *                          cdktf.out of the base and the head: adds the monthly cost delta and,
 *                          when the topology changed, the diagram of each changed environment
 *     --errors <directory> <stack>.error.txt files: redacted log tails of failed stacks, shown in the comment
 *     --text-plans <dir>   <stack>.plan.txt files: speculative Terraform Cloud plans (text-plan.ts)
 *     Appends `has_changes=...` to $GITHUB_OUTPUT when that is set.
 *
 *   npm run plan:changed-stacks -- [--json] <base cdktf.out> <head cdktf.out>
 *     Prints changed and added stacks, one per line, in rollout order; with --json prints
 *     {"changed":[],"added":[],"removed":[],"stacks":[]} where stacks = changed + added.
 *
 *   npm run plan:redact -- <plan.json> <out.json> [--stack <name>]
 *     Writes a copy of the plan that is safe to upload as an artifact (see redact.ts).
 *
 *   npm run plan:error-tail -- <log> <out.txt> [--secret-env A,B] [--max-lines n]
 *     Writes the redacted end of a failed Terraform log (see error-tail.ts); the values of the
 *     named environment variables (the job's credentials) are removed wherever they appear.
 *
 * Exit codes: 0 success, 1 failure (bad plan, unreadable tree), 2 usage error.
 */
import { runCommand } from '../lib/command-line';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { changedStacks } from './changed-stacks';
import { redactErrorTail } from './error-tail';
import { redactPlan } from './redact';
import { GITHUB_COMMENT_MAX_LENGTH, renderPlanComment, type StackPlan } from './render';
import { summarizeTextPlan, textPlanHasChanges, textPlansSection } from './text-plan';
import { SAFE_STACK_NAME, sortStacks } from './stack-order';
import { operatorSections } from './operator-sections';

export const USAGE = `Usage:
  npm run plan:comment -- [--out <file>] [--expect <a,b>] [--run-url <url>] [--max-length <n>]
                          [--base-out <dir> --head-out <dir>] [--errors <dir>] [--text-plans <dir>] <plan>...
      <plan> = <stack>=<plan.json> | <stack>.plan.json | <stack>.json | <directory of those>
      prints the comment on stdout unless --out is given
  npm run plan:changed-stacks -- [--json] <base cdktf.out> <head cdktf.out>
  npm run plan:redact -- <plan.json> <out.json> [--stack <name>]
  npm run plan:error-tail -- <log> <out.txt> [--secret-env A,B] [--max-lines <n>]
A plan JSON for one stack, made locally (after npm run synth; Terraform needs the providers):
  terraform -chdir=cdktf.out/stacks/<stack> init
  terraform -chdir=cdktf.out/stacks/<stack> plan -out=plan.tfplan
  terraform -chdir=cdktf.out/stacks/<stack> show -json plan.tfplan > <stack>.plan.json`;

/** A mistake in how the command was called; printed with the usage text, exit code 2. */
export class UsageError extends Error {}

/** Where the CLI reads and writes; replaced in tests. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

interface ParsedArgs {
  readonly positional: string[];
  readonly options: Map<string, string>;
  readonly flags: Set<string>;
}

/** Splits `--name value`, `--name=value` and boolean `--flag`s from positional arguments. */
function parseArgs(args: readonly string[], valued: readonly string[], booleans: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.includes('=') ? [arg.slice(2, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg.slice(2), undefined];
    if (booleans.includes(name) && inline === undefined) {
      flags.add(name);
    } else if (valued.includes(name)) {
      const value = inline ?? args[(i += 1)];
      if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
      options.set(name, value);
    } else {
      throw new UsageError(`unknown option ${arg}`);
    }
  }
  return { positional, options, flags };
}

/** Derives the stack name from `<stack>.plan.json` or `<stack>.json`. */
export function stackNameFromFile(file: string): string {
  const base = path.basename(file);
  const name = base.endsWith('.plan.json') ? base.slice(0, -'.plan.json'.length) : base.endsWith('.json') ? base.slice(0, -'.json'.length) : '';
  if (!SAFE_STACK_NAME.test(name)) {
    throw new UsageError(`cannot derive a stack name from "${file}"; name it <stack>.plan.json or pass <stack>=<path>`);
  }
  return name;
}

/** Resolves one render argument to (stack, file) pairs; see the file comment for the forms. */
export function planFilesFromArgument(arg: string): { stack: string; file: string }[] {
  const eq = arg.indexOf('=');
  if (eq > 0 && SAFE_STACK_NAME.test(arg.slice(0, eq))) return [{ stack: arg.slice(0, eq), file: arg.slice(eq + 1) }];
  if (!fs.existsSync(arg)) throw new UsageError(`no such plan file or directory: ${arg}`);
  if (fs.statSync(arg).isDirectory()) {
    return fs
      .readdirSync(arg)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => ({ stack: stackNameFromFile(name), file: path.join(arg, name) }));
  }
  return [{ stack: stackNameFromFile(arg), file: arg }];
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read plan ${file}: ${(error as Error).message}`);
  }
}

function defaultRunUrl(env: CliIo['env']): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined;
}

function runRender(args: readonly string[], io: CliIo): void {
  const { positional, options } = parseArgs(args, ['out', 'expect', 'run-url', 'max-length', 'base-out', 'head-out', 'errors', 'text-plans'], []);
  const out = options.get('out');
  if (positional.length === 0 && options.get('text-plans') === undefined) throw new UsageError('render needs at least one plan file or directory, or --text-plans');
  const maxLengthText = options.get('max-length');
  const maxLength = maxLengthText === undefined ? undefined : Number(maxLengthText);
  if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength > 0)) {
    throw new UsageError(`--max-length must be a positive integer, got "${maxLengthText}"`);
  }
  const baseOut = options.get('base-out');
  const headOut = options.get('head-out');
  if ((baseOut === undefined) !== (headOut === undefined)) throw new UsageError('--base-out and --head-out go together');
  const plans: StackPlan[] = positional
    .flatMap(planFilesFromArgument)
    .map(({ stack, file }) => ({ stack, plan: readJson(file) }));
  const expected = (options.get('expect') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const textPlans = readTextPlans(options.get('text-plans'));
  const planned = new Set([...plans.map((plan) => plan.stack), ...textPlans.keys()]);
  const limit = maxLength ?? GITHUB_COMMENT_MAX_LENGTH;
  // JSON plans get at least half the room; speculative text plans (Terraform Cloud) fill the rest.
  const rendered = renderPlanComment(plans, {
    maxLength: textPlans.size === 0 ? limit : Math.floor(limit / 2),
    failedStacks: expected.filter((stack) => !planned.has(stack)),
    errorTails: readErrorTails(options.get('errors')),
    runUrl: options.get('run-url') ?? defaultRunUrl(io.env),
    appendix: baseOut !== undefined && headOut !== undefined ? operatorSections(baseOut, headOut) : [],
  });
  const section = textPlansSection(textPlans, limit - rendered.body.length - 2);
  const result = {
    body: section === '' ? rendered.body : `${rendered.body}\n\n${section}`,
    hasChanges: rendered.hasChanges || [...textPlans.values()].some((log) => textPlanHasChanges(summarizeTextPlan(log))),
  };
  const line = `has_changes=${result.hasChanges}`;
  if (out === undefined) {
    io.stdout(result.body);
  } else {
    fs.writeFileSync(out, result.body);
    io.stdout(`${line}\n`);
  }
  if (io.env.GITHUB_OUTPUT) fs.appendFileSync(io.env.GITHUB_OUTPUT, `${line}\n`);
}

/** `<stack>.plan.txt` files of a directory, by stack; a missing directory has none. */
export function readTextPlans(dir: string | undefined): Map<string, string> {
  const plans = new Map<string, string>();
  if (dir === undefined || !fs.existsSync(dir)) return plans;
  for (const name of fs.readdirSync(dir).filter((file) => file.endsWith('.plan.txt')).sort()) {
    const stack = name.slice(0, -'.plan.txt'.length);
    if (!SAFE_STACK_NAME.test(stack)) throw new UsageError(`cannot derive a stack name from "${name}"`);
    plans.set(stack, fs.readFileSync(path.join(dir, name), 'utf8'));
  }
  return plans;
}

/** `<stack>.error.txt` files of a directory, by stack; a missing directory has none. */
export function readErrorTails(dir: string | undefined): Map<string, string> {
  const tails = new Map<string, string>();
  if (dir === undefined || !fs.existsSync(dir)) return tails;
  for (const name of fs.readdirSync(dir).filter((file) => file.endsWith('.error.txt')).sort()) {
    const stack = name.slice(0, -'.error.txt'.length);
    if (!SAFE_STACK_NAME.test(stack)) throw new UsageError(`cannot derive a stack name from "${name}"`);
    // Redacted again here: the file came through an artifact, and redaction is idempotent.
    tails.set(stack, redactErrorTail(fs.readFileSync(path.join(dir, name), 'utf8')));
  }
  return tails;
}

function runErrorTail(args: readonly string[], io: CliIo): void {
  const { positional, options } = parseArgs(args, ['secret-env', 'max-lines'], []);
  if (positional.length !== 2) throw new UsageError('error-tail needs <log> <out.txt>');
  const [input, output] = positional;
  const maxLinesText = options.get('max-lines');
  const maxLines = maxLinesText === undefined ? undefined : Number(maxLinesText);
  if (maxLines !== undefined && !(Number.isInteger(maxLines) && maxLines > 0)) {
    throw new UsageError(`--max-lines must be a positive integer, got "${maxLinesText}"`);
  }
  const names = (options.get('secret-env') ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  const secrets = names.map((name) => io.env[name]).filter((value): value is string => value !== undefined && value !== '');
  const log = fs.existsSync(input) ? fs.readFileSync(input, 'utf8') : `(no log: ${input} does not exist)`;
  fs.writeFileSync(output, `${redactErrorTail(log, { secrets, maxLines })}\n`);
}

function runChangedStacks(args: readonly string[], io: CliIo): void {
  const { positional, flags } = parseArgs(args, [], ['json']);
  if (positional.length !== 2) throw new UsageError('changed-stacks needs exactly two directories: <base cdktf.out> <head cdktf.out>');
  const [base, head] = positional;
  const result = changedStacks(base, head);
  const stacks = sortStacks([...result.changed, ...result.added]);
  if (flags.has('json')) {
    io.stdout(`${JSON.stringify({ ...result, stacks })}\n`);
    return;
  }
  if (stacks.length > 0) io.stdout(`${stacks.join('\n')}\n`);
  // Removed stacks are not planned or applied by the workflows; say so where a human looks.
  if (result.removed.length > 0) io.stderr(`removed stacks (not planned): ${result.removed.join(', ')}\n`);
}

function runRedact(args: readonly string[]): void {
  const { positional, options } = parseArgs(args, ['stack'], []);
  if (positional.length !== 2) throw new UsageError('redact needs <plan.json> <out.json>');
  const [input, output] = positional;
  const stack = options.get('stack') ?? stackNameFromFile(output);
  fs.writeFileSync(output, `${JSON.stringify(redactPlan(stack, readJson(input)), null, 2)}\n`);
}

/** Runs one CLI invocation and returns the exit code (see the file comment). */
export function main(argv: readonly string[], io: CliIo): number {
  const [command, ...rest] = argv;
  try {
    if (command === '-h' || command === '--help' || rest.includes('--help') || rest.includes('-h')) {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    switch (command) {
      case 'render':
        runRender(rest, io);
        return 0;
      case 'changed-stacks':
        runChangedStacks(rest, io);
        return 0;
      case 'redact':
        runRedact(rest);
        return 0;
      case 'error-tail':
        runErrorTail(rest, io);
        return 0;
      case undefined:
        io.stderr(`${USAGE}\n`);
        return 2;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    io.stderr(`error: ${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  runCommand(() => main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  }));
}
