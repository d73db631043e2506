/**
 * The swarm joins of a network stack, applied for real: an environment whose hosts form a swarm gets a network stack
 * whose `terraform_data.swarm-join-<host>` runs scripts/swarm/join over SSH to `deploy@<public IPv4>`. Here each
 * host is a dockerd in its own network namespace at the host's private address (__tests__/helpers/swarm-nodes.ts),
 * the first manager booted with the swarm commands of its synthesized user_data, and SWARM_SSH is a stand-in that
 * finds the host behind `deploy@<address>` the way an operator would: the mock hcloud provider records each primary
 * IP it hands out with its name (E2E_MOCK_ADDRESS_BOOK), and a host's IPv4 primary IP is named `<server>-ipv4`.
 * After the apply the swarm must hold every host, with the role and labels its join gives and its private address.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SwarmNodes } from '../../__tests__/helpers/swarm-nodes';

/** One host's join as the network stack synthesizes it. */
export interface SwarmJoin {
  /** The host (`app-1`): the node's instance among the stand-in daemons. */
  readonly host: string;
  /** The server's name (`harbor-production-app-1`): the node's hostname, as Hetzner sets it. */
  readonly serverName: string;
  /** The name of the host's IPv4 primary IP, under which the mock records its address. */
  readonly ipv4Name: string;
  readonly privateAddress: string;
  readonly as: 'manager' | 'worker';
  readonly labels: Readonly<Record<string, string>>;
}

const JOIN_ARGUMENTS = /--node deploy@\$\{hcloud_primary_ip\.([a-z0-9-]+)\.ip_address\} --node-address (\S+) --as (manager|worker)((?: --label \S+)*)/;

/** The joins of a synthesized stack, in the order Terraform runs them (each depends on the previous); none outside a swarm. */
export function swarmJoins(stackJson: any): SwarmJoin[] {
  const unordered = Object.entries<any>(stackJson.resource?.terraform_data ?? {}).filter(([id]) => id.startsWith('swarm-join-'));
  // The synthesized JSON lists them by name: follow depends_on from the initializer's (it depends on no join).
  const previousOf = ([, body]: [string, any]) => (body.depends_on as string[] | undefined)?.find((dependency) => dependency.startsWith('terraform_data.swarm-join-'))?.slice('terraform_data.'.length);
  const joins: Array<[string, any]> = [];
  for (let previous: string | undefined; joins.length < unordered.length; ) {
    const next = unordered.find((join) => previousOf(join) === previous);
    if (next === undefined) throw new Error(`e2e: the swarm joins do not form one chain after ${previous ?? 'the initializer'}`);
    joins.push(next);
    previous = next[0];
  }
  return joins.map(([id, body]) => {
    const command: string = body.provisioner?.[0]?.['local-exec']?.command ?? '';
    const match = command.match(JOIN_ARGUMENTS);
    if (!match) throw new Error(`e2e: ${id}: its local-exec command is not a swarm join the e2e can read: ${command}`);
    const [, ipv4Resource, privateAddress, as, labelArgs] = match;
    const host = id.slice('swarm-join-'.length);
    const server = stackJson.resource?.hcloud_server?.[`host-${host}`];
    const ipv4 = stackJson.resource?.hcloud_primary_ip?.[ipv4Resource];
    if (!server || !ipv4) throw new Error(`e2e: ${id}: no hcloud_server.host-${host} or hcloud_primary_ip.${ipv4Resource} in the stack`);
    const labels = Object.fromEntries(labelArgs.trim().split(/\s*--label\s+/).filter(Boolean).map((label) => label.split('=') as [string, string]));
    return { host, serverName: server.name, ipv4Name: ipv4.name, privateAddress, as: as as 'manager' | 'worker', labels };
  });
}

/** The running stand-in hosts of one swarm environment. */
export interface SwarmEnvironment {
  /** What Terraform needs to run the joins against them. */
  readonly env: NodeJS.ProcessEnv;
  /**
   * Problems with the swarm the joins formed (empty when every host is in with its role, labels and address), and
   * any join token in the apply's output.
   */
  check(applyOutput: string): string[];
  stop(): Promise<void>;
}

/**
 * Starts a daemon per host at its private address, boots the first (the initializer: it joins first, to itself) with
 * its user_data's swarm commands, and writes the SSH stand-in.
 */
export async function startSwarmEnvironment(stackJson: any, workDir: string, addressBook: string): Promise<SwarmEnvironment> {
  const joins = swarmJoins(stackJson);
  const nodes = new SwarmNodes();
  try {
    for (const [index, join] of joins.entries()) await nodes.start(join.host, join.serverName, index + 10, join.privateAddress);
    const initializer = joins[0];
    const userData = JSON.parse(stackJson.resource.hcloud_server[`host-${initializer.host}`].user_data.replace(/^#cloud-config\n/, ''));
    const boot = userData.runcmd.filter((line: string[]) => line[0] === 'sh' && / docker |^docker /.test(line[2] ?? ''));
    if (boot.length === 0) throw new Error(`e2e: the user_data of ${initializer.serverName} has no swarm commands to boot it with`);
    for (const [, , command] of boot) {
      const result = spawnSync(nodes.ssh, [initializer.host, command], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`e2e: booting ${initializer.serverName}: ${command} exited ${result.status}: ${result.stderr}`);
    }
  } catch (error) {
    await nodes.stop();
    throw error;
  }
  // One per environment: two swarm environments' network stacks apply at once.
  const ssh = path.join(workDir, `swarm-ssh-${joins[0].serverName}`);
  const cases = joins.map((join) => `  ${join.ipv4Name}) host=${join.host} ;;`).join('\n');
  fs.writeFileSync(
    ssh,
    [
      '#!/bin/sh',
      '# SWARM_SSH for the e2e: the host behind deploy@<address> is the one whose IPv4 primary IP the mock gave that address.',
      'address=${1#*@}',
      `names=$(awk -v address="$address" '$1 == address { print $2 }' '${addressBook}' | sort -u)`,
      'case $names in',
      cases,
      `  *) echo "e2e ssh stand-in: the mock gave $address to \\"$names\\", not to exactly one host of this swarm (${joins.map((j) => j.ipv4Name).join(', ')}): see ${addressBook}" >&2; exit 255 ;;`,
      'esac',
      `exec '${nodes.ssh}' "$host" "$2"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return {
    env: { SWARM_SSH: ssh, SWARM_WAIT_SECONDS: '60', SWARM_DOWN_WAIT_SECONDS: '60' },
    check: (applyOutput) => {
      const tokens = ['worker', 'manager'].map((role) => nodes.docker(joins[0].host, ['swarm', 'join-token', '-q', role]));
      const leaked = tokens.some((token) => applyOutput.includes(token)) || /SWMTKN/.test(applyOutput) ? ['a join token is in the apply output'] : [];
      return [...leaked, ...checkSwarm(nodes, joins)];
    },
    stop: () => nodes.stop(),
  };
}

/** Every host in the swarm once, as the role its join gives, with exactly its labels, at its private address. */
function checkSwarm(nodes: SwarmNodes, joins: readonly SwarmJoin[]): string[] {
  const manager = joins[0].host;
  const listed = nodes.docker(manager, ['node', 'ls', '--format', '{{.ID}}']).split('\n').filter(Boolean);
  const seen = listed.map((id) => {
    const [hostname, role, state, address, labels] = nodes.docker(manager, ['node', 'inspect', id, '--format', '{{.Description.Hostname}}|{{.Spec.Role}}|{{.Status.State}}|{{.Status.Addr}}|{{json .Spec.Labels}}']).split('|');
    return { hostname, role, state, address, labels: JSON.parse(labels) ?? {} };
  });
  const problems: string[] = [];
  for (const join of joins) {
    const expected = { hostname: join.serverName, role: join.as, state: 'ready', address: join.privateAddress, labels: join.labels };
    const found = seen.filter((node) => node.hostname === join.serverName);
    if (found.length !== 1 || JSON.stringify(sortKeys(found[0])) !== JSON.stringify(sortKeys(expected))) {
      problems.push(`swarm node ${join.serverName}: expected ${JSON.stringify(expected)}, the swarm has ${JSON.stringify(found)}`);
    }
  }
  if (seen.length !== joins.length) problems.push(`the swarm has ${seen.length} nodes (${seen.map((node) => node.hostname).join(', ')}), the environment ${joins.length} hosts`);
  return problems;
}

function sortKeys(value: any): any {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]));
}
