/**
 * The `<env>-monitoring` stack on the synthesized JSON: where it sits in the
 * deploy order, what runs on each host, how logs and metrics are labelled,
 * Grafana's route and login, alerts and their receivers, uptime checks,
 * capacity, and the bad input it refuses.
 */
import { prometheusConfig, type HostScrape } from '../constructs/monitoring/prometheus-config';
import { manacore } from '../environments';
import { lexicon } from '../examples/lexicon';
import { nutri } from '../examples/nutri';
import { planCapacity } from '../system/capacity';
import type { SystemSpec } from '../system/model';
import { resolveSystem } from '../system/resolve';
import { stacksOf } from '../stacks/system-stacks';
import { withMonitoringHost, writtenFiles, writtenJson } from './helpers/monitoring';
import { environmentOf, keepOnly, serviceOf, variant, type WritableSystem } from './helpers/spec';
import { resources, SynthesizedSystem, type TerraformJson } from './helpers/synth';
import { issueLines } from './helpers/issues';

/** Manacore with two products per environment: small and fast, every kind of service still present. */
function small(mutate: (copy: WritableSystem) => void = () => undefined): SystemSpec {
  return variant(manacore, (copy) => {
    keepOnly(copy, ['staging', 'production'], ['mana-core-auth', 'chat']);
    mutate(copy);
  });
}


const env = (container: any): Record<string, string> =>
  Object.fromEntries((container.env ?? []).map((entry: string) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
const labelsOf = (container: any): Record<string, string> => Object.fromEntries(container.labels.map((l: any) => [l.label, l.value]));

describe('the monitoring stack', () => {
  let system: SynthesizedSystem;
  let production: TerraformJson;
  let staging: TerraformJson;
  beforeAll(() => {
    system = new SynthesizedSystem(
      small((copy) => {
        // A service declaring its metrics; the worker shape has none.
        serviceOf(copy, 'chat', 'backend').metrics = { path: '/metrics' };
      }),
    );
    production = system.synth('production-monitoring');
    staging = system.synth('staging-monitoring');
  });

  it('is deployed after data and before the products, reading only network and edge', () => {
    const stacks = system.environment('production');
    const order = stacksOf(stacks).map((stack) => stack.stackName);
    const platform = order.filter((name) => !name.endsWith('-credentials')).slice(0, 4);
    expect(platform).toEqual(['production-network', 'production-edge', 'production-data', 'production-monitoring']);
    expect(order.indexOf('production-monitoring')).toBeLessThan(order.indexOf('production-chat'));
    expect(stacks.monitoring.readsFrom.sort()).toEqual(['production-edge', 'production-network']);
  });

  it('runs Prometheus, Alertmanager, Loki and Grafana and every collector on the one host, each hardened', () => {
    const containers = resources(production, 'docker_container');
    expect(Object.keys(containers).sort()).toEqual(
      ['alertmanager', 'app-1-blackbox-exporter', 'app-1-cadvisor', 'app-1-monitoring-setup', 'app-1-node-exporter', 'app-1-promtail', 'grafana', 'loki', 'prometheus'].sort(),
    );
    for (const [id, container] of Object.entries(containers)) {
      if (id.endsWith('monitoring-setup')) continue;
      expect({ id, user: container.user, read_only: container.read_only, drop: container.capabilities.drop, nnp: container.security_opts }).toEqual({
        id,
        user: '1001',
        read_only: true,
        drop: ['ALL'],
        nnp: ['no-new-privileges:true'],
      });
      expect(container.healthcheck.test.length).toBeGreaterThan(1);
      expect(container.ports).toBeUndefined();
      // The local json-file rotation stays: promtail reads through the Docker API, it replaces no log driver.
      expect([container.log_driver, container.log_opts]).toEqual(['json-file', { 'max-size': '10m', 'max-file': '3' }]);
    }
  });

  it('writes the configuration in a one-shot task that waits for the mounted volume and is exempted with its reason', () => {
    const task = resources(production, 'docker_container')['app-1-monitoring-setup'];
    expect([task.attach, task.must_run, task.restart, task.user, task.capabilities.add]).toEqual([true, false, 'no', '0', ['CHOWN']]);
    expect(task.command[0]).toContain('[ -d /data/lost+found ] || { echo "monitoring volume is not mounted at /data"');
    expect(task.depends_on).toEqual(['hcloud_volume_attachment.monitoring-volume-attachment']);
    // Testing.synth strips the "//" metadata block; the synthesized file keeps it.
    expect(system.environment('production').monitoring.toTerraform()['//'].invariant_exemptions).toEqual([
      expect.objectContaining({ rule: 'hardened-container', resource: 'docker_container.app-1-monitoring-setup' }),
    ]);
    // Every service container is replaced when its configuration changes: it carries the files' digest.
    const digest = labelsOf(resources(production, 'docker_container').prometheus)['config.digest'];
    expect(task.name).toBe(`app-1-monitoring-setup-${digest}`);
  });

  it('keeps metrics, logs and dashboards state on a protected volume, retention from the documents', () => {
    const volume = resources(production, 'hcloud_volume')['monitoring-volume'];
    expect([volume.size, volume.delete_protection, volume.lifecycle.prevent_destroy]).toEqual([40, true, true]);
    expect(resources(staging, 'hcloud_volume')['monitoring-volume'].delete_protection).toBe(false);
    const prometheus = resources(production, 'docker_container').prometheus;
    expect(prometheus.command).toEqual(expect.arrayContaining(['--storage.tsdb.retention.time=15d', '--storage.tsdb.retention.size=18GB']));
    expect(prometheus.volumes).toEqual(expect.arrayContaining([{ host_path: '/mnt/HC_Volume_${hcloud_volume.monitoring-volume.id}/prometheus', container_path: '/prometheus', read_only: false }]));
    const loki = writtenJson(production, 'app-1', 'loki/loki.yml');
    expect([loki.limits_config.retention_period, loki.compactor.retention_enabled, loki.auth_enabled]).toEqual(['168h', true, false]);
  });

  it("scrapes a swarm's services task by task: tasks.<service> per name, each name's labels set by relabelling on it", () => {
    const host = (name: string): HostScrape => ({
      host: name,
      exporters: { node: `node-exporter-${name}`, cadvisor: `cadvisor-${name}`, blackbox: 'blackbox-exporter', promtail: `promtail-${name}` },
      services: name !== 'app-1' ? [] : [
        { product: 'chat', service: 'backend', address: 'chat-backend:3002', path: '/metrics' },
        { product: 'chat', service: 'backend-2', address: 'chat-backend-2:3003', path: '/metrics' },
      ],
      swarmTasks: true,
      health: [],
      public: [],
    });
    const config: any = prometheusConfig({ environment: 'production', scrapeIntervalSeconds: 30, hosts: [host('app-1'), host('app-2')] });
    const services = config.scrape_configs.find((job: any) => job.job_name === 'services');
    expect(services.static_configs).toBeUndefined();
    expect(services.dns_sd_configs).toEqual([
      { names: ['tasks.chat-backend'], type: 'A', port: 3002 },
      { names: ['tasks.chat-backend-2'], type: 'A', port: 3003 },
    ]);
    // Prometheus anchors a relabel regex: each name's rules apply to its own targets only.
    const labelsOf = (dnsName: string) =>
      Object.fromEntries(services.relabel_configs.filter((rule: any) => new RegExp(`^(?:${rule.regex})$`).test(dnsName)).map((rule: any) => [rule.target_label, rule.replacement]));
    expect(labelsOf('tasks.chat-backend')).toEqual({ environment: 'production', product: 'chat', service: 'backend' });
    expect(labelsOf('tasks.chat-backend-2')).toEqual({ environment: 'production', product: 'chat', service: 'backend-2' });
    expect(labelsOf('tasksXchat-backend')).toEqual({});
    // The per-node collectors are one task each: fixed targets with their node's host label, as on containers.
    expect(config.scrape_configs.find((job: any) => job.job_name === 'node').static_configs.map((c: any) => c.labels.host)).toEqual(['app-1', 'app-2']);
  });

  it('scrapes every service that declares metrics, labelled with environment, product and service', () => {
    const config = writtenJson(production, 'app-1', 'prometheus/prometheus.yml');
    const services = config.scrape_configs.find((job: any) => job.job_name === 'services');
    expect(services.metrics_path).toBe('/metrics');
    expect(services.static_configs).toEqual([{ targets: ['chat-backend:3002'], labels: { environment: 'production', host: 'app-1', product: 'chat', service: 'backend' } }]);
    // Host and container exporters on every host, with the host label.
    for (const job of ['node', 'cadvisor']) {
      expect(config.scrape_configs.find((j: any) => j.job_name === job).static_configs[0].labels).toEqual({ environment: 'production', host: 'app-1' });
    }
    // Every HTTP health route is probed from inside; every public name through the internet (certificate expiry).
    const health = config.scrape_configs.find((j: any) => j.job_name === 'health').static_configs.map((c: any) => c.targets[0]);
    expect(health).toEqual(expect.arrayContaining(['http://mana-core-auth-backend:3001/api/health', 'http://chat-web:3000/api/health', 'http://chat-landing:80/health']));
    const publicNames = config.scrape_configs.find((j: any) => j.job_name === 'public').static_configs.map((c: any) => c.targets[0]);
    expect(publicNames).toEqual(expect.arrayContaining(['https://auth.manacore.app/api/health', 'https://grafana.manacore.app/api/health']));
  });

  it('ships every container log to Loki labelled project, service and environment; JSON lines keep their fields', () => {
    const promtail = writtenJson(production, 'app-1', 'promtail/promtail.yml');
    expect(promtail.clients).toEqual([{ url: 'http://loki:3100/loki/api/v1/push', external_labels: { environment: 'production', host: 'app-1' } }]);
    const job = promtail.scrape_configs[0];
    expect(job.docker_sd_configs).toEqual([{ host: 'unix:///var/run/docker.sock', refresh_interval: '15s' }]);
    const targets = job.relabel_configs.map((rule: any) => `${rule.source_labels[0]}->${rule.target_label}`);
    expect(targets).toEqual(
      expect.arrayContaining([
        '__meta_docker_container_label_product->project',
        '__meta_docker_container_label_service->service',
        '__meta_docker_container_label_role->project',
      ]),
    );
    expect(job.pipeline_stages[0]).toEqual({ json: { expressions: { level: 'level' } } });
    // The product containers carry the labels promtail reads.
    const chat = system.synth('production-chat');
    expect(labelsOf(resources(chat, 'docker_container')['chat-backend'])).toEqual(expect.objectContaining({ product: 'chat', service: 'backend', env: 'production' }));
  });

  it('puts Grafana behind the edge proxy on its own name, login required, admin password generated', () => {
    const grafana = resources(production, 'docker_container').grafana;
    const variables = env(grafana);
    expect(variables).toEqual(
      expect.objectContaining({ GF_AUTH_ANONYMOUS_ENABLED: 'false', GF_USERS_ALLOW_SIGN_UP: 'false', GF_SERVER_ROOT_URL: 'https://grafana.manacore.app/' }),
    );
    expect(variables.GF_SECURITY_ADMIN_PASSWORD).toBe('${random_password.grafana-admin-password.result}');
    expect(resources(production, 'random_password')['grafana-admin-password']).toEqual(expect.objectContaining({ length: 32 }));
    expect(labelsOf(grafana)).toEqual(expect.objectContaining({ 'traefik.enable': 'true', 'traefik.http.routers.grafana.rule': 'Host(`grafana.manacore.app`)' }));
    expect(production.output?.grafana_admin_password.sensitive).toBe(true);
    const record = resources(production, 'cloudflare_dns_record')['dns-grafana-a'];
    expect([record.name, record.proxied]).toEqual(['grafana.manacore.app', true]);
    expect(resources(staging, 'cloudflare_dns_record')['dns-grafana-a'].name).toBe('staging-grafana.manacore.app');
    const datasources = writtenJson(production, 'app-1', 'grafana/provisioning/datasources/datasources.yml');
    expect(datasources.datasources.map((d: any) => d.uid)).toEqual(['prometheus', 'loki', 'alertmanager']);
    expect([...writtenFiles(production, 'app-1').keys()]).toEqual(
      expect.arrayContaining(['grafana/dashboards/service-health.json', 'grafana/dashboards/database.json', 'grafana/dashboards/host-resources.json']),
    );
  });

  it("gives Grafana no public name on a swarm, whose edge routes services' labels only, and says how to reach it", () => {
    const lexiconProduction = resolveSystem(lexicon).environments.find((environment) => environment.name === 'production')!;
    expect([lexiconProduction.engine, lexiconProduction.loadBalancer]).toEqual(['swarm', undefined]);
    const monitoring = new SynthesizedSystem(lexicon).synth('production-monitoring');
    expect(resources(monitoring, 'cloudflare_dns_record')['dns-grafana-a']).toBeUndefined();
    expect(Object.keys(labelsOf(resources(monitoring, 'docker_container').grafana)).some((label) => label.startsWith('traefik.http.routers.'))).toBe(false);
    expect(resolveSystem(lexicon).warnings).toContain(
      `environment "production": Grafana gets no public name on a swarm (the edge's Swarm provider routes services' labels only; Grafana is a plain container); reach it through an SSH tunnel (docs/observability.md)`,
    );
  });

  it("alerts with the documents' thresholds", () => {
    const rules = writtenJson(production, 'app-1', 'prometheus/rules/alerts.yml').groups.flatMap((g: any) => g.rules);
    const byName = (name: string) => rules.filter((r: any) => r.alert === name);
    expect(byName('ServiceDown')[0]).toEqual(expect.objectContaining({ expr: 'probe_success{job="health"} == 0', for: '2m', labels: { severity: 'critical', environment: 'production' } }));
    expect(byName('HighErrorRate')[0].expr).toMatch(/> 0\.05$/);
    expect(byName('HighErrorRate')[0].for).toBe('5m');
    expect([byName('HighLatencyP95')[0].expr.endsWith('> 0.5'), byName('HighLatencyP95')[0].for]).toEqual([true, '10m']);
    expect(byName('ContainerMemoryHigh')[0].expr).toMatch(/> 0\.8$/);
    expect(byName('ContainerMemoryCritical')[0].expr).toMatch(/> 0\.9$/);
    expect([byName('HostCpuHigh')[0].expr.endsWith('> 80'), byName('HostCpuHigh')[0].for]).toEqual([true, '5m']);
    expect(byName('DiskSpaceLow')[0].expr).toMatch(/< 10$/);
    expect(byName('CertificateExpiresSoon')[0].expr).toMatch(/< 14$/);
    expect(byName('BackupMissed').map((r: any) => r.labels.dump)).toEqual(['postgres', 'redis']);
    expect(byName('BackupMissed')[0].expr).toContain('[26h]');
  });

  it('routes critical alerts to PagerDuty and every alert to Slack, keys from sensitive variables never written in the stack', () => {
    const alertmanager = writtenJson(production, 'app-1', 'alertmanager/alertmanager.yml');
    expect(alertmanager.route.routes).toEqual([
      { matchers: ['severity="critical"'], receiver: 'oncall', continue: true },
      { matchers: ['severity="critical"'], receiver: 'ops', continue: true },
      { matchers: ['severity="warning"'], receiver: 'ops', continue: true },
    ]);
    expect(alertmanager.receivers[1]).toEqual(expect.objectContaining({ name: 'oncall', pagerduty_configs: [expect.objectContaining({ routing_key_file: '/etc/alertmanager/secrets/oncall' })] }));
    expect(alertmanager.receivers[2].slack_configs[0]).toEqual(expect.objectContaining({ api_url_file: '/etc/alertmanager/secrets/ops', channel: '#alerts' }));
    expect(production.variable?.alert_pagerduty_oncall).toEqual(expect.objectContaining({ sensitive: true }));
    expect(production.variable?.alert_slack_ops).toEqual(expect.objectContaining({ sensitive: true }));
    expect(production.variable?.alert_pagerduty_oncall.default).toBeUndefined();
    const task = resources(production, 'docker_container')['app-1-monitoring-setup'];
    expect(env(task).CONFIG_SECRET_0).toBe('${var.alert_pagerduty_oncall}');
    expect(task.command[0]).toContain(`(umask 077; printf '%s' "$CONFIG_SECRET_0" > /target/alertmanager/secrets/oncall)`);
  });

  it("hands the external monitor every public name when the environment names one", () => {
    const urls: string[] = production.output?.uptime_check_urls.value;
    expect(urls).toEqual(expect.arrayContaining(['https://auth.manacore.app/api/health', 'https://api-chat.manacore.app/api/health', 'https://chat.manacore.app/health', 'https://grafana.manacore.app/api/health']));
    expect(urls).toHaveLength(5);
    expect(resources(production, 'cloudflare_healthcheck')).toEqual({});
  });
});

describe('monitoring choices per environment', () => {
  it('creates a Cloudflare health check for every public name where the zone offers them', () => {
    const system = new SynthesizedSystem(
      small((copy) => {
        for (const e of copy.environments) e.monitoring = { ...e.monitoring, uptime: { mode: 'cloudflare' } };
      }),
    );
    const checks = resources(system.synth('staging-monitoring'), 'cloudflare_healthcheck');
    expect(Object.keys(checks).sort()).toEqual(['uptime-chat-backend', 'uptime-chat-landing', 'uptime-chat-web', 'uptime-grafana', 'uptime-mana-core-auth-backend']);
    expect(checks['uptime-chat-web']).toEqual(
      expect.objectContaining({ address: 'staging-app-chat.manacore.app', type: 'HTTPS', interval: 300, http_config: expect.objectContaining({ path: '/api/health', port: 443 }) }),
    );
  });

  it('takes thresholds from the environment over the defaults', () => {
    const system = new SynthesizedSystem(
      small((copy) => {
        environmentOf(copy, 'staging').monitoring!.alerts = { errorRatePercent: 10, latencyP95Ms: 800, diskFreePercent: 15 };
      }),
    );
    const rules = writtenJson(system.synth('staging-monitoring'), 'app-1', 'prometheus/rules/alerts.yml').groups.flatMap((g: any) => g.rules);
    expect(rules.find((r: any) => r.alert === 'HighErrorRate').expr).toMatch(/> 0\.1$/);
    expect(rules.find((r: any) => r.alert === 'HighLatencyP95').expr).toMatch(/> 0\.8$/);
    expect(rules.find((r: any) => r.alert === 'DiskSpaceLow').expr).toMatch(/< 15$/);
  });

  it('warns at synth for a staging environment without receivers', () => {
    const bare = small((copy) => {
      delete environmentOf(copy, 'staging').monitoring;
    });
    expect(resolveSystem(bare).warnings).toEqual(
      expect.arrayContaining([
        'environment "staging": no receiver for critical alerts (monitoring.receivers and monitoring.routes); they are shown in Alertmanager and Grafana only',
        'environment "staging": no receiver for warning alerts (monitoring.receivers and monitoring.routes); they are shown in Alertmanager and Grafana only',
      ]),
    );
  });

  it('runs the server on a host of its own; on the swarm each node\'s collectors are services pinned to it through the endpoint, scraped over the overlay', () => {
    const system = new SynthesizedSystem(withMonitoringHost());
    const stack = system.synth('production-monitoring');
    const containers = resources(stack, 'docker_container');
    // The server's plain containers through the monitoring host's daemon; nothing else of this stack runs as a container.
    expect(containers.prometheus.provider).toBe('docker.monitoring_1');
    expect(Object.keys(containers).filter((address) => containers[address].provider !== 'docker.monitoring_1')).toEqual([]);
    expect(Object.keys(containers).filter((address) => /agent|app-1/.test(address))).toEqual([]);
    expect(stack.provider?.docker?.map((provider: any) => [provider.alias, provider.host])).toEqual([
      // The swarm's endpoint (app-1: the data host) and the monitoring host's daemon for the server.
      [undefined, 'ssh://deploy@${data.terraform_remote_state.outputs-production-network.outputs.host_app_1_ipv4}:22'],
      ['monitoring_1', 'ssh://deploy@${data.terraform_remote_state.outputs-production-network.outputs.host_monitoring_1_ipv4}:22'],
    ]);
    // Nothing published: the collectors reach Prometheus and Loki over the backend overlay, and no agent remote-writes.
    expect(containers.prometheus.ports).toBeUndefined();
    expect(containers.loki.ports).toBeUndefined();
    expect(containers.prometheus.command).not.toContain('--web.enable-remote-write-receiver');
    const services = resources(stack, 'docker_service');
    expect(Object.keys(services).sort()).toEqual(
      ['app-1', 'monitoring-1'].flatMap((host) => [`${host}-cadvisor`, `${host}-node-exporter`, `${host}-promtail`]).sort(),
    );
    for (const [address, body] of Object.entries(services) as Array<[string, any]>) {
      const host = address.startsWith('app-1') ? 'app-1' : 'monitoring-1';
      expect(body.provider).toBe('docker');
      expect(body.name).toBe(`${address.slice(host.length + 1)}-${host}`);
      expect(body.mode).toEqual({ replicated: { replicas: 1 } });
      expect(body.task_spec.placement.constraints).toEqual([`node.hostname==manacore-production-${host}`]);
    }
    const promtail = services['app-1-promtail'].task_spec.container_spec;
    expect(promtail.command).toEqual(['/bin/sh', '-c', `printf '%s' "$PROMTAIL_CONFIG" > /tmp/promtail.yml && exec /usr/bin/promtail -config.file=/tmp/promtail.yml`]);
    const promtailConfig = JSON.parse(promtail.env.PROMTAIL_CONFIG);
    expect(promtailConfig.clients).toEqual([{ url: 'http://loki:3100/loki/api/v1/push', external_labels: { environment: 'production', host: 'app-1' } }]);
    // No files on app-1 at all: no setup task there.
    expect(containers['app-1-monitoring-setup']).toBeUndefined();
    // The central Prometheus scrapes each node's collectors by their service names, labelled with the node's host.
    const prometheus = writtenJson(stack, 'monitoring-1', 'prometheus/prometheus.yml');
    expect(prometheus.scrape_configs.find((j: any) => j.job_name === 'node').static_configs).toEqual([
      { targets: ['node-exporter-monitoring-1:9100'], labels: { environment: 'production', host: 'monitoring-1' } },
      { targets: ['node-exporter-app-1:9100'], labels: { environment: 'production', host: 'app-1' } },
    ]);
    // Services are on overlays the server joins: the monitoring host probes each once.
    expect(prometheus.scrape_configs.find((j: any) => j.job_name === 'health').static_configs.length).toBeGreaterThan(0);
    expect(resources(stack, 'hcloud_volume')['monitoring-volume'].server_id ?? resources(stack, 'hcloud_volume_attachment')['monitoring-volume-attachment'].server_id).toContain('host_monitoring_1_server_id');
    // Capacity: the server's parts and the blackbox exporter on monitoring-1; on app-1 the collectors alone, no agent.
    const production = resolveSystem(withMonitoringHost()).environments[0]!;
    const consumers = (host: string) => planCapacity(production).hosts.find((h) => h.host === host)!.consumers.map((c) => c.name).filter((name) => name.startsWith('monitoring'));
    expect(consumers('monitoring-1')).toEqual(expect.arrayContaining(['monitoring prometheus', 'monitoring loki', 'monitoring grafana', 'monitoring alertmanager', 'monitoring cadvisor', 'monitoring blackbox']));
    expect(consumers('app-1').sort()).toEqual(['monitoring cadvisor', 'monitoring nodeExporter', 'monitoring promtail']);
  });

  it('counts the monitoring containers in capacity planning on the app host', () => {
    const staging = resolveSystem(manacore).environments.find((e) => e.name === 'staging')!;
    const names = planCapacity(staging).hosts[0]!.consumers.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['monitoring prometheus', 'monitoring loki', 'monitoring grafana', 'monitoring alertmanager', 'monitoring nodeExporter', 'monitoring cadvisor', 'monitoring blackbox', 'monitoring promtail']));
  });

  it('synthesizes the Nutri example with its own receivers and external monitor', () => {
    const stack = new SynthesizedSystem(nutri).synth('production-monitoring');
    expect(stack.output?.uptime_check_urls.value).toEqual(expect.arrayContaining(['https://api.nutri.app/api/health', 'https://grafana.nutri.app/api/health']));
    expect(Object.keys(stack.variable ?? {})).toEqual(expect.arrayContaining(['alert_pagerduty_oncall', 'alert_slack_team']));
  });
});

describe('bad monitoring input', () => {
  it('refuses a route to a receiver that does not exist', () => {
    const bad = small((copy) => {
      environmentOf(copy, 'staging').monitoring = { receivers: [{ name: 'ops', kind: 'slack' }], routes: [{ severity: 'critical', receiver: 'pager' }] };
    });
    expect(issueLines(bad)).toContain(
      'environment "staging", field "monitoring.routes[0].receiver": got "pager"; allowed: ops (a route without a receiver would drop its alerts silently)',
    );
  });

  it('refuses a production environment whose critical alerts reach nobody', () => {
    const bad = small((copy) => {
      environmentOf(copy, 'production').monitoring = { receivers: [{ name: 'ops', kind: 'slack' }], routes: [{ severity: 'warning', receiver: 'ops' }] };
    });
    expect(issueLines(bad)).toEqual([
      'environment "production", field "monitoring.routes": got [{"severity":"warning","receiver":"ops"}]; allowed: a route for "critical" alerts to a receiver (a PagerDuty routing key) in monitoring.receivers (production alerts that reach nobody are outages learned from customers)',
    ]);
  });

  it('refuses a metrics path on a service without a port', () => {
    const bad = small((copy) => {
      copy.products.find((p) => p.name === 'chat')!.services.push({ name: 'jobs', kind: 'worker', command: ['node', 'jobs.js'], metrics: { path: '/metrics' } });
    });
    expect(issueLines(bad)).toContain(
      'catalog, product "chat", field "services.jobs.metrics.port": got undefined; allowed: the port serving /metrics (a worker service has no port of its own to default to)',
    );
  });

  it("refuses metrics Prometheus cannot reach: a worker on its product's network only", () => {
    const bad = small((copy) => {
      copy.products.find((p) => p.name === 'chat')!.services.push({ name: 'jobs', kind: 'worker', command: ['node', 'jobs.js'], metrics: { path: '/metrics', port: 9464 } });
    });
    expect(issueLines(bad)).toContain(
      'environment "staging", product "chat", field "services.jobs.metrics": got {"path":"/metrics","port":9464}; allowed: a service on the host\'s frontend or backend network (add extraNetworks: [\'backend\'] to chat/jobs) (Prometheus reaches services by name on the shared host networks; this one is on its product network only)',
    );
    const reachable = small((copy) => {
      copy.products.find((p) => p.name === 'chat')!.services.push({ name: 'jobs', kind: 'worker', command: ['node', 'jobs.js'], metrics: { port: 9464 }, extraNetworks: ['backend'] });
    });
    const config = writtenJson(new SynthesizedSystem(reachable).synth('staging-monitoring'), 'app-1', 'prometheus/prometheus.yml');
    expect(config.scrape_configs.find((job: any) => job.job_name === 'services').static_configs).toEqual([
      { targets: ['chat-jobs:9464'], labels: { environment: 'staging', host: 'app-1', product: 'chat', service: 'jobs' } },
    ]);
  });

  it('refuses a retention longer than the volume holds at the stated ingest', () => {
    const bad = small((copy) => {
      environmentOf(copy, 'staging').monitoring = { ...environmentOf(copy, 'staging').monitoring, retention: { logsDays: 30 }, volumeSizeGiB: 40 };
    });
    expect(issueLines(bad)).toContain(
      'environment "staging", field "monitoring.retention": got {"logsDays":30}; allowed: a retention that fits the volume: logs 30 days x 2 GiB/day + metrics 15 days x 0.5 GiB/day = 67.5 GiB, but 40 GiB holds 32 GiB of data (20% of the volume stays free for compaction and write-ahead logs; shorten the retention or raise monitoring.volumeSizeGiB)',
    );
  });

  it('refuses an unknown monitoring host, an unknown threshold and Cloudflare checks on a Free zone', () => {
    const bad = variant(nutri, (copy) => {
      copy.environments[0]!.monitoring = { ...copy.environments[0]!.monitoring, host: 'metrics-1', alerts: { cpuPercent: 120, latencyMs: 300 } as never, uptime: { mode: 'cloudflare' } };
    });
    expect(issueLines(bad)).toEqual(
      expect.arrayContaining([
        'environment "production", field "monitoring.host": got "metrics-1"; allowed: app-1',
        'environment "production", field "monitoring.alerts.cpuPercent": got 120; allowed: a number above 0 and at most 100',
        expect.stringMatching(/^environment "production", field "monitoring.alerts.latencyMs": got 300; allowed: "latencyP95Ms" \(did you mean it\?\), or another known field: serviceDownMinutes, /),
        'environment "production", field "monitoring.uptime.mode": got "cloudflare"; allowed: "external" on a free zone (Cloudflare offers standalone health checks on pro, business, enterprise zones only)',
      ]),
    );
  });
});
