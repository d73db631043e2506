/**
 * The pull-request gate's command (policy.ts). Run from a checkout of the BASE commit, never
 * from the pull request's (.github/workflows/pr-plan.yml):
 *
 *   tsx scripts/pr-gate/cli.ts <base cdktf.out> <head cdktf.out> <gated dir>
 *
 * <base cdktf.out> is the base commit's own synth; <head cdktf.out> is the pull request's
 * (its artifact: data only). Every head stack is checked; when all pass, the exact bytes that
 * were checked are written to <gated dir>/stacks/<stack>/cdk.tf.json (and nothing else of the
 * head directory), which is all the plan job reads. Violations print one line each
 * (`stack address [rule] detail`) and nothing is written.
 *
 * Exit codes: 0 passed, 1 refused, 2 usage error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SAFE_STACK_NAME } from '../plan-comment/stack-order';
import { checkSynth, formatViolation, type GateStack } from './policy';

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

export function main(args: string[]): number {
  if (args.length !== 3) {
    process.stderr.write('usage: tsx scripts/pr-gate/cli.ts <base cdktf.out> <head cdktf.out> <gated dir>\n');
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
