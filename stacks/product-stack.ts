import type { Construct } from 'constructs';
import type { ResolvedProduct } from '../environments/resolve';
import { hostOutputName, type NetworkStack } from './network-stack';
import { SystemStack, type SystemStackProps } from './system-stack';
// --- Docker containers of the product (issue 3) ---
import { sensitiveVariable } from '../constructs/core/sensitive-variable';
import type { ServiceContainer } from '../constructs/docker/service-container';
import type { DataStack } from './data-stack';
import { placeProductContainers } from './docker-wiring';
import type { EdgeStack } from './edge-stack';
// --- end issue 3 ---

export interface ProductStackProps extends SystemStackProps {
  /** The product, resolved for this environment. */
  readonly product: ResolvedProduct;
  /** The environment's network stack (host addresses). */
  readonly network: NetworkStack;
  // --- issue 3 ---
  /** The environment's edge stack (host networks). @default - no containers: the stack holds only DNS, buckets and GitHub */
  readonly edge?: EdgeStack;
  /** The environment's data stack (connection strings of the data containers). @default - no containers */
  readonly data?: DataStack;
  // --- end issue 3 ---
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

    // Issue 3: one container per service on the product's host; data containers never live here.
    this.containers =
      props.edge !== undefined && props.data !== undefined
        ? placeProductContainers(this, this.product, {
            network: props.network,
            edge: props.edge,
            data: props.data,
            secretOf: (name) => sensitiveVariable(this, name.toLowerCase(), `${name} of ${this.product.name} in ${this.environment.name}`).stringValue,
          })
        : new Map();
  }

  /** The container of each service, by service name (issue 3). */
  public readonly containers: ReadonlyMap<string, ServiceContainer>;
}
