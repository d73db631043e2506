/**
 * Can the swarm lose any one node and still run every replica of the
 * services that must survive? Swarm reschedules a lost node's tasks on the
 * others only where a node matches the task's placement constraints, stays
 * under its max replicas per node and has the task's reservations free
 * (SwarmKit manager/scheduler/filter.go: ResourceFilter, ConstraintFilter,
 * MaxReplicasFilter); otherwise the task stays pending. So for each node in
 * turn this places every surviving replica on the others, as the scheduler
 * does: among the nodes that pass the filters, the one with the fewest tasks
 * of that service, then the most free memory (scheduler.go, nodeLess spread).
 * Greedy, like the scheduler: what it cannot place, Swarm may not either.
 */
import { ConfigurationError, type ConfigurationIssue } from '../constructs/core/configuration-error';
import type { ResourceSpec } from '../constructs/core/resources';

/** One node of the swarm, with what it can give tasks (its size less the operating system's allowance). */
export interface SwarmNodeCapacity {
  readonly name: string;
  /** Node labels (`role=app`). */
  readonly labels: Readonly<Record<string, string>>;
  readonly cpus: number;
  readonly memoryMiB: number;
}

/** One service as the scheduler sees it. */
export interface SwarmWorkload {
  readonly name: string;
  /** Tasks to run, or 'global' for one on every matching node. */
  readonly replicas: number | 'global';
  /** Node labels a task requires. */
  readonly nodeLabels: Readonly<Record<string, string>>;
  /** At most this many tasks per node. @default - unlimited */
  readonly maxReplicasPerNode?: number;
  readonly resources: ResourceSpec;
  /**
   * Every replica must run again after a node loss (the public services).
   * Those that cannot move by design (a database pinned to its volume's node)
   * are counted where they run and otherwise left out.
   */
  readonly mustSurvive: boolean;
}

interface NodeLoad {
  readonly node: SwarmNodeCapacity;
  cpus: number;
  memoryMiB: number;
  readonly tasks: Map<string, number>;
}

const matches = (node: SwarmNodeCapacity, workload: SwarmWorkload) => Object.entries(workload.nodeLabels).every(([key, value]) => node.labels[key] === value);

/**
 * Places every task on `nodes`; returns the first task of a `required` workload that found no node, or undefined
 * when they all fit (a task of another workload that finds none stays pending, as in Swarm, and takes no room).
 */
function place(nodes: readonly SwarmNodeCapacity[], workloads: readonly SwarmWorkload[], required: (workload: SwarmWorkload) => boolean): { workload: SwarmWorkload; replica: number; loads: NodeLoad[] } | undefined {
  const loads: NodeLoad[] = nodes.map((node) => ({ node, cpus: node.cpus, memoryMiB: node.memoryMiB, tasks: new Map() }));
  const take = (load: NodeLoad, workload: SwarmWorkload) => {
    load.cpus -= workload.resources.cpuReservation;
    load.memoryMiB -= workload.resources.memoryReservationMiB;
    load.tasks.set(workload.name, (load.tasks.get(workload.name) ?? 0) + 1);
  };
  const fits = (load: NodeLoad, workload: SwarmWorkload) =>
    load.cpus >= workload.resources.cpuReservation - 1e-9 && load.memoryMiB >= workload.resources.memoryReservationMiB - 1e-9;
  // Global tasks first: each belongs to its node, whatever else wants the room.
  for (const workload of workloads.filter((w) => w.replicas === 'global')) {
    for (const load of loads.filter((l) => matches(l.node, workload))) {
      if (fits(load, workload)) take(load, workload);
      else if (required(workload)) return { workload, replica: 1, loads };
    }
  }
  const replicated = workloads
    .filter((w) => w.replicas !== 'global')
    .sort((a, b) => b.resources.memoryReservationMiB - a.resources.memoryReservationMiB || a.name.localeCompare(b.name));
  for (const workload of replicated) {
    for (let replica = 1; replica <= (workload.replicas as number); replica++) {
      const candidates = loads
        .filter((load) => matches(load.node, workload) && fits(load, workload))
        .filter((load) => workload.maxReplicasPerNode === undefined || (load.tasks.get(workload.name) ?? 0) < workload.maxReplicasPerNode)
        .sort((a, b) => (a.tasks.get(workload.name) ?? 0) - (b.tasks.get(workload.name) ?? 0) || b.memoryMiB - a.memoryMiB);
      if (candidates.length > 0) take(candidates[0]!, workload);
      else if (required(workload)) return { workload, replica, loads };
    }
  }
  return undefined;
}

const describeFree = (loads: readonly NodeLoad[]) =>
  loads.map((load) => `${load.node.name} ${Math.max(0, Math.round(load.cpus * 100) / 100)} CPU/${Math.max(0, Math.round(load.memoryMiB))} MiB free`).join(', ') || 'no node';

/** The problems of running `workloads` on `nodes`, at full strength and with each one node lost. */
export function nodeLossIssues(environment: string, nodes: readonly SwarmNodeCapacity[], workloads: readonly SwarmWorkload[]): ConfigurationIssue[] {
  const unplaced = (what: NonNullable<ReturnType<typeof place>>) =>
    `${what.workload.name} replica ${what.replica} (${what.workload.resources.cpuReservation} CPU/${what.workload.resources.memoryReservationMiB} MiB` +
    `${Object.keys(what.workload.nodeLabels).length ? ` on nodes labelled ${Object.entries(what.workload.nodeLabels).map(([k, v]) => `${k}=${v}`).join(',')}` : ''}` +
    `${what.workload.maxReplicasPerNode !== undefined ? `, at most ${what.workload.maxReplicasPerNode} per node` : ''})`;
  const full = place(nodes, workloads, () => true);
  if (full !== undefined) {
    return [
      {
        environment,
        field: 'hosts',
        value: nodes.map((node) => node.name),
        allowed: `nodes that hold every replica; ${unplaced(full)} finds no node (${describeFree(full.loads)})`,
        why: 'add a host, choose a larger server type, or lower replicas or reservations',
      },
    ];
  }
  const issues: ConfigurationIssue[] = [];
  for (const lost of nodes) {
    const failed = place(
      nodes.filter((node) => node !== lost),
      workloads,
      (workload) => workload.mustSurvive,
    );
    if (failed === undefined) continue;
    issues.push({
      environment,
      field: 'hosts',
      value: nodes.map((node) => node.name),
      allowed: `nodes of which any N-1 hold every replica of the services that must survive; with ${lost.name} lost, ${unplaced(failed)} finds no node (${describeFree(failed.loads)})`,
      why: 'Swarm reschedules a lost node\'s tasks only where constraints, max replicas per node and free reservations allow: add a host, choose a larger server type, or lower replicas, reservations or maxReplicasPerNode',
    });
  }
  return issues;
}

/** Throws a ConfigurationError when the swarm cannot run everything, or cannot survive the loss of any one node. */
export function assertSurvivesNodeLoss(environment: string, nodes: readonly SwarmNodeCapacity[], workloads: readonly SwarmWorkload[]): void {
  const issues = nodeLossIssues(environment, nodes, workloads);
  if (issues.length > 0) throw new ConfigurationError(issues);
}
