import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { LoadBalancer } from '../../.gen/providers/hcloud/load-balancer';
import { LoadBalancerNetwork } from '../../.gen/providers/hcloud/load-balancer-network';
import { LoadBalancerService } from '../../.gen/providers/hcloud/load-balancer-service';
import { LoadBalancerTargetA as LoadBalancerTarget } from '../../.gen/providers/hcloud/load-balancer-target';
import type { PrivateNetwork } from './private-network';

/**
 * What each Hetzner load balancer type can carry (hetzner.com/cloud/load-balancer,
 * taken 2025-06-01): targets and services (listen ports) per balancer.
 */
export const LOAD_BALANCER_TYPES: Readonly<Record<string, { readonly targets: number; readonly services: number }>> = {
  lb11: { targets: 25, services: 5 },
  lb21: { targets: 75, services: 15 },
  lb31: { targets: 150, services: 30 },
};

/** The ports the balancer passes through to every edge proxy. */
export const EDGE_PORTS = [80, 443] as const;

export interface EdgeLoadBalancerTarget {
  /** Short host name; part of the target's Terraform address. */
  readonly name: string;
  /** Hetzner server id (a token of the host's server). */
  readonly serverId: string;
}

export interface EdgeLoadBalancerProps {
  /** Hetzner name of the balancer. */
  readonly name: string;
  /** Load balancer type (`lb11`); must carry the targets and the two edge ports. */
  readonly type: string;
  /** Hetzner location, the hosts'. */
  readonly location: string;
  /** The environment's private network: targets are reached over it, never over their public addresses. */
  readonly network: PrivateNetwork;
  /** The balancer's fixed address in the subnet: the edge proxies accept the PROXY protocol from it alone. */
  readonly privateIp: string;
  /** The hosts whose edge proxies receive traffic. */
  readonly targets: readonly EdgeLoadBalancerTarget[];
  /** Delete protection. @default false */
  readonly protection?: boolean;
  /** Labels. @default - none */
  readonly labels?: Record<string, string>;
}

/**
 * A Hetzner Load Balancer in front of the edge proxies of several hosts: TCP
 * 80 and 443 passed through unchanged (TLS ends at the edge proxies, which
 * hold the certificates), with the PROXY protocol so each proxy still sees
 * the client's address, health-checked by a TCP connect per port. Targets
 * are reached over the private network (`use_private_ip`), so the hosts need
 * no public 80/443 at all. Per the hcloud provider's resources
 * `hcloud_load_balancer_service` (protocol `tcp`, `proxyprotocol`) and
 * `hcloud_load_balancer_target` (`use_private_ip` needs the balancer in the
 * network first).
 */
export class EdgeLoadBalancer extends Construct {
  public readonly loadBalancer: LoadBalancer;
  public readonly attachment: LoadBalancerNetwork;

  public constructor(scope: Construct, id: string, props: EdgeLoadBalancerProps) {
    super(scope, id);
    const limits = LOAD_BALANCER_TYPES[props.type];
    if (limits === undefined) throw new Error(`EdgeLoadBalancer ${id}: unknown type "${props.type}"; known: ${Object.keys(LOAD_BALANCER_TYPES).join(', ')}`);
    if (props.targets.length < 1 || props.targets.length > limits.targets) {
      throw new Error(`EdgeLoadBalancer ${id}: ${props.targets.length} targets; ${props.type} carries 1 to ${limits.targets}`);
    }
    this.loadBalancer = new LoadBalancer(this, 'load-balancer', {
      name: props.name,
      loadBalancerType: props.type,
      location: props.location,
      algorithm: { type: 'round_robin' },
      deleteProtection: props.protection ?? false,
      labels: props.labels,
    });
    this.loadBalancer.overrideLogicalId(id);
    this.attachment = new LoadBalancerNetwork(this, 'network', {
      loadBalancerId: Token.asNumber(this.loadBalancer.id),
      subnetId: props.network.subnet.id,
      ip: props.privateIp,
    });
    this.attachment.overrideLogicalId(`${id}-network`);
    for (const target of props.targets) {
      new LoadBalancerTarget(this, `target-${target.name}`, {
        loadBalancerId: Token.asNumber(this.loadBalancer.id),
        type: 'server',
        serverId: Token.asNumber(target.serverId),
        usePrivateIp: true,
        dependsOn: [this.attachment],
      }).overrideLogicalId(`${id}-target-${target.name}`);
    }
    for (const port of EDGE_PORTS) {
      new LoadBalancerService(this, `service-${port}`, {
        loadBalancerId: this.loadBalancer.id,
        protocol: 'tcp',
        listenPort: port,
        destinationPort: port,
        proxyprotocol: true,
        healthCheck: { protocol: 'tcp', port, interval: 10, timeout: 5, retries: 3 },
      }).overrideLogicalId(`${id}-service-${port}`);
    }
  }

  /** Public IPv4 of the balancer: where public names point. */
  public get ipv4(): string {
    return this.loadBalancer.ipv4;
  }

  /** Public IPv6 of the balancer. */
  public get ipv6(): string {
    return this.loadBalancer.ipv6;
  }
}
