import { Construct } from 'constructs';
import { Rdns } from '../../.gen/providers/hcloud/rdns';

/** What the PTR record belongs to: exactly one kind of Hetzner resource (ids are numbers in the hcloud schema). */
export type ReverseDnsTarget =
  | { readonly primaryIpId: number }
  | { readonly serverId: number }
  | { readonly floatingIpId: number }
  | { readonly loadBalancerId: number };

export interface ReverseDnsProps {
  /** The resource owning the address. */
  readonly target: ReverseDnsTarget;
  /** The address the PTR record is for. */
  readonly ipAddress: string;
  /** The name it resolves to. */
  readonly dnsPtr: string;
}

/**
 * A reverse DNS (PTR) entry. The provider schema accepts any combination of
 * target ids, but the API takes exactly one: the union type and a runtime
 * check enforce that here.
 */
export class ReverseDns extends Construct {
  public readonly rdns: Rdns;

  public constructor(scope: Construct, id: string, props: ReverseDnsProps) {
    super(scope, id);
    const targets = Object.entries(props.target).filter(([, value]) => value !== undefined);
    if (targets.length !== 1) {
      throw new Error(
        `ReverseDns ${this.node.path}: give exactly one of primaryIpId, serverId, floatingIpId, loadBalancerId; got ${targets.map(([k]) => k).join(', ') || 'none'}`,
      );
    }
    const [key, value] = targets[0]!;
    this.rdns = new Rdns(this, 'rdns', {
      ipAddress: props.ipAddress,
      dnsPtr: props.dnsPtr,
      [key]: value,
    });
  }
}
