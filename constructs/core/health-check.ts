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
  | { readonly kind: 'process'; readonly pattern: string };

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

  /** A command run inside the container; exit code 0 means healthy (`pg_isready`, `redis-cli ping`). */
  public static command(command: readonly string[], timing: HealthCheckTiming = {}): HealthCheck {
    if (command.length === 0) {
      throw new Error('HealthCheck.command: the command must not be empty');
    }
    return new HealthCheck({ kind: 'command', command }, timing);
  }

  /** A process check for services without any HTTP route (workers): healthy while a matching process runs. */
  public static process(pattern: string, timing: HealthCheckTiming = {}): HealthCheck {
    if (pattern.trim() === '' || pattern.includes("'")) {
      throw new Error(`HealthCheck.process: pattern must be non-empty and contain no single quote; got "${pattern}"`);
    }
    return new HealthCheck({ kind: 'process', pattern }, timing);
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

  /** True when the probe is an HTTP route (what the proxy-facing kinds require). */
  public get isHttp(): boolean {
    return this.probe.kind === 'http';
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
            return ['CMD', 'curl', '--fail', '--silent', '--show-error', '--output', '/dev/null', url];
          case 'node':
            return ['CMD', 'node', '-e', `fetch('${url}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`];
          default:
            return ['CMD-SHELL', `wget -q --spider ${url} || exit 1`];
        }
      }
      case 'command':
        return ['CMD', ...this.probe.command];
      case 'process':
        return ['CMD-SHELL', `pgrep -f '${this.probe.pattern}' > /dev/null || exit 1`];
    }
  }
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
