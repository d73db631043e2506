/**
 * A real OpenSSH server for one test, standing in for a host's: its own
 * configuration and host keys (RSA, ECDSA and Ed25519, the types cloud-init
 * generates at a server's first boot), one authorized key, no PAM, started
 * in the foreground as a child of the test. It runs in a host's network
 * namespace (__tests__/helpers/swarm-nodes.ts) at that host's address and
 * port 22, as the server would, and in a mount namespace of its own with a
 * fresh tmpfs on /dev/shm, so what a session leaves there is this server's
 * alone and visible to the test at `shm`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stopChild } from './child-process';

/**
 * bash sources ~/.bashrc for a command run by sshd, interactive or not. This machine's root has one that initializes
 * pyenv (about 40 processes per SSH command); a host's deploy user has Debian's, which returns at once for a command.
 * In the server's mount namespace the file reads empty.
 */
const HIDE_BASHRC = 'home=$(getent passwd "$(id -u)" | cut -d: -f6) && { [ ! -f "$home/.bashrc" ] || mount --bind /dev/null "$home/.bashrc"; }';

export interface TestSshdOptions {
  /** A directory for the configuration, host keys and log (created). */
  readonly dir: string;
  /** The network namespace to listen in (`SwarmNodes.namespace`). */
  readonly namespace: string;
  /** The address to listen on, port 22. */
  readonly address: string;
  /** The one public key allowed to log in (as the user running the test). */
  readonly authorizedKey: string;
  /** Variables every session starts with (sshd's SetEnv). @default - none */
  readonly environment?: Readonly<Record<string, string>>;
}

export class TestSshd {
  /**
   * Starts sshd and waits until it listens. /run/sshd, its privilege-separation directory, is created if missing
   * (Debian's service does the same at start).
   */
  public static async start(options: TestSshdOptions): Promise<TestSshd> {
    fs.mkdirSync(options.dir, { recursive: true });
    const hostKeys: string[] = [];
    for (const type of ['rsa', 'ecdsa', 'ed25519']) {
      const file = path.join(options.dir, `ssh_host_${type}_key`);
      const keygen = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', '', '-f', file], { encoding: 'utf8' });
      if (keygen.status !== 0) throw new Error(`ssh-keygen -t ${type}: ${keygen.stderr}`);
      hostKeys.push(file);
    }
    fs.writeFileSync(path.join(options.dir, 'authorized_keys'), `${options.authorizedKey.trim()}\n`, { mode: 0o600 });
    const setEnv = Object.entries(options.environment ?? {}).map(([name, value]) => `${name}=${value}`);
    const config = path.join(options.dir, 'sshd_config');
    fs.writeFileSync(
      config,
      [
        `ListenAddress ${options.address}:22`,
        ...hostKeys.map((file) => `HostKey ${file}`),
        `AuthorizedKeysFile ${path.join(options.dir, 'authorized_keys')}`,
        'AuthenticationMethods publickey',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        // The key files sit under the test's temporary directory, which StrictModes' ownership checks would refuse.
        'StrictModes no',
        'PidFile none',
        // Logs each connection ("Connection from"), not only logins: a test can tell "never connected" from "refused".
        'LogLevel VERBOSE',
        ...(setEnv.length > 0 ? [`SetEnv ${setEnv.join(' ')}`] : []),
        '',
      ].join('\n'),
    );
    const log = path.join(options.dir, 'sshd.log');
    // unshare and nsenter exec what follows, so the child is sshd itself (-D: no daemon; -e: log to stderr).
    const logFd = fs.openSync(log, 'w');
    const daemon = spawn(
      'unshare',
      ['--mount', 'sh', '-c', `mount -t tmpfs -o mode=1777,size=16m tmpfs /dev/shm && ${HIDE_BASHRC} && mkdir -p /run/sshd && exec nsenter --net=${options.namespace} /usr/sbin/sshd -D -e -f ${config}`],
      { stdio: ['ignore', 'ignore', logFd] },
    );
    fs.closeSync(logFd);
    const sshd = new TestSshd(daemon, log, hostKeys);
    const deadline = Date.now() + 10_000;
    while (!fs.readFileSync(log, 'utf8').includes('Server listening on')) {
      if (daemon.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${fs.readFileSync(log, 'utf8')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return sshd;
  }

  private constructor(
    private readonly daemon: ChildProcess,
    /** sshd's log (connections, logins, refusals). */
    public readonly logFile: string,
    private readonly hostKeyFiles: readonly string[],
  ) {}

  /** The server's public host keys as `<type> <base64>`, in the order of their files (RSA, ECDSA, Ed25519). */
  public get hostKeys(): string[] {
    return this.hostKeyFiles.map((file) => fs.readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' '));
  }

  /** sshd's log so far. */
  public get log(): string {
    return fs.readFileSync(this.logFile, 'utf8');
  }

  /** /dev/shm as the server's sessions see it (its own tmpfs). */
  public get shm(): string {
    return `/proc/${this.daemon.pid}/root/dev/shm`;
  }

  /** Stops the server; its tmpfs goes with its mount namespace. */
  public async stop(): Promise<void> {
    await stopChild(this.daemon, 5_000);
  }
}
