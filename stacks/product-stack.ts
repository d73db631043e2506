import type { Construct } from 'constructs';
import type { ResolvedProduct } from '../environments/resolve';
import { hostOutputName, type NetworkStack } from './network-stack';
import { SystemStack, type SystemStackProps } from './system-stack';

export interface ProductStackProps extends SystemStackProps {
  /** The product, resolved for this environment. */
  readonly product: ResolvedProduct;
  /** The environment's network stack (host addresses). */
  readonly network: NetworkStack;
}

/**
 * `<env>-<product>`: one product in one environment, so `cdktf deploy
 * production-chat` touches chat in production and nothing else.
 */
export class ProductStack extends SystemStack {
  public readonly product: ResolvedProduct;
  /** Public IPv4 and IPv6 of the host the product runs on (from the network stack). */
  public readonly hostAddresses: { readonly ipv4: string; readonly ipv6: string };

  protected override get runsAppContainers(): boolean {
    return true;
  }

  public constructor(scope: Construct, props: ProductStackProps) {
    super(scope, props.product.stackName, props);
    this.product = props.product;
    const network = this.outputsOf(props.network);
    this.hostAddresses = {
      ipv4: network.getString(hostOutputName(props.product.host, 'ipv4')),
      ipv6: network.getString(hostOutputName(props.product.host, 'ipv6')),
    };
  }
}
