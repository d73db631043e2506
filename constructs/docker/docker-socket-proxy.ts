import type { ITerraformDependable, TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import { HealthCheck } from '../core/health-check';
import type { ResourceSpec } from '../core/resources';
import { HardenedContainer } from './hardened-container';
import { SwarmService } from './swarm-service';

/** HAProxy, pinned (the base image of Tecnativa's docker-socket-proxy v0.4.1). */
export const SOCKET_PROXY_IMAGE = 'haproxy:3.2.4-alpine';

/** The port the proxy answers the Docker API on, inside its own network only. */
export const SOCKET_PROXY_PORT = 2375;

/** The official image's `haproxy` user (uid 99 in the alpine variant); it reads the socket through the docker group. */
const HAPROXY_USER = '99:99';

/** The variable carrying the configuration into the container. */
export const SOCKET_PROXY_CONFIG_VARIABLE = 'HAPROXY_CONFIG';

/**
 * Writes the configuration to the /tmp tmpfs and starts HAProxy in the
 * foreground. Not `upload`: Docker refuses to copy files into a container
 * whose root filesystem is read-only (moby daemon/archive.go,
 * checkWritablePath: "container rootfs is marked read-only"). Tecnativa's
 * image renders its configuration to /tmp/haproxy.cfg the same way.
 */
const START = `printf '%s' "$${SOCKET_PROXY_CONFIG_VARIABLE}" > /tmp/haproxy.cfg && exec haproxy -db -f /tmp/haproxy.cfg`;

/** Small: a handful of API calls a minute. */
export const SOCKET_PROXY_RESOURCES: ResourceSpec = { cpuLimit: 0.25, memoryLimitMiB: 64, cpuReservation: 0.05, memoryReservationMiB: 32 };

/**
 * The read calls Traefik's Docker provider makes outside swarm mode, and
 * nothing else (traefik/traefik pkg/provider/docker/pdocker.go and shared.go
 * at fd5a576: ServerVersion, Events, ContainerList, ContainerInspect; the
 * client's version negotiation pings first). Every path may carry the API
 * version prefix.
 */
export const TRAEFIK_DOCKER_API_CALLS: ReadonlyArray<{ readonly name: string; readonly path: string }> = [
  { name: 'ping', path: '/_ping' },
  { name: 'version', path: '/version' },
  { name: 'events', path: '/events' },
  { name: 'list', path: '/containers/json' },
  { name: 'inspect', path: '/containers/[a-zA-Z0-9_.-]+/json' },
];

/**
 * The read calls Traefik's Swarm provider makes, and nothing else
 * (traefik/traefik pkg/provider/docker/pswarm.go: ServerVersion,
 * ServiceList, NetworkList filtered to the swarm scope, TaskList per service
 * and NodeInspect per task for its node's address; it polls every
 * `refreshSeconds` and subscribes to no events). Service and task listings
 * carry every service's specification, environment included, as container
 * inspection does for the Docker provider.
 */
export const TRAEFIK_SWARM_API_CALLS: ReadonlyArray<{ readonly name: string; readonly path: string }> = [
  { name: 'ping', path: '/_ping' },
  { name: 'version', path: '/version' },
  { name: 'services', path: '/services' },
  { name: 'networks', path: '/networks' },
  { name: 'tasks', path: '/tasks' },
  { name: 'node', path: '/nodes/[a-zA-Z0-9]+' },
];

export interface DockerSocketProxyProps {
  /** The internal network the proxy and the edge proxy share (nothing else joins it). */
  readonly network: string;
  /** Group id owning the Docker socket on the host. */
  readonly dockerSocketGroupId: number;
  /** Container name and DNS name on the network. @default 'docker-socket-proxy' */
  readonly name?: string;
  /** HAProxy image. @default SOCKET_PROXY_IMAGE */
  readonly image?: string;
  /** Labels of the container. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Provider of the host's daemon. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
  /**
   * A container on one host for Traefik's Docker provider, or a Swarm
   * service on a manager node (a manager's API answers for the whole swarm)
   * for its Swarm provider, admitting that provider's calls
   * (TRAEFIK_SWARM_API_CALLS). On swarm, `network` is an overlay network.
   * @default 'container'
   */
  readonly engine?: 'container' | 'swarm';
}

/**
 * HAProxy between the edge proxy and the Docker socket, admitting only GET
 * and HEAD on the calls Traefik needs (TRAEFIK_DOCKER_API_CALLS): no create,
 * start, exec, archive or log reads. Same pattern as Tecnativa's
 * docker-socket-proxy (haproxy.cfg at a6fbf38), with a narrower allowlist:
 * its CONTAINERS=1 would also admit `GET /containers/{id}/archive`, which
 * reads any file of any container. Container inspection still returns each
 * container's configuration, environment included: that much Traefik needs.
 */
export class DockerSocketProxy extends Construct {
  /** The container, when the engine is `container`. */
  public readonly hardened?: HardenedContainer;
  /** The service, when the engine is `swarm`. */
  public readonly swarmService?: SwarmService;
  /** `tcp://<name>:2375`, the endpoint the edge proxy uses. */
  public readonly endpoint: string;
  /** What the edge proxy waits for: the container or the service. */
  public readonly dependable: ITerraformDependable;

  public constructor(scope: Construct, id: string, props: DockerSocketProxyProps) {
    super(scope, id);
    const name = props.name ?? 'docker-socket-proxy';
    this.endpoint = `tcp://${name}:${SOCKET_PROXY_PORT}`;
    const swarm = props.engine === 'swarm';
    const process = {
      name,
      image: props.image ?? SOCKET_PROXY_IMAGE,
      entrypoint: ['/bin/sh', '-c', START],
      environment: { [SOCKET_PROXY_CONFIG_VARIABLE]: DockerSocketProxy.configuration(swarm ? TRAEFIK_SWARM_API_CALLS : TRAEFIK_DOCKER_API_CALLS) },
      healthCheck: HealthCheck.command(['wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${SOCKET_PROXY_PORT}/_ping`], {
        interval: Duration.seconds(10),
        timeout: Duration.seconds(3),
        retries: 3,
        startPeriod: Duration.seconds(5),
      }).toDocker(),
      resources: SOCKET_PROXY_RESOURCES,
      networks: [{ name: props.network, aliases: [name] }],
      user: HAPROXY_USER,
      bindMounts: [{ hostPath: '/var/run/docker.sock', containerPath: '/var/run/docker.sock', readOnly: true }],
      labels: { ...props.labels, service: 'docker-socket-proxy' },
      stopGraceSeconds: 10,
      provider: props.provider,
    };
    if (swarm) {
      // Stop-first: two proxies briefly answering is harmless, but one replica is all the edge needs.
      this.swarmService = new SwarmService(this, id, { ...process, groups: [String(props.dockerSocketGroupId)], managersOnly: true, replicas: 1 });
      this.dependable = this.swarmService.service;
    } else {
      this.hardened = new HardenedContainer(this, id, { ...process, groupIds: [props.dockerSocketGroupId] });
      this.dependable = this.hardened.container;
    }
  }

  /** The HAProxy configuration admitting `calls`: everything else is answered 403. */
  public static configuration(calls: typeof TRAEFIK_DOCKER_API_CALLS = TRAEFIK_DOCKER_API_CALLS): string {
    const acls = calls.map((call) => `    acl ${call.name} path,url_dec -m reg -i ^(/v[0-9.]+)?${call.path}$`);
    const events = calls.some((call) => call.name === 'events');
    return [
      'global',
      '    log stdout format raw daemon info',
      '    maxconn 256',
      '',
      'defaults',
      '    mode http',
      '    log global',
      '    option httplog',
      '    timeout connect 5s',
      '    timeout client 10m',
      '    timeout server 10m',
      '',
      'backend docker',
      '    server socket /var/run/docker.sock',
      '',
      // The event stream stays open while Traefik runs; after a silent day it closes and Traefik subscribes again.
      ...(events ? ['backend docker_events', '    timeout server 24h', '    server socket /var/run/docker.sock', ''] : []),
      'frontend docker_api',
      `    bind :${SOCKET_PROXY_PORT}`,
      ...acls,
      '    http-request deny unless METH_GET || METH_HEAD',
      `    http-request deny unless ${calls.map((call) => call.name).join(' || ')}`,
      ...(events ? ['    use_backend docker_events if events'] : []),
      '    default_backend docker',
      '',
    ].join('\n');
  }
}
