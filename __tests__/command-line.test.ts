/**
 * Issue 25: every command answers like a tool. One place decides how a command ends
 * (scripts/lib/command-line.ts); every verb of every CLI answers --help; diff says diff.
 */
import { ConfigurationError } from '../constructs/core/configuration-error';
import { main as deployMain, type DeployIo } from '../scripts/deploy/cli';
import { selectStacks } from '../scripts/deploy/preflight';
import { main as graphMain } from '../scripts/graph/cli';
import { failureReport } from '../scripts/lib/command-line';
import type { SynthesizedApp } from '../scripts/lib/synthesized';
import { OperatorError } from '../scripts/lib/tools';
import { main as opsMain, type OpsIo } from '../scripts/ops/cli';
import { main as pipelineMain } from '../scripts/pipeline/cli';
import { main as planCommentMain } from '../scripts/plan-comment/cli';
import { main as releaseMain, type ReleaseIo } from '../scripts/release/cli';

/** An io capturing output whose `system` throws, so a --help that loaded the system would fail loudly. */
function captured() {
  const out: string[] = [];
  const err: string[] = [];
  const io = Object.defineProperty({ out: (text: string) => out.push(text), err: (text: string) => err.push(text) }, 'system', {
    get: (): never => {
      throw new Error('--help must not load the system');
    },
  });
  return { out, err, io };
}

describe('how a command ends', () => {
  it('prints a ConfigurationError as its list of problems, exit code 1, no stack trace', () => {
    const report = failureReport(new ConfigurationError([{ environment: 'staging', product: 'ledger', field: 'imageTag', value: 'bad tag!', allowed: 'a Docker tag' }]));
    expect(report).toEqual({
      text: 'error: Invalid configuration (1 problem):\n  - environment "staging", product "ledger", field "imageTag": got "bad tag!"; allowed: a Docker tag\n',
      exitCode: 1,
    });
    expect(failureReport(new OperatorError('terraform was not found'))).toEqual({ text: 'error: terraform was not found\n', exitCode: 1 });
  });

  it('keeps the stack trace of anything else: that is a bug', () => {
    const report = failureReport(new TypeError('x is undefined'));
    expect(report.exitCode).toBe(1);
    expect(report.text).toMatch(/^TypeError: x is undefined\n\s+at /);
  });
});

describe('every verb answers --help (exit 0, usage on stdout)', () => {
  it.each(['status', 'logs', 'versions', 'rollback', 'tasks', 'task', 'traffic'])('ops %s --help', (verb) => {
    const { out, err, io } = captured();
    expect(opsMain([verb, '--help'], io as unknown as OpsIo)).toBe(0);
    expect(out.join('')).toMatch(/^Usage: npm run ops -- <verb>/);
    expect(err).toEqual([]);
  });

  it.each(['record', 'promote', 'check-placeholders', 'run', 'rollback', 'close-window'])('release %s --help', (verb) => {
    const { out, err, io } = captured();
    expect(releaseMain([verb, '--help'], io as unknown as ReleaseIo)).toBe(0);
    expect(out.join('')).toMatch(/^Usage: npm run release -- <verb>/);
    expect(err).toEqual([]);
  });

  it.each(['deploy', 'diff'])('%s --help', async (verb) => {
    const log: string[] = [];
    const io = { log: (line: string) => log.push(line), error: (line: string) => log.push(`ERR ${line}`), env: {} } as unknown as DeployIo;
    expect(await deployMain([verb, '--help'], io)).toBe(0);
    expect(log.join('\n')).toMatch(/^Usage:\n {2}npm run deploy -- /);
  });

  it.each(['select', 'downstream', 'record', 'env-example', 'drift-report'])('pipeline %s --help', (command) => {
    const out: string[] = [];
    expect(pipelineMain([command, '--help'], (text) => out.push(text))).toBe(0);
    expect(out.join('')).toMatch(/^Usage:\n {2}tsx scripts\/pipeline\/cli.ts select /);
  });

  it.each(['render', 'changed-stacks', 'redact', 'error-tail'])('plan-comment %s --help', (command) => {
    const out: string[] = [];
    expect(planCommentMain([command, '--help'], { stdout: (text) => out.push(text), stderr: (text) => out.push(`ERR ${text}`), env: {} })).toBe(0);
    expect(out.join('')).toMatch(/^Usage:/);
  });

  it('graph --help', () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(graphMain(['--help'])).toBe(0);
      expect(String(write.mock.calls[0]?.[0])).toMatch(/^Usage: npm run graph/);
    } finally {
      write.mockRestore();
    }
  });
});

describe('diff and deploy without a stack', () => {
  const app = { stacks: new Map([['staging-network', {}], ['staging-chat', {}]]) } as unknown as SynthesizedApp;

  it('diff says diff, and lists the stacks one per line', () => {
    expect(() => selectStacks(app, [], 'diff')).toThrow("name the stack to diff, e.g. `npm run diff -- staging-network` (or 'staging-*'); stacks:\n  staging-network\n  staging-chat");
  });

  it('deploy says deploy', () => {
    expect(() => selectStacks(app, [])).toThrow(/^name the stack to deploy, e.g. `npm run deploy -- staging-network`/);
  });
});
