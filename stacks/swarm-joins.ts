/**
 * The swarm's joins: per host, a `terraform_data` replaced with its server
 * that runs scripts/swarm/join. With `dockerAccess: ssh` the network stack
 * holds them and a `local-exec` runs the script where Terraform runs (a
 * laptop or the pipeline, SSH to the public addresses). Under a Terraform
 * Cloud agent the edge stack holds them, and Terraform's own SSH client
 * takes the script to the swarm's first manager and runs it there, so the
 * agent image needs nothing beyond Terraform (docs/scaling.md, "Under
 * Terraform Cloud agents").
 */
import {
  DataResource, Fn, TerraformLocal, Token,
  type FileProvisioner, type ITerraformDependable, type LocalExecProvisioner, type Precondition, type RemoteExecProvisioner, type SSHProvisionerConnection,
} from 'cdktf';
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

/** SSH material for joins run from a Terraform Cloud agent: a sensitive value and pinned host keys, never literals. */
export interface SwarmJoinCredentials {
  /** The deploy key's private half (a sensitive variable's value): Terraform's SSH client logs in with it, and the manager holds a copy on tmpfs for the join only. */
  readonly sshKey: string;
  /** `known_hosts` lines of every host's private address (a variable's value): host keys checked, never learned. */
  readonly knownHosts: string;
}

export interface SwarmJoinsProps {
  readonly formation: SwarmFormation;
  /** Every host of the formation by name. */
  readonly hosts: ReadonlyMap<string, SwarmJoinHost>;
  /** The deploy key and pinned host keys: given, the joins run on the first manager through Terraform's SSH client. @default - a `local-exec` with the SSH client's own (`ssh` access: the administrator's agent and known_hosts) */
  readonly credentials?: SwarmJoinCredentials;
}

/**
 * Adds the joins to `scope` (ids `swarm-join-<host>`, the initializer first,
 * then managers, then workers, each after the one before: Raft adds one
 * manager at a time) and returns the last one, after which every node is in
 * the swarm with its labels. The script runs on one machine that reaches
 * both hosts: the token goes from the manager to the joining host, two SSH
 * sessions joined by a pipe. The script is inlined (not secret), so it runs
 * from cdktf.out and under a remote runner alike.
 */
export function addSwarmJoins(scope: Construct, props: SwarmJoinsProps): DataResource {
  const { formation, hosts, credentials } = props;
  const initializer = hosts.get(formation.initializer)!;
  const onManager = credentials && new ManagerSession(scope, initializer, credentials);
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
      ...(onManager === undefined
        ? { provisioners: [localJoin(args)] }
        : { connection: onManager.connection, lifecycle: { precondition: onManager.pinned(host.privateIp) }, provisioners: onManager.join(args) }),
    });
    resource.overrideLogicalId(`swarm-join-${join.host}`);
    previous = resource;
  }
  return previous!;
}

/** `ssh` access: the script runs where Terraform runs, with the SSH client's own key and known_hosts. */
function localJoin(args: readonly string[]): LocalExecProvisioner {
  return {
    type: 'local-exec',
    interpreter: ['/bin/sh', '-c'],
    command: `exec /bin/sh -c "$SWARM_JOIN_SCRIPT" swarm-join ${args.join(' ')}`,
    environment: { SWARM_JOIN_SCRIPT: SWARM_JOIN_SCRIPT_IN_TERRAFORM },
  };
}

/**
 * Where the first manager holds the deploy key, the pinned host keys and the script during an agent-mode join:
 * tmpfs (Debian mounts /dev/shm), so the key never reaches a disk; the directory is removed when the join ends.
 */
export const SWARM_JOIN_DIRECTORY = '/dev/shm/swarm-join';

/**
 * The key types of known_hosts lines in the order Terraform's SSH client negotiates a server's host key: it sets no
 * HostKeyAlgorithms, so Go's x/crypto (v0.35.0 in Terraform 1.11) prefers ECDSA, then RSA, then Ed25519
 * (ssh/common.go, supportedHostKeyAlgos), and checks the one key `host_key` gives (internal/communicator/ssh/
 * provisioner.go, buildSSHClientConfig): the pinned line of the type the server will present, not any pinned line.
 */
const HOST_KEY_PREFERENCE = ['ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa', 'ssh-ed25519'];

/**
 * Agent mode: Terraform's built-in SSH communicator (Terraform 1.11, internal/communicator/ssh) logs in to the
 * swarm's first manager as the deploy user, with the manager's pinned host key, and the join runs there. What the
 * communicator does that shapes it: `file` uploads over scp with mode 0644 (communicator.go, scpUploadFile), hence a
 * 0700 directory with the files created 0600 before (scp keeps an existing file's mode); `file` with `content` puts it
 * in a 0600 temporary file on the agent, removed after the upload (builtin/provisioners/file); `remote-exec` writes its
 * inline commands to `script_path` (default /tmp/terraform_<n>.sh), 0777, and empties it only after a success, so they
 * hold no secret; Terraform suppresses a provisioner's output only when its own config holds a sensitive value, not the
 * connection's (terraform/node_resource_abstract_instance.go), so the join's messages show and carry no secret.
 */
class ManagerSession {
  /** The connection block every join's provisioners share. */
  public readonly connection: SSHProvisionerConnection;
  private readonly hostKeys: TerraformLocal;

  public constructor(
    scope: Construct,
    manager: SwarmJoinHost,
    private readonly credentials: SwarmJoinCredentials,
  ) {
    // Every pinned key of the manager, in the order the client negotiates (empty when none is pinned).
    this.hostKeys = new TerraformLocal(
      scope,
      'swarm_manager_host_keys',
      Fn.compact(HOST_KEY_PREFERENCE.map((type) => Fn.try([Fn.join(' ', Fn.regex(`${knownHostsLine(manager.privateIp)}(${type})[[:blank:]]+([^[:space:]]+)`, credentials.knownHosts)), '']))),
    );
    this.connection = {
      type: 'ssh',
      host: manager.privateIp,
      user: manager.ssh.slice(0, manager.ssh.indexOf('@')),
      privateKey: credentials.sshKey,
      // Never empty: an empty host_key accepts any key (InsecureIgnoreHostKey); element() of no key fails the apply.
      hostKey: Token.asString(Fn.element(this.hostKeys.asList, 0)),
      // The agent's own SSH agent, if any, is not asked: the deploy key only.
      agent: 'false',
      // The manager is the agent's own host and its sshd is up: this bounds the retries of a refused host key.
      timeout: '30s',
      // Terraform's step scripts (plain commands; emptied after a success, kept after a failure) go to tmpfs too.
      scriptPath: `${SWARM_JOIN_DIRECTORY}-step-%RAND%.sh`,
    };
  }

  /** Checked at plan, before any connection: the manager's host key and the joining host's are pinned. */
  public pinned(node: string): Precondition[] {
    const manager = this.connection.host;
    const fix = (address: string, types: string) =>
      `add "${address} ${types} AAAA..." to ${SWARM_KNOWN_HOSTS_VARIABLE} after checking the fingerprint on the server console (docs/scaling.md, "Under Terraform Cloud agents")`;
    return [
      {
        condition: Fn.can(Fn.element(this.hostKeys.asList, 0)),
        errorMessage: `swarm join: no pinned host key for ${manager}, the swarm's first manager Terraform connects to: ${fix(manager, 'ecdsa-sha2-nistp256')}; Terraform checks the ECDSA key when the server has one, so pin every line the console prints`,
      },
      ...(node === manager
        ? []
        : [{ condition: Fn.can(Fn.regex(knownHostsLine(node), this.credentials.knownHosts)), errorMessage: `swarm join: no pinned host key for ${node}: ${fix(node, 'ssh-ed25519')}` }]),
    ];
  }

  /**
   * The provisioners of one join: a fresh private directory on the manager (one left by a run cut off midway goes
   * first), the key, known hosts and script uploaded into it, then the script run there with SWARM_SSH given the key
   * and known hosts on top of its strict defaults, and the directory removed however it ends. Every command line is
   * plain: the secrets travel only as `file` contents.
   */
  public join(args: readonly string[]): Array<FileProvisioner | RemoteExecProvisioner> {
    const dir = SWARM_JOIN_DIRECTORY;
    const upload = (name: string, content: string): FileProvisioner => ({ type: 'file', content, destination: `${dir}/${name}` });
    const ssh = `-i ${dir}/key -o IdentitiesOnly=yes -o UserKnownHostsFile=${dir}/known_hosts -o GlobalKnownHostsFile=/dev/null`;
    return [
      { type: 'remote-exec', inline: [`rm -rf ${dir} && (umask 077 && mkdir ${dir} && : >${dir}/key && : >${dir}/known_hosts)`] },
      // OpenSSH refuses a private key without its final newline.
      upload('key', `${Fn.trimspace(this.credentials.sshKey)}\n`),
      upload('known_hosts', `${this.credentials.knownHosts}\n`),
      upload('join', SWARM_JOIN_SCRIPT_IN_TERRAFORM),
      {
        type: 'remote-exec',
        inline: [
          `trap 'rm -rf ${dir}' EXIT`,
          `trap 'exit 1' HUP INT TERM`,
          `SWARM_SSH="$\${SWARM_SSH:-ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10} ${ssh}" sh ${dir}/join ${args.join(' ')}`,
        ],
      },
    ];
  }
}

/** An RE2 pattern for the start of a known_hosts line naming `address` (alone or in a comma list; not hashed, no marker). */
function knownHostsLine(address: string): string {
  return `(?m)^(?:[^#@[:space:]][^[:space:]]*,)?${address.replace(/\./g, '[.]')}(?:,[^[:space:]]*)?[[:blank:]]+`;
}

/** The edge stack's sensitive variable holding the deploy key the agent joins hosts with (`dockerAccess: agent`). */
export const SWARM_JOIN_KEY_VARIABLE = 'swarm_join_ssh_key';

/** The edge stack's variable pinning the hosts' SSH host keys for those joins (`known_hosts` lines of the private addresses). */
export const SWARM_KNOWN_HOSTS_VARIABLE = 'swarm_known_hosts';

/** The script as a Terraform string: its `${...}` and `%{...}` are the shell's, escaped from Terraform's templates. */
const SWARM_JOIN_SCRIPT_IN_TERRAFORM = SWARM_JOIN_SCRIPT.replace(/([$%])\{/g, (_, sign: string) => `${sign}${sign}{`);
