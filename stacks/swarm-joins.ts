/**
 * The swarm's joins: per host, a `terraform_data` replaced with its server,
 * whose `local-exec` runs scripts/swarm/join where Terraform runs. With
 * `dockerAccess: ssh` the network stack holds them (a laptop or the pipeline,
 * SSH to the public addresses); under a Terraform Cloud agent the edge stack
 * does, on the agent on the endpoint host, SSH over the private network with
 * a deploy key and pinned host keys (docs/scaling.md, "One endpoint per
 * environment").
 */
import { DataResource, type ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import type { SwarmFormation } from '../constructs/hetzner/swarm-formation';
import { SWARM_JOIN_SCRIPT } from '../constructs/hetzner/swarm-join-script';

/** How the joins reach one host of the swarm. */
export interface SwarmJoinHost {
  /** The SSH destination of the host (`deploy@<address>`). */
  readonly ssh: string;
  /** The host's address on the private network (Swarm's advertise address). */
  readonly privateIp: string;
  /** The Hetzner server id: a new server joins again. */
  readonly serverId: string;
  /** What must exist before the host joins (its server, where the same stack creates it). @default - nothing */
  readonly dependsOn?: readonly ITerraformDependable[];
}

/** SSH material for joins run on a Terraform Cloud agent: both sensitive or pinned values, never literals. */
export interface SwarmJoinCredentials {
  /** The deploy key's private half (a sensitive variable's value): written to a 0600 file for the run only. */
  readonly sshKey: string;
  /** `known_hosts` lines of every host's private address (a variable's value): host keys checked, never learned. */
  readonly knownHosts: string;
}

export interface SwarmJoinsProps {
  readonly formation: SwarmFormation;
  /** Every host of the formation by name. */
  readonly hosts: ReadonlyMap<string, SwarmJoinHost>;
  /** SSH key and known hosts the script is given. @default - the SSH client's own (`ssh` access: the administrator's agent and known_hosts) */
  readonly credentials?: SwarmJoinCredentials;
}

/**
 * Adds the joins to `scope` (ids `swarm-join-<host>`, the initializer first,
 * then managers, then workers, each after the one before: Raft adds one
 * manager at a time) and returns the last one, after which every node is in
 * the swarm with its labels. local-exec and not remote-exec: the token goes
 * from the manager to the joining host, two SSH sessions joined by a local
 * pipe. The script is inlined (not secret), so it runs from cdktf.out and
 * under a remote runner alike.
 */
export function addSwarmJoins(scope: Construct, props: SwarmJoinsProps): DataResource {
  const { formation, hosts, credentials } = props;
  const initializer = hosts.get(formation.initializer)!;
  let previous: DataResource | undefined;
  // The initializer "joins" too: already in the swarm, it is only labelled, so a label change reaches it as well.
  const initializerJoin = { host: formation.initializer, as: 'manager' as const, labels: formation.initializerLabels };
  for (const join of [initializerJoin, ...formation.joins]) {
    const host = hosts.get(join.host)!;
    const labels = Object.entries(join.labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
    const args = [
      '--manager', initializer.ssh, '--manager-address', initializer.privateIp,
      '--node', host.ssh, '--node-address', host.privateIp,
      '--as', join.as, ...labels,
    ];
    const resource: DataResource = new DataResource(scope, `swarm-join-${join.host}`, {
      // A new server is a new node: it joins again, and the node of the server it replaces is removed.
      // New labels (a product moved to other hosts) run it again: the node is in the swarm already and is relabelled.
      // A new server, new labels or a new role (a third host makes the second a manager) runs the join again.
      triggersReplace: { server: host.serverId, labels: Object.entries(join.labels).map(([key, value]) => `${key}=${value}`).join(','), role: join.as },
      dependsOn: [...new Set([...(initializer.dependsOn ?? []), ...(host.dependsOn ?? [])]), ...(previous ? [previous] : [])],
      provisioners: [
        {
          type: 'local-exec',
          interpreter: ['/bin/sh', '-c'],
          command:
            credentials === undefined
              ? `exec /bin/sh -c "$SWARM_JOIN_SCRIPT" swarm-join ${args.join(' ')}`
              : withCredentialFiles([initializer.privateIp, host.privateIp], `/bin/sh -c "$SWARM_JOIN_SCRIPT" swarm-join ${args.join(' ')}`),
          // The key reaches the shell in its environment, never an argument. Terraform then suppresses the local-exec's
          // output while it runs; a failed join's error still carries it (Terraform 1.11, checked in swarm-join.test.ts).
          environment: {
            SWARM_JOIN_SCRIPT: SWARM_JOIN_SCRIPT_IN_TERRAFORM,
            ...(credentials && { SWARM_SSH_KEY: credentials.sshKey, SWARM_KNOWN_HOSTS: credentials.knownHosts }),
          },
        },
      ],
    });
    resource.overrideLogicalId(`swarm-join-${join.host}`);
    previous = resource;
  }
  return previous!;
}

/**
 * `command` run with the deploy key and the pinned host keys in files of its
 * own: a private directory (0700, files 0600) removed however it ends, the
 * key written by `printf`, a shell builtin (in no process's arguments), each
 * of `addresses` refused up front without a pinned line (a host key is
 * checked by a person, never learned), and SWARM_SSH given `-i` and
 * `UserKnownHostsFile` on top of the strict defaults of scripts/swarm/join.
 * Escaped for Terraform like the script.
 */
function withCredentialFiles(addresses: readonly string[], command: string): string {
  const lines = [
    'set -eu',
    'credentials=$(umask 077 && mktemp -d)',
    `trap 'rm -rf "$credentials"' EXIT`,
    `trap 'exit 1' HUP INT TERM`,
    `(umask 077 && printf '%s\\n' "$SWARM_SSH_KEY" >"$credentials/key" && printf '%s\\n' "$SWARM_KNOWN_HOSTS" >"$credentials/known_hosts")`,
    `for address in ${[...new Set(addresses)].join(' ')}; do`,
    `  awk -v host="$address" '{ n = split($1, names, ","); for (i = 1; i <= n; i++) if (names[i] == host) found = 1 } END { exit !found }' "$credentials/known_hosts" ||`,
    `    { printf 'swarm join: no pinned host key for %s in ${SWARM_KNOWN_HOSTS_VARIABLE}: add "%s ssh-ed25519 AAAA..." after checking its fingerprint on the server console (docs/scaling.md)\\n' "$address" "$address" >&2; exit 1; }`,
    'done',
    `SWARM_SSH="\${SWARM_SSH:-ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10} -i $credentials/key -o IdentitiesOnly=yes -o UserKnownHostsFile=$credentials/known_hosts -o GlobalKnownHostsFile=/dev/null" ${command}`,
  ];
  return lines.join('\n').replace(/([$%])\{/g, (_, sign: string) => `${sign}${sign}{`);
}

/** The edge stack's sensitive variable holding the deploy key the agent joins hosts with (`dockerAccess: agent`). */
export const SWARM_JOIN_KEY_VARIABLE = 'swarm_join_ssh_key';

/** The edge stack's variable pinning the hosts' SSH host keys for those joins (`known_hosts` lines of the private addresses). */
export const SWARM_KNOWN_HOSTS_VARIABLE = 'swarm_known_hosts';

/** The script as a Terraform string: its `${...}` and `%{...}` are the shell's, escaped from Terraform's templates. */
const SWARM_JOIN_SCRIPT_IN_TERRAFORM = SWARM_JOIN_SCRIPT.replace(/([$%])\{/g, (_, sign: string) => `${sign}${sign}{`);
