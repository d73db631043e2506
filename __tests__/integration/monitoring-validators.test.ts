/**
 * The configuration the monitoring stack writes, checked by the real tools'
 * own validators: `promtool check config` and `check rules` (Prometheus
 * 2.42) and `amtool check-config` (Alertmanager 0.25), from Debian's
 * packages (scripts/install-test-tools.sh, run by npm test). Loki and
 * promtail have no validator here (Debian does not package them): their
 * files are checked by shape in monitoring-stack.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { manacore } from '../../environments';
import { harbor } from '../../examples/harbor';
import { EXPORTER_PORTS } from '../../constructs/monitoring/prometheus-config';
import { DASHBOARDS } from '../../constructs/monitoring/grafana';
import { withMonitoringHost, writtenFiles } from '../helpers/monitoring';
import { SynthesizedSystem, type TerraformJson } from '../helpers/synth';

function requireTool(name: string): void {
  if (spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0) {
    throw new Error(`${name} is not installed: run scripts/install-test-tools.sh (it extracts promtool and amtool from Debian's prometheus packages)`);
  }
}

/** Runs a validator; returns its exit status and everything it printed. */
function run(tool: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(tool, args, { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function expectValid(tool: string, args: string[]): string {
  const { status, output } = run(tool, args);
  if (status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${status}):\n${output}`);
  return output;
}

/** Writes a host's files under a fresh directory; the rule file is referenced where the container mounts it, so it is pointed at the copy. */
function materialize(stack: TerraformJson, host: string): string {
  const dir = mkdtempSync(join(tmpdir(), `monitoring-${host}-`));
  for (const [path, content] of writtenFiles(stack, host)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content.replace('/etc/prometheus/rules/', `${dir}/prometheus/rules/`));
  }
  return dir;
}

beforeAll(() => {
  requireTool('promtool');
  requireTool('amtool');
});

describe.each(['staging', 'production'])('Manacore %s: generated configuration', (environment) => {
  let dir: string;
  beforeAll(() => {
    const system = new SynthesizedSystem(manacore);
    dir = materialize(system.synth(`${environment}-monitoring`), 'app-1');
  });

  it('is a valid Prometheus configuration whose rule file is found (promtool check config)', () => {
    expect(expectValid('promtool', ['check', 'config', join(dir, 'prometheus/prometheus.yml')])).toMatch(/SUCCESS: 1 rule files found/);
  });

  it('has valid alerting rules, each expression parsed by Prometheus (promtool check rules)', () => {
    expect(expectValid('promtool', ['check', 'rules', join(dir, 'prometheus/rules/alerts.yml')])).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('is a valid Alertmanager configuration (amtool check-config)', () => {
    expect(expectValid('amtool', ['check-config', join(dir, 'alertmanager/alertmanager.yml')])).toMatch(/SUCCESS/);
  });
});

describe('PostgreSQL alerts, evaluated by Prometheus itself (promtool test rules)', () => {
  let dir: string;
  beforeAll(() => {
    dir = materialize(new SynthesizedSystem(manacore).synth('production-monitoring'), 'app-1');
  });

  const activity = (usename: string, state: string, values: string) => ({
    series: `pg_stat_activity_count{job="postgres",host="app-1",datname="${usename}",usename="${usename}",state="${state}"}`,
    values,
  });

  it("scrapes the exporter beside PostgreSQL on the data host's backend network", () => {
    const config = JSON.parse(require('node:fs').readFileSync(join(dir, 'prometheus/prometheus.yml'), 'utf8'));
    expect(config.scrape_configs.find((job: { job_name: string }) => job.job_name === 'postgres')).toEqual({
      job_name: 'postgres',
      static_configs: [{ targets: ['postgres-exporter:9187'], labels: { environment: 'production', host: 'app-1' } }],
    });
  });

  it("scrapes the edge proxy's Traefik metrics on its unpublished metrics entry point, every 15 s (the canary watch's source)", () => {
    const config = JSON.parse(require('node:fs').readFileSync(join(dir, 'prometheus/prometheus.yml'), 'utf8'));
    expect(config.scrape_configs.find((job: { job_name: string }) => job.job_name === 'edge')).toEqual({
      job_name: 'edge',
      scrape_interval: '15s',
      static_configs: [{ targets: ['edge-proxy:8090'], labels: { environment: 'production', host: 'app-1' } }],
    });
  });

  it('warns when a product role holds 80% of its 20 connections or the exporter is unscraped; pages when PostgreSQL is down', () => {
    const tests = {
      rule_files: [join(dir, 'prometheus/rules/alerts.yml')],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            // chat: 10 active + 6 idle = 16 of 20 (the warning line); news: 15 of 20, quiet.
            activity('chat', 'active', '10x10'),
            activity('chat', 'idle', '6x10'),
            activity('news', 'idle', '15x10'),
            // The exporter's rows for states nobody is in: empty usename, count 0.
            { series: 'pg_stat_activity_count{job="postgres",host="app-1",datname="quiz",usename="",state="disabled"}', values: '0x10' },
            { series: 'pg_up{job="postgres",host="app-1"}', values: '1 1 1 0x8' },
            { series: 'up{job="postgres",host="app-1"}', values: '1x4 0x6' },
          ],
          alert_rule_test: [
            {
              eval_time: '8m',
              alertname: 'PostgresRoleConnectionsHigh',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', environment: 'production', usename: 'chat' },
                  exp_annotations: {
                    summary: 'chat holds 16 of its 20 PostgreSQL connections',
                    description:
                      'At 20 the server refuses chat new connections ("too many connections for role"): check its pool size, or raise data.postgres.connectionsPerProduct',
                  },
                },
              ],
            },
            { eval_time: '4m', alertname: 'PostgresDown', exp_alerts: [] },
            {
              eval_time: '8m',
              alertname: 'PostgresDown',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', environment: 'production', job: 'postgres', host: 'app-1' },
                  exp_annotations: {
                    summary: 'PostgreSQL of app-1 is not answering',
                    description: 'postgres_exporter has not reached the server for 2 minutes: every product using it is failing',
                  },
                },
              ],
            },
            // The exporter itself unscraped from minute 5: a warning after 5 more minutes, not a page.
            { eval_time: '9m', alertname: 'PostgresExporterDown', exp_alerts: [] },
            {
              eval_time: '10m',
              alertname: 'PostgresExporterDown',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', environment: 'production', job: 'postgres', host: 'app-1' },
                  exp_annotations: { summary: 'postgres_exporter of app-1 is not scraped', description: 'PostgreSQL is unwatched: no connection counts, and PostgresDown cannot fire' },
                },
              ],
            },
            // 31 of max_connections 210 is far from 168.
            { eval_time: '8m', alertname: 'PostgresConnectionsHigh', exp_alerts: [] },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'postgres-tests.yml'), JSON.stringify(tests));
    expect(expectValid('promtool', ['test', 'rules', join(dir, 'postgres-tests.yml')])).toMatch(/SUCCESS/);
  });
});

describe('Harbor production, a swarm: tasks counted per Swarm service (promtool test rules)', () => {
  let dir: string;
  beforeAll(() => {
    // The monitoring server runs on the endpoint, the data host (monitoring.host's default on a swarm).
    dir = materialize(new SynthesizedSystem(harbor).synth('production-monitoring'), 'data-1');
  });

  it("maps a task container's com.docker.swarm.service.name, which cAdvisor is told to keep, to swarm_service", () => {
    const config = JSON.parse(require('node:fs').readFileSync(join(dir, 'prometheus/prometheus.yml'), 'utf8'));
    const cadvisor = config.scrape_configs.find((job: { job_name: string }) => job.job_name === 'cadvisor');
    expect(cadvisor.metric_relabel_configs).toContainEqual({ source_labels: ['container_label_com_docker_swarm_service_name'], target_label: 'swarm_service' });
    expectValid('promtool', ['check', 'rules', join(dir, 'prometheus/rules/alerts.yml')]);
  });

  it('scrapes the global edge proxy task by task (tasks.edge-proxy: its name is one virtual IP), a configuration promtool accepts', () => {
    const config = JSON.parse(require('node:fs').readFileSync(join(dir, 'prometheus/prometheus.yml'), 'utf8'));
    const edge = config.scrape_configs.find((job: { job_name: string }) => job.job_name === 'edge');
    expect(edge.static_configs).toBeUndefined();
    expect(edge.dns_sd_configs).toEqual([{ names: ['tasks.edge-proxy'], type: 'A', port: EXPORTER_PORTS.edge }]);
    expect(edge.relabel_configs).toEqual([{ source_labels: ['__meta_dns_name'], regex: 'tasks\\.edge-proxy', target_label: 'environment', replacement: 'production' }]);
    expect(expectValid('promtool', ['check', 'config', join(dir, 'prometheus/prometheus.yml')])).toMatch(/SUCCESS/);
  });

  it('warns when booking-api runs 2 of its 3 replicas for 5 minutes, not during a one-minute reschedule or a start-first update; pages when none runs', () => {
    // cAdvisor's series after the relabelling: one per running task container, on the node's scrape.
    const task = (slot: number, host: string, values: string) => ({
      series: `container_last_seen{job="cadvisor",host="${host}",swarm_service="booking-api",name="booking-api.${slot}.x${slot}"}`,
      values,
    });
    const other = (swarmService: string, slot: number, values = '1x20') => ({
      series: `container_last_seen{job="cadvisor",host="app-1",swarm_service="${swarmService}",name="${swarmService}.${slot}.y${slot}"}`,
      values,
    });
    const tests = {
      rule_files: [join(dir, 'prometheus/rules/alerts.yml')],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          // A stopped task's container leaves cAdvisor: its series goes stale at the next scrape.
          input_series: [
            task(1, 'app-1', '1x20'),
            // Slot 2: gone for one minute at minute 2 (rescheduled), then from minute 8 on (its node lost, no room left).
            task(2, 'app-2', '1 1 stale 1 1 1 1 1 stale'),
            task(3, 'app-2', '1x20'),
            // A start-first update's extra task for a minute: 4 of 3 is not under-replicated.
            { series: 'container_last_seen{job="cadvisor",host="app-1",swarm_service="booking-api",name="booking-api.3.new"}', values: '_x5 1 stale' },
            other('booking-web', 1),
            other('booking-web', 2),
            other('accounts-api', 1),
            other('accounts-api', 2),
            // The worker (no health endpoint): its only task stops at minute 10.
            other('booking-reminders', 1, '1x9 stale'),
          ],
          alert_rule_test: [
            { eval_time: '4m', alertname: 'ServiceUnderReplicated', exp_alerts: [] },
            { eval_time: '12m', alertname: 'ServiceUnderReplicated', exp_alerts: [] },
            {
              eval_time: '13m',
              alertname: 'ServiceUnderReplicated',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', environment: 'production', product: 'booking', service: 'api' },
                  exp_annotations: {
                    summary: 'booking/api runs 2 of its 3 replicas',
                    description: 'Swarm has not placed every task of booking-api for 5 minutes: a node is down or full (docker service ps booking-api; ops status)',
                  },
                },
              ],
            },
            { eval_time: '11m', alertname: 'ServiceDown', exp_alerts: [] },
            {
              eval_time: '12m',
              alertname: 'ServiceDown',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', environment: 'production', product: 'booking', service: 'reminders', swarm_service: 'booking-reminders' },
                  exp_annotations: { summary: 'booking/reminders is not running', description: 'No container of booking/reminders seen for 2 minutes' },
                },
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'swarm-tests.yml'), JSON.stringify(tests));
    expect(expectValid('promtool', ['test', 'rules', join(dir, 'swarm-tests.yml')])).toMatch(/SUCCESS/);
  });
});

describe('a monitoring host of its own', () => {
  let stack: TerraformJson;
  beforeAll(() => {
    stack = new SynthesizedSystem(withMonitoringHost()).synth('production-monitoring');
  });

  it('gives the monitoring host a server configuration scraping both nodes, and rules, Prometheus accepts', () => {
    const dir = materialize(stack, 'monitoring-1');
    expect(expectValid('promtool', ['check', 'config', join(dir, 'prometheus/prometheus.yml')])).toMatch(/SUCCESS/);
    // A swarm: no agent on app-1; the server scrapes its collectors' services over the overlay.
    expect(readFileSync(join(dir, 'prometheus/prometheus.yml'), 'utf8')).toContain('"node-exporter-app-1:9100"');
    expectValid('promtool', ['check', 'rules', join(dir, 'prometheus/rules/alerts.yml')]);
    expectValid('amtool', ['check-config', join(dir, 'alertmanager/alertmanager.yml')]);
  });
});

describe('dashboards', () => {
  it('query only with PromQL that Prometheus parses (each expression checked as a recording rule)', () => {
    const exprs = Object.values(DASHBOARDS).flatMap((dashboard: any) =>
      (dashboard.panels as any[]).filter((panel) => panel.datasource.type === 'prometheus').flatMap((panel) => panel.targets.map((target: any) => target.expr as string)),
    );
    expect(exprs.length).toBeGreaterThanOrEqual(12);
    // Grafana replaces $variables before querying; "All" becomes a regex matching everything.
    const rules = exprs.map((expr, index) => ({ record: `dashboard:expr_${index}`, expr: expr.replace(/\$[a-z_]+/g, '.*') }));
    const dir = mkdtempSync(join(tmpdir(), 'dashboards-'));
    writeFileSync(join(dir, 'exprs.yml'), JSON.stringify({ groups: [{ name: 'dashboards', rules }] }));
    expect(expectValid('promtool', ['check', 'rules', join(dir, 'exprs.yml')])).toMatch(new RegExp(`SUCCESS: ${exprs.length} rules found`));
  });
});

describe('the validators themselves', () => {
  it('reject what they should: a route to an unknown receiver, an expression that does not parse', () => {
    const dir = mkdtempSync(join(tmpdir(), 'broken-'));
    writeFileSync(join(dir, 'am.yml'), JSON.stringify({ route: { receiver: 'nobody' }, receivers: [{ name: 'somebody' }] }));
    writeFileSync(join(dir, 'rules.yml'), JSON.stringify({ groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'rate(x[5m]' }] }] }));
    expect(run('amtool', ['check-config', join(dir, 'am.yml')]).output).toMatch(/undefined receiver "nobody"/);
    expect(run('promtool', ['check', 'rules', join(dir, 'rules.yml')]).status).not.toBe(0);
  });
});
