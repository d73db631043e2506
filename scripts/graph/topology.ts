/**
 * A Mermaid flowchart of one environment, derived from the synthesized JSON (what Terraform will
 * create), not from the model: hosts (hcloud_server), the edge proxy, every container grouped by
 * the Docker network it joins first, the data services and volumes, R2 buckets, and the domains
 * that route to each container (Traefik `Host()` rules and DNS records) or bucket. On a swarm,
 * the Swarm services (docker_service) in a subgraph of their own, each with its replicas and the
 * nodes its placement allows (node labels as the network stack's joins set them).
 *
 * Deterministic: everything is sorted, so the file changes only when the topology does, and the
 * pull-request comment can show the diagram exactly when it differs.
 */
import { labelsOf, resolveStatic, resourcesOf, stacksOfEnvironment, type ResourceBlock, type SynthesizedApp, type SynthesizedStack } from '../lib/synthesized';

interface ContainerNode {
  readonly id: string;
  readonly label: string;
  readonly host: string;
  readonly networks: readonly string[];
  readonly role: string;
  readonly domains: readonly string[];
}

/** Mermaid node ids: letters, digits and `_` only. */
function nodeId(...parts: string[]): string {
  return parts.join('_').replace(/[^A-Za-z0-9_]/g, '_');
}

/** Mermaid labels are quoted; a double quote inside would end them. */
function quote(text: string): string {
  return `"${text.replace(/"/g, "'")}"`;
}

/** The names Traefik routes to a container or service, from its router rules' `Host()` matchers. */
function domainsOf(labels: Readonly<Record<string, string>>): string[] {
  const domains = Object.entries(labels)
    .filter(([key]) => /^traefik\.http\.routers\.[^.]+\.rule$/.test(key))
    .flatMap(([, rule]) => [...rule.matchAll(/Host\(`([^`]+)`\)/g)].map((match) => match[1]!));
  return [...new Set(domains)].sort();
}

/** `product/service` (or the service alone) and the image tag under it. */
function nameOf(labels: Readonly<Record<string, string>>, fallback: string): string {
  const service = labels.service ?? fallback;
  const tag = labels['image.tag'];
  return `${labels.product !== undefined ? `${labels.product}/${service}` : service}${tag !== undefined ? `<br/>${tag}` : ''}`;
}

function containersOf(app: SynthesizedApp, stack: SynthesizedStack): ContainerNode[] {
  // Release tasks (labelled `task`) run for a moment per release and serve nothing: not part of the topology.
  return resourcesOf(stack, 'docker_container').filter(([, block]) => labelsOf(block).task === undefined).map(([name, block]) => {
    const labels = labelsOf(block);
    const networks = ((block.networks_advanced as ResourceBlock[] | undefined) ?? []).map((network) => resolveStatic(app, stack, String(network.name)));
    return { id: nodeId('c', stack.name, name), label: nameOf(labels, name), host: labels.host ?? '?', networks, role: labels.role ?? 'service', domains: domainsOf(labels) };
  });
}

/** The swarm's nodes and their labels, as the network stack's `terraform_data.swarm-join-<host>` sets them (`role=app,edge=true`). */
function swarmNodesOf(network: SynthesizedStack | undefined): Map<string, Record<string, string>> {
  const nodes = new Map<string, Record<string, string>>();
  for (const [name, block] of network === undefined ? [] : resourcesOf(network, 'terraform_data')) {
    const labels = (block.triggers_replace as { labels?: unknown } | undefined)?.labels;
    if (!name.startsWith('swarm-join-') || typeof labels !== 'string') continue;
    nodes.set(name.slice('swarm-join-'.length), Object.fromEntries(labels.split(',').filter(Boolean).map((pair) => pair.split('=') as [string, string])));
  }
  return nodes;
}

/**
 * Swarm services as nodes of the diagram: replicas (or "global"), and the nodes whose labels meet every
 * `node.labels.<key>==<value>` constraint; other constraints (`node.role==manager`) are shown as written. A service
 * pinned to one node (`node.hostname==<server name>`: a collector) is drawn on that host, like its plain containers.
 */
function swarmServicesOf(stack: SynthesizedStack, nodes: ReadonlyMap<string, Record<string, string>>, hostOfServer: ReadonlyMap<string, string>): ContainerNode[] {
  return resourcesOf(stack, 'docker_service').map(([name, block]) => {
    const labels = labelsOf(block);
    const pinned = ((block.task_spec as { placement?: { constraints?: string[] } } | undefined)?.placement?.constraints ?? [])
      .map((constraint) => /^node\.hostname==(.+)$/.exec(constraint)?.[1])
      .find((server) => server !== undefined && hostOfServer.has(server));
    if (pinned !== undefined) {
      const networks = ((block.task_spec as { networks_advanced?: Array<{ name: string }> }).networks_advanced ?? []).map((network) => network.name);
      return { id: nodeId('s', stack.name, name), label: nameOf(labels, name), host: hostOfServer.get(pinned)!, networks, role: labels.role ?? 'service', domains: domainsOf(labels) };
    }
    const mode = block.mode as { global?: boolean; replicated?: { replicas?: number } } | undefined;
    const spec = block.task_spec as { placement?: { constraints?: string[]; max_replicas?: number } } | undefined;
    const constraints = spec?.placement?.constraints ?? [];
    const byLabel = constraints.map((constraint) => /^node\.labels\.([^=!]+)==(.+)$/.exec(constraint)).filter((match) => match !== null);
    const other = constraints.filter((constraint) => !/^node\.labels\./.test(constraint));
    const matching = [...nodes].filter(([, nodeLabels]) => byLabel.every((match) => nodeLabels[match![1]!] === match![2])).map(([host]) => host).sort();
    const count = mode?.global === true ? 'global' : `x${mode?.replicated?.replicas ?? 1}`;
    const max = spec?.placement?.max_replicas === undefined ? '' : `, at most ${spec.placement.max_replicas} a node`;
    const where = other.length > 0 ? other.join(', ') : matching.join(', ') || 'no node matches';
    return { id: nodeId('s', stack.name, name), label: `${nameOf(labels, name)}<br/>${count} on ${where}${max}`, host: SWARM, networks: [], role: labels.role ?? 'service', domains: domainsOf(labels) };
  });
}

/** The `host` of a Swarm service: it runs wherever Swarm places its tasks. */
const SWARM = '';

/** The Mermaid text of one environment's topology. */
export function environmentTopology(app: SynthesizedApp, environment: string): string {
  const stacks = stacksOfEnvironment(app, environment);
  const network = app.stacks.get(`${environment}-network`);
  const lines: string[] = ['flowchart LR'];
  const edges: string[] = [];

  const servers = network === undefined ? [] : resourcesOf(network, 'hcloud_server');
  const hostLabel = new Map<string, string>();
  const hostOfServer = new Map<string, string>();
  for (const [, block] of servers) {
    const labels = labelsOf(block);
    hostLabel.set(labels.host ?? String(block.name), `host ${labels.host ?? block.name}: ${String(block.server_type)} in ${String(block.location)}${block.backups === true ? ', backups' : ''}`);
    hostOfServer.set(String(block.name), labels.host ?? String(block.name));
  }
  const balancers = network === undefined ? [] : resourcesOf(network, 'hcloud_load_balancer');
  const swarmNodes = swarmNodesOf(network);
  const allServices = stacks.flatMap((stack) => swarmServicesOf(stack, swarmNodes, hostOfServer));
  const services = allServices.filter((service) => service.host === SWARM);
  const pinnedServices = allServices.filter((service) => service.host !== SWARM);
  const containers = [...stacks.flatMap((stack) => containersOf(app, stack)), ...pinnedServices, ...services];
  const hosts = [...new Set([...hostLabel.keys(), ...containers.map((container) => container.host)])].filter((host) => host !== SWARM).sort();

  lines.push(`  internet((${quote('Internet / Cloudflare')}))`);
  for (const [name, block] of balancers) {
    const id = nodeId('lb', name);
    lines.push(`  ${id}[/${quote(`load balancer ${String(block.name ?? name)} (${String(block.load_balancer_type)})`)}/]`);
    edges.push(`  internet --> ${id}`);
  }

  for (const host of hosts) {
    lines.push(`  subgraph ${nodeId('host', host)}[${quote(hostLabel.get(host) ?? `host ${host}`)}]`);
    const onHost = containers.filter((container) => container.host === host);
    const networks = [...new Set(onHost.map((container) => container.networks[0] ?? 'no network'))].sort();
    for (const networkName of networks) {
      lines.push(`    subgraph ${nodeId('net', host, networkName)}[${quote(`network ${networkName}`)}]`);
      for (const container of onHost.filter((c) => (c.networks[0] ?? 'no network') === networkName).sort((a, b) => a.label.localeCompare(b.label))) {
        const shape = container.role === 'data' ? `[(${quote(container.label)})]` : `[${quote(container.label)}]`;
        lines.push(`      ${container.id}${shape}`);
      }
      lines.push('    end');
    }
    lines.push('  end');
  }
  if (services.length > 0) {
    lines.push(`  subgraph swarm[${quote(`Swarm services, scheduled over ${[...swarmNodes.keys()].sort().join(', ')}`)}]`);
    for (const service of [...services].sort((a, b) => a.label.localeCompare(b.label))) lines.push(`    ${service.id}[${quote(service.label)}]`);
    lines.push('  end');
  }

  const proxies = containers.filter((container) => container.role === 'edge-proxy');
  for (const proxy of proxies) edges.push(balancers.length > 0 ? `  ${nodeId('lb', balancers[0]![0])} --> ${proxy.id}` : `  internet -->|"80, 443"| ${proxy.id}`);
  for (const container of containers.filter((c) => c.domains.length > 0).sort((a, b) => a.id.localeCompare(b.id))) {
    // A Swarm edge proxy reaches a service's tasks on any node over the overlay.
    const proxy = proxies.find((candidate) => candidate.host === container.host) ?? (container.host === SWARM ? proxies.find((candidate) => candidate.host === SWARM) : undefined);
    edges.push(`  ${proxy?.id ?? 'internet'} -->|${quote(container.domains.join(', '))}| ${container.id}`);
  }
  // Data: which services share the data network with postgres/redis is visible from the grouping;
  // draw the volumes and buckets that hold the data.
  for (const stack of stacks) {
    for (const [name, block] of resourcesOf(stack, 'hcloud_volume')) {
      const id = nodeId('vol', stack.name, name);
      lines.push(`  ${id}[(${quote(`volume ${String(block.name)} ${String(block.size)} GB`)})]`);
      const service = labelsOf(block).service;
      const user = containers.find((container) => container.role === 'data' && container.label === service);
      if (user !== undefined) edges.push(`  ${user.id} --- ${id}`);
    }
    const customDomains = resourcesOf(stack, 'cloudflare_r2_custom_domain');
    for (const [name, block] of resourcesOf(stack, 'cloudflare_r2_bucket')) {
      const id = nodeId('r2', stack.name, name);
      lines.push(`  ${id}[(${quote(`R2 ${String(block.name)}`)})]`);
      for (const [, domain] of customDomains) {
        if (String(domain.bucket_name) === `\${cloudflare_r2_bucket.${name}.name}`) edges.push(`  internet -->|${quote(String(domain.domain))}| ${id}`);
      }
    }
  }
  return `${[...lines, ...edges].join('\n')}\n`;
}

/** The Markdown file of one environment: a heading, the source note, and the diagram. */
export function topologyMarkdown(app: SynthesizedApp, environment: string): string {
  return [
    `# Topology: ${environment}`,
    '',
    `Generated by \`npm run graph\` from the synthesized stacks in cdktf.out (not from the model). Do not edit by hand.`,
    '',
    '```mermaid',
    environmentTopology(app, environment).trimEnd(),
    '```',
    '',
  ].join('\n');
}
