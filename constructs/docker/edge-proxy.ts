import { Token, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { parseCidr } from '../core/cidr';
import { Duration } from '../core/duration';
import { HealthCheck } from '../core/health-check';
import type { ResourceSpec } from '../core/resources';
import { CERT_RESOLVER, HTTP_ENTRYPOINT, HTTPS_ENTRYPOINT } from './edge-route';
import { HardenedContainer } from './hardened-container';

/**
 * Traefik, pinned to a patch release. 3.6.1 is the first release whose Docker
 * provider negotiates the API version: Docker Engine 29 refuses the fixed 1.24
 * that older releases send ("client version 1.24 is too old").
 */
export const TRAEFIK_IMAGE = 'traefik:v3.6.1';

/**
 * Group id of the host's `docker` group, which owns `/var/run/docker.sock`.
 * The proxy runs as uid 1001 and reads the socket through this group, so the
 * host must create the group with this id before Docker is installed.
 */
export const DOCKER_SOCKET_GROUP_ID = 2375;

/** The non-root user the proxy runs as; it must own the ACME storage directory on the host. */
export const EDGE_PROXY_USER_ID = 1001;
export const EDGE_PROXY_USER = `${EDGE_PROXY_USER_ID}:${EDGE_PROXY_USER_ID}`;

/** Container ports of the entry points: unprivileged, so the proxy needs no capability; Docker publishes 80 and 443 to them. */
const HTTP_PORT = 8080;
const HTTPS_PORT = 8443;
/** Ping answers on loopback only, for the health check. */
const PING_ADDRESS = '127.0.0.1:8082';
/** Where the ACME directory is mounted in the container. */
const ACME_MOUNT = '/acme';

/** The edge proxy (Traefik) on every host: small, but it carries all traffic. */
export const EDGE_PROXY_RESOURCES: ResourceSpec = { cpuLimit: 1, memoryLimitMiB: 256, cpuReservation: 0.25, memoryReservationMiB: 128 };

export interface EdgeProxyProps {
  /** Let's Encrypt account e-mail (expiry notices go there). */
  readonly acmeEmail: string;
  /** Host directory holding the ACME account and certificates (survives container replacement). */
  readonly acmeStorageDir: string;
  /** Name of the host's frontend network: the proxy joins only it and reaches services through it. */
  readonly frontendNetwork: string;
  /** Container name. @default 'edge-proxy' */
  readonly name?: string;
  /** Traefik image. @default TRAEFIK_IMAGE */
  readonly image?: string;
  /** CPU and memory. @default - EDGE_PROXY_RESOURCES (what capacity planning counts) */
  readonly resources?: ResourceSpec;
  /** Group id owning the Docker socket on the host. @default DOCKER_SOCKET_GROUP_ID */
  readonly dockerSocketGroupId?: number;
  /** Labels of the container. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Comma-separated CIDRs whose `X-Forwarded-*` headers the HTTPS entry point
   * keeps: the CDN proxying some routes, so apps behind it see the visitor's
   * address instead of the CDN's. Anyone else's forwarded headers are replaced
   * with the peer's own address, so they cannot be spoofed.
   * @default - none: every forwarded header is replaced
   */
  readonly trustedProxyCidrs?: string;
  /**
   * Addresses that put a PROXY protocol header in front of each connection
   * (a load balancer): from these alone Traefik takes the client's address
   * from the header, on both entry points (Traefik docs, EntryPoints,
   * `proxyProtocol.trustedIPs`).
   * @default - none: no PROXY protocol
   */
  readonly proxyProtocolTrustedIps?: readonly string[];
  /** Provider of the host's daemon. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
}

/**
 * The edge proxy of one host: the only container that publishes host ports
 * (80 and 443). It redirects HTTP to HTTPS, obtains Let's Encrypt
 * certificates (HTTP-01, which also works through Cloudflare's proxy), and
 * routes by the labels of containers that opt in with `traefik.enable=true`
 * (see EdgeRoute), only to healthy ones. Its API and dashboard stay off.
 *
 * Replacing the proxy itself (a Traefik upgrade) frees and rebinds 80/443: a
 * pause of seconds, so do it in a quiet moment; app deploys never touch it.
 */
export class EdgeProxy extends Construct {
  public readonly hardened: HardenedContainer;

  public constructor(scope: Construct, id: string, props: EdgeProxyProps) {
    super(scope, id);
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.acmeEmail)) {
      throw new Error(`EdgeProxy ${id}: acmeEmail must be an e-mail address for the Let's Encrypt account; got "${props.acmeEmail}"`);
    }
    const cidrs = props.trustedProxyCidrs;
    if (cidrs !== undefined && !Token.isUnresolved(cidrs) && (cidrs === '' || cidrs.split(',').some((cidr) => parseCidr(cidr) === undefined))) {
      throw new Error(`EdgeProxy ${id}: trustedProxyCidrs must be comma-separated CIDR blocks (192.0.2.0/24,2001:db8::/32); got "${props.trustedProxyCidrs}"`);
    }
    if (!props.acmeStorageDir.startsWith('/')) {
      throw new Error(`EdgeProxy ${id}: acmeStorageDir must be an absolute host path; got "${props.acmeStorageDir}"`);
    }
    const groupId = props.dockerSocketGroupId ?? DOCKER_SOCKET_GROUP_ID;
    const staticConfig = EdgeProxy.staticConfiguration(props);
    this.hardened = new HardenedContainer(this, id, {
      name: props.name ?? 'edge-proxy',
      image: props.image ?? TRAEFIK_IMAGE,
      command: staticConfig,
      healthCheck: HealthCheck.command(['traefik', 'healthcheck', '--ping', '--ping.entryPoint=ping', `--entryPoints.ping.address=${PING_ADDRESS}`], {
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(10),
      }).toDocker(),
      resources: props.resources ?? EDGE_PROXY_RESOURCES,
      networks: [{ name: props.frontendNetwork }],
      user: EDGE_PROXY_USER,
      groupIds: [groupId],
      publishedPorts: [
        { hostPort: 80, containerPort: HTTP_PORT },
        { hostPort: 443, containerPort: HTTPS_PORT },
      ],
      bindMounts: [
        // Read-only stops the socket file from being replaced, not API calls: Traefik only reads, but whoever holds the socket is root on the host.
        { hostPath: '/var/run/docker.sock', containerPath: '/var/run/docker.sock', readOnly: true },
        { hostPath: props.acmeStorageDir, containerPath: ACME_MOUNT },
      ],
      labels: { ...props.labels, service: 'edge-proxy' },
      provider: props.provider,
    });
  }

  /** Traefik's static configuration as command-line flags. No `--api*` flag: any of them would switch the API on. */
  public static staticConfiguration(props: Pick<EdgeProxyProps, 'acmeEmail' | 'frontendNetwork' | 'trustedProxyCidrs' | 'proxyProtocolTrustedIps'>): string[] {
    const proxyProtocol = props.proxyProtocolTrustedIps?.length
      ? [HTTP_ENTRYPOINT, HTTPS_ENTRYPOINT].map((entryPoint) => `--entryPoints.${entryPoint}.proxyProtocol.trustedIPs=${props.proxyProtocolTrustedIps!.join(',')}`)
      : [];
    const redirect = `--entryPoints.${HTTP_ENTRYPOINT}.http.redirections.entryPoint`;
    const acme = `--certificatesResolvers.${CERT_RESOLVER}.acme`;
    return [
      '--global.checkNewVersion=false',
      '--global.sendAnonymousUsage=false',
      '--log.level=INFO',
      '--accessLog=true',
      '--ping=true',
      '--ping.entryPoint=ping',
      `--entryPoints.ping.address=${PING_ADDRESS}`,
      `--entryPoints.${HTTP_ENTRYPOINT}.address=:${HTTP_PORT}`,
      `${redirect}.to=${HTTPS_ENTRYPOINT}`,
      `${redirect}.scheme=https`,
      `${redirect}.permanent=true`,
      `--entryPoints.${HTTPS_ENTRYPOINT}.address=:${HTTPS_PORT}`,
      `--entryPoints.${HTTPS_ENTRYPOINT}.http.tls.certResolver=${CERT_RESOLVER}`,
      '--providers.docker=true',
      '--providers.docker.endpoint=unix:///var/run/docker.sock',
      '--providers.docker.exposedByDefault=false',
      `--providers.docker.network=${props.frontendNetwork}`,
      `${acme}.email=${props.acmeEmail}`,
      `${acme}.storage=${ACME_MOUNT}/acme.json`,
      `${acme}.httpChallenge.entryPoint=${HTTP_ENTRYPOINT}`,
      ...(props.trustedProxyCidrs === undefined ? [] : [`--entryPoints.${HTTPS_ENTRYPOINT}.forwardedHeaders.trustedIPs=${props.trustedProxyCidrs}`]),
      ...proxyProtocol,
    ];
  }
}
