import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main, planFilesFromArgument, stackNameFromFile } from '../scripts/plan-comment/cli';
import { PlanFormatError } from '../scripts/plan-comment/plan-format';
import { redactPlan } from '../scripts/plan-comment/redact';
import {
  GITHUB_COMMENT_MAX_LENGTH,
  PLAN_COMMENT_MARKER,
  renderPlanComment,
  STATEFUL_RESOURCE_TYPES,
  type StackPlan,
} from '../scripts/plan-comment/render';
import { sortStacks } from '../scripts/plan-comment/stack-order';

const FIXTURES = path.join(__dirname, 'fixtures', 'plans');

function fixture(stack: string): StackPlan {
  return { stack, plan: JSON.parse(fs.readFileSync(path.join(FIXTURES, `${stack}.plan.json`), 'utf8')) };
}

/** The four fixtures, deliberately not in rollout order. */
function allFixtures(): StackPlan[] {
  return ['production-chat', 'staging-data', 'staging-network', 'staging-edge'].map(fixture);
}

/** A minimal valid plan around the given resource and output changes. */
function plan(resourceChanges: unknown[], outputChanges: Record<string, unknown> = {}): unknown {
  return { format_version: '1.2', terraform_version: '1.9.8', resource_changes: resourceChanges, output_changes: outputChanges };
}

function resource(address: string, actions: string[], change: Record<string, unknown> = {}): unknown {
  const [type, name] = address.split('.');
  return {
    address,
    mode: 'managed',
    type,
    name,
    provider_name: 'registry.terraform.io/hetznercloud/hcloud',
    change: { actions, before: null, after: null, after_unknown: {}, before_sensitive: false, after_sensitive: false, ...change },
  };
}

function tableRow(body: string, stack: string): string {
  const row = body.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${stack}\``));
  if (row === undefined) throw new Error(`no table row for ${stack}`);
  return row;
}

describe('renderPlanComment', () => {
  test('counts add, change and destroy like the Terraform CLI: a replacement is one add and one destroy', () => {
    const { totals } = renderPlanComment(allFixtures());
    expect([totals.add, totals.change, totals.destroy]).toEqual([6, 3, 5]);
    expect([totals.create, totals.update, totals.replace, totals.delete]).toEqual([3, 3, 3, 2]);
    expect(totals.stacks).toBe(4);
    expect(totals.stacksWithChanges).toBe(3);
  });

  test('the headline states the totals across all stacks', () => {
    const { body } = renderPlanComment(allFixtures());
    expect(body).toContain('**Plan: 6 to add, 3 to change, 5 to destroy across 4 stacks**');
  });

  test('the table counts create, update, replace and delete per stack', () => {
    const { body } = renderPlanComment(allFixtures());
    expect(tableRow(body, 'staging-data')).toMatch(/\| 1 \| 1 \| 2 \| 1 \| 3 \|$/);
    expect(tableRow(body, 'staging-edge')).toMatch(/\| 1 \| 1 \| 1 \| 1 \| 0 \|$/);
    expect(tableRow(body, 'production-chat')).toMatch(/^\| ✅ .*\| 0 \| 0 \| 0 \| 0 \| 0 \|$/);
  });

  test('a plan with only no-op and read actions has no changes and gets a short body with the marker', () => {
    const result = renderPlanComment([fixture('production-chat')]);
    expect(result.hasChanges).toBe(false);
    expect(result.totals.add + result.totals.change + result.totals.destroy).toBe(0);
    expect(result.body.startsWith(PLAN_COMMENT_MARKER)).toBe(true);
    expect(result.body).toContain('No changes');
    expect(result.body).not.toContain('<details>');
  });

  test('no plans at all means no changes', () => {
    const result = renderPlanComment([]);
    expect(result.hasChanges).toBe(false);
    expect(result.body).toContain('does not change any synthesized stack');
  });

  test('the body starts with the hidden marker, then the headline', () => {
    const { body, hasChanges } = renderPlanComment(allFixtures());
    expect(hasChanges).toBe(true);
    expect(body.split('\n')[0]).toBe(PLAN_COMMENT_MARKER);
    expect(body.indexOf('**Plan:')).toBeLessThan(body.indexOf('> [!CAUTION]'));
  });

  test('destroy and replace warnings come before the table, and the table before the details', () => {
    const { body } = renderPlanComment(allFixtures());
    const warnings = body.indexOf('will be destroyed or replaced');
    const table = body.indexOf('| | Stack |');
    const details = body.indexOf('<details>');
    expect(warnings).toBeGreaterThan(0);
    expect(warnings).toBeLessThan(table);
    expect(table).toBeLessThan(details);
  });

  test('every replaced or deleted resource is listed with its stack, action and reason', () => {
    const { body } = renderPlanComment(allFixtures());
    const warningLines = body.split('\n').filter((line) => line.startsWith('> - '));
    expect(warningLines).toHaveLength(5);
    const volume = warningLines.find((line) => line.includes('hcloud_volume.pgdata'));
    expect(volume).toContain('`staging-data`');
    expect(volume).toContain('replace (destroy, then create)');
    expect(volume).toContain('cannot be updated in place');
    expect(volume).toContain('forced by `location`');
    const www = warningLines.find((line) => line.includes('cloudflare_dns_record.www'));
    expect(www).toContain('create new, then destroy old');
    expect(warningLines.find((line) => line.includes('docker_container.pgbouncer'))).toContain('removed from the configuration');
  });

  test('stateful resources get an alarm marker and are listed first', () => {
    const { body } = renderPlanComment(allFixtures());
    const warningLines = body.split('\n').filter((line) => line.startsWith('> - '));
    const stateful = warningLines.filter((line) => line.includes('STATEFUL'));
    expect(stateful.map((line) => /`([a-z_0-9]+\.[a-z_0-9]+)`/.exec(line)?.[1]).sort()).toEqual([
      'cloudflare_r2_bucket.uploads',
      'docker_container.redis',
      'hcloud_volume.pgdata',
    ]);
    expect(warningLines.slice(0, 3)).toEqual(stateful);
    expect(STATEFUL_RESOURCE_TYPES).toEqual(expect.arrayContaining(['hcloud_volume', 'hcloud_server', 'cloudflare_r2_bucket', 'random_password']));
  });

  test('stacks are ordered staging before production, network, edge, data, then products alphabetically', () => {
    const { body } = renderPlanComment(allFixtures());
    const order = ['staging-network', 'staging-edge', 'staging-data', 'production-chat'].map((s) => body.indexOf(`| \`${s}\``));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(
      sortStacks(['production-chat', 'staging-mail', 'production-network', 'staging-data', 'staging-chat', 'staging-chat-credentials', 'staging-network', 'staging-edge']),
    ).toEqual([
      'staging-network',
      'staging-edge',
      // The data stack reads every product's credentials stack: they come before it.
      'staging-chat-credentials',
      'staging-data',
      'staging-chat',
      'staging-mail',
      'production-network',
      'production-chat',
    ]);
  });

  test('an update lists only the attributes that change', () => {
    const { body } = renderPlanComment([fixture('staging-network')]);
    const section = body.slice(body.indexOf('# hcloud_network.main'));
    const lines = section.slice(0, section.indexOf('```')).trim().split('\n');
    expect(lines).toEqual(['# hcloud_network.main: update in place', '! labels.env = "stg" -> "staging"']);
  });

  test('attributes that force a replacement are flagged in the details', () => {
    const { body } = renderPlanComment([fixture('staging-data')]);
    expect(body).toContain('! location = "fsn1" -> "nbg1"   # forces replacement');
  });

  test('no sensitive value appears anywhere in the body, only (sensitive)', () => {
    const { body } = renderPlanComment(allFixtures());
    expect(body).not.toContain('SENTINEL');
    expect(body).toContain('! env = (sensitive) -> (sensitive)');
    expect(body).toContain('! upload[0].content = (sensitive) -> (sensitive)');
    expect(body).toContain('- env = (sensitive)');
    expect(body).toContain('+ result = (sensitive)');
  });

  test('variables are never printed, not even their names', () => {
    const { body } = renderPlanComment(allFixtures());
    for (const name of ['hcloud_token', 'postgres_password', 'cloudflare_api_token', 'chat_signing_key', 'volume_location']) {
      expect(body).not.toContain(name);
    }
  });

  test('a whole-sensitive output is masked, even when only one side is marked sensitive', () => {
    const outputs = {
      api_key: {
        actions: ['update'],
        before: 'OLD-KEY-SENTINEL-1',
        after: 'NEW-KEY-SENTINEL-2',
        after_unknown: false,
        before_sensitive: true,
        after_sensitive: false,
      },
    };
    const { body } = renderPlanComment([{ stack: 'production-chat', plan: plan([], outputs) }, fixture('staging-data')]);
    expect(body).toContain('! api_key = (sensitive) -> (sensitive)');
    expect(body).toContain('! database_url = (sensitive) -> (sensitive)');
    expect(body).toContain('+ redis_password = (sensitive)');
    expect(body).not.toContain('SENTINEL');
  });

  test('values unknown until apply are shown as (known after apply)', () => {
    const { body } = renderPlanComment(allFixtures());
    expect(body).toContain('+ id = (known after apply)');
    expect(body).toContain('! volume_id = "100200" -> (known after apply)');
    expect(body).toContain('+ firewall_id = (known after apply)');
  });

  test('a sensitive string copied into an unmarked attribute is scrubbed as well', () => {
    const leaky = resource('terraform_data.copy', ['update'], {
      before: { input: { pw: 'LEAKED-SECRET-4242' }, output: { pw: 'LEAKED-SECRET-4242' } },
      after: { input: { pw: 'LEAKED-SECRET-4242' }, output: null },
      after_unknown: { output: true },
      before_sensitive: { input: { pw: true }, output: {} },
      after_sensitive: { input: { pw: true } },
    });
    const { body } = renderPlanComment([{ stack: 'staging-data', plan: plan([leaky]) }]);
    expect(body).toContain('output');
    expect(body).not.toContain('LEAKED-SECRET-4242');
  });

  test('output-only changes count as changes', () => {
    const outputs = { url: { actions: ['create'], before: null, after: 'https://x', after_unknown: false, before_sensitive: false, after_sensitive: false } };
    const result = renderPlanComment([{ stack: 'staging-edge', plan: plan([], outputs) }]);
    expect(result.hasChanges).toBe(true);
    expect(result.body).toContain('+ url = "https://x"');
  });

  test('imports are counted like the CLI and moves are shown', () => {
    const imported = resource('hcloud_ssh_key.admin', ['no-op'], { before: { id: '7' }, after: { id: '7' }, importing: { id: '7' } });
    const moved = { ...(resource('hcloud_server.app', ['no-op'], { before: { id: '1' }, after: { id: '1' } }) as object), previous_address: 'hcloud_server.web' };
    const result = renderPlanComment([{ stack: 'staging-network', plan: plan([imported, moved]) }]);
    expect(result.hasChanges).toBe(true);
    expect(result.body).toContain('Plan: 1 to import, 0 to add, 0 to change, 0 to destroy');
    expect(result.body).toContain('# hcloud_server.app: no change (moved from hcloud_server.web)');
  });

  test('stacks without a plan are reported loudly as failed', () => {
    const { body } = renderPlanComment([fixture('production-chat')], { failedStacks: ['production-network', 'production-chat'] });
    expect(body).toContain('No plan for 1 stack: `production-network`');
    expect(tableRow(body, 'production-network')).toContain('❌');
  });

  test('a format_version with an unknown major is rejected, naming the stack and the version', () => {
    const future = { ...(fixture('staging-edge').plan as object), format_version: '2.0' };
    expect(() => renderPlanComment([{ stack: 'staging-edge', plan: future }])).toThrow(PlanFormatError);
    expect(() => renderPlanComment([{ stack: 'staging-edge', plan: future }])).toThrow(/"staging-edge".*"2\.0"/);
  });

  test('any 1.x format_version is accepted', () => {
    for (const version of ['1.0', '1.1', '1.2', '1.9']) {
      expect(() => renderPlanComment([{ stack: 'staging-edge', plan: { ...(plan([]) as object), format_version: version } }])).not.toThrow();
    }
  });

  test('a malformed resource change is rejected with its stack and address', () => {
    const broken = { ...(resource('hcloud_network.main', ['update']) as object), change: { actions: 'update' } };
    expect(() => renderPlanComment([{ stack: 'staging-network', plan: plan([broken]) }])).toThrow(
      /"staging-network".*hcloud_network\.main.*actions/,
    );
  });
});

describe('fitting the comment size limit', () => {
  test('details of the largest stack are shortened first; headline, warnings and table stay', () => {
    const full = renderPlanComment(allFixtures()).body;
    const { body } = renderPlanComment(allFixtures(), { maxLength: full.length - 200 });
    expect(body.length).toBeLessThanOrEqual(full.length - 200);
    expect(body).toContain('**Plan: 6 to add, 3 to change, 5 to destroy across 4 stacks**');
    expect(body.split('\n').filter((line) => line.startsWith('> - '))).toHaveLength(5);
    expect(body).toContain('| | Stack |');
    expect(body).toContain('details truncated, see the workflow run');
    // staging-data has the largest details, so it loses its attribute diffs first...
    expect(body).not.toContain('+ min_lower = 0');
    expect(body).toContain('# random_password.redis: create');
    // ...while the smaller stacks keep theirs.
    expect(body).toContain('! labels.env = "stg" -> "staging"');
  });

  test('with a very small limit every detail goes but the headline, warnings and table stay', () => {
    const { body } = renderPlanComment(allFixtures(), { maxLength: 1700 });
    expect(body.length).toBeLessThanOrEqual(1700);
    expect(body).toContain('**Plan: 6 to add');
    expect(body.split('\n').filter((line) => line.startsWith('> - '))).toHaveLength(5);
    for (const stack of ['staging-network', 'staging-edge', 'staging-data', 'production-chat']) tableRow(body, stack);
    expect(body).not.toContain('<details>');
    expect(body).toContain('see the workflow run');
  });

  test('only when headline, warnings and table alone are too long is the warning list shortened, with a note', () => {
    const { body } = renderPlanComment(allFixtures(), { maxLength: 1200 });
    expect(body.length).toBeLessThanOrEqual(1200);
    expect(body).toContain('**Plan: 6 to add');
    expect(body).toContain('will be destroyed or replaced');
    expect(body).toMatch(/…and \d+ more; see the workflow run/);
    for (const stack of ['staging-network', 'staging-edge', 'staging-data', 'production-chat']) tableRow(body, stack);
  });

  test('a huge plan fits GitHub’s 65,536-character limit by default', () => {
    const servers = Array.from({ length: 2000 }, (_, i) =>
      resource(`hcloud_server.node_${i}`, ['create'], {
        after: { name: `node-${i}`, server_type: 'cx22', image: 'debian-12', user_data: 'x'.repeat(200) },
        after_unknown: { id: true, ipv4_address: true },
      }),
    );
    const { body } = renderPlanComment([{ stack: 'staging-network', plan: plan(servers) }], { runUrl: 'https://github.com/o/r/actions/runs/1' });
    expect(GITHUB_COMMENT_MAX_LENGTH).toBe(65_536);
    expect(body.length).toBeLessThanOrEqual(GITHUB_COMMENT_MAX_LENGTH);
    expect(body).toContain('**Plan: 2000 to add, 0 to change, 0 to destroy across 1 stack**');
    expect(body).toContain('[the workflow run](https://github.com/o/r/actions/runs/1)');
  });
});

describe('redactPlan', () => {
  test('a redacted plan holds no sensitive string and renders exactly like the original', () => {
    for (const { stack, plan: raw } of allFixtures()) {
      const redacted = redactPlan(stack, raw);
      expect(JSON.stringify(redacted)).not.toContain('SENTINEL');
      expect(redacted.variables).toBeUndefined();
      expect(renderPlanComment([{ stack, plan: redacted }]).body).toBe(renderPlanComment([{ stack, plan: raw }]).body);
    }
  });
});

describe('cli', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-comment-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(argv: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
    let stdout = '';
    let stderr = '';
    const code = main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
    return { code, stdout, stderr };
  }

  test('stack names come from <stack>.plan.json, <stack>.json or an explicit <stack>=<path>', () => {
    expect(stackNameFromFile('plans/staging-edge.plan.json')).toBe('staging-edge');
    expect(stackNameFromFile('production-chat.json')).toBe('production-chat');
    expect(planFilesFromArgument('staging-data=some/where/tfplan.json')).toEqual([{ stack: 'staging-data', file: 'some/where/tfplan.json' }]);
    expect(() => stackNameFromFile('plan.txt')).toThrow(/<stack>=<path>/);
  });

  test('render writes the body, prints has_changes and appends it to GITHUB_OUTPUT', () => {
    const out = path.join(dir, 'comment.md');
    const githubOutput = path.join(dir, 'github-output');
    const result = run(['render', '--out', out, FIXTURES], { GITHUB_OUTPUT: githubOutput });
    expect(result).toMatchObject({ code: 0, stdout: 'has_changes=true\n' });
    expect(fs.readFileSync(out, 'utf8').startsWith(PLAN_COMMENT_MARKER)).toBe(true);
    expect(fs.readFileSync(githubOutput, 'utf8')).toBe('has_changes=true\n');
    const quiet = run(['render', '--out', out, `production-chat=${path.join(FIXTURES, 'production-chat.plan.json')}`]);
    expect(quiet.stdout).toBe('has_changes=false\n');
  });

  test('usage mistakes exit with code 2 and explain themselves', () => {
    expect(run(['render', '--base-out', dir, FIXTURES])).toMatchObject({ code: 2, stderr: expect.stringContaining('--base-out and --head-out go together') });
    expect(run(['render', '--out', path.join(dir, 'c.md')])).toMatchObject({ code: 2 });
    expect(run(['changed-stacks', dir])).toMatchObject({ code: 2, stderr: expect.stringContaining('two directories') });
    expect(run(['deploy'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command') });
  });

  test('the plan workflow finds its comment by the same marker', () => {
    const workflow = fs.readFileSync(path.join(__dirname, '..', '.github', 'workflows', 'pr-plan.yml'), 'utf8');
    expect(workflow).toContain(PLAN_COMMENT_MARKER);
  });
});
