import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import { HealthCheck } from '../core/health-check';
import { generatedPassword } from '../core/random-provider';
import { EdgeRoute } from '../docker/edge-route';
import { HardenedContainer } from '../docker/hardened-container';
import { alertmanagerConfig, type AlertmanagerConfigProps } from './alertmanager-config';
import { alertRules, type AlertRulesProps } from './alert-rules';
import { jsonFile, type ConfigFile, type ConfigFiles } from './config-files';
import { DASHBOARDS_DIR, grafanaFiles } from './grafana';
import { MONITORING_IMAGES } from './images';
import { lokiConfig } from './loki-config';
import { EXPORTER_PORTS, prometheusConfig, type HostScrape } from './prometheus-config';
import { MONITORING_RESOURCES } from './resources';

/** Names the server parts answer to on the host's backend network. */
export const SERVER_NAMES = { prometheus: 'prometheus', alertmanager: 'alertmanager', loki: 'loki', grafana: 'grafana' } as const;

/** Data directories on the monitoring volume, one per stateful part. */
export const DATA_DIRECTORIES = ['prometheus', 'loki', 'grafana', 'alertmanager'] as const;

export interface MonitoringServerFilesProps {
  readonly environment: string;
  readonly scrapeIntervalSeconds: number;
  /** What the central Prometheus scrapes itself: its own host's collectors and services. */
  readonly localScrape: HostScrape;
  /** The other nodes' collectors, scraped directly across the overlay (a swarm: no agent per node). @default - none */
  readonly nodeScrapes?: readonly HostScrape[];
  readonly alerts: Omit<AlertRulesProps, 'environment'>;
  readonly alerting: Omit<AlertmanagerConfigProps, 'grafanaUrl'>;
  readonly logRetentionDays: number;
  readonly grafanaDomain: string;
}

export interface MonitoringServerProps {
  readonly grafanaDomain: string;
  /** Metrics kept this many days, and at most this many GiB (whichever is reached first). */
  readonly metricsRetention: { readonly days: number; readonly maxGiB: number };
  /** Names of the host's `backend` and `frontend` networks. */
  readonly networks: { readonly backend: string; readonly frontend: string };
  /** Host path of the mounted monitoring volume. */
  readonly dataPath: string;
  /** Host directory of the configuration files. */
  readonly configDir: string;
  readonly setup: ConfigFiles;
  /** Route Grafana's name through this host's edge proxy. @default true */
  readonly publicRoute?: boolean;
  /**
   * Zone whose wildcard certificate Grafana's route is served with (no
   * certificate of its own), and whether its name goes through Cloudflare's
   * proxy (the route then takes Cloudflare's origin-pull connections only).
   * @default - a certificate of its own, not proxied
   */
  readonly tls?: { readonly zone: string; readonly proxied: boolean };
  readonly provider?: TerraformProvider;
  /** @default - none */
  readonly labels?: Readonly<Record<string, string>>;
}

const wget = (port: number, path: string, binary = 'wget') =>
  HealthCheck.command([binary, '-q', '-O', '/dev/null', `http://127.0.0.1:${port}${path}`], { interval: Duration.seconds(30), timeout: Duration.seconds(5), retries: 3, startPeriod: Duration.seconds(60) }).toDocker();

/** Rule file path inside the Prometheus container. */
const RULES_FILE = '/etc/prometheus/rules/alerts.yml';

/**
 * Prometheus, Alertmanager, Loki and Grafana on the monitoring host, their
 * data on its volume. Grafana is the only part with a public name: behind
 * the edge proxy, with login required (anonymous access and sign-up off) and
 * a generated admin password.
 */
export class MonitoringServer extends Construct {
  public readonly containers: ReadonlyMap<string, HardenedContainer>;
  /** The Grafana admin password (a token of a generated secret). */
  public readonly grafanaAdminPassword: string;
  public readonly grafanaRoute: EdgeRoute;

  /** The server's files, each checkable on its own (the tests run promtool and amtool on them). */
  public static files(props: MonitoringServerFilesProps): ConfigFile[] {
    const grafanaUrl = `https://${props.grafanaDomain}`;
    return [
      jsonFile(
        'prometheus/prometheus.yml',
        prometheusConfig({
          environment: props.environment,
          scrapeIntervalSeconds: props.scrapeIntervalSeconds,
          hosts: [props.localScrape, ...(props.nodeScrapes ?? [])],
          server: {
            alertmanager: `${SERVER_NAMES.alertmanager}:${EXPORTER_PORTS.alertmanager}`,
            ruleFiles: [RULES_FILE],
            selfScrape: [
              { job: 'prometheus', address: `127.0.0.1:${EXPORTER_PORTS.prometheus}` },
              { job: 'alertmanager', address: `${SERVER_NAMES.alertmanager}:${EXPORTER_PORTS.alertmanager}` },
              { job: 'loki', address: `${SERVER_NAMES.loki}:${EXPORTER_PORTS.loki}` },
              { job: 'grafana', address: `${SERVER_NAMES.grafana}:${EXPORTER_PORTS.grafana}` },
            ],
          },
        }),
      ),
      jsonFile('prometheus/rules/alerts.yml', alertRules({ environment: props.environment, ...props.alerts })),
      jsonFile('alertmanager/alertmanager.yml', alertmanagerConfig({ ...props.alerting, grafanaUrl })),
      jsonFile('loki/loki.yml', lokiConfig({ retentionDays: props.logRetentionDays, dataDir: '/loki' })),
      ...grafanaFiles({ prometheus: SERVER_NAMES.prometheus, loki: SERVER_NAMES.loki, alertmanager: SERVER_NAMES.alertmanager }),
    ];
  }

  public constructor(scope: Construct, id: string, props: MonitoringServerProps) {
    super(scope, id);
    if (!Number.isInteger(props.metricsRetention.days) || props.metricsRetention.days < 1) {
      throw new Error(`MonitoringServer ${id}: metricsRetention.days must be a whole number of days, at least 1; got ${props.metricsRetention.days}`);
    }
    const containers = new Map<string, HardenedContainer>();
    const labels = (service: string) => ({ ...props.labels, service, 'config.digest': props.setup.digest });
    const backend = (alias: string) => ({ name: props.networks.backend, aliases: [alias] });
    const config = (dir: string, mount: string) => ({ hostPath: `${props.configDir}/${dir}`, containerPath: mount, readOnly: true });
    const data = (dir: string, mount: string) => ({ hostPath: `${props.dataPath}/${dir}`, containerPath: mount });
    const common = { provider: props.provider, dependsOn: [props.setup.task.container] };

    containers.set(
      'prometheus',
      new HardenedContainer(this, 'prometheus', {
        name: SERVER_NAMES.prometheus,
        image: MONITORING_IMAGES.prometheus,
        command: [
          '--config.file=/etc/prometheus/prometheus.yml',
          '--storage.tsdb.path=/prometheus',
          `--storage.tsdb.retention.time=${props.metricsRetention.days}d`,
          `--storage.tsdb.retention.size=${props.metricsRetention.maxGiB}GB`,
          `--web.external-url=https://${props.grafanaDomain}/`,
        ],
        healthCheck: wget(EXPORTER_PORTS.prometheus, '/-/healthy'),
        resources: MONITORING_RESOURCES.prometheus,
        // frontend too: web and landing services are scraped there.
        networks: [backend(SERVER_NAMES.prometheus), { name: props.networks.frontend, aliases: [SERVER_NAMES.prometheus] }],
        bindMounts: [config('prometheus', '/etc/prometheus'), data('prometheus', '/prometheus')],
        stopGraceSeconds: 60,
        labels: labels(SERVER_NAMES.prometheus),
        ...common,
      }),
    );
    containers.set(
      'alertmanager',
      new HardenedContainer(this, 'alertmanager', {
        name: SERVER_NAMES.alertmanager,
        image: MONITORING_IMAGES.alertmanager,
        command: ['--config.file=/etc/alertmanager/alertmanager.yml', '--storage.path=/alertmanager', '--cluster.listen-address='],
        healthCheck: wget(EXPORTER_PORTS.alertmanager, '/-/healthy'),
        resources: MONITORING_RESOURCES.alertmanager,
        networks: [backend(SERVER_NAMES.alertmanager)],
        bindMounts: [config('alertmanager', '/etc/alertmanager'), data('alertmanager', '/alertmanager')],
        labels: labels(SERVER_NAMES.alertmanager),
        ...common,
      }),
    );
    containers.set(
      'loki',
      new HardenedContainer(this, 'loki', {
        name: SERVER_NAMES.loki,
        image: MONITORING_IMAGES.loki,
        command: ['-config.file=/etc/loki/loki.yml'],
        // The Loki image is distroless/static:debug (cmd/loki/Dockerfile): busybox lives in /busybox.
        healthCheck: wget(EXPORTER_PORTS.loki, '/ready', '/busybox/wget'),
        resources: MONITORING_RESOURCES.loki,
        networks: [backend(SERVER_NAMES.loki)],
        bindMounts: [config('loki', '/etc/loki'), data('loki', '/loki')],
        labels: labels(SERVER_NAMES.loki),
        ...common,
      }),
    );

    this.grafanaAdminPassword = generatedPassword(this, 'grafana-admin-password');
    this.grafanaRoute = new EdgeRoute({
      name: SERVER_NAMES.grafana,
      domain: props.grafanaDomain,
      port: EXPORTER_PORTS.grafana,
      proxied: props.tls?.proxied,
      certificate: props.tls === undefined ? undefined : { zone: props.tls.zone },
    });
    containers.set(
      'grafana',
      new HardenedContainer(this, 'grafana', {
        name: SERVER_NAMES.grafana,
        image: MONITORING_IMAGES.grafana,
        // Grafana reads GF_<SECTION>_<KEY> over grafana.ini (Grafana docs, "Override configuration with environment variables").
        environment: {
          GF_SERVER_ROOT_URL: `https://${props.grafanaDomain}/`,
          GF_SERVER_DOMAIN: props.grafanaDomain,
          GF_SECURITY_ADMIN_USER: 'admin',
          GF_SECURITY_COOKIE_SECURE: 'true',
          GF_SECURITY_DISABLE_GRAVATAR: 'true',
          GF_AUTH_ANONYMOUS_ENABLED: 'false',
          GF_AUTH_BASIC_ENABLED: 'false',
          GF_USERS_ALLOW_SIGN_UP: 'false',
          GF_ANALYTICS_REPORTING_ENABLED: 'false',
          GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
          GF_PATHS_PROVISIONING: '/etc/grafana/provisioning',
          GF_PATHS_DATA: '/var/lib/grafana',
          GF_LOG_MODE: 'console',
        },
        secretEnvironment: { GF_SECURITY_ADMIN_PASSWORD: this.grafanaAdminPassword },
        healthCheck: wget(EXPORTER_PORTS.grafana, '/api/health'),
        resources: MONITORING_RESOURCES.grafana,
        networks: [backend(SERVER_NAMES.grafana), { name: props.networks.frontend, aliases: [SERVER_NAMES.grafana] }],
        bindMounts: [
          config('grafana/provisioning', '/etc/grafana/provisioning'),
          config('grafana/dashboards', DASHBOARDS_DIR),
          data('grafana', '/var/lib/grafana'),
        ],
        labels: { ...labels(SERVER_NAMES.grafana), ...(props.publicRoute === false ? {} : this.grafanaRoute.toLabels()) },
        ...common,
      }),
    );
    this.containers = containers;
  }
}
