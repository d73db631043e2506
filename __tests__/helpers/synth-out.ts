/**
 * Synthesizes the real App (main.ts) into a temporary cdktf.out with the app command cdktf runs,
 * for the operator commands that read synth output. One synth per call (about half a second with
 * the bundle cached).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Runs `node scripts/run-app.js` into a fresh temporary directory and returns it. */
export function synthToTemp(extraEnv: Record<string, string> = {}): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'manacore-out-'));
  const result = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'run-app.js')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CDKTF_OUTDIR: outdir, ...extraEnv },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`synth failed: ${result.stderr}`);
  return outdir;
}
