/**
 * Running the real `terraform` against synthesized stacks with the mock providers: the CLI configuration
 * (filesystem mirror for `init`, shared plugin cache), the shared mock process (TF_REATTACH_PROVIDERS for every
 * other command), variable values, and errors that name the stack and the file and line in cdk.tf.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MOCKED_PROVIDERS, REPO_ROOT } from './schema/providers';

export const MOCK_SERVER = path.join(REPO_ROOT, 'tools', 'e2e', 'mock-provider', 'server.ts');

/**
 * The mock bundled into one file (esbuild, as scripts/run-app.js does for the app): Terraform starts a launched
 * provider several times per command, and one bundled file starts in a fraction of a TypeScript loader's time.
 */
export function mockBundle(workDir: string): string {
  const bundle = path.join(workDir, 'mock-provider.js');
  if (!fs.existsSync(bundle)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    esbuild.buildSync({ entryPoints: [MOCK_SERVER], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: bundle, logLevel: 'warning' });
  }
  return bundle;
}

/** A failed Terraform command: its message already names the stack and, where Terraform gave one, file and line. */
export class TerraformError extends Error {}

/**
 * Lays out a filesystem mirror (Terraform's "unpacked" layout: <host>/<namespace>/<type>/<version>/<os_arch>/)
 * whose provider executables start the mock, and a CLI configuration that installs only from it.
 * Returns the CLI configuration file.
 */
export function writeCliConfig(workDir: string): string {
  const mirror = path.join(workDir, 'mirror');
  const platform = `${process.platform}_${process.arch === 'x64' ? 'amd64' : process.arch}`;
  for (const provider of MOCKED_PROVIDERS) {
    const [host, namespace, type] = provider.address.split('/');
    const dir = path.join(mirror, host, namespace, type, provider.version, platform);
    fs.mkdirSync(dir, { recursive: true });
    const executable = path.join(dir, `terraform-provider-${type}_v${provider.version}`);
    const script = `#!/bin/sh\nE2E_REPO_ROOT="${REPO_ROOT}" exec "${process.execPath}" "${mockBundle(workDir)}" --provider ${provider.name} "$@"\n`;
    fs.writeFileSync(executable, script, { mode: 0o755 });
  }
  const config = path.join(workDir, 'terraform.rc');
  fs.writeFileSync(
    config,
    [
      // No plugin_cache_dir: Terraform's cache is not safe for parallel inits, and the mirrored "package" is one
      // small script, so installing it per stack costs less than a cache would save.
      'disable_checkpoint = true',
      'provider_installation {',
      `  filesystem_mirror {`,
      `    path    = ${JSON.stringify(mirror)}`,
      `    include = [${MOCKED_PROVIDERS.map((p) => JSON.stringify(p.address.replace('registry.terraform.io/', ''))).join(', ')}]`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  return config;
}

/** The shared mock process: one provider server per provider, attached to by every Terraform command. */
export interface SharedMock {
  readonly reattach: string;
  readonly logFile: string;
  /** Stops the process and waits for it (its last log line states the CPU it used). */
  stop(): Promise<void>;
  /** The mock's own log, for a failure message. */
  tail(): string;
}

export async function startSharedMock(workDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<SharedMock> {
  const socketDir = path.join(workDir, 'mock');
  fs.rmSync(socketDir, { recursive: true, force: true });
  fs.mkdirSync(socketDir, { recursive: true });
  const logFile = path.join(workDir, 'mock-provider.log');
  fs.writeFileSync(logFile, '');
  const out = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [mockBundle(workDir), '--serve-all', socketDir], {
    stdio: ['ignore', 'pipe', out],
    env: { ...process.env, E2E_MOCK_LOG: '', E2E_REPO_ROOT: REPO_ROOT, ...extraEnv },
  });
  const tail = () => {
    const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim() : '';
    return text ? `\n--- mock provider log (${logFile}) ---\n${text.split('\n').slice(-40).join('\n')}` : '';
  };
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready\n')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`e2e: the mock provider exited with ${code} before it was ready${tail()}`)));
  });
  let stopping = false;
  child.on('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`e2e: the mock provider died (${code ?? signal})${tail()}\n`);
  });
  return {
    reattach: fs.readFileSync(path.join(socketDir, 'reattach.json'), 'utf8'),
    logFile,
    tail,
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Random characters of bech32's alphabet (BIP 173), the encoding of age's public keys. */
function bech32(length: number): string {
  const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  return [...randomBytes(length)].map((byte) => alphabet[byte % 32]).join('');
}

/** Values for the stacks' variables: fresh random secrets per run (so a leak is recognisable), well-formed non-secrets. */
export function variableValues(stackJsons: readonly any[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const stack of stackJsons) {
    for (const [name, variable] of Object.entries<any>(stack.variable ?? {})) {
      if (name in values) continue;
      if (name.startsWith('ssh_public_key')) values[name] = `ssh-ed25519 ${randomBytes(51).toString('base64')} e2e@${name}`;
      else if (name.endsWith('account_id')) values[name] = randomBytes(16).toString('hex');
      else if (name.endsWith('age_recipient')) values[name] = `age1${bech32(58)}`; // an age X25519 public key's shape
      else if (variable.sensitive) values[name] = `e2e-secret-${randomBytes(12).toString('hex')}`;
      else values[name] = `e2e-${name}`;
    }
  }
  return values;
}

export interface RunOptions {
  /** Attach to the shared mock (default) or let Terraform launch the mock from the mirror. */
  readonly reattach?: boolean;
  /** Exit codes that are not failures (2 for `plan -detailed-exitcode`). */
  readonly allowExit?: number[];
  /** Extra environment for Terraform and the mocks it launches. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs Terraform per stack with the harness's environment. */
export class Terraform {
  constructor(
    private readonly cliConfig: string,
    private readonly mock: SharedMock,
    private readonly variables: Record<string, string>,
  ) {}

  /**
   * The environment Terraform gets when a program other than the harness (the cdktf CLI) starts it, for every command
   * (init included): attached to the shared mock, since a mock launched per command costs seconds each.
   */
  cliEnv(): NodeJS.ProcessEnv {
    return this.env(true);
  }

  private env(withReattach: boolean, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    // A mock that Terraform launches inherits E2E_MOCK_LOG and writes its errors there (Terraform hides its stderr).
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TF_CLI_CONFIG_FILE: this.cliConfig,
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      CHECKPOINT_DISABLE: '1',
      // Terraform's commands here are short and memory is plentiful: collecting garbage less often cut a
      // validate's CPU time by about a third (measured: 0.26 s -> 0.17 s per product stack).
      GOGC: '400',
      E2E_MOCK_LOG: this.mock.logFile,
      ...extra,
    };
    delete env.TF_LOG;
    if (withReattach) env.TF_REATTACH_PROVIDERS = this.mock.reattach;
    else delete env.TF_REATTACH_PROVIDERS;
    for (const [name, value] of Object.entries(this.variables)) env[`TF_VAR_${name}`] = value;
    return env;
  }

  /** Runs one command in a stack directory; resolves stdout, or rejects with a TerraformError naming the stack. */
  run(stack: string, dir: string, args: readonly string[], options: RunOptions = {}): Promise<{ stdout: string; stderr: string; code: number }> {
    return new Promise((resolve, reject) => {
      const child = spawn('terraform', args, { cwd: dir, env: this.env(options.reattach ?? true, options.env), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', (error) => reject(new TerraformError(`${stack}: cannot run terraform: ${error.message}`)));
      // 'close', not 'exit': at 'exit' the pipes may still hold the tail of stdout (Node's child_process docs), which
      // under load once lost Terraform's "Apply complete!" line.
      child.on('close', (code) => {
        if (code === 0 || options.allowExit?.includes(code ?? -1)) return resolve({ stdout, stderr, code: code ?? 0 });
        reject(new TerraformError(`${stack}: terraform ${args[0]} failed (exit ${code}) in ${path.join(dir, 'cdk.tf.json')}:\n${describeFailure(stdout, stderr)}${this.mock.tail()}`));
      });
    });
  }
}

/** Terraform's own message; for `-json` output, each diagnostic as `cdk.tf.json:<line>:<column>: summary: detail`. */
export function describeFailure(stdout: string, stderr: string): string {
  const diagnostics: string[] = [];
  for (const text of [stdout]) {
    try {
      const parsed = JSON.parse(text);
      for (const d of parsed.diagnostics ?? []) {
        const where = d.range ? `${d.range.filename}:${d.range.start.line}:${d.range.start.column}: ` : '';
        diagnostics.push(`  ${where}${d.severity}: ${d.summary}${d.detail ? `: ${d.detail}` : ''}`);
      }
    } catch {
      // not JSON: human output below
    }
  }
  if (diagnostics.length > 0) return `${diagnostics.join('\n')}\n${stderr.trim()}`;
  return `${stderr.trim()}\n${stdout.trim()}`.trim();
}
