import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COST_FILE, costReport, costSummaryLine, type CostReport } from '../../scripts/cost/estimate';
import { PRIMARY_IPV4_EUR_MONTH, SERVER_TYPE_MONTHLY_EUR, VOLUME_EUR_PER_GB_MONTH } from '../../scripts/cost/prices';
import { writeTopology } from '../../scripts/graph/cli';
import { environmentTopology } from '../../scripts/graph/topology';
import { readSynthesizedApp } from '../../scripts/lib/synthesized';
import { main as planComment } from '../../scripts/plan-comment/cli';
import { costSection } from '../../scripts/plan-comment/operator-sections';
import { costTable } from '../../scripts/cost/readme-table';
import { generatedBlock, withGeneratedBlock } from '../../scripts/generate';
import { PROJECT_ROOT, synthToTemp } from '../helpers/synth-out';

const outdir = synthToTemp();
const app = readSynthesizedApp(outdir);
const report = JSON.parse(fs.readFileSync(path.join(outdir, COST_FILE), 'utf8')) as CostReport;

function resources(stack: string, type: string): Record<string, any>[] {
  return Object.values((app.stacks.get(stack)!.json.resource?.[type] ?? {}) as Record<string, Record<string, any>>);
}

describe('cost', () => {
  test('synth writes cost.json; each environment is the sum of its servers, backups, IPv4, volumes and R2 estimates', () => {
    expect(report).toEqual(costReport(app));
    for (const environment of ['staging', 'production']) {
      const [server] = resources(`${environment}-network`, 'hcloud_server');
      const serverPrice = SERVER_TYPE_MONTHLY_EUR[server.server_type];
      const backups = server.backups === true ? serverPrice * 0.2 : 0;
      const ipv4 = resources(`${environment}-network`, 'hcloud_primary_ip').filter((ip) => ip.type === 'ipv4').length * PRIMARY_IPV4_EUR_MONTH;
      // The data volumes and the monitoring stack's.
      const volumes = [`${environment}-data`, `${environment}-monitoring`]
        .flatMap((stack) => resources(stack, 'hcloud_volume'))
        .reduce((sum, volume) => sum + volume.size * VOLUME_EUR_PER_GB_MONTH, 0);
      const r2 = Object.values(report.environments[environment].stacks).flatMap((stack) => stack.items).filter((item) => item.address.startsWith('cloudflare_r2_bucket.'));
      expect(r2.every((item) => item.estimate)).toBe(true);
      const expected = serverPrice + backups + ipv4 + volumes + r2.reduce((sum, item) => sum + item.monthlyEur, 0);
      expect(report.environments[environment].monthlyEur).toBeCloseTo(expected, 1);
    }
    expect(report.environments.production.stacks['production-network'].items.map((item) => item.what)).toEqual(['ccx43 in nbg1', 'automatic backups, 20% of ccx43', 'primary IPv4', 'primary IPv6']);
    expect(report.unpriced).toEqual([]);
  });

  test('the summary line names both environments, the total and the price date', () => {
    expect(costSummaryLine(report)).toBe(
      `Monthly cost: production EUR ${report.environments.production.monthlyEur.toFixed(2)}, staging EUR ${report.environments.staging.monthlyEur.toFixed(2)} (total EUR ${report.monthlyEur.toFixed(2)}; prices of 2026-09-08, R2 estimated)`,
    );
  });

  test('an unknown server type is reported as unpriced, never guessed', () => {
    const changed = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-'));
    fs.cpSync(outdir, changed, { recursive: true });
    const file = path.join(changed, 'stacks', 'staging-network', 'cdk.tf.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    Object.values(json.resource.hcloud_server as Record<string, any>)[0].server_type = 'cx22';
    fs.writeFileSync(file, JSON.stringify(json));
    const unpriced = costReport(readSynthesizedApp(changed));
    expect(unpriced.unpriced).toEqual([{ stack: 'staging-network', address: 'hcloud_server.host-app-1', reason: expect.stringContaining('server type "cx22" has no price') }]);
    expect(costSummaryLine(unpriced)).toContain('1 resource(s) unpriced, see cost.json');
  });

  test('the pull-request section shows the monthly delta per environment and stack', () => {
    const bigger: CostReport = JSON.parse(JSON.stringify(report));
    (bigger.environments.staging.stacks['staging-data'] as { monthlyEur: number }).monthlyEur += 5.72;
    (bigger.environments.staging as { monthlyEur: number }).monthlyEur += 5.72;
    (bigger as { monthlyEur: number }).monthlyEur += 5.72;
    const section = costSection(report, bigger);
    expect(section).toContain(`**+EUR 5.72 per month** (EUR ${report.monthlyEur.toFixed(2)} → EUR ${(report.monthlyEur + 5.72).toFixed(2)}).`);
    expect(section).toContain(`| **staging** | EUR ${report.environments.staging.monthlyEur.toFixed(2)} | EUR ${(report.environments.staging.monthlyEur + 5.72).toFixed(2)} | +EUR 5.72 |`);
    expect(section).toContain('| `staging-data` |');
    expect(section).not.toContain('production');
    expect(costSection(report, report)).toContain(`No change: EUR ${report.monthlyEur.toFixed(2)} per month in all`);
  });
});

describe('README cost table', () => {
  test("README.md's cost table is what synth prices now (stale: run npm run generate)", () => {
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    expect(generatedBlock(readme, 'cost')).toBe(costTable(report));
    // Rows and total agree with the report: the table is a view of it, not a second computation.
    expect(costTable(report)).toContain(`All environments: **EUR ${report.monthlyEur.toFixed(2)}** per month.`);
    const totals = costTable(report).split('\n').find((line) => line.startsWith('| **total**'))!;
    for (const environment of Object.values(report.environments)) expect(totals).toContain(`**${environment.monthlyEur.toFixed(2)}**`);
    expect(() => withGeneratedBlock('no markers', 'cost', 'x')).toThrow(/no "<!-- generated: cost \(npm run generate\) -->"/);
  });
});

describe('topology', () => {
  test('one Mermaid file per environment with hosts, networks, services, data, domains, derived from the JSON', () => {
    const docs = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-'));
    expect(writeTopology(outdir, docs).map((file) => path.basename(file))).toEqual(['topology-production.md', 'topology-staging.md']);
    const text = fs.readFileSync(path.join(docs, 'topology-production.md'), 'utf8');
    expect(text).toContain('```mermaid\nflowchart LR');
    expect(text).toContain('subgraph host_app_1["host app-1: ccx43 in nbg1, backups"]');
    for (const network of resources('production-edge', 'docker_network')) expect(text).toContain(`["network ${network.name}"]`);
    expect(text).toMatch(/c_production_edge_app_1_edge_proxy -->\|"api-chat.manacore.app"\| c_production_chat_chat_backend/);
    expect(text).toContain('c_production_data_postgres --- vol_production_data_postgres_volume');
    expect(text).toContain('internet -->|"ota-chat.manacore.app"| r2_production_chat_chat_mobile_ota');
    // Every container of the synthesized stacks appears exactly once; release tasks (labelled `task`, one-shot) not at all.
    const isTask = (body: any) => (body.labels ?? []).some((entry: any) => entry.label === 'task');
    const ids = (tasks: boolean) =>
      [...app.stacks.values()]
        .filter((stack) => stack.name.startsWith('production-'))
        .flatMap((stack) => Object.entries<any>(stack.json.resource?.docker_container ?? {}).filter(([, body]) => isTask(body) === tasks).map(([name]) => `c_${stack.name}_${name}`.replace(/[^A-Za-z0-9_]/g, '_')));
    for (const id of ids(false)) expect(text.split('\n').filter((line) => line.trim().startsWith(`${id}[`))).toHaveLength(1);
    expect(ids(true).length).toBeGreaterThan(0);
    for (const id of ids(true)) expect(text).not.toContain(`${id}[`);
  });

  test('the committed docs/topology files are what npm run graph writes now (stale: run npm run generate)', () => {
    for (const environment of ['staging', 'production']) {
      const committed = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', `topology-${environment}.md`), 'utf8');
      expect(committed).toContain(environmentTopology(app, environment).trimEnd());
    }
  });
});

describe('plan:comment', () => {
  const plans = path.join(__dirname, '..', 'fixtures', 'plans');
  function run(argv: string[]): { code: number; stdout: string; stderr: string } {
    let stdout = '';
    let stderr = '';
    const code = planComment(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: {} });
    return { code, stdout, stderr };
  }

  test('--help prints the usage in npm-script form with the local plan recipe, exit 0', () => {
    for (const argv of [['--help'], ['render', '--help'], ['changed-stacks', '-h']]) {
      const { code, stdout } = run(argv);
      expect(code).toBe(0);
      expect(stdout).toContain('npm run plan:comment -- [--out <file>]');
      expect(stdout).toContain('terraform -chdir=cdktf.out/stacks/<stack> show -json plan.tfplan > <stack>.plan.json');
      expect(stdout).not.toContain('cli.ts');
    }
  });

  test('prints the comment on stdout by default', () => {
    const { code, stdout } = run(['render', plans]);
    expect(code).toBe(0);
    expect(stdout.startsWith('<!-- manacore-plan-comment -->\n')).toBe(true);
    expect(stdout).not.toContain('has_changes');
  });

  test('with --base-out/--head-out the comment shows the cost delta and the diagram of a changed topology', () => {
    const head = fs.mkdtempSync(path.join(os.tmpdir(), 'head-'));
    fs.cpSync(outdir, head, { recursive: true });
    const file = path.join(head, 'stacks', 'staging-data', 'cdk.tf.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.resource.hcloud_volume['postgres-volume'].size += 100;
    fs.writeFileSync(file, JSON.stringify(json));
    const { code, stdout } = run(['render', '--base-out', outdir, '--head-out', head, plans]);
    expect(code).toBe(0);
    expect(stdout).toContain('### Monthly cost');
    expect(stdout).toContain('**+EUR 5.72 per month**');
    expect(stdout).toContain('<details><summary>staging after this change</summary>');
    expect(stdout).not.toContain('<summary>production after this change');
    const same = run(['render', '--base-out', outdir, '--head-out', outdir, plans]);
    expect(same.stdout).not.toContain('### Topology changed');
  });
});

describe('clean output', () => {
  function runApp(source: string): { status: number | null; stdout: string; stderr: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'app-'));
    const entry = path.join(dir, 'app.ts');
    fs.writeFileSync(entry, source.replace(/ROOT/g, PROJECT_ROOT));
    const result = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'run-app.js')], { cwd: PROJECT_ROOT, env: { ...process.env, MANACORE_APP_ENTRY: entry }, encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  test('a configuration error prints its list of problems once, no stack trace, exit 1', () => {
    const result = runApp(`import { ConfigurationError } from 'ROOT/constructs/core/configuration-error';
throw new ConfigurationError([
  { environment: 'production', product: 'chat', field: 'imageTag', value: 'latest', allowed: 'an immutable tag' },
  { environment: 'staging', field: 'hosts.0.serverType', value: 'ccx32', allowed: ['ccx33'] },
]);`);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      [
        'Invalid configuration (2 problems):',
        '  - environment "production", product "chat", field "imageTag": got "latest"; allowed: an immutable tag',
        '  - environment "staging", field "hosts.0.serverType": got "ccx32"; allowed: ccx33',
        '',
      ].join('\n'),
    );
  });

  test('another error prints its message without a trace unless asked; a warning is a warning, printed once per run', () => {
    const failed = runApp(`throw new Error('TFC_BOOTSTRAP=1 needs TFC_ORGANIZATION');`);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toBe('Error: TFC_BOOTSTRAP=1 needs TFC_ORGANIZATION\n(set MANACORE_STACK_TRACES=1 to print the stack trace)\n');
    const warned = runApp(`import { printWarning } from 'ROOT/stacks/warnings';
printWarning('host app-1 is 90% reserved');
printWarning('host app-1 is 90% reserved');
printWarning('under the CLI', { CDKTF_CONTEXT_JSON: '{}' });`);
    expect(warned.status).toBe(0);
    expect(warned.stderr).toBe('Warning: host app-1 is 90% reserved\n');
    expect(warned.stdout).toBe('Warning: under the CLI\n');
  });
});

describe('the bundle cache of run-app.js and run-cli.js (scripts/bundle-cache.js)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cache = require('../../scripts/bundle-cache.js') as {
    bundled: (name: string, entryPoints: Record<string, string>) => Record<string, string>;
    bundlesOf: (...sources: string[]) => string[];
    commandEntryPoints: () => Record<string, string>;
  };

  test('the app, its cost report and every command line package.json runs through run-cli.js are built together', () => {
    expect(cache.commandEntryPoints()).toEqual({
      main: 'main.ts',
      'scripts/cost/after-synth': 'scripts/cost/after-synth.ts',
      'scripts/deploy/cli': 'scripts/deploy/cli.ts',
      'scripts/graph/cli': 'scripts/graph/cli.ts',
      'scripts/ops/cli': 'scripts/ops/cli.ts',
      'scripts/plan-comment/cli': 'scripts/plan-comment/cli.ts',
      'scripts/release/cli': 'scripts/release/cli.ts',
    });
    // One directory for all: the ops and the release command lines are files of the same build.
    const [ops, release] = cache.bundlesOf('scripts/ops/cli.ts', './scripts/release/cli.ts');
    expect(path.dirname(path.dirname(ops))).toBe(path.dirname(path.dirname(release)));
    expect(fs.existsSync(ops) && fs.existsSync(release)).toBe(true);
  });

  test('an input changed to the same size with its modification time put back is rebuilt; an unchanged one is not', () => {
    const dir = fs.mkdtempSync(path.join(PROJECT_ROOT, 'node_modules', '.cache', 'bundle-cache-test-'));
    const name = path.basename(dir);
    try {
      const source = path.join(dir, 'entry.js');
      fs.writeFileSync(source, 'module.exports = "one";\n');
      const entryPoints = { out: path.relative(PROJECT_ROOT, source) };
      const bundle = cache.bundled(name, entryPoints).out;
      expect(fs.readFileSync(bundle, 'utf8')).toContain('"one"');
      const built = fs.statSync(bundle);
      expect(fs.statSync(cache.bundled(name, entryPoints).out)).toMatchObject({ ino: built.ino, mtimeMs: built.mtimeMs });

      const { atime, mtime } = fs.statSync(source);
      fs.writeFileSync(source, 'module.exports = "two";\n');
      fs.utimesSync(source, atime, mtime);
      expect(fs.readFileSync(cache.bundled(name, entryPoints).out, 'utf8')).toContain('"two"');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(path.join(PROJECT_ROOT, 'node_modules', '.cache', 'manacore-app', name), { recursive: true, force: true });
    }
  });
});
