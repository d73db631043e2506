/**
 * `npm run graph [-- --out <dir>] [--skip-synth]`: synthesizes (unless told not to), then writes
 * docs/topology-<env>.md, one Mermaid diagram per environment, from cdktf.out.
 * Exit codes: 0 written, 1 failed, 2 usage error.
 */
import { projectRoot, runCommand } from '../lib/command-line';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { environmentsOf, readSynthesizedApp, SynthOutputError } from '../lib/synthesized';
import { quietEnv } from '../lib/tools';
import { topologyMarkdown } from './topology';

const ROOT = projectRoot();

export const USAGE = 'Usage: npm run graph [-- [--out <dir, default docs>] [--skip-synth] [--cdktf-out <dir, default cdktf.out>]]';

/** Writes one file per environment and returns their paths. */
export function writeTopology(cdktfOut: string, outDir: string): string[] {
  const app = readSynthesizedApp(cdktfOut);
  fs.mkdirSync(outDir, { recursive: true });
  return [...environmentsOf(app)].sort().map((environment) => {
    const file = path.join(outDir, `topology-${environment}.md`);
    fs.writeFileSync(file, topologyMarkdown(app, environment));
    return file;
  });
}

export function main(argv: readonly string[]): number {
  let outDir = path.join(ROOT, 'docs');
  let cdktfOut = path.join(ROOT, 'cdktf.out');
  let synth = true;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    } else if (arg === '--skip-synth') synth = false;
    else if ((arg === '--out' || arg === '--cdktf-out') && argv[i + 1] !== undefined) {
      const value = path.resolve(argv[(i += 1)]);
      if (arg === '--out') outDir = value;
      else cdktfOut = value;
    } else {
      process.stderr.write(`error: unknown argument ${arg}\n${USAGE}\n`);
      return 2;
    }
  }
  if (synth) {
    const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'run-app.js')], { cwd: ROOT, env: { ...quietEnv(), CDKTF_OUTDIR: cdktfOut }, stdio: ['ignore', 'ignore', 'inherit'] });
    if (result.status !== 0) return 1;
  }
  try {
    for (const file of writeTopology(cdktfOut, outDir)) process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof SynthOutputError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

if (require.main === module) runCommand(() => main(process.argv.slice(2)));
