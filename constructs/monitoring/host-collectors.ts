import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import { HealthCheck } from '../core/health-check';
import { DOCKER_SOCKET_GROUP_ID } from '../docker/edge-proxy';
import { HardenedContainer, type BindMount } from '../docker/hardened-container';
import { SwarmService } from '../docker/swarm-service';
import type { DockerHealthCheck } from '../core/health-check';
import type { ResourceSpec } from '../core/resources';
import { jsonFile, type ConfigFile, type ConfigFiles } from './config-files';
import { MONITORING_IMAGES } from './images';
import { blackboxConfig, EXPORTER_PORTS } from './prometheus-config';
import { promtailConfig } from './loki-config';
import { MONITORING_RESOURCES } from './resources';

export interface HostCollectorsProps {
  readonly environment: string;
  /** Host name, the `host` label. */
  readonly host: string;
  /** Names of the host's `backend` and `frontend` Docker networks (on a swarm, the overlays). */
  readonly networks: { readonly backend: string; readonly frontend: string };
  /** Loki's push URL from this host. */
  readonly lokiPushUrl: string;
  /**
   * The task that wrote this host's files (see `HostCollectors.files`), which the blackbox exporter reads.
   * @default - none: no blackbox exporter here (a swarm node other than the monitoring host); required for plain containers
   */
  readonly setup?: ConfigFiles;
  /** Host directory holding the files. */
  readonly configDir: string;
  /**
   * On a swarm: node exporter, cAdvisor and promtail as Swarm services pinned to this node (its hostname), created
   * through the swarm's endpoint, each named for its node (`collectorNames`) so the central Prometheus tells the
   * nodes apart across the overlay.
   * @default - plain containers on the host
   */
  readonly swarm?: { readonly nodeHostname: string; readonly provider?: TerraformProvider };
  /** Provider of the host's daemon (its plain containers). @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
  /** @default - none */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Health probe over HTTP with busybox wget (every image here but promtail's has it). */
const wget = (port: number, path: string) =>
  HealthCheck.command(['wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${port}${path}`], { interval: Duration.seconds(30), timeout: Duration.seconds(5), retries: 3, startPeriod: Duration.seconds(30) }).toDocker();

/** Names the collectors answer to on the host's networks. */
export const COLLECTOR_NAMES = { node: 'node-exporter', cadvisor: 'cadvisor', blackbox: 'blackbox-exporter', promtail: 'promtail' } as const;

/**
 * The names a host's collectors answer to for the scraper: their plain names on a host's own network, or on a
 * swarm, where every node's collectors share one overlay, the service of each node (`node-exporter-app-1`).
 */
export function collectorNames(host: string, swarm: boolean): { readonly node: string; readonly cadvisor: string; readonly promtail: string } {
  const named = (name: string) => (swarm ? `${name}-${host}` : name);
  return { node: named(COLLECTOR_NAMES.node), cadvisor: named(COLLECTOR_NAMES.cadvisor), promtail: named(COLLECTOR_NAMES.promtail) };
}

/** Variable holding promtail's configuration in a swarm task, written to a file at start (no per-node file on the host). */
const PROMTAIL_CONFIG_VARIABLE = 'PROMTAIL_CONFIG';

/**
 * What runs on every host to observe it: node exporter (host CPU, memory,
 * disks), cAdvisor (each container's use against its limits), the blackbox
 * exporter (health endpoints, certificates), promtail (every container's
 * logs to Loki). On a swarm node exporter, cAdvisor and promtail are Swarm
 * services pinned to their node and the blackbox exporter runs on the
 * monitoring host only: the central Prometheus reaches every node's
 * collectors over the backend overlay.
 */
export class HostCollectors extends Construct {
  /** The plain containers, by collector. */
  public readonly containers: ReadonlyMap<string, HardenedContainer>;
  /** On a swarm, the services pinned to this node, by collector. */
  public readonly services: ReadonlyMap<string, SwarmService>;

  /** The files the collectors of one host read (on a swarm only the blackbox exporter's: promtail's travels with its service). */
  public static files(props: Pick<HostCollectorsProps, 'environment' | 'host' | 'lokiPushUrl'> & { readonly swarm?: boolean }): ConfigFile[] {
    const files = [jsonFile('blackbox/blackbox.yml', blackboxConfig())];
    if (!props.swarm) files.push(jsonFile('promtail/promtail.yml', promtailConfig({ environment: props.environment, host: props.host, lokiPushUrl: props.lokiPushUrl })));
    return files;
  }

  public constructor(scope: Construct, id: string, props: HostCollectorsProps) {
    super(scope, id);
    const containers = new Map<string, HardenedContainer>();
    const services = new Map<string, SwarmService>();
    const swarm = props.swarm;
    if (swarm === undefined && props.setup === undefined) throw new Error(`HostCollectors ${id}: plain containers read the files of a setup task`);
    const setup = props.setup;
    const labels = (service: string) => ({ ...props.labels, service, host: props.host, ...(setup ? { 'config.digest': setup.digest } : {}) });
    const backend = { name: props.networks.backend };
    const names = collectorNames(props.host, swarm !== undefined);
    const config = (dir: string, mount: string) => ({ hostPath: `${props.configDir}/${dir}`, containerPath: mount, readOnly: true });
    /** A collector of this host: a plain container, or on a swarm a service pinned to the node, under the same construct id. */
    const collector = (key: string, constructId: string, spec: CollectorSpec) => {
      if (swarm === undefined) {
        containers.set(
          key,
          new HardenedContainer(this, constructId, {
            ...spec,
            networks: [{ ...backend, aliases: [spec.name] }],
            groupIds: spec.groupIds,
            bindMounts: [...(spec.configMount ? [spec.configMount] : []), ...(spec.bindMounts ?? [])],
            labels: labels(spec.name),
            provider: props.provider,
            dependsOn: [setup!.task.container],
          }),
        );
        return;
      }
      services.set(
        key,
        new SwarmService(this, constructId, {
          ...spec,
          name: spec.swarmName,
          command: spec.swarmCommand ?? spec.command,
          networks: [backend],
          groups: spec.groupIds?.map(String),
          nodeHostname: swarm.nodeHostname,
          labels: labels(spec.name),
          provider: swarm.provider,
        }),
      );
    };

    collector('node', `${id}-node-exporter`, {
      name: COLLECTOR_NAMES.node,
      swarmName: names.node,
      image: MONITORING_IMAGES.nodeExporter,
      command: ['--path.procfs=/host/proc', '--path.sysfs=/host/sys', '--path.rootfs=/host/root', '--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run|var/lib/docker/.+)($|/)'],
      healthCheck: wget(EXPORTER_PORTS.node, '/metrics'),
      resources: MONITORING_RESOURCES.nodeExporter,
      bindMounts: [
        { hostPath: '/proc', containerPath: '/host/proc', readOnly: true },
        { hostPath: '/sys', containerPath: '/host/sys', readOnly: true },
        { hostPath: '/', containerPath: '/host/root', readOnly: true },
      ],
    });
    collector('cadvisor', `${id}-cadvisor`, {
      name: COLLECTOR_NAMES.cadvisor,
      swarmName: names.cadvisor,
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
      // Not root: cgroup v2 files are world-readable, container names and labels come from the socket via the docker group.
      groupIds: [DOCKER_SOCKET_GROUP_ID],
      bindMounts: [
        { hostPath: '/sys', containerPath: '/sys', readOnly: true },
        { hostPath: '/var/run/docker.sock', containerPath: '/var/run/docker.sock', readOnly: true },
      ],
    });
    if (setup !== undefined) {
      containers.set(
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
          provider: props.provider,
          dependsOn: [setup.task.container],
        }),
      );
    }
    collector('promtail', `${id}-promtail`, {
      name: COLLECTOR_NAMES.promtail,
      swarmName: names.promtail,
      image: MONITORING_IMAGES.promtail,
      command: ['-config.file=/etc/promtail/promtail.yml'],
      // A task has no file of its node's to read: the configuration travels in the service's environment and is
      // written to the task's tmpfs at start (the image's binary is /usr/bin/promtail, grafana/loki
      // clients/cmd/promtail/Dockerfile), as the socket proxy does with HAProxy's.
      swarmCommand: [],
      entrypoint: swarm && ['/bin/sh', '-c', `printf '%s' "$${PROMTAIL_CONFIG_VARIABLE}" > /tmp/promtail.yml && exec /usr/bin/promtail -config.file=/tmp/promtail.yml`],
      environment: swarm && { [PROMTAIL_CONFIG_VARIABLE]: JSON.stringify(promtailConfig({ environment: props.environment, host: props.host, lokiPushUrl: props.lokiPushUrl })) },
      // The promtail image (Debian slim) has bash but no wget: a TCP connect to its HTTP port.
      healthCheck: HealthCheck.command(['bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${EXPORTER_PORTS.promtail}`], { interval: Duration.seconds(30), timeout: Duration.seconds(5), retries: 3, startPeriod: Duration.seconds(15) }).toDocker(),
      resources: MONITORING_RESOURCES.promtail,
      // Reads logs through the Docker API: the json-file driver and its rotation stay as they are.
      groupIds: [DOCKER_SOCKET_GROUP_ID],
      bindMounts: [{ hostPath: '/var/run/docker.sock', containerPath: '/var/run/docker.sock', readOnly: true }],
      configMount: config('promtail', '/etc/promtail'),
    });
    this.containers = containers;
    this.services = services;
  }
}

/** One collector as either engine runs it. */
interface CollectorSpec {
  /** Container name on its host. */
  readonly name: string;
  /** Service name on a swarm (collectorNames). */
  readonly swarmName: string;
  readonly image: string;
  readonly command: readonly string[];
  /** On a swarm, arguments instead of `command`. @default - `command` */
  readonly swarmCommand?: readonly string[];
  /** Program replacing the image's entrypoint. @default - the image's */
  readonly entrypoint?: readonly string[];
  /** @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  readonly healthCheck: DockerHealthCheck;
  readonly resources: ResourceSpec;
  /** @default - none */
  readonly groupIds?: readonly number[];
  /** @default - none */
  readonly bindMounts?: readonly BindMount[];
  /** The host's configuration directory, mounted by the plain container only (a task reads its environment). @default - none */
  readonly configMount?: BindMount;
}
