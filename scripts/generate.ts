/**
 * `npm run generate`: rebuilds every committed file that is derived from the system description,
 * after one synth. Run it after any change to environments/ (a product, a service, a host) and
 * commit what it wrote; the tests that compare these files name this command when one is stale.
 *
 *   .env.example                          the variables the stacks declare
 *   docs/topology-<env>.md                one Mermaid diagram per environment (npm run graph)
 *   README.md "generated: cost" block     the monthly cost table
 *   __tests__/fixtures/stack-digests.json every stack's Terraform JSON digest (synth-stability)
 *   constructs/hetzner/swarm-join-script.ts scripts/swarm/join as a string the network stack inlines
 *
 * Exit codes: 0 written, 1 failed.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { costReport } from './cost/estimate';
import { costTable } from './cost/readme-table';
import { writeTopology } from './graph/cli';
import { runCommand } from './lib/command-line';
import { readSynthesizedApp } from './lib/synthesized';
import { OperatorError, quietEnv } from './lib/tools';
import { renderEnvExample } from './pipeline/env-example';
import { readStacks } from './pipeline/cli';
import { SWARM_JOIN_MODULE, swarmJoinModule } from './swarm/script-module';

const ROOT = path.resolve(__dirname, '..');

/** This command, as the stale-file tests name it. */
export const GENERATE_COMMAND = 'npm run generate';

/** The markers around a generated block in a Markdown file. */
export function generatedMarkers(name: string): { readonly begin: string; readonly end: string } {
  return { begin: `<!-- generated: ${name} (${GENERATE_COMMAND}) -->`, end: `<!-- end generated: ${name} -->` };
}

/** The text between a block's markers, or undefined when the file has no such block. */
export function generatedBlock(text: string, name: string): string | undefined {
  const { begin, end } = generatedMarkers(name);
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  return start === -1 || stop < start ? undefined : text.slice(start + begin.length, stop).trim();
}

/** `text` with the block's content replaced; throws when the markers are missing. */
export function withGeneratedBlock(text: string, name: string, content: string): string {
  const { begin, end } = generatedMarkers(name);
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  if (start === -1 || stop < start) throw new OperatorError(`no "${begin}" ... "${end}" block to write`);
  return `${text.slice(0, start + begin.length)}\n${content}\n${text.slice(stop)}`;
}

function main(): number {
  const outdir = path.join(ROOT, 'cdktf.out');
  const relative = (file: string): string => path.relative(ROOT, file);
  // Before the synth, which inlines it.
  fs.writeFileSync(SWARM_JOIN_MODULE, swarmJoinModule());
  process.stdout.write(`wrote ${relative(SWARM_JOIN_MODULE)}\n`);
  const synth = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'run-app.js')], { cwd: ROOT, env: { ...quietEnv(), CDKTF_OUTDIR: outdir }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (synth.status !== 0) throw new OperatorError('synth failed (see above); nothing was generated');

  const envExample = path.join(ROOT, '.env.example');
  fs.writeFileSync(envExample, renderEnvExample(readStacks(outdir)));
  process.stdout.write(`wrote ${relative(envExample)}\n`);

  for (const file of writeTopology(outdir, path.join(ROOT, 'docs'))) process.stdout.write(`wrote ${relative(file)}\n`);

  const readme = path.join(ROOT, 'README.md');
  fs.writeFileSync(readme, withGeneratedBlock(fs.readFileSync(readme, 'utf8'), 'cost', costTable(costReport(readSynthesizedApp(outdir)))));
  process.stdout.write(`wrote ${relative(readme)} (cost table)\n`);

  // The digests are computed where the test compares them, so there is one definition of what is pinned.
  const digests = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--runTestsByPath', path.join('__tests__', 'synth-stability.test.ts')], {
    cwd: ROOT,
    env: { ...process.env, UPDATE_STACK_DIGESTS: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (digests.status !== 0) throw new OperatorError(`writing the stack digests failed:\n${digests.stderr}`);
  process.stdout.write('wrote __tests__/fixtures/stack-digests.json\n');
  return 0;
}

if (require.main === module) runCommand(main);
