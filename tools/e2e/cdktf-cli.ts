/**
 * The design card's command as typed, under real Terraform: `cdktf deploy <env>-<product> --auto-approve`, run by the
 * cdktf CLI in the system's work directory. That directory is made a cdktf project (cdktf.json) whose app is this
 * repository's (scripts/run-app.js, main.ts) and whose output is the harness's synth directory, so the stack's
 * local state paths land on the harness's state files. Terraform gets the harness's CLI configuration (the mock
 * providers' filesystem mirror) and variables; cdktf finds the lock file the harness's `terraform init` wrote, so it
 * runs no `terraform providers lock` (which would ask the public registry).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './schema/providers';

/** Writes cdktf.json into `projectDir`: the repository's app, synthesized into `projectDir/<outDirName>`. */
export function writeCdktfProject(projectDir: string, outDirName: string): void {
  const config = { language: 'typescript', app: `node ${JSON.stringify(path.join(REPO_ROOT, 'scripts', 'run-app.js'))}`, output: outDirName, projectId: 'e2e', sendCrashReports: 'false' };
  fs.writeFileSync(path.join(projectDir, 'cdktf.json'), `${JSON.stringify(config, null, 2)}\n`);
}

/** Runs the cdktf CLI in `projectDir`; resolves its exit code and everything it printed. */
export function runCdktf(projectDir: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(REPO_ROOT, 'node_modules', '.bin', 'cdktf'), [...args], { cwd: projectDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** The environment for cdktf: the harness's Terraform environment, no Terraform Cloud, no telemetry or version checks. */
export function cdktfEnv(terraformEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...terraformEnv, CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: 'true', CI: '1', FORCE_COLOR: '0' };
  // main.ts would move every stack to Terraform Cloud with these set.
  delete env.TFC_ORGANIZATION;
  delete env.TFC_BOOTSTRAP;
  return env;
}

/** cdktf prefixes each line with the stack name and Terraform wraps long lines: compare words only. */
export function words(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '').replace(/\s+/g, ' ');
}

/** Problems with a refused cdktf run: it must fail, print no raw Terraform error and leave no state file. */
export function checkRefusal(result: { code: number; output: string }, stack: string, stateFiles: readonly string[]): string[] {
  const problems: string[] = [];
  if (result.code === 0) problems.push(`cdktf deploy ${stack} before its upstream was deployed exited 0`);
  if (/Unable to find remote state|Unsupported attribute/.test(result.output)) problems.push(`cdktf deploy ${stack} (no upstream) printed a raw Terraform error:\n${result.output.slice(-3000)}`);
  if (stateFiles.length > 0) problems.push(`cdktf deploy ${stack} (no upstream) changed something: state files ${stateFiles.join(', ')}`);
  return problems;
}

/** Problems with Terraform's refusal: it names the first missing upstream stack, then the stacks to deploy, in order. */
export function checkRefusalMessage(result: { code: number; output: string }, stack: string, firstMissing: string, deployFirst: readonly string[]): string[] {
  const text = words(result.output);
  if (result.code !== 1) return [`terraform plan of ${stack} without its upstream exited ${result.code}, not 1`];
  const expected = [`${stack} reads outputs of ${firstMissing}, which has not been deployed yet`, ...deployFirst.map((line) => line.trim()), `then: cdktf deploy ${stack}`];
  let from = 0;
  for (const phrase of expected) {
    const at = text.indexOf(words(phrase), from);
    if (at < 0) return [`terraform plan of ${stack} without its upstream did not say, in order, "${phrase}":\n${result.output.slice(-3000)}`];
    from = at;
  }
  if (/Unable to find remote state|Unsupported attribute/.test(result.output)) return [`terraform plan of ${stack} printed a raw error besides the message:\n${result.output.slice(-3000)}`];
  return [];
}
