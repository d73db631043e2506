import { Duration } from './duration';

/** How often and how patiently a health check probes. */
export interface HealthCheckTiming {
  /** Time between two probes. @default Duration.seconds(30) */
  readonly interval?: Duration;
  /** Time one probe may take before it counts as failed. @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** Consecutive failures before the container is unhealthy. @default 3 */
  readonly retries?: number;
  /** Grace period after start during which failures do not count. @default Duration.seconds(40) */
  readonly startPeriod?: Duration;
}

/** The Docker healthcheck block, resolved for one container. */
export interface DockerHealthCheck {
  readonly test: string[];
  readonly interval: string;
  readonly timeout: string;
  readonly retries: number;
  readonly startPeriod: string;
}

/**
 * The program an HTTP probe runs inside the container, since images ship
 * different tools: busybox or GNU `wget` (alpine and most slim images),
 * `curl` (Debian-based and many vendor images), or `node` (distroless Node
 * images, through Node 18+'s global `fetch`).
 */
export type HttpProbeClient = 'wget' | 'curl' | 'node';

type Probe =
  | { readonly kind: 'http'; readonly path: string; readonly port?: number; readonly client: HttpProbeClient }
  | { readonly kind: 'command'; readonly command: readonly string[] }
  | { readonly kind: 'shell'; readonly script: string }
  | { readonly kind: 'process'; readonly pattern: string }
  | { readonly kind: 'none'; readonly reason: string };

/**
 * The two forms of Docker's health check test, as the Docker provider's
 * `healthcheck.test` list takes them (Dockerfile reference, HEALTHCHECK:
 * `CMD` runs the arguments directly, `CMD-SHELL` runs one string with the
 * container's default shell, `/bin/sh -c` on Linux, and `NONE` disables the
 * image's own check; exit status 0 is healthy, 1 unhealthy). An exec-form
 * probe needs only its program in the image; a shell-form one needs `sh` too,
 * which distroless and scratch images lack.
 */
const EXEC = 'CMD';
const SHELL = 'CMD-SHELL';
export const NO_HEALTH_CHECK = 'NONE';

/** App defaults from the source documents: every 30s, 10s timeout, 3 retries, 40s start period. */
const APP_TIMING: Required<HealthCheckTiming> = {
  interval: Duration.seconds(30),
  timeout: Duration.seconds(10),
  retries: 3,
  startPeriod: Duration.seconds(40),
};

/**
 * How Docker decides a container is healthy. The edge proxy only routes to
 * healthy containers, so this is also what gates a zero-downtime deploy.
 */
export class HealthCheck {
  /**
   * An HTTP GET against the container itself, answered 2xx/3xx.
   * `port`: the port to probe (default: the service's own, or its health port).
   * `client`: the program that sends it (default `wget`, present in the
   * alpine images the services are built on); choose what the image has.
   */
  public static http(path: string, options: HealthCheckTiming & { readonly port?: number; readonly client?: HttpProbeClient } = {}): HealthCheck {
    if (!path.startsWith('/') || /[\s'"`$\\]/.test(path)) {
      throw new Error(`HealthCheck.http: path must start with "/" and contain no spaces, quotes, "$" or backslashes; got "${path}"`);
    }
    const client = options.client ?? 'wget';
    if (!['wget', 'curl', 'node'].includes(client)) {
      throw new Error(`HealthCheck.http: client must be wget, curl or node; got "${client}"`);
    }
    return new HealthCheck({ kind: 'http', path, port: options.port, client }, options);
  }

  /**
   * A program run inside the container in exec form, without a shell; exit
   * code 0 means healthy: `['/bin/grpc_health_probe', '-addr=:50051']`,
   * `['python', '-c', '...']`, `['pg_isready']`. Needs only the program, so
   * it works on slim, distroless and scratch images that ship it.
   */
  public static command(command: readonly string[], timing: HealthCheckTiming = {}): HealthCheck {
    if (command.length === 0) {
      throw new Error('HealthCheck.command: the command must not be empty');
    }
    return new HealthCheck({ kind: 'command', command }, timing);
  }

  /**
   * A command line run by the image's `/bin/sh -c` (Docker's `CMD-SHELL`):
   * pipes, `||`, variables. Needs `sh` in the image besides what the line
   * runs; prefer `command` (exec form) for images without a shell.
   */
  public static shell(script: string, timing: HealthCheckTiming = {}): HealthCheck {
    if (script.trim() === '') throw new Error('HealthCheck.shell: the command line must not be empty');
    return new HealthCheck({ kind: 'shell', script }, timing);
  }

  /**
   * No health check at all (Docker's `NONE`, which also turns off one the
   * image declares): the container counts as ready once it runs, the restart
   * policy restarts it when its process exits, and for a routed service the
   * edge's own checks (monitoring's uptime probes) are what notice a hang.
   * `reason` says why, and is kept on the container as a label.
   */
  public static none(reason: string): HealthCheck {
    if (typeof reason !== 'string' || reason.trim().length < 10 || /[\n\r]/.test(reason)) {
      throw new Error(`HealthCheck.none: give the reason the service has no probe, on one line (at least 10 characters); got ${JSON.stringify(reason)}`);
    }
    return new HealthCheck({ kind: 'none', reason: reason.trim() }, {});
  }

  /**
   * A process check for services without any HTTP route (workers): healthy
   * while a process runs whose command line starts with `command` (the
   * program, by name or path, then the given arguments): `crond`,
   * `node dist/worker.js`.
   */
  public static process(command: string, timing: HealthCheckTiming = {}): HealthCheck {
    if (command.trim() === '' || /[\n\r]/.test(command)) {
      throw new Error(`HealthCheck.process: the command must be non-empty and on one line; got "${command}"`);
    }
    return new HealthCheck({ kind: 'process', pattern: command.trim() }, timing);
  }

  public readonly timing: Required<HealthCheckTiming>;

  private constructor(private readonly probe: Probe, timing: HealthCheckTiming) {
    this.timing = { ...APP_TIMING, ...definedOnly(timing) };
    if (this.timing.timeout.toSeconds() > this.timing.interval.toSeconds()) {
      throw new Error(
        `HealthCheck: timeout (${this.timing.timeout.toSeconds()}s) must not exceed interval (${this.timing.interval.toSeconds()}s)`,
      );
    }
    if (!Number.isInteger(this.timing.retries) || this.timing.retries < 1) {
      throw new Error(`HealthCheck: retries must be a whole number >= 1; got ${this.timing.retries}`);
    }
  }

  /**
   * The same check with every argument of a command probe passed through
   * `transform` (the caller's escaping of user text for Terraform); other
   * probes are returned unchanged.
   */
  public withCommandText(transform: (text: string) => string): HealthCheck {
    switch (this.probe.kind) {
      case 'command':
        return new HealthCheck({ kind: 'command', command: this.probe.command.map(transform) }, this.timing);
      case 'shell':
        return new HealthCheck({ kind: 'shell', script: transform(this.probe.script) }, this.timing);
      case 'none':
        return new HealthCheck({ kind: 'none', reason: transform(this.probe.reason) }, this.timing);
      default:
        return this;
    }
  }

  /**
   * The programs the probe runs inside the container, which the image must
   * have: `sh` for shell-form probes (the default `wget` one included),
   * the program of an exec-form probe. Empty for `none`.
   */
  public get requiredTools(): string[] {
    switch (this.probe.kind) {
      case 'http':
        return this.probe.client === 'wget' ? ['sh', 'wget'] : [this.probe.client];
      case 'command':
        return [this.probe.command[0]!];
      case 'shell':
        return ['sh'];
      case 'process':
        return ['pgrep'];
      case 'none':
        return [];
    }
  }

  /** Why the service has no probe (`HealthCheck.none`); undefined for a real probe. */
  public get disabledReason(): string | undefined {
    return this.probe.kind === 'none' ? this.probe.reason : undefined;
  }

  /** True when the probe is an HTTP route (what the proxy-facing kinds require). */
  public get isHttp(): boolean {
    return this.probe.kind === 'http';
  }

  /** The HTTP route probed, for checks from outside the container (monitoring); undefined for other probes. */
  public get httpRoute(): { readonly path: string; readonly port?: number } | undefined {
    return this.probe.kind === 'http' ? { path: this.probe.path, port: this.probe.port } : undefined;
  }

  /** The HTTP client the probe runs inside the image (so the image has it); undefined for other probes. */
  public get httpClient(): HttpProbeClient | undefined {
    return this.probe.kind === 'http' ? this.probe.client : undefined;
  }

  /** The Docker healthcheck block for a container listening on `servicePort`. */
  public toDocker(servicePort?: number): DockerHealthCheck {
    return {
      test: this.test(servicePort),
      interval: this.timing.interval.toDockerString(),
      timeout: this.timing.timeout.toDockerString(),
      retries: this.timing.retries,
      startPeriod: this.timing.startPeriod.toDockerString(),
    };
  }

  private test(servicePort?: number): string[] {
    switch (this.probe.kind) {
      case 'http': {
        const port = this.probe.port ?? servicePort;
        if (port === undefined) {
          throw new Error(`HealthCheck.http("${this.probe.path}") needs a port: the service declares none`);
        }
        const url = `http://127.0.0.1:${port}${this.probe.path}`;
        switch (this.probe.client) {
          case 'curl':
            return [EXEC, 'curl', '--fail', '--silent', '--show-error', '--output', '/dev/null', url];
          case 'node':
            return [EXEC, 'node', '-e', `fetch('${url}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`];
          default:
            return [SHELL, `wget -q --spider ${url} || exit 1`];
        }
      }
      case 'command':
        return [EXEC, ...this.probe.command];
      case 'shell':
        return [SHELL, this.probe.script];
      case 'none':
        return [NO_HEALTH_CHECK];
      case 'process':
        // Exec form, no shell: `sh -c "pgrep -f 'crond'"` matched its own shell's command line and passed with no
        // crond running. The pattern is anchored at the program name, so neither the probe nor a parent that merely
        // mentions the command (docker-init's `/sbin/docker-init -- crond -f`, a wrapper shell) counts. pgrep skips
        // its own pid, joins argv with spaces for -f and uses POSIX extended regexps, in procps and in busybox
        // (procps/pgrep.c: `if (proc->pid == pid) continue;`, `xregcomp(..., REG_EXTENDED ...)`).
        return [EXEC, 'pgrep', '-f', processPattern(this.probe.pattern)];
    }
  }
}

/**
 * The extended regexp matching a command line that starts with `command`:
 * program name with an optional directory, then exactly the given arguments
 * (`crond` matches `/usr/sbin/crond -f`, not `sh -c crond` nor `crond-x`).
 */
export function processPattern(command: string): string {
  const escaped = command.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`);
  return `^([^ ]*/)?${escaped}( |$)`;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Data services' probes poll faster than apps': dependents wait on them. */
export const DATA_SERVICE_PROBE_TIMING = {
  interval: Duration.seconds(10),
  timeout: Duration.seconds(5),
  retries: 5,
  startPeriod: Duration.seconds(30),
};
