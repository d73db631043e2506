import { Network } from '@cdktf/provider-docker/lib/network';
import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { OverlayNetwork } from './overlay-network';

/** Docker networks that exist on every host (created by the edge stack). */
export type HostNetwork = 'frontend' | 'backend' | 'data';

export const HOST_NETWORKS: readonly HostNetwork[] = ['frontend', 'backend', 'data'];

export interface HostNetworksProps {
  /** Prefix of the network names: `manacore` gives `manacore-frontend`. @default - none: `frontend`, `backend`, `data` */
  readonly namePrefix?: string;
  /** Provider of the host's daemon. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
  /** Labels of every network. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * IPv6 subnet (a ULA /64) of the `frontend` network. With the userland
   * proxy off, Docker forwards a published port's IPv6 traffic only to
   * containers on an IPv6-enabled network (Docker docs, "Use IPv6 networking").
   * @default - IPv4 only
   */
  readonly frontendIpv6Subnet?: string;
  /**
   * The networks of a whole swarm instead of one host: encrypted overlays spanning every node, created once through
   * a manager, attachable because plain containers (data services, accessories, release tasks, collectors) join
   * them beside the services. IPv4 only (OverlayNetwork): the edge takes IPv6 on a bridge of its own per host.
   * @default false
   */
  readonly swarm?: boolean;
}

/** Why each network exists; `data` is internal: Postgres and Redis have no route to the internet. */
const PURPOSE: Readonly<Record<HostNetwork, string>> = {
  frontend: 'edge proxy, web, landing and APIs',
  backend: 'APIs, internal services and workers',
  data: 'PostgreSQL, Redis and the services that use them',
};

/**
 * The three Docker networks of one host: `frontend` (the edge proxy and what
 * it routes to), `backend` (service-to-service calls) and `data` (internal,
 * no internet). Created once per host in the edge stack; containers of other
 * stacks join them by name. Their Terraform addresses are `<id>-<network>`,
 * pinned: a replaced network would cut every container off it.
 */
export class HostNetworks extends Construct {
  private readonly networks = new Map<HostNetwork, Network>();

  public constructor(scope: Construct, id: string, props: HostNetworksProps = {}) {
    super(scope, id);
    const prefix = props.namePrefix;
    if (prefix !== undefined && !/^[a-z0-9][a-z0-9_.-]*$/.test(prefix)) {
      throw new Error(`HostNetworks: namePrefix must be lowercase letters, digits, "_", "." or "-"; got "${prefix}"`);
    }
    for (const name of HOST_NETWORKS) {
      if (props.swarm) {
        const overlay = new OverlayNetwork(this, `${id}-${name}`, {
          name: prefix === undefined ? name : `${prefix}-${name}`,
          internal: name === 'data',
          attachable: true,
          labels: { ...props.labels, network: name, purpose: PURPOSE[name] },
          provider: props.provider,
        });
        this.networks.set(name, overlay.network);
        continue;
      }
      const network = new Network(this, name, {
        name: prefix === undefined ? name : `${prefix}-${name}`,
        driver: 'bridge',
        internal: name === 'data',
        ...(name === 'frontend' && props.frontendIpv6Subnet !== undefined ? { ipv6: true, ipamConfig: [{ subnet: props.frontendIpv6Subnet }] } : {}),
        labels: Object.entries({ ...props.labels, network: name, purpose: PURPOSE[name] }).map(([label, value]) => ({ label, value })),
        provider: props.provider,
      });
      network.overrideLogicalId(`${id}-${name}`);
      this.networks.set(name, network);
    }
  }

  /** The Docker network `name`. */
  public get(name: HostNetwork): Network {
    const network = this.networks.get(name);
    if (network === undefined) throw new Error(`HostNetworks: no network "${name}"; have ${HOST_NETWORKS.join(', ')}`);
    return network;
  }
}
