import type { Construct } from 'constructs';
import { EdgeProxy } from '../constructs/docker/edge-proxy';
import { HostNetworks } from '../constructs/docker/host-networks';
import { HOST_NETWORKS } from '../constructs/docker/host-networks';
import { connectDockerHost } from './docker-hosts';
import { ACME_STORAGE_DIR, type NetworkStack } from './network-stack';
import { CLOUDFLARE_PROXY_CIDRS_OUTPUT, dockerNetworkOutputName } from './outputs';
import { SystemStack, type SystemStackProps } from './system-stack';

export interface EdgeStackProps extends SystemStackProps {
  /** The environment's network stack, whose outputs give each host's address. */
  readonly network: NetworkStack;
}

/**
 * `<env>-edge`: on every host, the Docker networks (`frontend`, `backend`,
 * `data`) and the edge proxy. Separate from `network` because a provider
 * cannot be configured from values unknown until apply: the Docker provider
 * needs the host's address, which the network stack creates.
 *
 * Other stacks join the networks by the names published here
 * (`host_<host>_docker_network_<network>`), read through `outputsOf`, which
 * also orders their deploys after this stack.
 */
export class EdgeStack extends SystemStack {
  public readonly networks: ReadonlyMap<string, HostNetworks>;
  public readonly proxies: ReadonlyMap<string, EdgeProxy>;

  protected override get publishesHostPorts(): boolean {
    return true;
  }

  protected override get runsAppContainers(): boolean {
    return true;
  }

  public constructor(scope: Construct, props: EdgeStackProps) {
    const environment = props.environment;
    super(scope, environment.stackName('edge'), props);
    const system = environment.systemName;
    // One provider alias per host only where there are several: a single-host stack keeps the plain default provider.
    const aliased = environment.hosts.length > 1;
    const networks = new Map<string, HostNetworks>();
    const proxies = new Map<string, EdgeProxy>();
    // Web and landing routes are proxied by Cloudflare: keep its X-Forwarded-For so apps see the visitor, not Cloudflare.
    const trustedProxyCidrs = this.outputsOf(props.network).getString(CLOUDFLARE_PROXY_CIDRS_OUTPUT);
    for (const host of environment.hosts) {
      const provider = connectDockerHost(this, props.network, host.name, { aliased });
      const hostNetworks = new HostNetworks(this, host.name, { namePrefix: system, provider, labels: { ...this.labels('network'), host: host.name } });
      networks.set(host.name, hostNetworks);
      proxies.set(
        host.name,
        new EdgeProxy(this, `${host.name}-edge-proxy`, {
          acmeEmail: environment.acmeEmail,
          acmeStorageDir: ACME_STORAGE_DIR,
          frontendNetwork: hostNetworks.get('frontend').name,
          trustedProxyCidrs,
          proxyProtocolTrustedIps: environment.loadBalancer && [environment.loadBalancer.privateIp],
          labels: { ...this.labels('edge-proxy'), host: host.name },
          provider,
        }),
      );
      for (const network of HOST_NETWORKS) {
        this.publish(dockerNetworkOutputName(host.name, network), hostNetworks.get(network).name, {
          description: `Docker network "${network}" on ${host.name}`,
        });
      }
    }
    this.networks = networks;
    this.proxies = proxies;
  }
}
