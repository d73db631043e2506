import { Fn } from 'cdktf';

/** The Docker daemon's TLS listener, for runners that cannot use SSH. */
export interface DockerTlsListener {
  /** TCP port of the daemon. */
  readonly port: number;
  /** PEM of the CA that signs client certificates (a token of a sensitive variable). */
  readonly caCertificate: string;
  /** PEM of the daemon's certificate. */
  readonly serverCertificate: string;
  /** PEM of the daemon's private key. */
  readonly serverKey: string;
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
  /** Also expose the Docker API over mutual TLS. @default - SSH only */
  readonly dockerTls?: DockerTlsListener;
  /**
   * Container ports published on the host's private address (data services
   * other hosts use), admitted from the environment's subnet alone. Hetzner's
   * cloud firewall does not filter private networks, so the host does.
   * @default - none
   */
  readonly privateServices?: PrivateServices;
}

/** Ports published on a host's private address, and who may reach them. */
export interface PrivateServices {
  /** The host's private address the ports are published on. */
  readonly address: string;
  /** TCP ports. */
  readonly ports: readonly number[];
  /** The only source allowed (the environment's subnet). */
  readonly allowedCidr: string;
}

/**
 * A systemd unit that drops connections to the published ports from outside
 * the subnet. Published ports bypass INPUT, so the rules go into Docker's
 * DOCKER-USER chain, matched on the original destination because DNAT has
 * already rewritten it (Docker docs, "Packet filtering and firewalls":
 * `-m conntrack --ctorigdst ... --ctorigdstport ...`). `-C ||` keeps a
 * restart from stacking duplicates.
 */
function privateServicesUnit(services: PrivateServices): string {
  const rule = (port: number) => `-p tcp -m conntrack --ctorigdst ${services.address} --ctorigdstport ${port} ! -s ${services.allowedCidr} -j DROP`;
  const lines = services.ports.map((port) => `ExecStart=/bin/sh -c 'iptables -C DOCKER-USER ${rule(port)} 2>/dev/null || iptables -I DOCKER-USER ${rule(port)}'`);
  return [
    '[Unit]',
    'Description=Admit the ports published on the private address from the private subnet only',
    'After=docker.service',
    'Requires=docker.service',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    ...lines,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Name of the unit guarding the private services. */
const PRIVATE_SERVICES_UNIT = 'private-services-firewall.service';

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
      if (!ipv4.test(services.address) || !/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(services.allowedCidr)) {
        throw new Error(`CloudInit: privateServices needs an IPv4 address and an IPv4 CIDR; got "${services.address}" and "${services.allowedCidr}"`);
      }
      if (services.ports.length === 0 || services.ports.some((port) => !Number.isInteger(port) || port < 1 || port > 65535)) {
        throw new Error(`CloudInit: privateServices.ports must be TCP ports from 1 to 65535; got ${services.ports.join(', ')}`);
      }
    }
    if (props.authorizedKeys.length === 0) {
      throw new Error('CloudInit: at least one authorized key is needed, password login is disabled');
    }
  }

  /** The cloud-config document as a plain object (what `render` serializes). */
  public toObject(): Record<string, unknown> {
    const user = this.deployUser;
    const tls = this.props.dockerTls;
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
        content: JSON.stringify(tls ? { ...DOCKER_DAEMON_DEFAULTS, ...tlsDaemonSettings(tls.port) } : DOCKER_DAEMON_DEFAULTS, null, 2) + '\n',
        permissions: '0644',
      },
    ];
    const privateServices = this.props.privateServices;
    if (privateServices !== undefined) {
      files.push({ path: `/etc/systemd/system/${PRIVATE_SERVICES_UNIT}`, content: privateServicesUnit(privateServices), permissions: '0644' });
    }
    if (tls) {
      files.push(
        terraformFile('/etc/docker/tls/ca.pem', tls.caCertificate, '0644'),
        terraformFile('/etc/docker/tls/server-cert.pem', tls.serverCertificate, '0644'),
        terraformFile('/etc/docker/tls/server-key.pem', tls.serverKey, '0600'),
        {
          // The packaged unit passes `-H fd://`, which conflicts with `hosts` in daemon.json.
          path: '/etc/systemd/system/docker.service.d/10-hosts.conf',
          content: '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --containerd=/run/containerd/containerd.sock\n',
          permissions: '0644',
        },
      );
    }
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
        ['systemctl', 'daemon-reload'],
        ['systemctl', 'enable', '--now', 'docker'],
        ...(privateServices !== undefined ? [['systemctl', 'enable', '--now', PRIVATE_SERVICES_UNIT]] : []),
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

function tlsDaemonSettings(port: number): Record<string, unknown> {
  return {
    hosts: ['unix:///var/run/docker.sock', `tcp://0.0.0.0:${port}`],
    tls: true,
    tlsverify: true,
    tlscacert: '/etc/docker/tls/ca.pem',
    tlscert: '/etc/docker/tls/server-cert.pem',
    tlskey: '/etc/docker/tls/server-key.pem',
  };
}
