import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { Token } from 'cdktf';
import { Construct } from 'constructs';

/** The client side of the Docker daemon's mutual TLS; every value a token of a sensitive variable. */
/** The port Docker's daemon listens on for TLS by convention (dockerd docs, "Protect the Docker daemon socket"). */
export const DOCKER_TLS_PORT = 2376;

export interface DockerTlsClient {
  /** PEM of the CA that signed the daemon's certificate. */
  readonly caMaterial: string;
  /** PEM of the client certificate. */
  readonly certMaterial: string;
  /** PEM of the client's private key. */
  readonly keyMaterial: string;
}

/** Options of an SSH connection. */
export interface SshConnectionOptions {
  /** The login user; it must be in the host's `docker` group. @default 'deploy' (created by cloud-init) */
  readonly user?: string;
  /** The SSH port. @default 22 */
  readonly port?: number;
}

/** Options of a TLS connection. */
export interface TlsConnectionOptions {
  /** The daemon's TLS port. @default 2376 */
  readonly port?: number;
  /** Client certificate, key and CA. */
  readonly client: DockerTlsClient;
}

/**
 * How Terraform reaches one host's Docker daemon: over SSH as the deploy
 * user (the default; needs an SSH agent or key on the machine running
 * Terraform), or over TCP with TLS client certificates (for remote runners,
 * which have no SSH agent).
 */
export class DockerConnection {
  /**
   * `ssh://<user>@<address>:<port>`, from a machine inside the admin CIDRs.
   * The host key must already be in that machine's known_hosts (verified once
   * against the fingerprint cloud-init prints on the server's console):
   * nothing is trusted on first use, so a throwaway runner cannot be fooled.
   */
  public static ssh(address: string, options: SshConnectionOptions = {}): DockerConnection {
    const user = options.user ?? 'deploy';
    const port = options.port ?? 22;
    if (!/^[a-z_][a-z0-9_-]*$/.test(user) || user === 'root') {
      throw new Error(`DockerConnection.ssh: user must be a non-root Unix user name; got "${user}"`);
    }
    checkPort('DockerConnection.ssh', port);
    return new DockerConnection(address, {
      host: `ssh://${user}@${address}:${port}`,
      // BatchMode: fail instead of prompting; StrictHostKeyChecking=yes: refuse an unknown or changed host key.
      sshOpts: ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'ServerAliveInterval=30'],
    });
  }

  /**
   * The daemon's local socket, for Terraform running on the host itself (a
   * Terraform Cloud agent container with the socket mounted): no port, no
   * key, and no host identity to verify.
   */
  public static localSocket(path = '/var/run/docker.sock'): DockerConnection {
    if (!path.startsWith('/')) throw new Error(`DockerConnection.localSocket: path must be absolute; got "${path}"`);
    return new DockerConnection(path, { host: `unix://${path}` });
  }

  /** `tcp://<address>:<port>` with client certificates; the daemon's certificate must name the address. */
  public static tls(address: string, options: TlsConnectionOptions): DockerConnection {
    const port = options.port ?? DOCKER_TLS_PORT;
    checkPort('DockerConnection.tls', port);
    for (const [field, value] of Object.entries(options.client)) {
      if (!Token.isUnresolved(value)) {
        throw new Error(`DockerConnection.tls: client.${field} must come from a sensitive variable, never a literal PEM in code`);
      }
    }
    return new DockerConnection(address, {
      host: `tcp://${address}:${port}`,
      caMaterial: options.client.caMaterial,
      certMaterial: options.client.certMaterial,
      keyMaterial: options.client.keyMaterial,
    });
  }

  private constructor(
    /** The host's address (a token of the network stack's output). */
    public readonly address: string,
    /** @internal The provider arguments. */
    public readonly settings: { host: string; sshOpts?: string[]; caMaterial?: string; certMaterial?: string; keyMaterial?: string },
  ) {
    if (address.trim() === '') throw new Error('DockerConnection: the host address is empty');
  }
}

/** Credentials of one image registry; the password is a token of a sensitive variable. */
export interface RegistryLogin {
  /** Registry host (`ghcr.io`). */
  readonly address: string;
  readonly username: string;
  readonly password: string;
}

export interface DockerHostProviderProps {
  /** How to reach the daemon. */
  readonly connection: DockerConnection;
  /** Registries to log in to for pulling private images. @default - none: public images only */
  readonly registries?: readonly RegistryLogin[];
  /**
   * Provider alias, for stacks that place containers on several hosts
   * (one alias per host). @default - the stack's default docker provider
   */
  readonly alias?: string;
}

/**
 * The Docker provider for one host. A provider cannot be configured from
 * values unknown until apply, so it is only ever used in stacks that read the
 * host's address from the network stack's outputs, never in the stack that
 * creates the host.
 */
export class DockerHostProvider extends Construct {
  public readonly provider: DockerProvider;

  public constructor(scope: Construct, id: string, props: DockerHostProviderProps) {
    super(scope, id);
    if (props.alias !== undefined && !/^[a-z][a-z0-9_]*$/.test(props.alias)) {
      throw new Error(`DockerHostProvider: alias must be lowercase letters, digits and "_" (a Terraform identifier); got "${props.alias}"`);
    }
    for (const registry of props.registries ?? []) {
      if (!Token.isUnresolved(registry.password)) {
        throw new Error(`DockerHostProvider: the password of registry ${registry.address} must come from a sensitive variable, never a literal`);
      }
    }
    this.provider = new DockerProvider(this, 'provider', {
      ...props.connection.settings,
      alias: props.alias,
      registryAuth: props.registries?.map((registry) => ({ address: registry.address, username: registry.username, password: registry.password })),
    });
  }
}

function checkPort(where: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${where}: port must be a whole number from 1 to 65535; got ${port}`);
}
