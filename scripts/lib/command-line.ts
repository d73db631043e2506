/**
 * How every command-line tool (ops, release, deploy, diff, graph, plan-comment, pipeline) starts
 * and ends, in one place (issue 25):
 *
 * - the system description is loaded only when a command runs (`loadSystem`), never at import,
 *   so a mistake in environments/ reaches the command's error handling instead of killing the
 *   process while modules load;
 * - a ConfigurationError (its list of problems), an OperatorError or a SynthOutputError is the
 *   operator's to fix: printed as `error: <message>`, exit code 1, never a stack trace;
 * - anything else is a bug: printed with its stack trace, exit code 1.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigurationError } from '../../constructs/core/configuration-error';
import type { SystemSpec } from '../../system/model';
import { SynthOutputError } from './synthesized';
import { OperatorError } from './tools';

/**
 * The repository's root: the nearest directory at or above `from` that holds a package.json. A command line runs from
 * its source (tsx: scripts/<name>/) or bundled into node_modules/.cache/manacore-app/ (scripts/run-cli.js), so its
 * own directory does not say how far up the root is.
 */
export function projectRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no package.json at or above ${from}`);
  }
}

/** Manacore's system description, loaded on first use. */
export function loadSystem(): SystemSpec {
  // A require, not an import: loading validates the tags files and may throw a ConfigurationError.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../../environments') as typeof import('../../environments')).manacore;
}

/** The message of an error the operator can fix, or undefined for a bug. */
export function operatorMessage(error: unknown): string | undefined {
  if (error instanceof ConfigurationError || error instanceof OperatorError || error instanceof SynthOutputError) return error.message;
  return undefined;
}

/** What a failed command prints and its exit code. */
export function failureReport(error: unknown): { readonly text: string; readonly exitCode: number } {
  const message = operatorMessage(error);
  if (message !== undefined) return { text: `error: ${message}\n`, exitCode: 1 };
  return { text: `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`, exitCode: 1 };
}

/**
 * Runs a command's main function as the process: its exit code, or the failure report of what
 * it threw (synchronously or as a rejected promise).
 */
export function runCommand(run: () => number | Promise<number>, stderr: (text: string) => void = (text) => process.stderr.write(text)): void {
  const fail = (error: unknown): void => {
    const report = failureReport(error);
    stderr(report.text);
    process.exitCode = report.exitCode;
  };
  try {
    const result = run();
    if (typeof result === 'number') process.exitCode = result;
    else result.then((code) => (process.exitCode = code), fail);
  } catch (error) {
    fail(error);
  }
}
