import { Fn } from 'cdktf';
import { dataHostCommands, dataHostFiles } from './data-host';
import { SWARM_PORTS_UNIT, swarmPortsUnit } from './swarm-formation';

/**
 * A Terraform Cloud agent on the host, run by systemd as a container with the
 * Docker socket mounted: Terraform Cloud runs of the environment's Docker
 * stacks execute here and reach the daemon locally, so neither SSH nor the
 * Docker API is opened to the pipeline (HCP Terraform agents:
 * https://developer.hashicorp.com/terraform/cloud-docs/agents).
 */
export interface TerraformCloudAgent {
  /** The agent token (a token of a sensitive variable set by the bootstrap stack). */
  readonly token: string;
  /** Name the agent registers under (the host's name). */
  readonly name: string;
  /** The agent image, pinned. */
  readonly image: string;
}

/** A public file fetched over HTTPS at first boot (the Cloudflare origin-pull CA). */
export interface FetchedFile {
  readonly url: string;
  /** Absolute host path; its directory is created 0755. */
  readonly path: string;
}

export interface CloudInitProps {
  /** The non-root user administrators and Terraform log in as. @default 'deploy' */
  readonly deployUser?: string;
  /** OpenSSH public keys of that user (literals, or tokens of variables validated to contain no quote or newline). */
  readonly authorizedKeys: readonly string[];
  /** Swap file size in GiB, a cushion against memory spikes. @default 4 */
  readonly swapGiB?: number;
  /** Directories to create with mode 0700, owned by the given uid:gid (the edge proxy's ACME storage). @default - none */
  readonly privateDirectories?: readonly PrivateDirectory[];
  /**
   * GID of the `docker` group, fixed so a non-root container (the edge
   * proxy) can be given read access to the Docker socket by number.
   * @default - whatever the docker package picks
   */
  readonly dockerGroupId?: number;
  /**
   * Container ports published on the host's private address (data services
   * and accessories other hosts use), each admitted from its sources alone.
   * Hetzner's cloud firewall does not filter private networks, so the host does.
   * @default - none
   */
  readonly privateServices?: PrivateServices;
  /** Run a Terraform Cloud agent container on the host. @default - none: Terraform reaches the daemon over SSH */
  readonly terraformCloudAgent?: TerraformCloudAgent;
  /** Public files to download at first boot. @default - none */
  readonly fetchedFiles?: readonly FetchedFile[];
  /** Give the daemon IPv6 packet filtering, so published ports answer on the host's IPv6. @default true */
  readonly ipv6?: boolean;
  /** Days an image no container uses is kept before the daily prune removes it. @default 7 */
  readonly imageRetentionDays?: number;
  /**
   * The host runs PostgreSQL and Redis on Hetzner volumes: mount them by
   * device id before Docker, mark them with the sentinel, set
   * vm.overcommit_memory=1 (see data-host.ts).
   * @default false
   */
  readonly dataHost?: boolean;
  /**
   * The host is a node of the environment's swarm: Swarm's ports admitted
   * from the private network alone, and on the first manager the commands
   * that initialize the swarm (every other host is joined by the apply).
   * @default - not a swarm node
   */
  readonly swarm?: SwarmNodeSetup;
}

/** What a swarm node needs at first boot (constructs/hetzner/swarm-formation.ts). */
export interface SwarmNodeSetup {
  /** The host's private address, where Swarm listens, advertises and carries overlay traffic. */
  readonly privateAddress: string;
  /** The environment's subnet, the only source admitted to Swarm's ports. */
  readonly subnet: string;
  /** Commands initializing the swarm (initializerCommands), on the first manager only. @default - none: the host waits to be joined */
  readonly initialize?: readonly (readonly string[])[];
}

/** Ports published on a host's private address, and who may reach them. */
export interface PrivateServices {
  /** The host's private address the ports are published on. */
  readonly address: string;
  /** TCP ports, each with the only sources admitted to it. */
  readonly ports: readonly PrivatePort[];
}

/** One TCP port published on a host's private address. */
export interface PrivatePort {
  readonly port: number;
  /**
   * The only sources admitted, IPv4 addresses or CIDRs: the environment's
   * subnet for what every host uses (PostgreSQL, Redis, Prometheus, Loki),
   * the private addresses of its users' hosts for an accessory. Empty: nobody.
   */
  readonly sources: readonly string[];
}

/**
 * The chain holding the rules, jumped to from DOCKER-USER: the unit flushes
 * and refills it, so `systemctl restart` installs a changed set of rules on a
 * running host (user_data reaches a server only at its first boot).
 */
export const PRIVATE_SERVICES_CHAIN = 'PRIVATE-SERVICES';

/**
 * A systemd unit that drops connections to the published ports from any
 * source but the admitted ones. Published ports bypass INPUT, so the rules
 * sit behind Docker's DOCKER-USER chain, matched on the original destination
 * because DNAT has already rewritten it (Docker docs, "Packet filtering and
 * firewalls": `-m conntrack --ctorigdst ... --ctorigdstport ...`). Admitted
 * sources RETURN (Docker's own rules still apply); the rest of the port's
 * traffic is dropped. `-C ||` keeps a restart from stacking the jump.
 */
export function privateServicesUnit(services: PrivateServices): string {
  const chain = PRIVATE_SERVICES_CHAIN;
  const match = (port: number) => `-p tcp -m conntrack --ctorigdst ${services.address} --ctorigdstport ${port}`;
  const rules = services.ports.flatMap(({ port, sources }) => [
    ...sources.map((source) => `ExecStart=/usr/sbin/iptables -A ${chain} ${match(port)} -s ${source} -j RETURN`),
    `ExecStart=/usr/sbin/iptables -A ${chain} ${match(port)} -j DROP`,
  ]);
  return [
    '[Unit]',
    'Description=Admit the ports published on the private address from their users alone',
    'After=docker.service',
    'Requires=docker.service',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    // "-": the chain exists from an earlier start.
    `ExecStart=-/usr/sbin/iptables -N ${chain}`,
    `ExecStart=/usr/sbin/iptables -F ${chain}`,
    ...rules,
    `ExecStart=/bin/sh -c 'iptables -C DOCKER-USER -j ${chain} 2>/dev/null || iptables -I DOCKER-USER -j ${chain}'`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Name of the unit guarding the private services. */
export const PRIVATE_SERVICES_UNIT = 'private-services-firewall.service';

/** A directory only one (container) user may read and write. */
export interface PrivateDirectory {
  readonly path: string;
  /** Numeric owner, as containers see it. @default 0 */
  readonly uid?: number;
  /** Numeric group. @default - the uid */
  readonly gid?: number;
}

interface WriteFile {
  readonly path: string;
  readonly content: string;
  readonly permissions: string;
  readonly encoding?: 'b64';
}

/**
 * A file whose content is only known to Terraform (a PEM from a variable):
 * base64 keeps its newlines from breaking the JSON string it is spliced into.
 */
function terraformFile(path: string, value: string, permissions: string): WriteFile {
  return { path, content: Fn.base64encode(value), encoding: 'b64', permissions };
}

/** Docker logs rotate on every container, whatever the container asks for. */
const DOCKER_DAEMON_DEFAULTS = {
  'log-driver': 'json-file',
  'log-opts': { 'max-size': '10m', 'max-file': '3' },
  'live-restore': true,
  'userland-proxy': false,
  'no-new-privileges': true,
};

/**
 * Without the userland proxy, a published port answers on the host's IPv6
 * only through ip6tables rules (Docker docs, "Use IPv6 networking": ip6tables
 * is on by default from Engine 27; before 27 it also needed `experimental`)
 * and only for containers on an IPv6-enabled network (the frontend network).
 * Ubuntu ships current upstream Docker releases to its LTS releases
 * (wiki.ubuntu.com/DockerUpdates), so the packaged daemon is 27 or later.
 */
const DOCKER_DAEMON_IPV6 = { ip6tables: true };

/** Hetzner's metadata service, which serves the server's user_data to any process that asks. */
export const METADATA_ADDRESS = '169.254.169.254';

/**
 * Drops container traffic to the metadata service. Docker evaluates the
 * DOCKER-USER chain before its own forwarding rules and never flushes it
 * (Docker docs, "Packet filtering and firewalls"); the unit re-inserts the
 * rule whenever Docker (re)starts, idempotently.
 */
const METADATA_BLOCK_UNIT = [
  '[Unit]',
  'Description=Block containers from the metadata service',
  'After=docker.service',
  'PartOf=docker.service',
  '',
  '[Service]',
  'Type=oneshot',
  'RemainAfterExit=yes',
  `ExecStart=/bin/sh -c 'iptables -C DOCKER-USER -d ${METADATA_ADDRESS}/32 -j DROP 2>/dev/null || iptables -I DOCKER-USER -d ${METADATA_ADDRESS}/32 -j DROP'`,
  '',
  '[Install]',
  'WantedBy=docker.service',
  '',
].join('\n');

/**
 * First-boot configuration of a host: a non-root deploy user with the
 * administrators' keys, root and password SSH disabled, Docker, fail2ban,
 * unattended security upgrades and a swap file.
 *
 * Rendered as JSON under the `#cloud-config` header: cloud-init reads YAML,
 * JSON is valid YAML, and JSON cannot be broken by indentation or by a token
 * that contains a colon.
 */
export class CloudInit {
  public readonly deployUser: string;

  public constructor(private readonly props: CloudInitProps) {
    this.deployUser = props.deployUser ?? 'deploy';
    if (!/^[a-z_][a-z0-9_-]*$/.test(this.deployUser) || this.deployUser === 'root') {
      throw new Error(`CloudInit: deployUser must be a non-root Unix user name; got "${this.deployUser}"`);
    }
    const gid = props.dockerGroupId;
    if (gid !== undefined && (!Number.isInteger(gid) || gid < 1000 || gid > 60000)) {
      throw new Error(`CloudInit: dockerGroupId must be a whole number from 1000 to 60000 (outside system and user ranges); got ${gid}`);
    }
    const services = props.privateServices;
    if (services !== undefined) {
      const ipv4 = /^(\d{1,3}\.){3}\d{1,3}$/;
      const source = /^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/;
      const badSource = services.ports.flatMap((port) => port.sources).find((candidate) => !source.test(candidate));
      if (!ipv4.test(services.address) || badSource !== undefined) {
        throw new Error(`CloudInit: privateServices needs an IPv4 address and IPv4 sources (addresses or CIDRs); got "${services.address}" and "${badSource ?? ''}"`);
      }
      if (services.ports.length === 0 || services.ports.some(({ port }) => !Number.isInteger(port) || port < 1 || port > 65535)) {
        throw new Error(`CloudInit: privateServices.ports must be TCP ports from 1 to 65535; got ${services.ports.map(({ port }) => port).join(', ')}`);
      }
    }
    const swarm = props.swarm;
    if (swarm !== undefined && (!/^(\d{1,3}\.){3}\d{1,3}$/.test(swarm.privateAddress) || !/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(swarm.subnet))) {
      throw new Error(`CloudInit: swarm needs the host's private IPv4 address and the subnet as a CIDR; got "${swarm.privateAddress}" and "${swarm.subnet}"`);
    }
    if (props.authorizedKeys.length === 0) {
      throw new Error('CloudInit: at least one authorized key is needed, password login is disabled');
    }
  }

  /** The cloud-config document as a plain object (what `render` serializes). */
  public toObject(): Record<string, unknown> {
    const user = this.deployUser;
    const agent = this.props.terraformCloudAgent;
    const ipv6 = this.props.ipv6 ?? true;
    const retentionHours = (this.props.imageRetentionDays ?? 7) * 24;
    const files: WriteFile[] = [
      {
        path: '/etc/ssh/sshd_config.d/90-hardening.conf',
        content: ['PermitRootLogin no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', `AllowUsers ${user}`, 'X11Forwarding no', ''].join('\n'),
        permissions: '0644',
      },
      {
        path: '/etc/apt/apt.conf.d/20auto-upgrades',
        content: 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
        permissions: '0644',
      },
      {
        path: '/etc/fail2ban/jail.d/sshd.local',
        content: '[sshd]\nenabled = true\nmaxretry = 5\nbantime = 1h\n',
        permissions: '0644',
      },
      {
        path: '/etc/docker/daemon.json',
        content: JSON.stringify(ipv6 ? { ...DOCKER_DAEMON_DEFAULTS, ...DOCKER_DAEMON_IPV6 } : DOCKER_DAEMON_DEFAULTS, null, 2) + '\n',
        permissions: '0644',
      },
      { path: '/etc/systemd/system/docker-metadata-block.service', content: METADATA_BLOCK_UNIT, permissions: '0644' },
      {
        // keep_locally leaves every replaced image on the host; what no container uses for a week goes.
        path: '/etc/systemd/system/docker-image-prune.service',
        content: `[Unit]\nDescription=Remove images no container uses\nAfter=docker.service\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/docker image prune --all --force --filter until=${retentionHours}h\n`,
        permissions: '0644',
      },
      {
        path: '/etc/systemd/system/docker-image-prune.timer',
        content: '[Unit]\nDescription=Daily image prune\n\n[Timer]\nOnCalendar=daily\nRandomizedDelaySec=1h\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n',
        permissions: '0644',
      },
    ];
    const privateServices = this.props.privateServices;
    if (privateServices !== undefined) {
      files.push({ path: `/etc/systemd/system/${PRIVATE_SERVICES_UNIT}`, content: privateServicesUnit(privateServices), permissions: '0644' });
    }
    if (agent) {
      files.push(
        // Root-only; the token reaches the host through user_data, which containers cannot fetch (METADATA_BLOCK_UNIT).
        terraformFile(AGENT_TOKEN_PATH, agent.token, '0600'),
        { path: '/etc/systemd/system/tfc-agent.service', content: agentUnit(agent, this.props.dockerGroupId), permissions: '0644' },
      );
    }
    if (this.props.dataHost) files.push(...dataHostFiles());
    const swarm = this.props.swarm;
    if (swarm !== undefined) files.push({ path: `/etc/systemd/system/${SWARM_PORTS_UNIT}`, content: swarmPortsUnit(swarm.privateAddress, swarm.subnet), permissions: '0644' });
    return {
      disable_root: true,
      ssh_pwauth: false,
      users: [
        {
          name: user,
          groups: ['docker'],
          shell: '/bin/bash',
          lock_passwd: true,
          sudo: 'ALL=(ALL) NOPASSWD:ALL',
          ssh_authorized_keys: [...this.props.authorizedKeys],
        },
      ],
      // The docker group must exist before the user is added to it; bootcmd runs before both.
      ...(this.props.dockerGroupId !== undefined
        ? { bootcmd: [['sh', '-c', `getent group docker >/dev/null || groupadd --gid ${this.props.dockerGroupId} docker`]] }
        : { groups: ['docker'] }),
      swap: { filename: '/swapfile', size: `${this.props.swapGiB ?? 4}G`, maxsize: `${this.props.swapGiB ?? 4}G` },
      package_update: true,
      package_upgrade: true,
      packages: ['docker.io', 'fail2ban', 'unattended-upgrades'],
      write_files: files,
      runcmd: [
        ...(this.props.privateDirectories ?? []).map((dir) => [
          'install', '-d', '-m', '0700', '-o', String(dir.uid ?? 0), '-g', String(dir.gid ?? dir.uid ?? 0), dir.path,
        ]),
        ...(this.props.fetchedFiles ?? []).flatMap((file) => [
          ['install', '-d', '-m', '0755', file.path.slice(0, file.path.lastIndexOf('/')) || '/'],
          ['curl', '-fsSL', '--retry', '5', '--proto', '=https', '-o', file.path, file.url],
        ]),
        ['systemctl', 'daemon-reload'],
        ...(this.props.dataHost ? dataHostCommands() : []),
        ...(swarm !== undefined ? [['systemctl', 'enable', '--now', SWARM_PORTS_UNIT]] : []),
        ['systemctl', 'enable', '--now', 'docker'],
        ...(privateServices !== undefined ? [['systemctl', 'enable', '--now', PRIVATE_SERVICES_UNIT]] : []),
        ['systemctl', 'enable', '--now', 'docker-metadata-block.service'],
        ...(swarm?.initialize ?? []).map((command) => [...command]),
        ['systemctl', 'enable', '--now', 'docker-image-prune.timer'],
        ...(agent ? [['systemctl', 'enable', '--now', 'tfc-agent.service']] : []),
        ['systemctl', 'enable', '--now', 'fail2ban'],
        ['systemctl', 'enable', '--now', 'unattended-upgrades'],
        ['systemctl', 'restart', 'ssh'],
      ],
    };
  }

  /** The user-data string for the server. */
  public render(): string {
    return `#cloud-config\n${JSON.stringify(this.toObject(), null, 2)}\n`;
  }
}

/** Where the agent token lands on the host (root-only). */
const AGENT_TOKEN_PATH = '/etc/tfc-agent/token';

/**
 * systemd unit running the agent container: the socket is its only way to
 * the daemon. The token goes to Docker through an env file built at start in
 * a root-only runtime directory, never on a command line (`ps` shows those).
 */
function agentUnit(agent: TerraformCloudAgent, dockerGroupId: number | undefined): string {
  const groupAdd = dockerGroupId === undefined ? '' : ` --group-add ${dockerGroupId}`;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(agent.name)) throw new Error(`CloudInit: terraformCloudAgent.name must be lowercase letters, digits and "-"; got "${agent.name}"`);
  return [
    '[Unit]',
    'Description=Terraform Cloud agent (runs the Docker stacks against the local socket)',
    'After=docker.service docker-metadata-block.service',
    'Requires=docker.service',
    '',
    '[Service]',
    'Restart=always',
    'RestartSec=10',
    'RuntimeDirectory=tfc-agent',
    'RuntimeDirectoryMode=0700',
    'ExecStartPre=-/usr/bin/docker rm -f tfc-agent',
    `ExecStartPre=/bin/sh -c 'umask 077; { printf TFC_AGENT_TOKEN=; cat ${AGENT_TOKEN_PATH}; echo; } > /run/tfc-agent/agent.env'`,
    `ExecStart=/usr/bin/docker run --rm --name tfc-agent --env-file /run/tfc-agent/agent.env -e TFC_AGENT_NAME=${agent.name}${groupAdd} -v /var/run/docker.sock:/var/run/docker.sock ${agent.image}`,
    'ExecStop=/usr/bin/docker stop tfc-agent',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
