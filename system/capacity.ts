/**
 * Does everything placed on a host fit it? Sums the reservations of every
 * container on each host (products, data services, edge proxy, monitoring) plus what the
 * OS keeps, against the server type's vCPUs and RAM.
 */
import type { ConfigurationIssue } from '../constructs/core/configuration-error';
import { EDGE_PROXY_RESOURCES, OS_ALLOWANCE } from './defaults';
import type { ResourceSpec } from './model';
import { monitoringConsumers, type ResolvedMonitoring } from './monitoring';
import { swarmNodeLabels } from '../constructs/hetzner/swarm-formation';
import { nodeLossIssues, type SwarmWorkload } from './swarm-capacity';

/** Above this share of a host's capacity, synth warns. */
export const NEAR_FULL_RATIO = 0.85;

export interface CapacityConsumer {
  readonly name: string;
  readonly cpus: number;
  readonly memoryMiB: number;
}

export interface HostCapacity {
  readonly host: string;
  readonly serverType: string;
  readonly capacity: { readonly cpus: number; readonly memoryMiB: number };
  readonly reserved: { readonly cpus: number; readonly memoryMiB: number };
  /** Every consumer, largest memory first. */
  readonly consumers: readonly CapacityConsumer[];
}

export interface CapacityReport {
  readonly hosts: readonly HostCapacity[];
  /** Over-committed hosts: synth fails with these. */
  readonly issues: readonly ConfigurationIssue[];
  /** Hosts above NEAR_FULL_RATIO: synth prints these. */
  readonly warnings: readonly string[];
}

/**
 * What capacity planning reads of a resolved environment (resolve.ts's `ResolvedEnvironment` is one): declared
 * here so that resolution, which runs the planning, and the planning do not import each other.
 */
export interface PlacedEnvironment {
  readonly name: string;
  /** Plain containers on the one host, or a swarm whose scheduler places product services. */
  readonly engine: 'containers' | 'swarm';
  readonly hosts: readonly { readonly name: string; readonly group: string; readonly serverType: string; readonly facts: { readonly vcpus: number; readonly memoryGiB: number } }[];
  readonly products: readonly {
    readonly services: readonly {
      readonly id: string;
      readonly runsContainer: boolean;
      readonly host: string;
      readonly replicas: number;
      readonly placement?: { readonly nodeLabels: Readonly<Record<string, string>>; readonly nodes: readonly string[]; readonly maxReplicasPerNode?: number };
      readonly resources: ResourceSpec;
    }[];
  }[];
  readonly accessories: readonly { readonly name: string; readonly host: string; readonly resources: ResourceSpec }[];
  readonly monitoring: ResolvedMonitoring;
  readonly data: {
    readonly host: string;
    readonly containers: readonly { readonly name: string; readonly resources: ResourceSpec; readonly exporter?: { readonly resources: ResourceSpec } }[];
    readonly backupJob?: { readonly resources: ResourceSpec };
  };
}

const consumer = (name: string, resources: ResourceSpec): CapacityConsumer => ({
  name,
  cpus: resources.cpuReservation,
  memoryMiB: resources.memoryReservationMiB,
});

/**
 * Plain containers: does everything on each host fit it? Swarm: the same for what stays on its host (edge proxy,
 * monitoring, data services, accessories), then the product services as Swarm's scheduler would place them, with
 * every node present and with each one lost (swarm-capacity.ts): an environment that cannot survive the loss of
 * any one node is refused at synth.
 */
export function planCapacity(environment: PlacedEnvironment): CapacityReport {
  const swarm = environment.engine === 'swarm';
  const services = environment.products.flatMap((product) => product.services).filter((service) => service.runsContainer);
  const hosts = environment.hosts.map((host): HostCapacity => {
    const consumers: CapacityConsumer[] = [
      { name: 'operating system', cpus: OS_ALLOWANCE.cpus, memoryMiB: OS_ALLOWANCE.memoryMiB },
      consumer('edge proxy', EDGE_PROXY_RESOURCES),
      // Every replica is a container of its own, with its own reservation, on the one host (a swarm's are placed below).
      ...(swarm
        ? []
        : services
            .filter((service) => service.host === host.name)
            .flatMap((service) => Array.from({ length: service.replicas }, (_, index) => consumer(index === 0 ? service.id : `${service.id}-${index + 1}`, service.resources)))),
      ...environment.accessories.filter((accessory) => accessory.host === host.name).map((accessory) => consumer(accessory.name, accessory.resources)),
    ];
    // The same projection the monitoring stack builds from: its server parts where they run, collectors on every host.
    for (const part of monitoringConsumers(environment.monitoring, host.name)) consumers.push(consumer(part.name, part.resources));
    if (environment.data.host === host.name) {
      // The same projection the data stack builds from: what is counted here is what is created there.
      for (const service of environment.data.containers) {
        consumers.push(consumer(service.name, service.resources));
        if (service.exporter !== undefined) consumers.push(consumer(`${service.name} exporter`, service.exporter.resources));
      }
      const backupJob = environment.data.backupJob;
      if (backupJob !== undefined) consumers.push(consumer('backup job', backupJob.resources));
    }
    consumers.sort((a, b) => b.memoryMiB - a.memoryMiB || b.cpus - a.cpus || a.name.localeCompare(b.name));
    const sum = (pick: (c: CapacityConsumer) => number) => Math.round(consumers.reduce((total, c) => total + pick(c), 0) * 1000) / 1000;
    return {
      host: host.name,
      serverType: host.serverType,
      capacity: { cpus: host.facts.vcpus, memoryMiB: host.facts.memoryGiB * 1024 },
      reserved: { cpus: sum((c) => c.cpus), memoryMiB: sum((c) => c.memoryMiB) },
      consumers,
    };
  });

  const issues: ConfigurationIssue[] = [];
  const warnings: string[] = [];
  for (const host of hosts) {
    const cpuRatio = host.reserved.cpus / host.capacity.cpus;
    const memoryRatio = host.reserved.memoryMiB / host.capacity.memoryMiB;
    const totals = `reserved ${host.reserved.cpus} of ${host.capacity.cpus} vCPUs and ${host.reserved.memoryMiB} of ${host.capacity.memoryMiB} MiB`;
    const largest = host.consumers
      .slice(0, 5)
      .map((c) => `${c.name} ${c.cpus} CPU/${c.memoryMiB} MiB`)
      .join(', ');
    if (cpuRatio > 1 || memoryRatio > 1) {
      issues.push({
        environment: environment.name,
        field: `hosts.${host.host}.serverType`,
        value: host.serverType,
        allowed: `a server type that fits what runs on it (${totals}; largest: ${largest})`,
        why: 'move products to another host, choose a larger type, or lower reservationScale',
      });
    } else if (cpuRatio > NEAR_FULL_RATIO || memoryRatio > NEAR_FULL_RATIO) {
      warnings.push(
        `environment "${environment.name}", host "${host.host}" (${host.serverType}) is over ${NEAR_FULL_RATIO * 100}% reserved: ${totals}; largest: ${largest}`,
      );
    }
  }
  if (swarm && issues.length === 0) {
    const dataHost = environment.data.host;
    const nodes = hosts.map((host) => ({
      name: host.host,
      labels: swarmNodeLabels(environment.hosts.find((candidate) => candidate.name === host.host)!, dataHost),
      cpus: host.capacity.cpus - host.reserved.cpus,
      memoryMiB: host.capacity.memoryMiB - host.reserved.memoryMiB,
    }));
    // Every product service on a group of two or more nodes must run again after a node loss, a single replica too
    // (Swarm reschedules it); one placed on a group of one node cannot, by the description's choice.
    const workloads = services.map(
      (service): SwarmWorkload => ({
        name: service.id,
        replicas: service.replicas,
        nodeLabels: service.placement?.nodeLabels ?? {},
        maxReplicasPerNode: service.placement?.maxReplicasPerNode,
        resources: service.resources,
        mustSurvive: (service.placement?.nodes.length ?? 1) > 1,
      }),
    );
    issues.push(...nodeLossIssues(environment.name, nodes, workloads));
  }
  return { hosts, issues, warnings };
}
