import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import { HealthCheck } from '../core/health-check';
import { DOCKER_SOCKET_GROUP_ID } from '../docker/edge-proxy';
import { HardenedContainer } from '../docker/hardened-container';
import { jsonFile, type ConfigFile, type ConfigFiles } from './config-files';
import { MONITORING_IMAGES } from './images';
import { blackboxConfig, EXPORTER_PORTS, prometheusConfig, type HostScrape } from './prometheus-config';
import { promtailConfig } from './loki-config';
import { MONITORING_RESOURCES } from './resources';

export interface HostCollectorsProps {
  readonly environment: string;
  /** Host name, the `host` label. */
  readonly host: string;
  /** Names of the host's `backend` and `frontend` Docker networks. */
  readonly networks: { readonly backend: string; readonly frontend: string };
  /** Loki's push URL from this host. */
  readonly lokiPushUrl: string;
  /**
   * On hosts other than the monitoring host: a Prometheus agent scrapes this
   * host's collectors and services and remote-writes to the central server.
   * @default - no agent: the central Prometheus on this host scrapes directly
   */
  readonly agent?: { readonly scrape: HostScrape; readonly remoteWriteUrl: string; readonly scrapeIntervalSeconds: number };
  /** The task that wrote this host's files (see `HostCollectors.files`). */
  readonly setup: ConfigFiles;
  /** Host directory holding the files. */
  readonly configDir: string;
  readonly provider?: TerraformProvider;
  /** @default - none */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Health probe over HTTP with busybox wget (every image here but promtail's has it). */
const wget = (port: number, path: string) =>
  HealthCheck.command(['wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${port}${path}`], { interval: Duration.seconds(30), timeout: Duration.seconds(5), retries: 3, startPeriod: Duration.seconds(30) }).toDocker();

/** Names the collectors answer to on the host's networks. */
export const COLLECTOR_NAMES = { node: 'node-exporter', cadvisor: 'cadvisor', blackbox: 'blackbox-exporter', promtail: 'promtail', agent: 'prometheus-agent' } as const;

/**
 * What runs on every host to observe it: node exporter (host CPU, memory,
 * disks), cAdvisor (each container's use against its limits), the blackbox
 * exporter (health endpoints, certificates), promtail (every container's
 * logs to Loki), and on hosts without the central Prometheus an agent that
 * forwards all of it over the private network.
 */
export class HostCollectors extends Construct {
  public readonly containers: ReadonlyMap<string, HardenedContainer>;

  /** The files the collectors of one host read. */
  public static files(props: Pick<HostCollectorsProps, 'environment' | 'host' | 'lokiPushUrl' | 'agent'>): ConfigFile[] {
    const files = [
      jsonFile('blackbox/blackbox.yml', blackboxConfig()),
      jsonFile('promtail/promtail.yml', promtailConfig({ environment: props.environment, host: props.host, lokiPushUrl: props.lokiPushUrl })),
    ];
    if (props.agent) {
      files.push(
        jsonFile(
          'agent/prometheus.yml',
          prometheusConfig({ environment: props.environment, scrapeIntervalSeconds: props.agent.scrapeIntervalSeconds, hosts: [props.agent.scrape], remoteWriteUrl: props.agent.remoteWriteUrl }),
        ),
      );
    }
    return files;
  }

  public constructor(scope: Construct, id: string, props: HostCollectorsProps) {
    super(scope, id);
    const containers = new Map<string, HardenedContainer>();
    const labels = (service: string) => ({ ...props.labels, service, host: props.host, 'config.digest': props.setup.digest });
    const backend = { name: props.networks.backend };
    const common = { provider: props.provider, dependsOn: [props.setup.task.container] };
    const config = (dir: string, mount: string) => ({ hostPath: `${props.configDir}/${dir}`, containerPath: mount, readOnly: true });
    const add = (name: string, container: HardenedContainer) => containers.set(name, container);

    add(
      'node',
      new HardenedContainer(this, `${id}-node-exporter`, {
        name: COLLECTOR_NAMES.node,
        image: MONITORING_IMAGES.nodeExporter,
        command: ['--path.procfs=/host/proc', '--path.sysfs=/host/sys', '--path.rootfs=/host/root', '--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run|var/lib/docker/.+)($|/)'],
        healthCheck: wget(EXPORTER_PORTS.node, '/metrics'),
        resources: MONITORING_RESOURCES.nodeExporter,
        networks: [{ ...backend, aliases: [COLLECTOR_NAMES.node] }],
        bindMounts: [
          { hostPath: '/proc', containerPath: '/host/proc', readOnly: true },
          { hostPath: '/sys', containerPath: '/host/sys', readOnly: true },
          { hostPath: '/', containerPath: '/host/root', readOnly: true },
        ],
        labels: labels(COLLECTOR_NAMES.node),
        ...common,
      }),
    );
    add(
      'cadvisor',
      new HardenedContainer(this, `${id}-cadvisor`, {
        name: COLLECTOR_NAMES.cadvisor,
        image: MONITORING_IMAGES.cadvisor,
        command: [
          '--docker_only=true',
          '--housekeeping_interval=30s',
          // Only the labels the stacks set for this purpose, and a Swarm task's service; Traefik's thirty would multiply every series.
          '--store_container_labels=false',
          '--whitelisted_container_labels=product,service,role,env,com.docker.swarm.service.name',
          '--disable_metrics=advtcp,cpu_topology,cpuset,hugetlb,memory_numa,percpu,process,referenced_memory,resctrl,sched,tcp,udp',
        ],
        healthCheck: wget(EXPORTER_PORTS.cadvisor, '/healthz'),
        resources: MONITORING_RESOURCES.cadvisor,
        networks: [{ ...backend, aliases: [COLLECTOR_NAMES.cadvisor] }],
        // Not root: cgroup v2 files are world-readable, container names and labels come from the socket via the docker group.
        groupIds: [DOCKER_SOCKET_GROUP_ID],
        bindMounts: [
          { hostPath: '/sys', containerPath: '/sys', readOnly: true },
          { hostPath: '/var/run/docker.sock', containerPath: '/var/run/docker.sock', readOnly: true },
        ],
        labels: labels(COLLECTOR_NAMES.cadvisor),
        ...common,
      }),
    );
    add(
      'blackbox',
      new HardenedContainer(this, `${id}-blackbox-exporter`, {
        name: COLLECTOR_NAMES.blackbox,
        image: MONITORING_IMAGES.blackbox,
        command: ['--config.file=/etc/blackbox/blackbox.yml'],
        healthCheck: wget(EXPORTER_PORTS.blackbox, '/-/healthy'),
        resources: MONITORING_RESOURCES.blackbox,
        // frontend too: web and landing services live only there.
        networks: [
          { ...backend, aliases: [COLLECTOR_NAMES.blackbox] },
          { name: props.networks.frontend, aliases: [COLLECTOR_NAMES.blackbox] },
        ],
        bindMounts: [config('blackbox', '/etc/blackbox')],
        labels: labels(COLLECTOR_NAMES.blackbox),
        ...common,
      }),
    );
    add(
      'promtail',
      new HardenedContainer(this, `${id}-promtail`, {
        name: COLLECTOR_NAMES.promtail,
        image: MONITORING_IMAGES.promtail,
        command: ['-config.file=/etc/promtail/promtail.yml'],
        // The promtail image (Debian slim) has bash but no wget: a TCP connect to its HTTP port.
        healthCheck: HealthCheck.command(['bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${EXPORTER_PORTS.promtail}`], { interval: Duration.seconds(30), timeout: Duration.seconds(5), retries: 3, startPeriod: Duration.seconds(15) }).toDocker(),
        resources: MONITORING_RESOURCES.promtail,
        networks: [{ ...backend, aliases: [COLLECTOR_NAMES.promtail] }],
        // Reads logs through the Docker API: the json-file driver and its rotation stay as they are.
        groupIds: [DOCKER_SOCKET_GROUP_ID],
        bindMounts: [config('promtail', '/etc/promtail'), { hostPath: '/var/run/docker.sock', containerPath: '/var/run/docker.sock', readOnly: true }],
        labels: labels(COLLECTOR_NAMES.promtail),
        ...common,
      }),
    );
    if (props.agent) {
      add(
        'agent',
        new HardenedContainer(this, `${id}-prometheus-agent`, {
          name: COLLECTOR_NAMES.agent,
          image: MONITORING_IMAGES.prometheus,
          command: ['--agent', '--config.file=/etc/prometheus/prometheus.yml', '--storage.agent.path=/tmp/agent'],
          healthCheck: wget(EXPORTER_PORTS.prometheus, '/-/healthy'),
          resources: MONITORING_RESOURCES.agent,
          networks: [
            { ...backend, aliases: [COLLECTOR_NAMES.agent] },
            { name: props.networks.frontend, aliases: [COLLECTOR_NAMES.agent] },
          ],
          bindMounts: [config('agent', '/etc/prometheus')],
          labels: labels(COLLECTOR_NAMES.agent),
          ...common,
        }),
      );
    }
    this.containers = containers;
  }
}
