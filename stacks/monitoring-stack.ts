import { CloudflareProvider } from '@cdktf/provider-cloudflare/lib/provider';
import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import { HcloudProvider } from '../.gen/providers/hcloud/provider';
import { AddressRecords } from '../constructs/cloudflare/address-records';
import { UptimeChecks, type UptimeTarget } from '../constructs/cloudflare/uptime-checks';
import { CloudflareZone } from '../constructs/cloudflare/zone';
import { SecretValue } from '../constructs/core/secret-value';
import { ConfigFiles, type SecretFile } from '../constructs/monitoring/config-files';
import { HostCollectors, COLLECTOR_NAMES, collectorNames } from '../constructs/monitoring/host-collectors';
import { DATA_DIRECTORIES, MonitoringServer, SERVER_NAMES } from '../constructs/monitoring/monitoring-server';
import { POSTGRES_EXPORTER_NAME } from '../constructs/monitoring/postgres-exporter';
import { EXPORTER_PORTS, type HostScrape } from '../constructs/monitoring/prometheus-config';
import { EDGE_PROXY_NAME } from '../constructs/docker/edge-proxy';
import { defaultMaxConnections } from '../constructs/docker/postgres-container';
import { DataVolume } from '../constructs/hetzner/data-volume';
import type { InvariantExemption } from '../policy/invariants';
import { planEnvironmentCloudflare, type EnvironmentCloudflare } from '../system/cloudflare-plan';
import { grafanaIsPublic, type ResolvedEnvironment, type ResolvedService } from '../system/resolve';
import { connectDockerHost, swarmManagerHost } from './docker-hosts';
import type { EdgeStack } from './edge-stack';
import type { NetworkStack } from './network-stack';
import { dockerNetworkOutputName, hostOutputName, ZONE_ID_OUTPUT } from './outputs';
import { SystemStack, type SystemStackProps } from './system-stack';

export interface MonitoringStackProps extends SystemStackProps {
  /** Host addresses and server ids. */
  readonly network: NetworkStack;
  /** The host networks the collectors and server join. */
  readonly edge: EdgeStack;
  /** The environment's share of its Cloudflare zone. @default - planned for this environment alone */
  readonly cloudflare?: EnvironmentCloudflare;
}

/** Host directory of the monitoring configuration files on every host. */
export const MONITORING_CONFIG_DIR = '/opt/monitoring';

/**
 * `<env>-monitoring`: metrics, logs, dashboards and alerts of the
 * environment. On the monitoring host (`monitoring.host`): Prometheus,
 * Alertmanager, Loki and Grafana, their data on a protected volume; on every
 * host: node exporter, cAdvisor, blackbox exporter and promtail (and where
 * the server is not, a Prometheus agent forwarding over the private
 * network). Grafana's name, and external uptime checks of every public name.
 *
 * Deployed after `<env>-data` and before the products: it reads only the
 * network and edge stacks (scrape targets come from the catalog, by the
 * services' stable aliases), so the first deploy of a product is already
 * watched, and no product deploy waits for it.
 */
export class MonitoringStack extends SystemStack {
  public readonly volume: DataVolume;
  public readonly server: MonitoringServer;
  public readonly collectors: ReadonlyMap<string, HostCollectors>;
  public readonly setups: ReadonlyMap<string, ConfigFiles>;

  protected override get runsAppContainers(): boolean {
    return true;
  }

  protected override get ownExemptions(): readonly InvariantExemption[] {
    return [...this.setups.values()].map((setup) => ({
      rule: 'hardened-container' as const,
      resource: `docker_container.${setup.node.id}`,
      stack: this.stackName,
      reason: 'one-shot task that writes configuration files and hands the data directories to uid 1001: root with CHOWN only, exits, has no health to check',
    }));
  }

  public constructor(scope: Construct, props: MonitoringStackProps) {
    const environment = props.environment;
    super(scope, environment.stackName('monitoring'), props);
    const monitoring = environment.monitoring;
    const network = this.outputsOf(props.network);
    const edge = this.outputsOf(props.edge);
    // Authenticates from HCLOUD_TOKEN.
    new HcloudProvider(this, 'hcloud', {});
    this.volume = new DataVolume(this, 'monitoring-volume', {
      name: environment.resourceName('monitoring'),
      sizeGiB: monitoring.volumeSizeGiB,
      location: environment.location,
      serverId: network.getString(hostOutputName(monitoring.host, 'server_id')),
      protection: environment.protection,
      labels: { ...this.labels('monitoring'), service: 'monitoring' },
    });

    const swarm = environment.engine === 'swarm';
    const secrets: SecretFile[] = monitoring.receivers.map((receiver) => ({
      path: `alertmanager/secrets/${receiver.name}`,
      value: SecretValue.variable(
        this,
        receiver.variable,
        receiver.kind === 'pagerduty' ? `PagerDuty Events API v2 routing key of receiver "${receiver.name}"` : `Slack incoming webhook URL of receiver "${receiver.name}"`,
      ).value,
    }));
    const labels = this.labels('monitoring');
    const collectors = new Map<string, HostCollectors>();
    const setups = new Map<string, ConfigFiles>();
    let server: MonitoringServer | undefined;
    // A swarm's collectors are services through its one endpoint; the server's plain containers go through the
    // monitoring host's daemon, the same provider when the monitoring host is the endpoint (docs/scaling.md, "One endpoint").
    const endpoint = swarm ? swarmManagerHost(environment) : undefined;
    const endpointProvider = endpoint === undefined ? undefined : connectDockerHost(this, props.network, endpoint);
    const providerOf = (host: string) => (host === endpoint ? endpointProvider! : connectDockerHost(this, props.network, host, { aliased: endpoint !== undefined }));
    // Several hosts are a swarm (validation): every host but the monitoring host is a swarm node.
    for (const host of environment.hosts) {
      const isServer = host.name === monitoring.host;
      // A swarm node other than the monitoring host runs nothing but its pinned collector services.
      const provider = isServer ? providerOf(host.name) : undefined;
      const networks = {
        backend: edge.getString(dockerNetworkOutputName(host.name, 'backend')),
        frontend: edge.getString(dockerNetworkOutputName(host.name, 'frontend')),
      };
      const scrape = scrapeOf(environment, host.name);
      // Every host's promtail pushes to Loki by name: on its host's network, or on a swarm over the backend overlay.
      const lokiPushUrl = `http://${SERVER_NAMES.loki}:${EXPORTER_PORTS.loki}/loki/api/v1/push`;
      let setup: ConfigFiles | undefined;
      if (isServer) {
        const files = [...HostCollectors.files({ environment: environment.name, host: host.name, lokiPushUrl, swarm }), ...MonitoringServer.files(serverFilesOf(environment, scrape))];
        setup = new ConfigFiles(this, `${host.name}-monitoring-setup`, {
          hostDir: MONITORING_CONFIG_DIR,
          files,
          secrets,
          dataVolume: { mountPath: this.volume.mountPath, directories: DATA_DIRECTORIES },
          network: { name: networks.backend },
          provider,
          labels: { ...labels, host: host.name },
          dependsOn: [this.volume.attachment],
        });
        setups.set(host.name, setup);
      }
      collectors.set(
        host.name,
        new HostCollectors(this, host.name, {
          environment: environment.name,
          host: host.name,
          networks,
          lokiPushUrl,
          setup,
          configDir: MONITORING_CONFIG_DIR,
          swarm: swarm ? { nodeHostname: host.serverName, provider: endpointProvider } : undefined,
          provider,
          labels,
        }),
      );
      if (isServer) {
        server = new MonitoringServer(this, 'monitoring-server', {
          grafanaDomain: monitoring.grafanaDomain,
          metricsRetention: { days: monitoring.metricsDays, maxGiB: monitoring.metricsMaxGiB },
          networks,
          dataPath: this.volume.mountPath,
          configDir: MONITORING_CONFIG_DIR,
          setup: setup!,
          publicRoute: grafanaIsPublic(environment),
          // Like the product routes: the zone's wildcard certificate, and proxied (its DNS record below is).
          tls: { zone: environment.rootDomain, proxied: true },
          provider,
          labels: { ...labels, host: host.name },
        });
      }
    }
    // Validation guarantees the monitoring host is one of the environment's hosts.
    this.server = server!;
    this.collectors = collectors;
    this.setups = setups;

    this.addPublicNames(props.network, props.cloudflare ?? planEnvironmentCloudflare(environment));
    new TerraformOutput(this, 'grafana_url', { value: `https://${monitoring.grafanaDomain}`, description: 'Dashboards, logs (Explore > Loki) and alerts' });
    this.publish('grafana_admin_password', this.server.grafanaAdminPassword, {
      sensitive: true,
      description: 'Password of Grafana user "admin" (terraform output -raw grafana_admin_password)',
    });
  }

  /** Grafana's DNS record and the external uptime checks of every public name. */
  private addPublicNames(networkStack: NetworkStack, cloudflare: EnvironmentCloudflare): void {
    const environment = this.environment;
    const monitoring = environment.monitoring;
    const network = this.outputsOf(networkStack);
    // Authenticates from CLOUDFLARE_API_TOKEN.
    new CloudflareProvider(this, 'cloudflare', {});
    const zone = new CloudflareZone(this, 'zone', { name: cloudflare.zone.name, zoneId: cloudflare.zone.zoneId ?? network.getString(ZONE_ID_OUTPUT) });
    if (grafanaIsPublic(environment)) {
      // Managed by this stack (<env>-monitoring): Grafana's name on the monitoring host, proxied like the web apps.
      new AddressRecords(this, 'dns-grafana', {
        zone,
        name: monitoring.grafanaDomain,
        ipv4: network.getString(hostOutputName(monitoring.host, 'ipv4')),
        // AAAA only where the edge serves IPv6 (policy: ipv6-served).
        ipv6: environment.ipv6 ? network.getString(hostOutputName(monitoring.host, 'ipv6')) : undefined,
        proxied: true,
        managedBy: this.stackName,
      });
    }
    const targets = uptimeTargetsOf(environment);
    if (monitoring.uptime.mode === 'cloudflare') {
      new UptimeChecks(this, 'uptime', { zone, targets, managedBy: this.stackName });
    } else if (monitoring.uptime.mode === 'external') {
      new TerraformOutput(this, 'uptime_check_urls', {
        value: targets.map((target) => `https://${target.domain}${target.path}`),
        description: `URLs ${monitoring.uptime.monitor} must check every 5 minutes (monitoring.uptime)`,
      });
    }
  }
}


/** Every public name with its health path: routed services with an HTTP probe, and Grafana. */
export function uptimeTargetsOf(environment: ResolvedEnvironment): UptimeTarget[] {
  const targets: UptimeTarget[] = environment.products.flatMap((product) =>
    product.services
      .filter((service) => service.routed && service.domain !== undefined && service.healthEndpoint !== undefined)
      .map((service) => ({ name: service.id, domain: service.domain!, path: service.healthEndpoint!.path })),
  );
  if (grafanaIsPublic(environment)) targets.push({ name: 'grafana', domain: environment.monitoring.grafanaDomain, path: '/api/health' });
  return targets;
}

/** What is scraped and probed on one host: its collectors, its services' metrics and health routes, its public names. */
export function scrapeOf(environment: ResolvedEnvironment, host: string): HostScrape {
  // Only services on a shared host network are reachable by name; the others (internal services and workers on their
  // product's own network) are watched by their containers' presence (serverFilesOf) and their logs. On a swarm those
  // networks are overlays every node's collector joins: the monitoring host's scrapes each service once, by name.
  const scrapesHere = (service: ResolvedService) => (environment.engine === 'swarm' ? environment.monitoring.host === host : service.host === host);
  const services = environment.products
    .flatMap((product) => product.services)
    .filter((service) => service.runsContainer && scrapesHere(service) && isReachable(service));
  const isServer = environment.monitoring.host === host;
  const swarm = environment.engine === 'swarm';
  return {
    host,
    exporters: {
      ...collectorNames(host, swarm),
      blackbox: COLLECTOR_NAMES.blackbox,
      // On a swarm the edge proxy is one global service: scraped once, from the server, task by task (swarmTasks).
      edge: !swarm || isServer ? EDGE_PROXY_NAME : undefined,
      // The data stack runs it beside PostgreSQL, on this host's backend network.
      postgres: environment.data.host === host && environment.data.containers.some((service) => service.exporter !== undefined) ? POSTGRES_EXPORTER_NAME : undefined,
    },
    services: services
      .filter((service) => service.metrics !== undefined)
      .map((service) => ({ product: service.product, service: service.name, address: `${service.id}:${service.metrics!.port}`, path: service.metrics!.path })),
    swarmTasks: swarm,
    health: services
      .filter((service) => service.healthEndpoint !== undefined)
      .map((service) => ({ product: service.product, service: service.name, url: `http://${service.id}:${service.healthEndpoint!.port}${service.healthEndpoint!.path}` })),
    public: [
      ...services
        .filter((service) => service.routed && service.domain !== undefined && service.healthEndpoint !== undefined)
        .map((service) => ({ product: service.product, service: service.name, url: `https://${service.domain}${service.healthEndpoint!.path}` })),
      ...(isServer && grafanaIsPublic(environment) ? [{ product: 'monitoring', service: 'grafana', url: `https://${environment.monitoring.grafanaDomain}/api/health` }] : []),
    ],
  };
}

/** Can the monitoring containers reach the service by name? They join the hosts' `frontend` and `backend` networks. */
export function isReachable(service: ResolvedService): boolean {
  return service.networks.includes('frontend') || service.networks.includes('backend');
}

/** The server's configuration of an environment (also what the tests hand to promtool and amtool). */
export function serverFilesOf(environment: ResolvedEnvironment, localScrape: HostScrape = scrapeOf(environment, environment.monitoring.host)) {
  const monitoring = environment.monitoring;
  // On a swarm a service's containers are its tasks, named by Swarm and labelled with the service's name (its id).
  const swarm = environment.engine === 'swarm';
  const runningServices = environment.products.flatMap((product) => product.services).filter((service) => service.runsContainer);
  return {
    environment: environment.name,
    scrapeIntervalSeconds: monitoring.scrapeIntervalSeconds,
    localScrape,
    // A swarm has no agent per node: the central Prometheus scrapes every node's collectors over the overlay.
    nodeScrapes: swarm ? environment.hosts.filter((host) => host.name !== monitoring.host).map((host) => scrapeOf(environment, host.name)) : [],
    alerts: {
      thresholds: monitoring.thresholds,
      presenceOnly: runningServices
        .filter((service) => service.healthEndpoint === undefined || !isReachable(service))
        .map((service) => ({ product: service.product, service: service.name, swarmService: swarm ? service.id : undefined })),
      replicated: swarm ? runningServices.map((service) => ({ product: service.product, service: service.name, swarmService: service.id, replicas: service.replicas })) : undefined,
      dailyBackups: environment.data.backupJob ? environment.data.containers.map((service) => service.name) : [],
      postgres: postgresAlertsOf(environment),
    },
    alerting: {
      receivers: monitoring.receivers.map((receiver) => ({ name: receiver.name, kind: receiver.kind, channel: receiver.channel, secretFile: `/etc/alertmanager/secrets/${receiver.name}` })),
      routes: monitoring.routes,
    },
    logRetentionDays: monitoring.logsDays,
    grafanaDomain: monitoring.grafanaDomain,
  };
}

/** What the PostgreSQL alerts compare with: each product role's connection limit and the server's max_connections. */
function postgresAlertsOf(environment: ResolvedEnvironment) {
  const postgres = environment.data.containers.find((service) => service.name === 'postgres' && service.exporter !== undefined);
  if (postgres === undefined) return undefined;
  const roles = postgres.users.map((product) => product.databaseName);
  const connectionLimit = postgres.connectionsPerProduct!;
  return { roles, connectionLimit, maxConnections: postgres.maxConnections ?? defaultMaxConnections(roles.length, connectionLimit) };
}
