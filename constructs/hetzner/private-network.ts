import { Construct } from 'constructs';
import { Token } from 'cdktf';
import { Network } from '../../.gen/providers/hcloud/network';
import { NetworkSubnet } from '../../.gen/providers/hcloud/network-subnet';

export interface PrivateNetworkProps {
  /** Hetzner name of the network. */
  readonly name: string;
  /** Whole network range (RFC 1918, /24 or larger). */
  readonly ipRange: string;
  /** The cloud subnet the hosts get their private addresses from; inside `ipRange`. */
  readonly subnetRange: string;
  /** Network zone of the hosts' location (`eu-central`). */
  readonly networkZone: string;
  /** Delete protection. @default false */
  readonly protection?: boolean;
  /** Labels of the network. @default - none */
  readonly labels?: Record<string, string>;
}

/** The private network the hosts of one environment share, with its one cloud subnet. */
export class PrivateNetwork extends Construct {
  public readonly network: Network;
  public readonly subnet: NetworkSubnet;

  public constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    this.network = new Network(this, 'network', {
      name: props.name,
      ipRange: props.ipRange,
      deleteProtection: props.protection ?? false,
      labels: props.labels,
    });
    this.subnet = new NetworkSubnet(this, 'subnet', {
      networkId: Token.asNumber(this.network.id),
      type: 'cloud',
      networkZone: props.networkZone,
      ipRange: props.subnetRange,
    });
  }

  /** The network id as the number Hetzner's server and subnet blocks expect. */
  public get networkId(): number {
    return Token.asNumber(this.network.id);
  }
}
