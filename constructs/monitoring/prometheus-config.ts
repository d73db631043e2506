/**
 * Prometheus configuration of the central server, as a plain
 * object written as JSON (which is YAML); `promtool check config` validates
 * it in the tests. Field names follow Prometheus's configuration reference
 * (prometheus/config/config.go: scrape_configs, static_configs,
 * metric_relabel_configs, remote_write, alerting.alertmanagers).
 */

import { EDGE_METRICS_PORT } from '../docker/edge-proxy';

/** Ports the exporters listen on inside their containers. */
export const EXPORTER_PORTS = { node: 9100, cadvisor: 8080, blackbox: 9115, promtail: 9080, postgres: 9187, edge: EDGE_METRICS_PORT, prometheus: 9090, alertmanager: 9093, loki: 3100, grafana: 3000 } as const;

/** A service endpoint scraped for its own metrics. */
export interface MetricsTarget {
  readonly product: string;
  readonly service: string;
  /** `host:port` reachable from the scraper (the service's alias on a host network). */
  readonly address: string;
  readonly path: string;
}

/** A URL probed by the blackbox exporter. */
export interface ProbeTarget {
  readonly product: string;
  readonly service: string;
  readonly url: string;
}

/** What one host's scraper collects. */
export interface HostScrape {
  /** Host name (`app-1`), the `host` label. */
  readonly host: string;
  /**
   * Names (aliases) of the host's exporters on the scraper's network; `postgres` where a PostgreSQL container runs;
   * `edge`: the edge proxy's name on the frontend network, where Traefik's metrics answer (the canary watch's
   * per-version requests and latency, scripts/release/canary-watch.ts); absent on a host without one.
   */
  readonly exporters: { readonly node: string; readonly cadvisor: string; readonly blackbox: string; readonly promtail: string; readonly postgres?: string; readonly edge?: string };
  readonly services: readonly MetricsTarget[];
  /**
   * The edge proxy's and the services' names are Swarm services (`engine: 'swarm'`): each is scraped task by task,
   * since the name itself is one virtual IP balancing over the tasks, whose counters a scrape through it would mix.
   * @default false: the names are containers, one address each
   */
  readonly swarmTasks?: boolean;
  /** Internal health endpoints (`http://chat-backend:3002/api/health`). */
  readonly health: readonly ProbeTarget[];
  /** Public names probed through the internet (`https://api-chat.example.com/api/health`): certificate expiry. */
  readonly public: readonly ProbeTarget[];
}

export interface PrometheusConfigProps {
  readonly environment: string;
  /** Seconds between scrapes; the source documents scrape every 30 s. */
  readonly scrapeIntervalSeconds: number;
  readonly hosts: readonly HostScrape[];
  /** Central server: Alertmanager address and rule files. @default - none: scrape configuration only */
  readonly server?: { readonly alertmanager: string; readonly ruleFiles: readonly string[]; readonly selfScrape: readonly { job: string; address: string }[] };
}

type Json = Record<string, unknown>;

/**
 * cAdvisor exports Docker labels as `container_label_<name>`; keep them as plain `product`, `service`, ..., and a
 * Swarm task's service name as `swarm_service` (an empty value sets no label).
 */
const CADVISOR_LABELS: Json[] = [
  { action: 'labelmap', regex: 'container_label_(product|service|role|env)' },
  { source_labels: ['container_label_com_docker_swarm_service_name'], target_label: 'swarm_service' },
  { action: 'labeldrop', regex: 'container_label_.+' },
];

/** One scrape target: `name:port` and the labels its series get. */
interface ScrapeTarget {
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * A job's targets: fixed addresses, or (`perTask`) every task of the Swarm service an address names. Docker's
 * embedded DNS answers `tasks.<service>` with the address of each of the service's tasks on the asker's networks,
 * where `<service>` is the one virtual IP balancing over them (Docker docs, "Swarm mode overlay networks": service
 * discovery; checked on a real swarm in __tests__/integration/swarm-service.test.ts). Prometheus's `dns_sd_configs`
 * with `type: A` needs the port and sets `__meta_dns_name` to the name asked (prometheus/discovery/dns/dns.go), which
 * the relabelling turns into each name's labels, since a DNS target carries no labels of its own.
 */
function targetsOf(targets: readonly ScrapeTarget[], perTask: boolean): Json {
  if (!perTask) return { static_configs: targets.map((target) => ({ targets: [target.address], labels: { ...target.labels } })) };
  const named = targets.map((target) => {
    const [name, port] = target.address.split(':') as [string, string];
    return { dnsName: `tasks.${name}`, port: Number(port), labels: target.labels };
  });
  return {
    dns_sd_configs: named.map((target) => ({ names: [target.dnsName], type: 'A', port: target.port })),
    relabel_configs: named.flatMap((target) =>
      Object.entries(target.labels).map(([label, value]) => ({
        source_labels: ['__meta_dns_name'],
        regex: target.dnsName.replace(/[.]/g, '\\.'),
        target_label: label,
        replacement: value,
      })),
    ),
  };
}

export function prometheusConfig(props: PrometheusConfigProps): Json {
  const env = props.environment;
  const scrape: Json[] = [];
  for (const server of props.server?.selfScrape ?? []) {
    scrape.push({ job_name: server.job, static_configs: [{ targets: [server.address], labels: { environment: env } }] });
  }
  /** One job over the hosts where `pick` names the exporter; none when no host has it. */
  const exporter = (job: string, pick: (h: HostScrape) => string | undefined, port: number, extra: Json = {}, perTask = false) => {
    const hosts = props.hosts.filter((h) => pick(h) !== undefined);
    if (hosts.length === 0) return;
    const targets = hosts.map((h): ScrapeTarget => ({ address: `${pick(h)}:${port}`, labels: perTask ? { environment: env } : { environment: env, host: h.host } }));
    scrape.push({ job_name: job, ...targetsOf(targets, perTask), ...extra });
  };
  exporter('node', (h) => h.exporters.node, EXPORTER_PORTS.node);
  exporter('cadvisor', (h) => h.exporters.cadvisor, EXPORTER_PORTS.cadvisor, { metric_relabel_configs: CADVISOR_LABELS });
  exporter('promtail', (h) => h.exporters.promtail, EXPORTER_PORTS.promtail);
  exporter('postgres', (h) => h.exporters.postgres, EXPORTER_PORTS.postgres);
  // The canary watch reads a release's first minutes: at 15 s, `increase` over one minute has four samples.
  exporter('edge', (h) => h.exporters.edge, EXPORTER_PORTS.edge, { scrape_interval: '15s' }, props.hosts.some((h) => h.swarmTasks === true));
  // One job per metrics path: Prometheus sets the path per job, not per target.
  const byPath = new Map<string, Array<{ host: HostScrape; target: MetricsTarget }>>();
  for (const h of props.hosts) for (const target of h.services) byPath.set(target.path, [...(byPath.get(target.path) ?? []), { host: h, target }]);
  [...byPath.keys()].sort().forEach((path, index) => {
    const targets = byPath.get(path)!;
    const perTask = targets.some(({ host }) => host.swarmTasks === true);
    scrape.push({
      job_name: index === 0 ? 'services' : `services-${index}`,
      metrics_path: path,
      ...targetsOf(
        targets.map(({ host, target }): ScrapeTarget => ({
          address: target.address,
          // A task's node is not in its DNS answer: on a swarm the series carry product and service, not a host.
          labels: perTask ? { environment: env, product: target.product, service: target.service } : { environment: env, host: host.host, product: target.product, service: target.service },
        })),
        perTask,
      ),
    });
  });
  const probes = (job: string, module: string, pick: (h: HostScrape) => readonly ProbeTarget[]) => {
    const configs = props.hosts.flatMap((h) =>
      pick(h).map((probe) => ({ targets: [probe.url], labels: { environment: env, host: h.host, product: probe.product, service: probe.service, blackbox: `${h.exporters.blackbox}:${EXPORTER_PORTS.blackbox}` } })),
    );
    if (configs.length === 0) return;
    scrape.push({
      job_name: job,
      metrics_path: '/probe',
      params: { module: [module] },
      static_configs: configs,
      // The blackbox exporter's documented pattern: the URL becomes ?target=, the exporter the address.
      relabel_configs: [
        { source_labels: ['__address__'], target_label: '__param_target' },
        { source_labels: ['__param_target'], target_label: 'instance' },
        { source_labels: ['blackbox'], target_label: '__address__' },
        { action: 'labeldrop', regex: 'blackbox' },
      ],
    });
  };
  probes('health', 'http_2xx', (h) => h.health);
  probes('public', 'https_2xx', (h) => h.public);

  const config: Json = {
    global: { scrape_interval: `${props.scrapeIntervalSeconds}s`, evaluation_interval: `${props.scrapeIntervalSeconds}s`, external_labels: { environment: env } },
    scrape_configs: scrape,
  };
  if (props.server !== undefined) {
    config.rule_files = [...props.server.ruleFiles];
    config.alerting = { alertmanagers: [{ static_configs: [{ targets: [props.server.alertmanager] }] }] };
  }
  return config;
}

/** The blackbox exporter's modules: plain HTTP for internal health, HTTPS with a valid certificate for public names. */
export function blackboxConfig(): Json {
  return {
    modules: {
      http_2xx: { prober: 'http', timeout: '10s', http: { preferred_ip_protocol: 'ip4', valid_status_codes: [] } },
      https_2xx: { prober: 'http', timeout: '10s', http: { preferred_ip_protocol: 'ip4', fail_if_not_ssl: true, valid_status_codes: [] } },
    },
  };
}
