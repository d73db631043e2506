/**
 * Running the external tools (cdktf, terraform, docker, git) the same way from every script:
 * quiet environment, clear message when a binary is missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The environment every script runs cdktf and terraform with: no telemetry, no version check.
 * Names as read in the installed @cdktf/commons 0.21.0 (src/environment.js; upstream
 * hashicorp/terraform-cdk packages/@cdktf/commons/src/environment.ts, listed on its docs page
 * "Environment Variables"): DISABLE_VERSION_CHECK is true for
 * "true" or "1"; CHECKPOINT_DISABLE is any non-empty value and is also Terraform's own switch for
 * its upgrade and security-bulletin check (developer.hashicorp.com/terraform/cli/commands, "Upgrade
 * and Security Bulletin Checks"); with it set, cdktf sends no telemetry (commons checkpoint.js).
 */
export function quietEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const quiet: NodeJS.ProcessEnv = { ...env, CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: 'true' };
  // A TF_CLI_CONFIG_FILE that points nowhere makes every Terraform call print a warning block,
  // which cdktf repeats as [ERROR] lines; an unset variable means "no CLI configuration" as well.
  if (quiet.TF_CLI_CONFIG_FILE !== undefined && !fs.existsSync(quiet.TF_CLI_CONFIG_FILE)) delete quiet.TF_CLI_CONFIG_FILE;
  return quiet;
}

/** The full path of `binary` on the PATH of `env`, or undefined. A path with a slash is checked as given. */
export function findOnPath(binary: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const isExecutable = (file: string): boolean => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (binary.includes('/')) return isExecutable(binary) ? binary : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, binary);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The Terraform binary cdktf will run: TERRAFORM_BINARY_NAME (read by cdktf-cli) or `terraform`. */
export function terraformBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.TERRAFORM_BINARY_NAME || 'terraform';
}

/** Thrown for a problem the operator can fix; printed as the message alone, exit code 1. */
export class OperatorError extends Error {}

/** Fails with a message naming the binary, the PATH it was looked for on, and how to get it. */
export function requireBinary(binary: string, installHint: string, env: NodeJS.ProcessEnv = process.env): string {
  const found = findOnPath(binary, env);
  if (found === undefined) {
    throw new OperatorError(`"${binary}" was not found on PATH. ${installHint}`);
  }
  return found;
}
