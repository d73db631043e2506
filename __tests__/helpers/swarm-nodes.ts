/**
 * Several Docker daemons on one machine as the hosts of one swarm: each in
 * its own network namespace (its own 10.231.<n>.x address on a shared bridge,
 * so 2377/7946/4789 do not clash and no vxlan link lands in the machine's
 * namespace) and its own UTS namespace (its own hostname, which is the node's
 * name), with its own socket, data and exec roots. `ssh` is a stand-in for
 * SSH: `<ssh> <host> <command>` runs the command in a shell whose docker CLI
 * and DOCKER_SOCKET point at that host's daemon.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dockerdStorageDriver } from '../../tools/e2e/engine/storage-driver';
import { stopChild } from './child-process';
import { engineRequest, stopDaemons } from './swarm-engine';

function run(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
}

export interface SwarmNodeHost {
  readonly hostname: string;
  readonly address: string;
  readonly socket: string;
}

export class SwarmNodes {
  private readonly daemons = new Map<string, ChildProcess>();
  private readonly namespaces: string[] = [];
  private readonly bridge: string;
  private readonly subnet: number;

  public constructor(public readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-nodes-'))) {
    const suffix = path.basename(dir).slice(-6).toLowerCase().replace(/[^a-z0-9]/g, 'x');
    this.bridge = `swb${suffix}`;
    this.subnet = 200 + Math.floor(Math.random() * 50);
    run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    run('ip', ['link', 'set', this.bridge, 'up']);
    // The stand-in for SSH: the command runs against the named host's daemon.
    fs.writeFileSync(
      this.ssh,
      // `deploy@app-1` (as the network stack writes it) reaches the host app-1.
      `#!/bin/sh\nhost=\${1#*@}\nexport DOCKER_HOST="unix://${dir}/$host/docker.sock" DOCKER_SOCKET="${dir}/$host/docker.sock"\nexec sh -c "$2"\n`,
      { mode: 0o755 },
    );
  }

  /** The SSH stand-in's path (SWARM_SSH). */
  public get ssh(): string {
    return path.join(this.dir, 'ssh');
  }

  /**
   * Starts a daemon as `hostname` in the namespace of the `index`-th address; a second start with the same
   * index is a replacement host: same address and hostname, empty data root (reached as `instance`).
   * `address` puts the host at the address a synthesized environment gives it (namespaces keep it off the machine's own).
   */
  public async start(instance: string, hostname: string, index: number, address = `10.231.${this.subnet}.${index}`): Promise<SwarmNodeHost> {
    const namespace = `${this.bridge}-${index}`;
    if (!this.namespaces.includes(namespace)) {
      const [outside, inside] = [`${this.bridge}h${index}`, `${this.bridge}n${index}`];
      run('ip', ['netns', 'add', namespace]);
      this.namespaces.push(namespace);
      run('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside]);
      run('ip', ['link', 'set', outside, 'master', this.bridge, 'up']);
      run('ip', ['link', 'set', inside, 'netns', namespace]);
      run('ip', ['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', inside]);
      run('ip', ['-n', namespace, 'link', 'set', inside, 'up']);
      run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
    }
    const root = path.join(this.dir, instance);
    fs.mkdirSync(root);
    const log = fs.openSync(path.join(root, 'dockerd.log'), 'w');
    const flags = [
      `--storage-driver=${dockerdStorageDriver()}`, '--iptables=false', '--ip6tables=false', '--bridge=none',
      `--host=unix://${root}/docker.sock`, `--data-root=${root}/data`, `--exec-root=${root}/exec`, `--pidfile=${root}/docker.pid`,
    ];
    // unshare and nsenter exec what follows: the child is dockerd itself. nsenter, not `ip netns exec`, which remounts /sys and hides the cgroup mounts dockerd needs.
    const daemon = spawn('unshare', ['--uts', 'sh', '-c', `hostname ${hostname} && exec nsenter --net=/var/run/netns/${namespace} dockerd ${flags.join(' ')}`], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.daemons.set(instance, daemon);
    const host = { hostname, address, socket: path.join(root, 'docker.sock') };
    const deadline = Date.now() + 30_000;
    // The API's ping over the socket, not a docker CLI per try (a Go program's start costs 30 ms of CPU).
    while ((await engineRequest(host.socket, 'GET', '/_ping').catch(() => undefined))?.status !== 200) {
      if (Date.now() > deadline) throw new Error(`dockerd ${instance} did not answer within 30 s; log: ${root}/dockerd.log`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return host;
  }

  /** The network namespace of the `index`-th address (`nsenter --net=<it>`): a process there is on that host's network. */
  public namespace(index: number): string {
    return `/var/run/netns/${this.bridge}-${index}`;
  }

  /** Runs `command` in the network namespace of the `index`-th address (to reach a port a task published there). */
  public inNamespace(index: number, command: readonly string[]): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync('nsenter', [`--net=${this.namespace(index)}`, ...command], { encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** The docker CLI against `instance`'s daemon; throws with its output on failure. */
  public docker(instance: string, args: readonly string[]): string {
    const result = spawnSync('docker', ['-H', `unix://${path.join(this.dir, instance, 'docker.sock')}`, ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.trim();
  }

  /**
   * Stops a daemon, as a deleted server disappears: it does not leave the swarm, the managers see its node down
   * once heartbeats stop. SIGTERM first, so dockerd stops the containerd it started.
   */
  public async kill(instance: string): Promise<void> {
    const daemon = this.daemons.get(instance);
    if (daemon !== undefined) await stopChild(daemon, 15_000);
  }

  /** Stops every daemon (stopDaemons), then removes the namespaces, links and the directory. */
  public async stop(): Promise<void> {
    await stopDaemons(this.dir, [...this.daemons].map(([instance, process]) => ({ socket: path.join(this.dir, instance, 'docker.sock'), process })));
    for (const namespace of this.namespaces) spawnSync('ip', ['netns', 'delete', namespace]);
    spawnSync('ip', ['link', 'delete', this.bridge]);
  }
}
