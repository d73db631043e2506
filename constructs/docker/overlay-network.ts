import { Network } from '@cdktf/provider-docker/lib/network';
import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';

export interface OverlayNetworkProps {
  /** Network name in the swarm. */
  readonly name: string;
  /** No route out of the swarm (the data network). @default false */
  readonly internal?: boolean;
  /**
   * Plain containers may join it too (`docker run --network`), not only services: the data services, accessories,
   * release tasks and collectors that stay containers on their node. Whoever can do that holds a node's Docker
   * socket, which is root on it anyway. @default false
   */
  readonly attachable?: boolean;
  /** Labels of the network. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Provider of the swarm's manager. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
}

/**
 * A Swarm overlay network whose traffic between nodes is encrypted (IPsec):
 * overlay networks encrypt only when created with the `encrypted` driver
 * option (Docker docs, "Overlay network driver": `--opt encrypted`), and a
 * Hetzner private network carries packets unencrypted. The option is passed
 * as a driver option at create (`options`, ForceNew: it cannot be added
 * later) by kreuzwerker/terraform-provider-docker v3.6.2
 * internal/provider/resource_docker_network_funcs.go. Not attachable unless
 * asked: then only services join it, never a stray `docker run`. IPv4 only:
 * on Docker 20.10 a task on an overlay created with an IPv6 subnet fails
 * ("Invalid address fd4d:...: It does not belong to any of this network's
 * subnets"; found on the real engine, __tests__/integration/swarm-service.test.ts).
 */
export class OverlayNetwork extends Construct {
  public readonly network: Network;

  public constructor(scope: Construct, id: string, props: OverlayNetworkProps) {
    super(scope, id);
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(props.name)) {
      throw new Error(`OverlayNetwork ${id}: name must be lowercase letters, digits, "_", "." or "-"; got "${props.name}"`);
    }
    this.network = new Network(this, 'network', {
      name: props.name,
      driver: 'overlay',
      options: { encrypted: 'true' },
      attachable: props.attachable ?? false,
      internal: props.internal ?? false,
      labels: Object.entries(props.labels ?? {}).map(([label, value]) => ({ label, value })),
      provider: props.provider,
    });
    this.network.overrideLogicalId(id);
  }
}
