/**
 * Issue 16: the scripts behind the delivery pipeline (scripts/pipeline/, plus the error tails
 * and speculative plans of scripts/plan-comment/).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configDigest, outputsDigest, parseAppliedRecord, selectStacks, upstreamsOf, type AppliedRecord, type HeadStack } from '../../scripts/pipeline/applied';
import { downstreamOf, main as pipelineMain } from '../../scripts/pipeline/cli';
import { DRIFT_ISSUE_MARKER, driftReport } from '../../scripts/pipeline/drift';
import { landingPurgeOf } from '../../scripts/pipeline/landing-hosts';
import { lockFileForStack, parseLockFile, requiredProviderPins } from '../../scripts/pipeline/provider-lock';
import { main as commentMain } from '../../scripts/plan-comment/cli';
import { REDACTED, redactErrorTail } from '../../scripts/plan-comment/error-tail';
import { renderPlanComment } from '../../scripts/plan-comment/render';
import { summarizeTextPlan, textPlansSection } from '../../scripts/plan-comment/text-plan';
import { parse } from 'yaml';

const sha = (c: string) => c.repeat(64);
const commit = (c: string) => c.repeat(40);

function record(stack: string, overrides: Partial<AppliedRecord> = {}): AppliedRecord {
  return { stack, commit: commit('a'), configDigest: sha('1'), outputsDigest: sha('2'), upstreamOutputs: {}, appliedAt: '2026-11-29T20:00:00Z', ...overrides };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-'));
}

/** A cdktf.out with the given stacks (name -> Terraform JSON). */
function synthTree(stacks: Record<string, unknown>): string {
  const dir = tempDir();
  for (const [name, json] of Object.entries(stacks)) {
    fs.mkdirSync(path.join(dir, 'stacks', name), { recursive: true });
    fs.writeFileSync(path.join(dir, 'stacks', name, 'cdk.tf.json'), JSON.stringify(json));
  }
  return dir;
}

const remoteState = (...stacks: string[]) => ({ data: { terraform_remote_state: Object.fromEntries(stacks.map((s) => [`outputs-${s}`, { backend: 'local' }])) } });

describe('applied records and stack selection', () => {
  it('digests config without cdktf metadata and regardless of key order', () => {
    const a = { resource: { x: { y: { a: 1, b: 2, '//': { metadata: { path: 'one' } } } } } };
    const b = { resource: { x: { y: { b: 2, a: 1, '//': { metadata: { path: 'moved' } } } } } };
    expect(configDigest(a)).toBe(configDigest(b));
    expect(configDigest(a)).not.toBe(configDigest({ resource: { x: { y: { a: 1, b: 3 } } } }));
    expect(outputsDigest({ ip: { value: '1.2.3.4', sensitive: false } })).not.toBe(outputsDigest({ ip: { value: '1.2.3.5', sensitive: false } }));
    expect(() => outputsDigest([])).toThrow(/must print an object/);
  });

  it('finds upstream stacks from outputs-<stack> data sources, local or Terraform Cloud', () => {
    expect(upstreamsOf(remoteState('production-network', 'production-edge'))).toEqual(['production-network', 'production-edge']);
    expect(upstreamsOf({ data: { tfe_outputs: { 'outputs-staging-data': {} }, github_team: { x: {} } } })).toEqual(['staging-data']);
    expect(upstreamsOf({})).toEqual([]);
  });

  it('rejects a malformed record naming the stack, the field, the value and what is allowed', () => {
    expect(parseAppliedRecord(JSON.stringify(record('production-chat')), 'production-chat').stack).toBe('production-chat');
    expect(() => parseAppliedRecord(JSON.stringify({ ...record('production-chat'), commit: 'main' }))).toThrow(
      'applied record of production-chat: commit is "main"; allowed: 40 hex digits',
    );
    expect(() => parseAppliedRecord(JSON.stringify(record('production-chat')), 'production-news')).toThrow(/stored under refs\/applied\/production-news but names production-chat/);
    expect(() => parseAppliedRecord('{', 'x')).toThrow(/applied record of x is not JSON/);
  });

  const head = new Map<string, HeadStack>([
    ['production-network', { configDigest: sha('1'), upstreams: [] }],
    ['production-chat', { configDigest: sha('1'), upstreams: ['production-network'] }],
    ['production-news', { configDigest: sha('3'), upstreams: ['production-network'] }],
  ]);

  it('selects never applied, changed and upstream-moved stacks, in rollout order, and nothing else', () => {
    const applied = new Map([
      ['production-network', record('production-network', { outputsDigest: sha('9') })],
      ['production-chat', record('production-chat', { upstreamOutputs: { 'production-network': sha('8') } })],
    ]);
    expect(selectStacks({ head, applied })).toEqual([
      { stack: 'production-chat', reason: 'outputs of production-network changed since it was applied' },
      { stack: 'production-news', reason: 'never applied' },
    ]);
    const upToDate = new Map([...applied, ['production-chat', record('production-chat', { upstreamOutputs: { 'production-network': sha('9') } })]]);
    expect(selectStacks({ head, applied: upToDate }).map((s) => s.stack)).toEqual(['production-news']);
    const changed = new Map([...upToDate, ['production-network', record('production-network', { configDigest: sha('0'), outputsDigest: sha('9'), commit: commit('b') })]]);
    expect(selectStacks({ head, applied: changed, candidates: ['production-network'] })).toEqual([{ stack: 'production-network', reason: 'config changed since bbbbbbbbbbbb' }]);
  });

  it('applies by hand what is requested even when unchanged, and refuses unknown names', () => {
    const applied = new Map([...head.keys()].map((stack) => [stack, record(stack, { configDigest: head.get(stack)!.configDigest, upstreamOutputs: { 'production-network': sha('2') } })]));
    expect(selectStacks({ head, applied })).toEqual([]);
    expect(selectStacks({ head, applied, force: ['production-chat'] })).toEqual([{ stack: 'production-chat', reason: 'requested by hand (workflow_dispatch)' }]);
    expect(selectStacks({ head, applied, force: 'all' })).toHaveLength(3);
    expect(() => selectStacks({ head, applied, force: ['production-chta'] })).toThrow(/cannot force unknown stack\(s\) production-chta; allowed: all, production-network, production-chat, production-news/);
  });

  it('select CLI: one stage of one environment from refs/applied records, and downstream of a manual run', () => {
    const out = synthTree({
      'production-network': {},
      'production-chat': remoteState('production-network'),
      'production-news': remoteState('production-network'),
      'production-news-credentials': {},
      'staging-network': {},
    });
    const appliedDir = tempDir();
    const netDigest = configDigest({});
    fs.writeFileSync(path.join(appliedDir, 'production-network.json'), JSON.stringify(record('production-network', { configDigest: netDigest, outputsDigest: sha('5') })));
    fs.writeFileSync(
      path.join(appliedDir, 'production-chat.json'),
      JSON.stringify(record('production-chat', { configDigest: configDigest(remoteState('production-network')), upstreamOutputs: { 'production-network': sha('4') } })),
    );
    const run = (...args: string[]) => {
      let text = '';
      expect(pipelineMain(['select', out, appliedDir, ...args], (t) => (text += t))).toBe(0);
      return JSON.parse(text);
    };
    expect(run('--env', 'production', '--kinds', 'network').stacks).toEqual([]);
    // A product's credentials stack has a stage of its own (before data), never the products' stage.
    expect(run('--env', 'production', '--kinds', 'credentials').stacks).toEqual(['production-news-credentials']);
    expect(() => pipelineMain(['select', out, appliedDir, '--kinds', 'product'], () => undefined)).toThrow(
      /--kinds: unknown product; allowed: a stage \(network, edge, credentials, data, products\) or a stack kind such as chat/,
    );
    expect(run('--env', 'production', '--kinds', 'products')).toEqual({
      stacks: ['production-chat', 'production-news'],
      reasons: { 'production-chat': 'outputs of production-network changed since it was applied', 'production-news': 'never applied' },
    });
    // A manual run of the network: chat comes along (its upstream moved), news does not (not requested, only new).
    expect(run('--only', 'production-network', '--force', 'production-network', '--env', 'production', '--kinds', 'products').stacks).toEqual(['production-chat']);
    expect(downstreamOf(new Map(Object.entries({ a: {}, b: remoteState('a'), c: remoteState('b') })), ['a'])).toEqual(['b', 'c']);
    // Passwords are never read: a credentials stack's configuration digest stands for its outputs.
    const say = (...args: string[]) => {
      let text = '';
      expect(pipelineMain(args, (t) => (text += t))).toBe(0);
      return text.trim();
    };
    expect([say('outputs-readable', 'production-news-credentials'), say('outputs-readable', 'production-news'), say('outputs-readable', 'production-data')]).toEqual(['no', 'yes', 'yes']);
    expect(say('config-digest', out, 'production-news-credentials')).toBe(configDigest({}));
    expect(say('config-digest', out, 'production-chat')).toBe(configDigest(remoteState('production-network')));
    expect(() => pipelineMain(['select', out, appliedDir, '--only', 'production-nope'], () => undefined)).toThrow(/--only: unknown stack\(s\) production-nope; allowed: staging-network, production-network, production-news-credentials/);
  });

  it('record CLI writes the upstream outputs each stack was applied against', () => {
    const out = synthTree({ 'production-network': {}, 'production-chat': remoteState('production-network') });
    const appliedDir = tempDir();
    fs.writeFileSync(path.join(appliedDir, 'production-network.json'), JSON.stringify(record('production-network', { outputsDigest: sha('7') })));
    let text = '';
    expect(pipelineMain(['record', out, appliedDir, 'production-chat', sha('c'), commit('d')], (t) => (text += t))).toBe(0);
    const written = parseAppliedRecord(text, 'production-chat');
    expect(written).toMatchObject({ commit: commit('d'), outputsDigest: sha('c'), upstreamOutputs: { 'production-network': sha('7') }, configDigest: configDigest(remoteState('production-network')) });
    expect(() => pipelineMain(['record', out, appliedDir, 'production-chat', 'abc', commit('d')], () => undefined)).toThrow(/outputs digest of production-chat is "abc"; allowed: sha256 hex/);
  });
});

describe('failed plans explain themselves', () => {
  const token = 'hc_9fK2mQ7xLp4vR8tZ3wN6yB1cD5eG0hJ2kS4uV7';
  const log = [
    '\u001b[31mInitializing the backend...\u001b[0m',
    ...Array.from({ length: 60 }, (_, i) => `line ${i}`),
    '│ Error: Unauthorized',
    `│ with provider["registry.terraform.io/hetznercloud/hcloud"], token ${token}`,
    '│ password = "hunter2hunter2"',
    '│ on cdk.tf.json line 12, in resource "github_team" "deployment-environment_team-platform_05683D20":',
    '│ Authorization: Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    '│ https://deploy:s3cretpass@example.com/repo.git',
    '-----BEGIN OPENSSH PRIVATE KEY-----',
    'b3BlbnNzaC1rZXktdjEAAAAABG5vbmU',
    '-----END OPENSSH PRIVATE KEY-----',
    '',
  ].join('\n');

  it('keeps the last lines without colour and removes every secret and credential-shaped string', () => {
    const tail = redactErrorTail(log, { maxLines: 12, secrets: ['known-secret-value'] });
    expect(tail.split('\n')).toHaveLength(12);
    expect(tail).toContain('│ Error: Unauthorized');
    expect(tail).not.toContain(token);
    expect(tail).not.toContain('hunter2');
    expect(tail).not.toContain('ghp_');
    expect(tail).not.toContain('s3cretpass');
    expect(tail).not.toContain('b3BlbnNzaC1rZXkt');
    expect(tail).toContain(REDACTED);
    // Resource addresses and construct ids are what make an error useful: kept.
    expect(tail).toContain('deployment-environment_team-platform_05683D20');
    expect(redactErrorTail(`x ${'known-secret-value'} y`, { secrets: ['known-secret-value'] })).toBe(`x ${REDACTED} y`);
    expect(redactErrorTail('\u001b[1mabc\u001b[0m')).toBe('abc');
  });

  it('shows the redacted tail of a failed stack in the comment, via the CLI', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'errors'));
    fs.mkdirSync(path.join(dir, 'plans'));
    fs.writeFileSync(path.join(dir, 'raw.log'), log);
    const io = { stdout: () => undefined, stderr: () => undefined, env: { HCLOUD_TOKEN: 'env-credential-1234' } };
    fs.appendFileSync(path.join(dir, 'raw.log'), 'Error: env-credential-1234 rejected\n');
    expect(commentMain(['error-tail', path.join(dir, 'raw.log'), path.join(dir, 'errors', 'production-chat.error.txt'), '--secret-env', 'HCLOUD_TOKEN'], io)).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'errors', 'production-chat.error.txt'), 'utf8')).not.toContain('env-credential-1234');
    const out = path.join(dir, 'comment.md');
    expect(commentMain(['render', '--out', out, '--expect', 'production-chat', '--errors', path.join(dir, 'errors'), path.join(dir, 'plans')], io)).toBe(0);
    const body = fs.readFileSync(out, 'utf8');
    expect(body).toContain('No plan for 1 stack');
    expect(body).toContain('Error output of `production-chat` (last lines, redacted)');
    expect(body).toContain('Error: [redacted] rejected');
    expect(body).not.toContain(token);
  });

  it('renders no error block for a stack that has a plan', () => {
    const body = renderPlanComment([], { failedStacks: [], errorTails: new Map([['staging-chat', 'Error: boom']]) }).body;
    expect(body).not.toContain('Error output');
  });
});

describe('speculative Terraform Cloud plans in the comment', () => {
  it('reads the summary line and counts an unreadable log as a change', () => {
    expect(summarizeTextPlan('...\nPlan: 1 to add, 2 to change, 0 to destroy.\n')).toEqual({ add: 1, change: 2, destroy: 0, noChanges: false });
    expect(summarizeTextPlan('Plan: 3 to import, 1 to add, 0 to change, 4 to destroy.')).toMatchObject({ add: 1, destroy: 4 });
    expect(summarizeTextPlan('No changes. Your infrastructure matches the configuration.')).toEqual({ noChanges: true });
    expect(summarizeTextPlan('Terraform crashed')).toEqual({ noChanges: false });
    const section = textPlansSection(new Map([['production-chat', 'Plan: 1 to add, 0 to change, 0 to destroy.']]), 10_000);
    expect(section).toContain('| `production-chat` | +1 ~0 -0 |');
    expect(textPlansSection(new Map([['a', 'x'.repeat(5000)]]), 300).length).toBeLessThanOrEqual(300);
  });

  it('counts text plans as planned and as changes in the CLI', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'production-chat.plan.txt'), 'Plan: 0 to add, 1 to change, 0 to destroy.');
    let stdout = '';
    const io = { stdout: (t: string) => (stdout += t), stderr: () => undefined, env: {} };
    expect(commentMain(['render', '--out', path.join(dir, 'c.md'), '--expect', 'production-chat', '--text-plans', dir, dir], io)).toBe(0);
    expect(stdout).toBe('has_changes=true\n');
    const body = fs.readFileSync(path.join(dir, 'c.md'), 'utf8');
    expect(body).not.toContain('No plan for');
    expect(body).toContain('Speculative plans in Terraform Cloud');
  });

  it("renders a stage's summary from a text plan alone (a cloud saved plan has no JSON for the pipeline's teams)", () => {
    const dir = tempDir();
    const said = (log: string) => {
      fs.writeFileSync(path.join(dir, 'production-chat.plan.txt'), log);
      let stdout = '';
      expect(commentMain(['render', '--out', path.join(dir, 'c.md'), '--text-plans', dir], { stdout: (t: string) => (stdout += t), stderr: () => undefined, env: {} })).toBe(0);
      return stdout;
    };
    expect(said('No changes. Your infrastructure matches the configuration.')).toBe('has_changes=false\n');
    // A credentials stack's first plan writes outputs only: counted as a change, so it is applied.
    expect(said('Changes to Outputs:\n  + database_url = (sensitive value)')).toBe('has_changes=true\n');
    let stderr = '';
    expect(commentMain(['render', '--out', path.join(dir, 'c.md')], { stdout: () => undefined, stderr: (t: string) => (stderr += t), env: {} })).not.toBe(0);
    expect(stderr).toMatch(/render needs at least one plan file or directory, or --text-plans/);
  });
});

describe('drift report', () => {
  it('opens with drifted and unchecked stacks, closes when every stack is clean', () => {
    const report = driftReport(
      [
        { stack: 'production-chat', exitCode: 2 },
        { stack: 'production-network', exitCode: 0 },
        { stack: 'staging-data', exitCode: 1 },
        { stack: 'staging-edge', exitCode: undefined },
      ],
      'https://github.com/o/r/actions/runs/1',
    );
    expect(report).toMatchObject({ open: true, drifted: ['production-chat'], failed: ['staging-data', 'staging-edge'], clean: ['production-network'] });
    expect(report.body.startsWith(DRIFT_ISSUE_MARKER)).toBe(true);
    expect(report.body).toContain('- `production-chat`');
    expect(report.body).toContain('Clean: 1 of 4');
    expect(driftReport([{ stack: 'a', exitCode: 0 }]).open).toBe(false);
  });
});

describe('pinned provider lock files', () => {
  const master = [
    '# This file is maintained automatically by "terraform init".',
    '',
    'provider "registry.terraform.io/hetznercloud/hcloud" {',
    '  version     = "1.68.0"',
    '  constraints = "1.68.0"',
    '  hashes = [',
    '    "h1:test-fixture-not-a-real-hash=",',
    '  ]',
    '}',
    '',
    'provider "registry.terraform.io/cloudflare/cloudflare" {',
    '  version = "5.14.0"',
    '  hashes = [',
    '    "h1:test-fixture-not-a-real-hash-2=",',
    '  ]',
    '}',
    '',
  ].join('\n');
  const stack = (required: Record<string, unknown>) => ({ terraform: { required_providers: required } });

  it('writes only the providers a stack requires and refuses missing or mismatched versions', () => {
    expect([...parseLockFile(master).keys()]).toEqual(['registry.terraform.io/hetznercloud/hcloud', 'registry.terraform.io/cloudflare/cloudflare']);
    const lock = lockFileForStack('production-network', stack({ hcloud: { source: 'hetznercloud/hcloud', version: '1.68.0' } }), master);
    expect(lock).toContain('provider "registry.terraform.io/hetznercloud/hcloud"');
    expect(lock).not.toContain('cloudflare');
    expect(() => lockFileForStack('production-network', stack({ hcloud: { source: 'hetznercloud/hcloud', version: '1.69.0' } }), master)).toThrow(
      'production-network: provider registry.terraform.io/hetznercloud/hcloud is pinned to 1.69.0 but locked at 1.68.0; run scripts/pipeline/lock-providers.sh',
    );
    expect(() => lockFileForStack('staging-chat', stack({ docker: { source: 'kreuzwerker/docker', version: '3.6.2' } }), master)).toThrow(
      /staging-chat: provider registry.terraform.io\/kreuzwerker\/docker is not in terraform\/providers.lock.hcl/,
    );
  });

  it('collects one exact pin per provider across stacks, refusing two versions of one provider', () => {
    expect([...requiredProviderPins([stack({ hcloud: { source: 'hetznercloud/hcloud', version: '1.68.0' } }), stack({ random: { source: 'hashicorp/random', version: '3.7.2' } })])]).toEqual([
      ['hashicorp/random', '3.7.2'],
      ['hetznercloud/hcloud', '1.68.0'],
    ]);
    expect(() => requiredProviderPins([stack({ hcloud: { source: 'hetznercloud/hcloud', version: '1.68.0' } }), stack({ hcloud: { source: 'hetznercloud/hcloud', version: '1.67.0' } })])).toThrow(
      /pinned to 1.68.0 in one stack and 1.67.0 in another/,
    );
  });
});

describe('landing cache purge', () => {
  it('purges the landing hostnames of a product stack, nothing for platform stacks', () => {
    expect(landingPurgeOf('production-chat')).toEqual({ zone: 'manacore.app', hosts: ['chat.manacore.app'] });
    expect(landingPurgeOf('staging-bauntown').hosts).toEqual(['staging-bauntown.manacore.app']);
    expect(landingPurgeOf('production-network').hosts).toEqual([]);
    // mana-core-auth has no landing page.
    expect(landingPurgeOf('production-mana-core-auth').hosts).toEqual([]);
  });
});

describe('refs/applied in git, as the workflows read them', () => {
  it('the select step reads back the record an annotated tag carries', () => {
    const repo = tempDir();
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8', input: '' }).trim();
    git('init', '-q');
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: repo });
    const head = git('rev-parse', 'HEAD');
    const written = record('production-chat', { commit: head });
    // The same object the record job creates through the Git database API: a tag on the commit, the record as message.
    const tag = execFileSync('git', ['mktag'], {
      cwd: repo,
      encoding: 'utf8',
      input: `object ${head}\ntype commit\ntag applied-production-chat\ntagger CI <ci@example.com> 1764446400 +0000\n\n${JSON.stringify(written)}\n`,
    }).trim();
    git('update-ref', 'refs/applied/production-chat', tag);
    const workflow = parse(fs.readFileSync(path.join(__dirname, '..', '..', '.github', 'workflows', 'deploy-stage.yml'), 'utf8'));
    const step = workflow.jobs.select.steps.find((s: { name?: string }) => s.name === 'Read refs/applied');
    const runnerTemp = tempDir();
    // No origin here: the step's fetch fails and says so, then reads the local refs.
    execFileSync('bash', ['-c', step.run], { cwd: repo, env: { ...process.env, RUNNER_TEMP: runnerTemp }, stdio: 'pipe' });
    const read = fs.readFileSync(path.join(runnerTemp, 'applied', 'production-chat.json'), 'utf8');
    expect(parseAppliedRecord(read, 'production-chat')).toEqual(written);
  });
});
