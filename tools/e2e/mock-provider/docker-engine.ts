/**
 * The mock docker provider's resources acting on a real Docker daemon (E2E_DOCKER_SOCKET): what
 * kreuzwerker/terraform-provider-docker v3.6.2 (the version @cdktf/provider-docker 12.0.3 wraps; see curated.ts)
 * sends to the Engine API, for the options this library synthesizes. Files cited are at tag v3.6.2 under
 * internal/provider/. Two substitutions, both because one daemon stands in for a remote host: host paths live
 * under E2E_DOCKER_HOST_ROOT (the emulated host's filesystem; the Docker socket is this daemon's), and published
 * ports bind an ephemeral host port (runs and other daemons on the machine must not collide on 80/443).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VOLUME_SENTINEL } from '../../../constructs/docker/data-scripts';
import { EDGE_DYNAMIC_HOST_DIR, EDGE_PROXY_USER_ID } from '../../../constructs/docker/edge-proxy';
import { EngineClient, EngineError, demultiplex } from '../engine/api';

type Attrs = Record<string, any>;

/** Go's time.ParseDuration for the forms the library writes ("30s", "1m30s", "500ms"), in nanoseconds. */
export function durationNs(text: string | null | undefined): number {
  if (!text) return 0;
  const units: Record<string, number> = { ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)(ms|s|m|h)/g, (_, n: string, unit: string) => {
    total += Number(n) * units[unit];
    return '';
  });
  if (rest !== '') throw new Error(`unparseable duration "${text}"`);
  return Math.round(total);
}

/** A host path of the emulated host: the Docker socket is this daemon's; everything else lives under the host root. */
function hostPath(source: string): string {
  const socket = process.env.E2E_DOCKER_SOCKET!;
  if (source === '/var/run/docker.sock') return socket;
  const root = process.env.E2E_DOCKER_HOST_ROOT!;
  const target = path.join(root, source);
  fs.mkdirSync(target, { recursive: true });
  // Cloud-init creates the edge proxy's file provider directory owned by its user at first boot (stacks/network-stack.ts).
  if (source === EDGE_DYNAMIC_HOST_DIR) fs.chownSync(target, EDGE_PROXY_USER_ID, EDGE_PROXY_USER_ID);
  // A mounted Hetzner volume (ext4: mkfs makes lost+found) carries the sentinel naming the volume, written by the
  // host once mounted (constructs/hetzner/data-host.ts); the volume guards check them.
  const volume = /^\/mnt\/(HC_Volume_\d+)/.exec(source)?.[1];
  if (volume) {
    const mountPoint = path.join(root, 'mnt', volume);
    fs.mkdirSync(path.join(mountPoint, 'lost+found'), { recursive: true });
    if (!fs.existsSync(path.join(mountPoint, VOLUME_SENTINEL))) fs.writeFileSync(path.join(mountPoint, VOLUME_SENTINEL), volume);
  }
  return target;
}

const labelMap = (labels: Attrs[] | null) => Object.fromEntries((labels ?? []).map((l) => [l.label, l.value]));

/** resource_docker_container_funcs.go resourceDockerContainerCreate: container.Config and container.HostConfig. */
export function containerCreateBody(a: Attrs, image: string): Attrs {
  const hc = a.healthcheck?.[0];
  const ports = a.ports ?? [];
  return {
    Image: image,
    Env: a.env ?? undefined,
    Cmd: a.command?.length ? a.command : undefined,
    Entrypoint: a.entrypoint?.length ? a.entrypoint : undefined,
    User: a.user ?? '',
    StopTimeout: a.stop_timeout ?? undefined,
    Labels: labelMap(a.labels),
    // resource_docker_container_structures.go portSetToDockerPorts: "<internal>/<protocol>".
    ExposedPorts: ports.length ? Object.fromEntries(ports.map((p: Attrs) => [`${p.internal}/${p.protocol}`, {}])) : undefined,
    Healthcheck: hc ? { Test: hc.test, Interval: durationNs(hc.interval), Timeout: durationNs(hc.timeout), StartPeriod: durationNs(hc.start_period), Retries: hc.retries ?? 0 } : undefined,
    HostConfig: {
      RestartPolicy: { Name: a.restart ?? 'no', MaximumRetryCount: a.max_retry_count ?? 0 },
      ReadonlyRootfs: a.read_only ?? false,
      LogConfig: { Type: a.log_driver ?? '', Config: a.log_opts ?? {} },
      Tmpfs: a.tmpfs ?? undefined,
      // Ephemeral host port instead of `external` (see the file comment).
      PortBindings: ports.length ? Object.fromEntries(ports.map((p: Attrs) => [`${p.internal}/${p.protocol}`, [{ HostPort: '' }]])) : undefined,
      // structures.go volumeSetToDockerVolumes: "<host_path>:<container_path>:ro|rw".
      Binds: (a.volumes ?? []).map((v: Attrs) => `${hostPath(v.host_path)}:${v.container_path}:${v.read_only ? 'ro' : 'rw'}`),
      Mounts: (a.mounts ?? []).map((m: Attrs) => ({ Type: m.type, Target: m.target, Source: m.type === 'bind' ? hostPath(m.source) : m.source, ReadOnly: m.read_only ?? false })),
      CapAdd: a.capabilities?.[0]?.add ?? undefined,
      CapDrop: a.capabilities?.[0]?.drop ?? undefined,
      SecurityOpt: a.security_opts ?? undefined,
      Memory: a.memory ? a.memory * 1024 * 1024 : 0,
      MemorySwap: a.memory_swap ? (a.memory_swap > 0 ? a.memory_swap * 1024 * 1024 : a.memory_swap) : 0,
      ShmSize: a.shm_size ? a.shm_size * 1024 * 1024 : 0,
      ...(a.cpus ? { CpuPeriod: 100000, CpuQuota: Math.round(Number(a.cpus) * 100000) } : {}),
      CpuShares: a.cpu_shares ?? 0,
      GroupAdd: a.group_add ?? undefined,
      Init: a.init ?? false,
    },
  };
}

/**
 * A failure the provider reports as a diagnostic of its own (not a crash of the mock): its summary is the
 * provider's message, the detail what the engine says about why.
 */
export class ProviderDiagnostic extends Error {
  constructor(
    readonly summary: string,
    readonly detail: string,
  ) {
    super(`${summary}: ${detail}`);
  }
}

async function waitFor<T>(timedOut: () => Promise<never>, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) return timedOut();
    await new Promise((r) => setTimeout(r, 1000)); // the provider polls every second too
  }
}

/** The engine-backed create/delete of the docker resources; returns the computed attributes that change. */
export class DockerEngineResources {
  readonly client = new EngineClient(process.env.E2E_DOCKER_SOCKET!);

  static enabled(): boolean {
    return Boolean(process.env.E2E_DOCKER_SOCKET && process.env.E2E_DOCKER_HOST_ROOT);
  }

  async create(type: string, a: Attrs): Promise<Attrs | undefined> {
    if (type === 'docker_network') return this.createNetwork(a);
    if (type === 'docker_image') {
      // resource_docker_image_funcs.go: an image already present locally is not pulled; image_id is its id.
      const image = await this.client.request('GET', `/images/${encodeURIComponent(a.name)}/json`).catch((e: EngineError) => {
        throw new Error(`no stand-in image for ${a.name} in the e2e's daemon (${e.message}); tools/e2e/engine/standins.ts builds one per synthesized image`);
      });
      return { image_id: image.Id, id: `${image.Id}${a.name}` };
    }
    if (type === 'docker_container') return this.createContainer(a);
    return undefined;
  }

  async delete(type: string, a: Attrs): Promise<void> {
    if (type === 'docker_network') {
      await this.client.request('DELETE', `/networks/${a.id}`).catch(ignoreMissing);
    } else if (type === 'docker_container') {
      // resource_docker_container_funcs.go resourceDockerContainerDelete: stop with destroy_grace_seconds as the
      // timeout (SIGTERM, then SIGKILL after it) unless attached, then remove with force.
      if (!a.attach) await this.client.request('POST', `/containers/${a.id}/stop?t=${a.destroy_grace_seconds ?? 0}`, undefined, { timeoutMs: 600_000 }).catch(ignoreMissing);
      await this.client.request('DELETE', `/containers/${a.id}?force=true`).catch(ignoreMissing);
    }
  }

  /** resource_docker_network_funcs.go resourceDockerNetworkCreate. */
  private async createNetwork(a: Attrs): Promise<Attrs> {
    const ipam = (a.ipam_config ?? []).map((c: Attrs) => ({ Subnet: c.subnet || undefined, Gateway: c.gateway || undefined, IPRange: c.ip_range || undefined }));
    const created = await this.client.request('POST', '/networks/create', {
      Name: a.name,
      Driver: a.driver ?? 'bridge',
      Internal: a.internal ?? false,
      EnableIPv6: a.ipv6 ?? false,
      Labels: labelMap(a.labels),
      CheckDuplicate: true,
      IPAM: ipam.length ? { Driver: a.ipam_driver ?? 'default', Config: ipam } : undefined,
    });
    return { id: created.Id };
  }

  private async createContainer(a: Attrs): Promise<Attrs> {
    const body = containerCreateBody(a, a.image);
    // The provider creates on the default bridge, disconnects it and connects every networks_advanced entry
    // (resourceDockerContainerCreate). The e2e's daemon has no default bridge, so the first network is given at
    // create and the rest connected: the same endpoints and aliases.
    const [first, ...rest] = a.networks_advanced ?? [];
    const endpoint = (n: Attrs) => ({ Aliases: n.aliases ?? [], IPAMConfig: { IPv4Address: n.ipv4_address || undefined, IPv6Address: n.ipv6_address || undefined } });
    if (first) {
      body.HostConfig.NetworkMode = first.name;
      body.NetworkingConfig = { EndpointsConfig: { [first.name]: endpoint(first) } };
    }
    const created = await this.client.request('POST', `/containers/create?name=${encodeURIComponent(a.name)}`, body);
    const id: string = created.Id;
    for (const n of rest) await this.client.request('POST', `/networks/${encodeURIComponent(n.name)}/connect`, { Container: id, EndpointConfig: endpoint(n) });
    await this.client.request('POST', `/containers/${id}/start`);
    const inspect = () => this.client.inspect(id);
    if (a.wait) {
      // "wait": poll ContainerInspect every second until State.Health.Status is healthy, up to wait_timeout (an
      // unhealthy container is waited for to the end too). The provider says only errContainerFailedToBeInHealthyState,
      // "container failed to be in healthy state", and Terraform adds the resource address; the detail (which
      // container, its last probe's exit and output) is the mock's, so a failed e2e says why.
      const failure = async () => {
        throw new ProviderDiagnostic('container failed to be in healthy state', `container ${a.name}, within wait_timeout ${a.wait_timeout ?? 60}s: ${await this.lastHealth(id)}`);
      };
      await waitFor(failure, (a.wait_timeout ?? 60) * 1000, async () => {
        const state = (await inspect()).State;
        if (!state.Health) throw new Error(`container ${a.name}: 'wait' is set but the container has no health check`);
        if (state.Health.Status === 'healthy') return true;
        return undefined;
      });
    }
    if (a.attach) {
      // "attach": ContainerWait(WaitConditionNotRunning), the create returns when the container has exited; with
      // "logs", the whole output becomes container_logs (each line and "\n"). resourceDockerContainerRead then,
      // with must_run false, records State.ExitCode in exit_code: a non-zero exit is no error of the provider's
      // (the library's postcondition on exit_code fails the apply, constructs/docker/release-task.ts).
      await this.client.request('POST', `/containers/${id}/wait?condition=not-running`, undefined, { timeoutMs: 20 * 60_000 });
      const state = (await inspect()).State;
      const output = a.logs ? (await this.logs(id, 'all')).split('\n').map((line) => `${line}\n`).join('') : undefined;
      return { id, exit_code: state.ExitCode, ...(output !== undefined ? { container_logs: output } : {}) };
    } else if (a.must_run !== false && !(await inspect()).State.Running) {
      // resourceDockerContainerRead: a container that must run but does not is an error.
      throw new Error(`container ${a.name} is not running after start: ${await this.logs(id)}`);
    }
    return { id };
  }

  private async lastHealth(id: string): Promise<string> {
    const state = (await this.client.inspect(id)).State;
    const log = state.Health?.Log?.slice(-1)[0];
    return `state ${state.Status} (exit ${state.ExitCode}), health ${state.Health?.Status}${log ? `, last probe exit ${log.ExitCode}: ${log.Output.trim()}` : ''}; logs: ${await this.logs(id)}`;
  }

  private async logs(id: string, tail: number | 'all' = 20): Promise<string> {
    const raw: Buffer = await this.client.request('GET', `/containers/${id}/logs?stdout=1&stderr=1&tail=${tail}`, undefined, { binary: true });
    const text = demultiplex(raw).trim();
    return tail === 'all' ? text : text.slice(-1500);
  }
}

function ignoreMissing(error: EngineError): void {
  if (error.status !== 404) throw error;
}
