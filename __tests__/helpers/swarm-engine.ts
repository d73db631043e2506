/**
 * A real single-node swarm for the integration lane: a private dockerd
 * (its own socket, data and exec roots and network namespace, address pools
 * chosen at random), a busybox image made
 * with `docker import`, and the Engine API over the socket. `serviceSpecOf`
 * turns a synthesized `docker_service` into the ServiceSpec the provider
 * would send (kreuzwerker/terraform-provider-docker v3.6.2
 * internal/provider/resource_docker_service_structures.go,
 * createServiceSpec and its expand functions), so the engine runs what synth
 * wrote. To move into the e2e harness once it drives a real dockerd.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { dockerdStorageDriver } from '../../tools/e2e/engine/storage-driver';

const API = '/v1.41';

export class SwarmEngine {
  /**
   * `swarm: false`: a plain daemon, for tests of containers only. Each daemon has a network namespace of its own, so
   * several swarms run on the machine at once.
   */
  public static async start(options: { readonly swarm?: boolean } = {}): Promise<SwarmEngine> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-engine-'));
    const octet = 140 + Math.floor(Math.random() * 100);
    const log = fs.openSync(path.join(dir, 'dockerd.log'), 'w');
    // A network namespace of its own (loopback only): the swarm's ports (2377, gossip on 7946, VXLAN on 4789) and its
    // overlay links are private, so swarms of other test runs on this machine cannot collide with it, and whatever a
    // killed daemon leaves in the namespace goes with it. The API is a Unix socket, reachable from any namespace.
    const daemon = spawn(
      'unshare',
      [
        '--net',
        '--',
        'sh',
        '-c',
        'ip link set lo up && exec dockerd "$@"',
        'dockerd',
        `--storage-driver=${dockerdStorageDriver()}`,
        '--iptables=false',
        '--ip6tables=false',
        '--bridge=none',
        `--default-address-pool=base=10.${octet}.0.0/17,size=24`,
        `--host=unix://${dir}/docker.sock`,
        `--data-root=${dir}/data`,
        `--exec-root=${dir}/exec`,
        `--pidfile=${dir}/docker.pid`,
      ],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    const engine = new SwarmEngine(dir, daemon);
    try {
      await engine.until('dockerd answers', async () => (await engine.request('GET', '/_ping').catch(() => undefined))?.status === 200, 30);
      if (options.swarm === false) return engine;
      // The daemon has a network namespace of its own (above): 2377 and the VXLAN port are its own too.
      await engine.api('POST', '/swarm/init', { ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1', DefaultAddrPool: [`10.${octet}.128.0/17`], SubnetSize: 24 });
    } catch (error) {
      // A daemon whose swarm did not form would outlive the test run.
      await engine.stop();
      throw error;
    }
    return engine;
  }

  private constructor(public readonly dir: string, private readonly daemon: ChildProcess) {}

  public get socket(): string {
    return path.join(this.dir, 'docker.sock');
  }

  /** The docker CLI against this daemon; throws with its output on failure. */
  public cli(args: readonly string[], input?: Buffer): string {
    const result = spawnSync('docker', ['-H', `unix://${this.socket}`, ...args], { input, maxBuffer: 64 * 1024 * 1024 });
    if (result.status !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.toString().trim();
  }

  /**
   * An image of busybox (Debian's dynamically linked binary, its libraries and one symlink per applet), `/tmp`
   * mode 1777 as in every base image: runc keeps the mount point's mode on a tmpfs mounted over it.
   */
  public importBusybox(reference: string): void {
    const root = path.join(this.dir, 'rootfs');
    for (const sub of ['bin', 'lib64', 'lib/x86_64-linux-gnu', 'tmp', 'run', 'etc']) fs.mkdirSync(path.join(root, sub), { recursive: true });
    fs.chmodSync(path.join(root, 'tmp'), 0o1777);
    fs.copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
    fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
    const libraries = spawnSync('ldd', ['/bin/busybox']).stdout.toString().match(/\/\S+\.so[.\d]*/g) ?? [];
    for (const library of libraries) fs.copyFileSync(fs.realpathSync(library), path.join(root, library.replace(/^\/usr/, '')));
    for (const applet of spawnSync('/bin/busybox', ['--list']).stdout.toString().split('\n').filter(Boolean)) {
      if (applet !== 'busybox') fs.symlinkSync('busybox', path.join(root, 'bin', applet));
    }
    const tar = spawnSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 * 1024 * 1024 });
    this.cli(['import', '-', reference], tar.stdout);
  }

  public request(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
    return engineRequest(this.socket, method, route, body);
  }

  /** The Engine API; throws on a status of 300 or more. */
  public async api(method: string, route: string, body?: unknown): Promise<any> {
    const answer = await this.request(method, route, body);
    if (answer.status >= 300) throw new Error(`${method} ${route}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  /**
   * Adds labels to this daemon's own node. The node's status reports bump its spec version, so an update with the
   * version just read can be refused (SwarmKit's ErrSequenceConflict, "update out of sequence"; seen under load just
   * after the swarm formed): read again and retry, as scripts/swarm/join does. Returns the node's id.
   */
  public async labelNode(labels: Readonly<Record<string, string>>): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const [node] = await this.api('GET', '/nodes');
      const answer = await this.request('POST', `/nodes/${node.ID}/update?version=${node.Version.Index}`, { ...node.Spec, Labels: { ...node.Spec.Labels, ...labels } });
      if (answer.status < 300) return node.ID;
      if (!JSON.stringify(answer.body).includes('update out of sequence') || attempt === 5) throw new Error(`labelling node ${node.ID}: ${answer.status} ${JSON.stringify(answer.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** Polls `check` every 500 ms until it holds, or fails after `seconds` naming `what`. */
  public async until(what: string, check: () => Promise<boolean>, seconds: number): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`timed out after ${seconds}s waiting until ${what}; the newest tasks:\n${await this.taskReport().catch(String)}`);
  }

  /**
   * The newest tasks of every service with their state and error, and each one's container health log: what a
   * replica that never runs died of, since the daemon's directory (and its log) is gone after the run.
   */
  public async taskReport(): Promise<string> {
    const tasks = ((await this.api('GET', '/tasks')) as any[]).sort((a, b) => String(b.CreatedAt).localeCompare(String(a.CreatedAt))).slice(0, 6);
    const lines = await Promise.all(
      tasks.map(async (task) => {
        const container = task.Status.ContainerStatus?.ContainerID;
        const health = container ? (await this.request('GET', `/containers/${container}/json`)).body?.State?.Health : undefined;
        const probes = (health?.Log ?? []).slice(-2).map((probe: any) => `exit ${probe.ExitCode} ${JSON.stringify(probe.Output)}`);
        return `  ${task.Spec.ContainerSpec.Args?.join(' ') ?? ''}: ${task.Status.State} ${task.Status.Err ?? task.Status.Message}${probes.length ? `; probes: ${probes.join(', ')}` : ''}`;
      }),
    );
    return lines.join('\n');
  }

  /** Tasks of a service, newest first. */
  public async tasks(service: string): Promise<any[]> {
    const tasks = (await this.api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service] }))}`)) as any[];
    return tasks.sort((a, b) => String(b.CreatedAt).localeCompare(String(a.CreatedAt)));
  }

  /** Stops the daemon (its network namespace goes with it) and removes its directory (stopDaemons). */
  public async stop(): Promise<void> {
    await stopDaemons(this.dir, [{ socket: this.socket, process: this.daemon }]);
  }
}

/**
 * Stops test daemons and removes `dir`, which holds their data: their services go first (no task is replaced after
 * that), then every container by force, then each dockerd is killed. No graceful shutdown: it would stop each task
 * within its stop grace period (10 s as synthesized by default; busybox stand-ins as PID 1 ignore SIGTERM) and wait
 * on the swarm's departure (a manager of three waited 5 s for the ingress network's removal; three daemons took 7 s
 * to stop, one 1.5 s). Nothing of a daemon outlives the kill: its containers are gone, and dockerd starts its
 * containerd with Pdeathsig SIGKILL (moby libcontainerd/supervisor/utils_linux.go, containerdSysProcAttr).
 */
export async function stopDaemons(dir: string, daemons: ReadonlyArray<{ readonly socket: string; readonly process: ChildProcess }>): Promise<void> {
  const running = daemons.filter(({ process }) => process.exitCode === null && process.signalCode === null);
  const list = async (socket: string, route: string): Promise<any[]> => {
    const answer = await engineRequest(socket, 'GET', route).catch(() => undefined);
    return answer?.status === 200 && Array.isArray(answer.body) ? answer.body : [];
  };
  // Every manager lists the swarm's services (a worker answers 503); a second removal of one is a harmless 404.
  await Promise.all(running.map(async ({ socket }) => Promise.all((await list(socket, '/services')).map(({ ID }) => engineRequest(socket, 'DELETE', `/services/${ID}`).catch(() => undefined)))));
  await Promise.all(running.map(async ({ socket }) => Promise.all((await list(socket, '/containers/json?all=1')).map(({ Id }) => engineRequest(socket, 'DELETE', `/containers/${Id}?force=true`).catch(() => undefined)))));
  await Promise.all(
    running.map(({ process }) => {
      const exited = new Promise((resolve) => process.once('exit', resolve));
      process.kill('SIGKILL');
      return exited;
    }),
  );
  const mountsUnder = () =>
    fs
      .readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((mount) => mount.startsWith(dir))
      .sort()
      .reverse();
  // A network namespace's mount can still appear under the directory just after the kill (seen once under load:
  // EBUSY on exec/netns/ingress_sbox), so the unmount and removal are tried again for up to 2 s.
  for (let attempt = 1; ; attempt++) {
    for (const mount of mountsUnder()) spawnSync('umount', ['-l', mount]);
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt === 20) throw new Error(`${(error as Error).message}; mounts left under ${dir}: ${mountsUnder().join(', ') || 'none'}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A Docker duration (`45s`, `500ms`, `2m`) in nanoseconds, as the Engine API takes it. */
export function nanoseconds(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(duration);
  if (!match) throw new Error(`not a Docker duration: ${duration}`);
  const unit = { ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

/**
 * The Engine API ServiceSpec of a synthesized `docker_service`, `resolve` replacing each Terraform reference
 * (`${docker_secret.x.id}`) and each escaped `$${` becoming `${`; an unresolved reference left anywhere fails.
 */
export function serviceSpecOf(body: any, resolve: (reference: string) => string): any {
  // Terraform's escape `$${` is a literal `${` (a shell's parameter expansion in a script), no reference.
  const ESCAPED = '\u0000{';
  const text = JSON.stringify(body).replaceAll('$${', ESCAPED).replace(/\$\{[^}]+\}/g, (reference) => resolve(reference));
  if (text.includes('${')) throw new Error(`unresolved reference in ${text}`);
  const service = JSON.parse(text.replaceAll(ESCAPED, '${'));
  const container = service.task_spec.container_spec;
  const update = (config: any) =>
    config && { Parallelism: config.parallelism, Delay: nanoseconds(config.delay), FailureAction: config.failure_action, Monitor: nanoseconds(config.monitor), MaxFailureRatio: Number(config.max_failure_ratio), Order: config.order };
  const health = container.healthcheck;
  return {
    Name: service.name,
    Labels: Object.fromEntries((service.labels ?? []).map(({ label, value }: any) => [label, value])),
    Mode: service.mode.global ? { Global: {} } : { Replicated: { Replicas: service.mode.replicated.replicas } },
    TaskTemplate: {
      ContainerSpec: {
        Image: container.image,
        Command: container.command,
        Args: container.args,
        Env: Object.entries(container.env ?? {}).map(([key, value]) => `${key}=${value}`),
        User: container.user,
        Groups: container.groups,
        ReadOnly: container.read_only,
        CapabilityDrop: container.cap_drop,
        CapabilityAdd: container.cap_add,
        StopGracePeriod: nanoseconds(container.stop_grace_period),
        StopSignal: container.stop_signal,
        Healthcheck: health && { Test: health.test, Interval: nanoseconds(health.interval), Timeout: nanoseconds(health.timeout), Retries: health.retries, StartPeriod: nanoseconds(health.start_period) },
        Mounts: (container.mounts ?? []).map((mount: any) => ({
          Type: mount.type,
          Source: mount.source,
          Target: mount.target,
          ReadOnly: mount.read_only,
          TmpfsOptions: mount.tmpfs_options && { SizeBytes: mount.tmpfs_options.size_bytes, Mode: mount.tmpfs_options.mode },
        })),
        Secrets: (container.secrets ?? []).map((secret: any) => ({
          SecretID: secret.secret_id,
          SecretName: secret.secret_name,
          File: { Name: secret.file_name, UID: secret.file_uid, GID: secret.file_gid, Mode: secret.file_mode },
        })),
      },
      Resources: {
        Limits: { NanoCPUs: service.task_spec.resources.limits.nano_cpus, MemoryBytes: service.task_spec.resources.limits.memory_bytes },
        Reservations: { NanoCPUs: service.task_spec.resources.reservation.nano_cpus, MemoryBytes: service.task_spec.resources.reservation.memory_bytes },
      },
      RestartPolicy: {
        Condition: service.task_spec.restart_policy.condition,
        Delay: nanoseconds(service.task_spec.restart_policy.delay),
        MaxAttempts: service.task_spec.restart_policy.max_attempts,
      },
      Placement: { Constraints: service.task_spec.placement.constraints, MaxReplicas: service.task_spec.placement.max_replicas },
      Networks: (service.task_spec.networks_advanced ?? []).map((network: any) => ({ Target: network.name, Aliases: network.aliases })),
      LogDriver: service.task_spec.log_driver && { Name: service.task_spec.log_driver.name, Options: service.task_spec.log_driver.options },
    },
    UpdateConfig: update(service.update_config),
    RollbackConfig: update(service.rollback_config),
  };
}

/** One Engine API call over a daemon's Unix socket (`/_ping` as is, other routes under the pinned API version). */
export function engineRequest(socket: string, method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      { socketPath: socket, agent: false, method, path: route.startsWith('/_') ? route : `${API}${route}`, headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // plain text answers (_ping)
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/**
 * Creates the synthesized docker_secret `id` (of `secrets`, a stack's docker_secret resources) holding `value`, as
 * resource_docker_secret.go creates it (its name with a fresh revision for the random_id), and records in
 * `references` what its `id` and `name` references resolve to, for serviceSpecOf.
 */
export async function createSynthesizedSecret(
  engine: SwarmEngine,
  secrets: Record<string, any>,
  references: Map<string, string>,
  id: string,
  value: string,
): Promise<{ id: string; name: string }> {
  const name = String(secrets[id].name).replace(/\$\{random_id\.[^}]+\.hex\}/, randomBytes(4).toString('hex'));
  const { ID } = await engine.api('POST', '/secrets/create', { Name: name, Data: Buffer.from(value).toString('base64') });
  references.set(`\${docker_secret.${id}.id}`, ID);
  references.set(`\${docker_secret.${id}.name}`, name);
  return { id: ID, name };
}
