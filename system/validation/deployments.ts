/** Products as deployed in an environment: hosts, placement, replicas and limits that must fit the hosts. */
import { HETZNER_SERVER_TYPES } from '../../constructs/hetzner/server-types';
import { DEFAULT_HOST_GROUP, engineOf } from '../defaults';
import { collectorNames } from '../../constructs/monitoring/host-collectors';
import { behaviourOf } from '../kinds';
import { DATA_DEPENDENCIES, type EnvironmentSpec, type HostSpec, type ProductDeployment, type ProductSpec, type ResourceSpec, type SystemSpec } from '../model';
import { RELEASE_SLOTS } from '../../constructs/docker/traffic-split';
import { releasedThroughSlots } from '../releases';
import { checkImageTag } from './images';
import { IssueLog, Report, checkReplicas } from './shared';

export function validateProductDeployments(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  const hostNames = environment.hosts.map((h) => h.name);
  const seen = new Set<string>();
  for (const deployment of environment.products) {
    const report = log.in({ environment: environment.name, product: deployment.product });
    const product = system.products.find((p) => p.name === deployment.product);
    if (product === undefined) {
      report({ field: 'products', value: deployment.product, allowed: system.products.map((p) => p.name) });
      continue;
    }
    if (seen.has(deployment.product)) report({ field: 'products', value: deployment.product, allowed: 'each product listed once' });
    seen.add(deployment.product);
    if (deployment.host !== undefined && !hostNames.includes(deployment.host)) {
      report({ field: 'host', value: deployment.host, allowed: hostNames });
    }
    validatePlacement(environment, product, deployment, report);
    validateSwarmServiceNames(environment, product, report);
    const serviceNames = product.services.map((s) => s.name);
    for (const service of Object.keys(deployment.imageTags ?? {})) {
      if (!serviceNames.includes(service)) report({ field: `imageTags.${service}`, value: service, allowed: serviceNames });
    }
    const tags: Array<[string, string]> = [['imageTag', deployment.imageTag], ...Object.entries(deployment.imageTags ?? {}).map(([s, t]): [string, string] => [`imageTags.${s}`, t])];
    for (const [field, tag] of tags) checkImageTag(environment, field, tag, report);
    validateSlots(environment, product, deployment, report);
    for (const dependency of deployment.externalData ?? []) {
      if (!DATA_DEPENDENCIES.includes(dependency)) report({ field: 'externalData', value: dependency, allowed: DATA_DEPENDENCIES });
    }
  }
}

/**
 * The slots the tags file records per service (docs/releasing.md): only for a service released
 * through slots, a slot that serves has a tag, and the tag the product releases is in one of the
 * slots (a release writes it into the idle slot; a promotion makes that slot live).
 */
function validateSlots(environment: EnvironmentSpec, product: ProductSpec, deployment: ProductDeployment, report: Report): void {
  const engine = engineOf(environment);
  if (engine === 'swarm') {
    // Silently ignoring them would ship a service without the checks its team asked for.
    for (const service of product.services.filter((candidate) => candidate.smoke !== undefined)) {
      report({
        field: `services.${service.name}.smoke`,
        value: Object.keys(service.smoke!),
        allowed: 'no smoke checks on a swarm (engine "swarm")',
        why: `the release steps (smoke checks, canary, rollback window) run on plain containers only (docs/releasing.md, "On a swarm"); there the service keeps Swarm's start-first rolling update with automatic rollback on a failed health check. Remove smoke from ${product.name}/${service.name}, or run ${environment.name} on engine "containers"`,
      });
    }
  }
  const slotted = product.services.filter((service) => behaviourOf(service.kind) !== undefined && releasedThroughSlots(service, behaviourOf(service.kind)!, engine)).map((service) => service.name);
  for (const [service, slots] of Object.entries(deployment.slots ?? {})) {
    const field = `slots.${service}`;
    if (!slotted.includes(service)) {
      report({ field, value: service, allowed: slotted, why: 'only a routed service declaring `smoke`, on plain containers (not a swarm), is released through slots' });
      continue;
    }
    if (!(RELEASE_SLOTS as readonly string[]).includes(slots.live)) {
      report({ field: `${field}.live`, value: slots.live, allowed: [...RELEASE_SLOTS] });
      continue;
    }
    for (const slot of RELEASE_SLOTS) if (slots[slot] !== undefined) checkImageTag(environment, `${field}.${slot}`, slots[slot], report);
    if (slots[slots.live] === undefined) report({ field: `${field}.${slots.live}`, value: null, allowed: 'the tag the serving slot runs' });
    const released = deployment.imageTags?.[service] ?? deployment.imageTag;
    if (!RELEASE_SLOTS.some((slot) => slots[slot] === released)) {
      report({ field, value: slots, allowed: `a slot holding ${released}`, why: 'the tag released for the service goes into its idle slot; a promotion then records that slot as live' });
    }
  }
}

/**
 * On a swarm each node's collectors are Swarm services named for the node (`cadvisor-app-1`, collectorNames), in the
 * one namespace of service names the product services share (`<product>-<service>`): Docker refuses a second.
 */
function validateSwarmServiceNames(environment: EnvironmentSpec, product: ProductSpec, report: Report): void {
  if (engineOf(environment) !== 'swarm') return;
  const collectors = new Map(environment.hosts.flatMap((host) => Object.values(collectorNames(host.name, true)).map((name): [string, string] => [name, host.name])));
  for (const service of product.services) {
    const name = `${product.name}-${service.name}`;
    const host = collectors.get(name);
    if (host === undefined) continue;
    report({
      field: `services.${service.name}`,
      value: service.name,
      allowed: `a name that does not make its Swarm service "${name}"`,
      why: `host ${host}'s collector is the Swarm service ${name} in ${environment.name}, and Docker refuses a second service of that name`,
    });
  }
}

/**
 * Where a product runs: its one host (plain containers), or a group of nodes
 * Swarm schedules over. On a swarm, `host` stands for its host's group, so
 * it must be that group's only host; Swarm spreads replicas by itself.
 */
function validatePlacement(environment: EnvironmentSpec, product: ProductSpec, deployment: ProductDeployment, report: Report): void {
  const groupOf = (host: HostSpec) => host.group ?? DEFAULT_HOST_GROUP;
  const groups = [...new Set(environment.hosts.map(groupOf))];
  const swarm = engineOf(environment) === 'swarm';
  if (deployment.group !== undefined) {
    if (deployment.host !== undefined) {
      report({ field: 'group', value: deployment.group, allowed: 'either host or group, not both' });
    } else if (!groups.includes(deployment.group)) {
      report({ field: 'group', value: deployment.group, allowed: groups });
    }
    return;
  }
  const host = environment.hosts.find((candidate) => candidate.name === deployment.host);
  if (!swarm || host === undefined) return;
  const members = environment.hosts.filter((candidate) => groupOf(candidate) === groupOf(host));
  if (members.length > 1) {
    report({
      field: 'host',
      value: deployment.host,
      allowed: `group: "${groupOf(host)}" (Swarm schedules over ${members.map((member) => member.name).join(', ')}), or a host alone in its group`,
      why: `on a swarm a product is placed by its nodes' role label (role=${groupOf(host)}), which ${product.name} would share with every host of the group`,
    });
  }
}

export function validateReplicas(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  for (const deployment of environment.products) {
    const product = system.products.find((p) => p.name === deployment.product);
    if (product === undefined) continue;
    const report = log.in({ environment: environment.name, product: deployment.product });
    const containers = product.services.filter((service) => behaviourOf(service.kind)?.container);
    for (const [name, replicas] of Object.entries(deployment.replicas ?? {})) {
      const service = containers.find((candidate) => candidate.name === name);
      if (service === undefined) report({ field: `replicas.${name}`, value: name, allowed: containers.map((candidate) => candidate.name) });
      else checkReplicas(replicas, `replicas.${name}`, report, service);
    }
  }
}

/**
 * A container's limits must fit the server it runs on: Docker refuses a CPU
 * limit above the host's CPUs, and a memory limit above its RAM can never
 * be honoured.
 */
export function validateLimitsFitHosts(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  const facts = new Map(environment.hosts.map((host) => [host.name, HETZNER_SERVER_TYPES[host.serverType]]));
  const firstHost = environment.hosts[0]?.name;
  const check = (where: { product?: string }, field: string, host: string | undefined, limits: Partial<ResourceSpec>) => {
    const server = host === undefined ? undefined : facts.get(host);
    if (server === undefined) return;
    const report = log.in({ environment: environment.name, ...where });
    if (limits.cpuLimit !== undefined && limits.cpuLimit > server.vcpus) {
      report({ field: `${field}.cpuLimit`, value: limits.cpuLimit, allowed: `at most ${server.vcpus} (the vCPUs of host "${host}")` });
    }
    if (limits.memoryLimitMiB !== undefined && limits.memoryLimitMiB > server.memoryGiB * 1024) {
      report({ field: `${field}.memoryLimitMiB`, value: limits.memoryLimitMiB, allowed: `at most ${server.memoryGiB * 1024} (the memory of host "${host}", MiB)` });
    }
  };
  for (const deployment of environment.products) {
    const product = system.products.find((p) => p.name === deployment.product);
    for (const service of product?.services ?? []) {
      if (service.resources !== undefined) check({ product: deployment.product }, `services.${service.name}.resources`, deployment.host ?? firstHost, service.resources);
    }
  }
  const dataHost = environment.data.host ?? firstHost;
  for (const name of DATA_DEPENDENCIES) {
    const settings = environment.data[name];
    if (settings.mode === 'container' && settings.resources !== undefined) check({}, `data.${name}.resources`, dataHost, settings.resources);
  }
  for (const deployment of environment.accessories ?? []) {
    const accessory = system.accessories?.find((a) => a.name === deployment.name);
    if (accessory === undefined) continue;
    check({}, `accessories.${deployment.name}.resources`, deployment.host ?? dataHost, { ...accessory.resources, ...deployment.resources });
  }
}
