/**
 * The pull-request gate's command (policy.ts). Run from a checkout of the BASE commit, never
 * from the pull request's (.github/workflows/pr-plan.yml):
 *
 *   tsx scripts/pr-gate/cli.ts check <base cdktf.out> <head cdktf.out> <gated dir>
 *
 * <base cdktf.out> is the base commit's own synth; <head cdktf.out> is the pull request's
 * (its artifact: data only). Every head stack is checked; when all pass, the exact bytes that
 * were checked are written to <gated dir>/stacks/<stack>/cdk.tf.json (and nothing else of the
 * head directory), which is all the plan job reads. Violations print one line each
 * (`stack address [rule] detail`) and nothing is written.
 *
 *   tsx scripts/pr-gate/cli.ts split <changed.json>
 *     Prints {"open":[...],"sensitive":[...]}: the changed stacks (changed-stacks --json) planned
 *     without review, and the data and credentials stacks planned only after a reviewer approved.
 *   tsx scripts/pr-gate/cli.ts comment <violations.txt>
 *     Prints the pull-request comment saying the gate refused the configuration, and why.
 *
 * Exit codes: 0 passed, 1 refused, 2 usage error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PLAN_COMMENT_MARKER } from '../plan-comment/render';
import { SAFE_STACK_NAME } from '../plan-comment/stack-order';
import { checkSynth, formatViolation, stackClass, type GateStack } from './policy';

/** Stack kinds whose pull-request plan waits for a reviewer: a data workspace's run token reads every password. */
export const REVIEWED_PLAN_CLASSES = ['data', 'credentials'];

/** Splits the stacks to plan into those planned at once and those planned after review. */
export function splitForReview(stacks: readonly string[]): { open: string[]; sensitive: string[] } {
  const sensitive = stacks.filter((stack) => REVIEWED_PLAN_CLASSES.includes(stackClass(stack)));
  return { open: stacks.filter((stack) => !sensitive.includes(stack)), sensitive };
}

/** The comment when the gate refused: the violations verbatim in a fence longer than any backtick run in them. */
export function refusalComment(violations: string): string {
  const longest = Math.max(2, ...[...violations.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longest + 1);
  return [
    PLAN_COMMENT_MARKER,
    '## Plan refused by the pull-request gate',
    '',
    "Nothing was planned: the synthesized configuration does not have the shape the base branch's synth allows (scripts/pr-gate/). Each line is `stack address [rule] detail`.",
    '',
    fence,
    violations.trim(),
    fence,
    '',
  ].join('\n');
}

/** Every `stacks/<name>/` directory of a synth output, with its files; `configs` holds each cdk.tf.json's bytes. */
function readTree(outDir: string): { stacks: Map<string, GateStack>; configs: Map<string, string> } {
  const root = path.join(outDir, 'stacks');
  const stacks = new Map<string, GateStack>();
  const configs = new Map<string, string>();
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    // A symlink or odd name could point the plan outside the checked tree.
    if (!entry.isDirectory() || !SAFE_STACK_NAME.test(entry.name)) throw new Error(`${root}/${entry.name}: not a stack directory with a plain name`);
    const dir = path.join(root, entry.name);
    const text = fs.readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`${dir}/cdk.tf.json is not JSON: ${(error as Error).message}`);
    }
    configs.set(entry.name, text);
    stacks.set(entry.name, { json, files: fs.readdirSync(dir) });
  }
  return { stacks, configs };
}

const USAGE = 'usage: tsx scripts/pr-gate/cli.ts check <base cdktf.out> <head cdktf.out> <gated dir> | split <changed.json> | comment <violations.txt>\n';

export function main([command, ...args]: string[]): number {
  if (command === 'split' && args.length === 1) {
    const changed = JSON.parse(fs.readFileSync(args[0], 'utf8')) as { stacks: string[] };
    process.stdout.write(`${JSON.stringify(splitForReview(changed.stacks))}\n`);
    return 0;
  }
  if (command === 'comment' && args.length === 1) {
    process.stdout.write(refusalComment(fs.readFileSync(args[0], 'utf8')));
    return 0;
  }
  if (command !== 'check' || args.length !== 3) {
    process.stderr.write(USAGE);
    return 2;
  }
  const [baseDir, headDir, gatedDir] = args;
  const base = new Map([...readTree(baseDir).stacks].map(([name, stack]) => [name, stack.json]));
  const head = readTree(headDir);
  const violations = checkSynth(base, head.stacks);
  if (violations.length > 0) {
    process.stderr.write(`The pull request's configuration is refused; nothing is planned (${violations.length} violation(s)):\n`);
    for (const violation of violations) process.stdout.write(`${formatViolation(violation)}\n`);
    return 1;
  }
  for (const [name, text] of head.configs) {
    fs.mkdirSync(path.join(gatedDir, 'stacks', name), { recursive: true });
    fs.writeFileSync(path.join(gatedDir, 'stacks', name, 'cdk.tf.json'), text);
  }
  process.stderr.write(`${head.stacks.size} stack(s) passed the gate\n`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
