/**
 * A Mermaid flowchart of one environment, derived from the synthesized JSON (what Terraform will
 * create), not from the model: hosts (hcloud_server), the edge proxy, every container grouped by
 * the Docker network it joins first, the data services and volumes, R2 buckets, and the domains
 * that route to each container (Traefik `Host()` rules and DNS records) or bucket.
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

function containersOf(app: SynthesizedApp, stack: SynthesizedStack): ContainerNode[] {
  // Release tasks (labelled `task`) run for a moment per release and serve nothing: not part of the topology.
  return resourcesOf(stack, 'docker_container').filter(([, block]) => labelsOf(block).task === undefined).map(([name, block]) => {
    const labels = labelsOf(block);
    const networks = ((block.networks_advanced as ResourceBlock[] | undefined) ?? []).map((network) => resolveStatic(app, stack, String(network.name)));
    const domains = Object.entries(labels)
      .filter(([key]) => /^traefik\.http\.routers\.[^.]+\.rule$/.test(key))
      .flatMap(([, rule]) => [...rule.matchAll(/Host\(`([^`]+)`\)/g)].map((match) => match[1]));
    const product = labels.product;
    const service = labels.service ?? name;
    const tag = labels['image.tag'];
    return {
      id: nodeId('c', stack.name, name),
      label: `${product !== undefined ? `${product}/${service}` : service}${tag !== undefined ? `<br/>${tag}` : ''}`,
      host: labels.host ?? '?',
      networks,
      role: labels.role ?? 'service',
      domains: [...new Set(domains)].sort(),
    };
  });
}

/** The Mermaid text of one environment's topology. */
export function environmentTopology(app: SynthesizedApp, environment: string): string {
  const stacks = stacksOfEnvironment(app, environment);
  const network = app.stacks.get(`${environment}-network`);
  const lines: string[] = ['flowchart LR'];
  const edges: string[] = [];

  const servers = network === undefined ? [] : resourcesOf(network, 'hcloud_server');
  const hostLabel = new Map<string, string>();
  for (const [, block] of servers) {
    const labels = labelsOf(block);
    hostLabel.set(labels.host ?? String(block.name), `host ${labels.host ?? block.name}: ${String(block.server_type)} in ${String(block.location)}${block.backups === true ? ', backups' : ''}`);
  }
  const balancers = network === undefined ? [] : resourcesOf(network, 'hcloud_load_balancer');
  const containers = stacks.flatMap((stack) => containersOf(app, stack));
  const hosts = [...new Set([...hostLabel.keys(), ...containers.map((container) => container.host)])].sort();

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

  const proxies = containers.filter((container) => container.role === 'edge-proxy');
  for (const proxy of proxies) edges.push(balancers.length > 0 ? `  ${nodeId('lb', balancers[0][0])} --> ${proxy.id}` : `  internet -->|"80, 443"| ${proxy.id}`);
  for (const container of containers.filter((c) => c.domains.length > 0).sort((a, b) => a.id.localeCompare(b.id))) {
    const proxy = proxies.find((candidate) => candidate.host === container.host);
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
