import { Token, type ITerraformDependable, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { parseCidr } from '../core/cidr';
import { Duration } from '../core/duration';
import { HealthCheck } from '../core/health-check';
import type { ResourceSpec } from '../core/resources';
import { CERT_RESOLVER, HTTP_ENTRYPOINT, HTTPS_ENTRYPOINT, ORIGIN_PULL_TLS_OPTIONS } from './edge-route';
import { HardenedContainer } from './hardened-container';
import { SwarmSecret } from './swarm-secret';
import { SwarmService } from './swarm-service';

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

/** The proxy's container name, by which the host's scraper (frontend network) and the release steps find it. */
export const EDGE_PROXY_NAME = 'edge-proxy';

/** The non-root user the proxy runs as; it must own the ACME storage directory on the host. */
export const EDGE_PROXY_USER_ID = 1001;
export const EDGE_PROXY_USER = `${EDGE_PROXY_USER_ID}:${EDGE_PROXY_USER_ID}`;

/** Container ports of the entry points: unprivileged, so the proxy needs no capability; Docker publishes 80 and 443 to them. */
const HTTP_PORT = 8080;
const HTTPS_PORT = 8443;
/** Ping answers on loopback only, for the health check. */
const PING_ADDRESS = '127.0.0.1:8082';
/**
 * Traefik's Prometheus metrics (per service: traefik_service_requests_total and
 * traefik_service_request_duration_seconds, labels code, method, protocol, service;
 * traefik/traefik v3.6.1 pkg/observability/metrics/prometheus.go) answer at
 * `/metrics` on their own entry point (pkg/provider/traefik/internal.go), on this
 * port of the frontend network, where the host's scraper is: never published.
 */
export const EDGE_METRICS_PORT = 8090;
/**
 * Latency buckets in seconds: Traefik's default (0.1, 0.3, 1.2, 5) is too coarse for the
 * canary's p95 comparison (scripts/release/canary-watch.ts) at a 1.5x threshold.
 */
const METRICS_BUCKETS = '0.025,0.05,0.1,0.25,0.5,1,2.5,5,10';
/** Where the ACME directory is mounted in the container. */
const ACME_MOUNT = '/acme';
/**
 * Dynamic configuration the file provider reads: the TLS options (Docker
 * labels cannot set them; doc.traefik.io, "TLS: Restriction"), written at
 * start from EDGE_DYNAMIC_TLS_VARIABLE, and the releases' traffic splits
 * (constructs/docker/traffic-split.ts), which `docker cp` writes while the
 * proxy runs. A host directory, so the copies land despite the read-only
 * root (moby daemon/archive.go: checkIfPathIsInAVolume before
 * ErrRootFSReadOnly) and splits outlive a replaced proxy; created at boot
 * owned by the proxy's user (EDGE_DYNAMIC_HOST_DIR in the network stack's
 * cloud-init, like the ACME directory).
 */
export const EDGE_DYNAMIC_CONFIG_DIR = '/etc/traefik/dynamic';
export const EDGE_DYNAMIC_HOST_DIR = '/opt/edge/dynamic';
/** The variable carrying the dynamic TLS configuration into the container. */
export const EDGE_DYNAMIC_TLS_VARIABLE = 'TRAEFIK_DYNAMIC_TLS';
/** Writes the dynamic configuration, then runs Traefik with the flags (`$@`) as its own process. */
const START = `printf '%s' "$${EDGE_DYNAMIC_TLS_VARIABLE}" > ${EDGE_DYNAMIC_CONFIG_DIR}/tls.yaml && exec traefik "$@"`;
/** Where Cloudflare's origin-pull CA is mounted in the container. */
const ORIGIN_PULL_CA_MOUNT = '/etc/traefik/cloudflare/origin-pull-ca.pem';

/**
 * Cloudflare's global Authenticated Origin Pulls CA, which signs the client
 * certificate Cloudflare presents to origins (developers.cloudflare.com,
 * "Authenticated Origin Pulls: zone-level"). Public; fetched by cloud-init
 * at first boot, over HTTPS, to ORIGIN_PULL_CA_HOST_PATH.
 */
export const ORIGIN_PULL_CA_URL = 'https://developers.cloudflare.com/ssl/static/authenticated_origin_pull_ca.pem';
export const ORIGIN_PULL_CA_HOST_PATH = '/opt/edge/cloudflare/origin-pull-ca.pem';

/** The lego Cloudflare DNS provider reads its API token from this variable (go-acme/lego providers/dns/cloudflare). */
export const CLOUDFLARE_DNS_TOKEN_VARIABLE = 'CF_DNS_API_TOKEN';

/** The edge proxy (Traefik) on every host: small, but it carries all traffic. */
export const EDGE_PROXY_RESOURCES: ResourceSpec = { cpuLimit: 1, memoryLimitMiB: 256, cpuReservation: 0.25, memoryReservationMiB: 128 };

/** How the edge proxy obtains its certificates. */
export interface EdgeCertificates {
  /** Cloudflare API token with DNS edit on the zone only (a token of a sensitive value, never a literal). */
  readonly cloudflareDnsToken: string;
  /** ACME directory URL. @default - Let's Encrypt's production directory */
  readonly caServer?: string;
}

export interface EdgeProxyProps {
  /** Let's Encrypt account e-mail (expiry notices go there). */
  readonly acmeEmail: string;
  /** Host directory holding the ACME account and certificates (survives container replacement). */
  readonly acmeStorageDir: string;
  /** Name of the host's frontend network: the proxy joins only it and reaches services through it. */
  readonly frontendNetwork: string;
  /**
   * A bridge network with IPv6 on the proxy's host, for the IPv6 traffic of its published ports, where the frontend
   * network cannot carry IPv6 (a swarm's overlay): Docker forwards a published port's IPv6 only to a container on an
   * IPv6-enabled network. @default - none: the frontend network carries it
   */
  readonly ingressNetwork?: string;
  /** Container name. @default EDGE_PROXY_NAME */
  readonly name?: string;
  /** Traefik image. @default TRAEFIK_IMAGE */
  readonly image?: string;
  /** CPU and memory. @default - EDGE_PROXY_RESOURCES (what capacity planning counts) */
  readonly resources?: ResourceSpec;
  /**
   * The Docker API endpoint Traefik watches: a socket proxy admitting only
   * its read calls (DockerSocketProxy), never the socket itself.
   */
  readonly dockerEndpoint: string;
  /** The internal network the edge proxy shares with the socket proxy. */
  readonly dockerApiNetwork: string;
  /**
   * Certificates: one wildcard per zone over DNS-01 with a Cloudflare token
   * scoped to that zone's DNS, from the ACME directory given.
   */
  readonly certificates: EdgeCertificates;
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
  /** Resources to create first (the socket proxy Traefik watches Docker through). @default - none */
  readonly dependsOn?: readonly ITerraformDependable[];
  /**
   * A container on one host (Traefik's Docker provider), or a global Swarm
   * service on the edge nodes (its Swarm provider): see EdgeProxySwarm.
   * @default - a container
   */
  readonly swarm?: EdgeProxySwarm;
}

/** The edge proxy as a global Swarm service. */
export interface EdgeProxySwarm {
  /** Node labels of the edge nodes (`{ role: 'app' }`): one task on each, publishing 80 and 443 in host mode. */
  readonly nodeLabels: Readonly<Record<string, string>>;
}

/**
 * The edge proxy of one host: the only container that publishes host ports
 * (80 and 443, on IPv4 and IPv6). It redirects HTTP to HTTPS on 443, obtains
 * one Let's Encrypt wildcard certificate per zone over DNS-01, requires
 * Cloudflare's origin-pull certificate on proxied routes, and routes by the
 * labels of containers that opt in with `traefik.enable=true` (see
 * EdgeRoute), only to healthy ones. Its API and dashboard stay off; it sees
 * Docker only through the socket proxy.
 *
 * Replacing the proxy itself (a Traefik upgrade) is not gapless: the ports
 * 80/443 can be bound by one container at a time, so the old one is stopped
 * (30 s to drain) before the new one starts: a pause of seconds, announced
 * in the plan (docs/deploying.md). Nothing read at plan time feeds its
 * configuration any more (Cloudflare's ranges no longer do), so only a
 * deliberate change replaces it; app deploys never touch it.
 */
export class EdgeProxy extends Construct {
  /** The container, when not on swarm. */
  public readonly hardened?: HardenedContainer;
  /** The global service, on swarm. */
  public readonly swarmService?: SwarmService;

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
    if (!Token.isUnresolved(props.certificates.cloudflareDnsToken)) {
      throw new Error(`EdgeProxy ${id}: certificates.cloudflareDnsToken must come from a sensitive variable or output, never a literal`);
    }
    const staticConfig = EdgeProxy.staticConfiguration({ ...props, swarm: props.swarm !== undefined });
    const process = {
      name: props.name ?? EDGE_PROXY_NAME,
      image: props.image ?? TRAEFIK_IMAGE,
      command: staticConfig,
      healthCheck: HealthCheck.command(['traefik', 'healthcheck', '--ping', '--ping.entryPoint=ping', `--entryPoints.ping.address=${PING_ADDRESS}`], {
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(10),
      }).toDocker(),
      resources: props.resources ?? EDGE_PROXY_RESOURCES,
      networks: [{ name: props.frontendNetwork }, ...(props.ingressNetwork === undefined ? [] : [{ name: props.ingressNetwork }]), { name: props.dockerApiNetwork }],
      user: EDGE_PROXY_USER,
      entrypoint: ['/bin/sh', '-c', START, 'traefik'],
      environment: { [EDGE_DYNAMIC_TLS_VARIABLE]: EdgeProxy.dynamicTlsConfiguration() },
      // Connections in flight finish (Traefik's lifeCycle.graceTimeOut is 10 s by default) before it is killed.
      stopGraceSeconds: 30,
      bindMounts: [
        // No Docker socket here: Traefik reads the API through the socket proxy, which refuses every write.
        // On swarm each node's task has this node's directory: each edge node orders and renews its own certificates.
        { hostPath: props.acmeStorageDir, containerPath: ACME_MOUNT },
        { hostPath: EDGE_DYNAMIC_HOST_DIR, containerPath: EDGE_DYNAMIC_CONFIG_DIR },
        { hostPath: ORIGIN_PULL_CA_HOST_PATH, containerPath: ORIGIN_PULL_CA_MOUNT, readOnly: true },
      ],
      labels: { ...props.labels, service: 'edge-proxy' },
      provider: props.provider,
    };
    const ports = [
      { hostPort: 80, containerPort: HTTP_PORT },
      { hostPort: 443, containerPort: HTTPS_PORT },
    ];
    if (props.swarm === undefined) {
      this.hardened = new HardenedContainer(this, id, {
        ...process,
        secretEnvironment: { [CLOUDFLARE_DNS_TOKEN_VARIABLE]: props.certificates.cloudflareDnsToken },
        publishedPorts: ports,
        dependsOn: props.dependsOn,
      });
      return;
    }
    // lego reads `<variable>_FILE` when the variable is unset (go-acme/lego platform/config/env/env.go, GetOrFile).
    const dnsToken = new SwarmSecret(this, `${id}-cloudflare-dns-token`, { name: 'edge-cloudflare-dns-token', value: props.certificates.cloudflareDnsToken, provider: props.provider });
    this.swarmService = new SwarmService(this, id, {
      ...process,
      global: true,
      nodeLabels: props.swarm.nodeLabels,
      // Host mode: each node's 80/443 reach its own task with the client's address (and the balancer's PROXY header)
      // intact; the routing mesh would SNAT them (Docker docs, "Use swarm mode routing mesh": mode=host bypasses it).
      hostPorts: ports,
      // One task per node holds the ports: the old one stops before the new one starts, node by node.
      updateOrder: 'stop-first',
      secretFiles: { [CLOUDFLARE_DNS_TOKEN_VARIABLE]: dnsToken },
      dependsOn: props.dependsOn,
    });
  }

  /**
   * Dynamic TLS options (file provider): TLS 1.2 at least everywhere, and the
   * origin-pull options proxied routes select, which require a client
   * certificate signed by Cloudflare's origin-pull CA (doc.traefik.io,
   * "TLS options: clientAuth", RequireAndVerifyClientCert). JSON is YAML.
   */
  public static dynamicTlsConfiguration(): string {
    const name = ORIGIN_PULL_TLS_OPTIONS.replace(/@file$/, '');
    return (
      JSON.stringify(
        {
          tls: {
            options: {
              default: { minVersion: 'VersionTLS12' },
              [name]: { minVersion: 'VersionTLS12', clientAuth: { caFiles: [ORIGIN_PULL_CA_MOUNT], clientAuthType: 'RequireAndVerifyClientCert' } },
            },
          },
        },
        null,
        2,
      ) + '\n'
    );
  }

  /** Traefik's static configuration as command-line flags. No `--api*` flag: any of them would switch the API on. */
  public static staticConfiguration(
    props: Pick<EdgeProxyProps, 'acmeEmail' | 'frontendNetwork' | 'trustedProxyCidrs' | 'proxyProtocolTrustedIps' | 'dockerEndpoint'> & {
      readonly certificates?: Pick<EdgeCertificates, 'caServer'>;
      /** Traefik's Swarm provider (labels of services, polled) instead of its Docker provider (labels of containers). @default false */
      readonly swarm?: boolean;
    },
  ): string[] {
    const proxyProtocol = props.proxyProtocolTrustedIps?.length
      ? [HTTP_ENTRYPOINT, HTTPS_ENTRYPOINT].map((entryPoint) => `--entryPoints.${entryPoint}.proxyProtocol.trustedIPs=${props.proxyProtocolTrustedIps!.join(',')}`)
      : [];
    const redirect = `--entryPoints.${HTTP_ENTRYPOINT}.http.redirections.entryPoint`;
    const provider = props.swarm ? 'swarm' : 'docker';
    const acme = `--certificatesResolvers.${CERT_RESOLVER}.acme`;
    return [
      '--global.checkNewVersion=false',
      '--global.sendAnonymousUsage=false',
      '--log.level=INFO',
      '--accessLog=true',
      '--ping=true',
      '--ping.entryPoint=ping',
      `--entryPoints.ping.address=${PING_ADDRESS}`,
      // Prometheus metrics on their own entry point (doc.traefik.io, "Metrics: Prometheus": entryPoint, addServicesLabels, buckets).
      '--metrics.prometheus=true',
      '--metrics.prometheus.addServicesLabels=true',
      `--metrics.prometheus.buckets=${METRICS_BUCKETS}`,
      '--metrics.prometheus.entryPoint=metrics',
      `--entryPoints.metrics.address=:${EDGE_METRICS_PORT}`,
      `--entryPoints.${HTTP_ENTRYPOINT}.address=:${HTTP_PORT}`,
      // A port, not the entry point's name: Traefik would take the port from websecure's address (:8443),
      // which is the container's; clients reach 443 (doc.traefik.io, EntryPoints: "to: an entry point name or a port (:443)").
      `${redirect}.to=:443`,
      `${redirect}.scheme=https`,
      `${redirect}.permanent=true`,
      `--entryPoints.${HTTPS_ENTRYPOINT}.address=:${HTTPS_PORT}`,
      `--entryPoints.${HTTPS_ENTRYPOINT}.http.tls.certResolver=${CERT_RESOLVER}`,
      // Traefik v3 split Swarm out of the Docker provider (doc.traefik.io, "Migration v2 to v3": swarmMode is refused,
      // `providers.swarm` replaces it); both take endpoint, exposedByDefault and network (pkg/provider/docker/pswarm.go).
      ...[`--providers.${provider}=true`, `--providers.${provider}.endpoint=${props.dockerEndpoint}`, `--providers.${provider}.exposedByDefault=false`, `--providers.${provider}.network=${props.frontendNetwork}`],
      `${acme}.email=${props.acmeEmail}`,
      `${acme}.storage=${ACME_MOUNT}/acme.json`,
      `--providers.file.directory=${EDGE_DYNAMIC_CONFIG_DIR}`,
      // DNS-01: the only challenge that may issue a wildcard (letsencrypt.org/docs/challenge-types); the token
      // comes from CF_DNS_API_TOKEN (doc.traefik.io, "ACME: dnsChallenge", provider cloudflare).
      `${acme}.dnsChallenge.provider=cloudflare`,
      `${acme}.caServer=${props.certificates?.caServer ?? 'https://acme-v02.api.letsencrypt.org/directory'}`,
      ...(props.trustedProxyCidrs === undefined ? [] : [`--entryPoints.${HTTPS_ENTRYPOINT}.forwardedHeaders.trustedIPs=${props.trustedProxyCidrs}`]),
      ...proxyProtocol,
    ];
  }
}
