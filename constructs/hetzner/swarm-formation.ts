import { ConfigurationError, type ConfigurationIssue } from '../core/configuration-error';

/**
 * Who forms the swarm and how, decided from the environment's hosts before
 * anything boots. Raft keeps quorum with a majority of managers, so only odd
 * counts make sense and three tolerate one lost manager (Docker docs,
 * "Administer and maintain a swarm of Docker Engines": N managers tolerate
 * (N-1)/2 failures). Nothing here carries a join token: the first manager
 * initializes at boot, every other host is joined by the apply over SSH
 * (docs/scaling.md, "Formation without hands").
 */
export interface SwarmHost {
  readonly name: string;
  /** The host's role, which becomes its node label `role=<role>` (app, data, edge, monitoring). */
  readonly role: string;
  /** Address on the environment's private network: Swarm's advertise and data-path address. */
  readonly privateIp: string;
  /** Every node label of the host (swarmNodeLabels). @default - `{ role }` */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface SwarmJoin {
  readonly host: string;
  readonly as: 'manager' | 'worker';
  /** Node labels the manager sets once the host joined. */
  readonly labels: Readonly<Record<string, string>>;
}

export interface SwarmFormation {
  /** The host that runs `docker swarm init` at first boot. */
  readonly initializer: string;
  /** Every manager, the initializer first. */
  readonly managers: readonly string[];
  /** Every other host, in order: managers first, so quorum forms before workers join. */
  readonly joins: readonly SwarmJoin[];
  /** The labels of the initializer, set by itself after init. */
  readonly initializerLabels: Readonly<Record<string, string>>;
}

/** Ports Swarm needs between nodes, opened on the private interface only (Docker docs, "Swarm mode overlay networks": 2377/tcp, 7946/tcp+udp, 4789/udp; ESP, IP protocol 50, for encrypted overlays). */
export const SWARM_PORTS = { management: '2377/tcp', gossip: ['7946/tcp', '7946/udp'], overlay: '4789/udp', encryptedOverlayProtocol: 'esp' } as const;

/** Managers for `hostCount` hosts: one, or three from three hosts on. */
export function managerCount(hostCount: number): 1 | 3 {
  return hostCount >= 3 ? 3 : 1;
}

/**
 * The formation of `hosts`: the data host (labelled `data=true`) initializes
 * the swarm and is its Docker endpoint, then managers are taken from the other
 * hosts in the order given. The data host is the one host never replaced in
 * passing (it holds the volumes), so the initializer, whose replacement would
 * boot a second swarm, is the steadiest host; and the data containers, which
 * stay plain containers on it, are reached through the same endpoint as every
 * service (docs/scaling.md, "One endpoint"). A small swarm's Raft log (a few
 * MB, written on changes) costs PostgreSQL next to nothing.
 */
export function planSwarmFormation(environment: string, hosts: readonly SwarmHost[]): SwarmFormation {
  const issues: ConfigurationIssue[] = [];
  if (hosts.length === 0) issues.push({ environment, field: 'hosts', value: [], allowed: 'at least one host' });
  const names = hosts.map((host) => host.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) issues.push({ environment, field: 'hosts', value: duplicate, allowed: 'unique host names (they become node names)' });
  for (const host of hosts) {
    if (!/^[a-z][a-z0-9-]*$/.test(host.role)) issues.push({ environment, field: `hosts.${host.name}.role`, value: host.role, allowed: 'lowercase letters, digits and "-" (a node label value)' });
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(host.privateIp)) issues.push({ environment, field: `hosts.${host.name}.privateIp`, value: host.privateIp, allowed: 'an IPv4 address on the private network' });
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
  const holdsData = (host: SwarmHost) => Object.entries(SWARM_DATA_NODE_LABEL).every(([key, value]) => host.labels?.[key] === value);
  const byPreference = [...hosts.filter(holdsData), ...hosts.filter((host) => !holdsData(host))];
  const managers = byPreference.slice(0, managerCount(hosts.length)).map((host) => host.name);
  const labels = (host: SwarmHost) => host.labels ?? { role: host.role };
  const [initializer] = managers as [string, ...string[]];
  return {
    initializer,
    managers,
    initializerLabels: labels(hosts.find((host) => host.name === initializer)!),
    joins: [
      ...managers.slice(1).map((name): SwarmJoin => ({ host: name, as: 'manager', labels: labels(hosts.find((host) => host.name === name)!) })),
      ...hosts.filter((host) => !managers.includes(host.name)).map((host): SwarmJoin => ({ host: host.name, as: 'worker', labels: labels(host) })),
    ],
  };
}

/**
 * The initializer's first-boot commands (cloud-init `runcmd`): init on the
 * private address, idempotent when the node already is in a swarm (a reboot
 * reruns nothing, but a re-run must not fail), then its own role label.
 * Its output, which names the worker join token, goes to /dev/null: not even
 * the cloud-init log keeps it.
 */
export function initializerCommands(host: SwarmHost): string[][] {
  const init = `docker info --format '{{.Swarm.LocalNodeState}}' | grep -qx active || docker swarm init --advertise-addr ${host.privateIp} --data-path-addr ${host.privateIp} --listen-addr ${host.privateIp}:2377 > /dev/null`;
  const labels = Object.entries(host.labels ?? { role: host.role }).map(([key, value]) => ` --label-add ${key}=${value}`).join('');
  return [
    ['sh', '-c', init],
    // Tried up to 5 times a second apart: the node's own status reports bump the version the CLI read, and just
    // after `swarm init` the update is refused now and then ("update out of sequence"), as in scripts/swarm/join.
    ['sh', '-c', `tries=1; until docker node update${labels} "$(docker info --format '{{.Swarm.NodeID}}')" > /dev/null; do [ $tries -lt 5 ] || exit 1; tries=$((tries + 1)); sleep 1; done`],
  ];
}

/** The chain holding the swarm port rules, jumped to from INPUT: the unit flushes and refills it on every start. */
export const SWARM_PORTS_CHAIN = 'SWARM-PORTS';

/** Name of the unit admitting the swarm ports from the private network alone. */
export const SWARM_PORTS_UNIT = 'swarm-ports-firewall.service';

/**
 * A systemd unit admitting Swarm's ports (SWARM_PORTS and ESP) only from the
 * environment's subnet to the host's private address, and dropping them
 * everywhere else, IPv6 included. Hetzner's cloud firewall already keeps
 * them off the public interfaces (it admits only SSH and the web ports) but
 * does not filter the private network; dockerd listens on the private
 * address (`--listen-addr`), while the kernel's VXLAN socket (4789/udp) and
 * IPsec (ESP) answer on every address. These are the host's own sockets, not
 * published container ports, so the rules sit in INPUT, before Docker starts.
 */
export function swarmPortsUnit(privateAddress: string, subnet: string): string {
  const chain = SWARM_PORTS_CHAIN;
  const matches = [
    `-p tcp --dport ${SWARM_PORTS.management.split('/')[0]}`,
    ...SWARM_PORTS.gossip.map((port) => `-p ${port.split('/')[1]} --dport ${port.split('/')[0]}`),
    `-p udp --dport ${SWARM_PORTS.overlay.split('/')[0]}`,
    `-p ${SWARM_PORTS.encryptedOverlayProtocol}`,
  ];
  const chainOf = (tool: string) => [
    // "-": the chain exists from an earlier start.
    `ExecStart=-/usr/sbin/${tool} -N ${chain}`,
    `ExecStart=/usr/sbin/${tool} -F ${chain}`,
  ];
  const jump = (tool: string) => `ExecStart=/bin/sh -c '${tool} -C INPUT -j ${chain} 2>/dev/null || ${tool} -I INPUT -j ${chain}'`;
  return [
    '[Unit]',
    "Description=Admit Swarm's ports from the private network alone",
    'Before=docker.service',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    ...chainOf('iptables'),
    ...matches.flatMap((match) => [
      `ExecStart=/usr/sbin/iptables -A ${chain} ${match} -s ${subnet} -d ${privateAddress} -j RETURN`,
      `ExecStart=/usr/sbin/iptables -A ${chain} ${match} -j DROP`,
    ]),
    jump('iptables'),
    // Swarm runs on the private IPv4 network only: nothing of it is admitted over IPv6.
    ...chainOf('ip6tables'),
    ...matches.map((match) => `ExecStart=/usr/sbin/ip6tables -A ${chain} ${match} -j DROP`),
    jump('ip6tables'),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Label key of a node's role: its host group (`app` unless the environment says otherwise). */
export const SWARM_ROLE_LABEL = 'role';
/** Label of the node that holds the data volumes, whatever its group. */
export const SWARM_DATA_NODE_LABEL = { data: 'true' } as const;
/** The label of the nodes the edge proxy runs on (`node.labels.edge==true`). */
export const EDGE_NODE_LABEL = { edge: 'true' } as const;

/**
 * The node labels of an environment's host, the one convention for placement:
 * `role=<its host group>` (what products are placed by: `node.labels.role==app`);
 * `data=true` on the data host, whatever its group (a key holds one value, so a
 * host that is both app and data host keeps `role=app`); and `edge=true` on the
 * hosts running routed services (`edgeHosts`), where the edge proxy runs: a
 * label of its own, since Swarm ANDs constraints and the edge hosts may carry
 * several roles. Shared by the formation (who gets which label) and the
 * services' placement constraints.
 */
export function swarmNodeLabels(
  host: { readonly name: string; readonly group: string },
  dataHost: string,
  edgeHosts: ReadonlySet<string> = new Set(),
): Readonly<Record<string, string>> {
  return { [SWARM_ROLE_LABEL]: host.group, ...(host.name === dataHost ? SWARM_DATA_NODE_LABEL : {}), ...(edgeHosts.has(host.name) ? EDGE_NODE_LABEL : {}) };
}
