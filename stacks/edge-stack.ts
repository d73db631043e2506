import { TerraformVariable, type ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import { Network } from '@cdktf/provider-docker/lib/network';
import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { sensitiveVariable } from '../constructs/core/sensitive-variable';
import { DockerSocketProxy } from '../constructs/docker/docker-socket-proxy';
import { DOCKER_SOCKET_GROUP_ID, EdgeProxy } from '../constructs/docker/edge-proxy';
import { HostNetworks } from '../constructs/docker/host-networks';
import { HOST_NETWORKS } from '../constructs/docker/host-networks';
import { OverlayNetwork } from '../constructs/docker/overlay-network';
import { EDGE_NODE_LABEL } from '../constructs/hetzner/swarm-formation';
import { connectDockerHost, swarmManagerHost } from './docker-hosts';
import { ACME_STORAGE_DIR, swarmFormationOf, swarmHostOf, type NetworkStack } from './network-stack';
import { accessoryNetworkOutputName, ACME_DNS_TOKEN_OUTPUT, dockerNetworkOutputName, hostOutputName } from './outputs';
import { addSwarmJoins, SWARM_JOIN_KEY_VARIABLE, SWARM_KNOWN_HOSTS_VARIABLE } from './swarm-joins';
import { SystemStack, type SystemStackProps } from './system-stack';

/**
 * The frontend network's IPv6 subnet on every host: a unique-local /64
 * (RFC 4193); published ports reach it through the daemon's ip6tables NAT.
 */
export const FRONTEND_IPV6_SUBNET = 'fd4d:616e:6163:1::/64';

export interface EdgeStackProps extends SystemStackProps {
  /** The environment's network stack, whose outputs give each host's address. */
  readonly network: NetworkStack;
}

/**
 * `<env>-edge`: on every host, the Docker networks (`frontend`, `backend`,
 * `data`, and one per accessory on its host) and the edge proxy. Separate from `network` because a provider
 * cannot be configured from values unknown until apply: the Docker provider
 * needs the host's address, which the network stack creates.
 *
 * Other stacks join the networks by the names published here
 * (`host_<host>_docker_network_<network>`), read through `outputsOf`, which
 * also orders their deploys after this stack.
 */
export class EdgeStack extends SystemStack {
  public readonly networks: ReadonlyMap<string, HostNetworks>;
  /** The edge proxy of each host; on swarm, the one global service under `*`. */
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
    const networks = new Map<string, HostNetworks>();
    const proxies = new Map<string, EdgeProxy>();
    // The zone's DNS-01 token, created by the network stack (scoped to the zone's DNS), as a sensitive value.
    const cloudflareDnsToken = this.outputsOf(props.network).getString(ACME_DNS_TOKEN_OUTPUT);
    // A swarm is reached through its one endpoint, the manager, whatever the node; plain containers through their
    // host's daemon (one host: validation refuses several hosts of plain containers).
    const endpoint = environment.engine === 'swarm' ? swarmManagerHost(environment) : undefined;
    const providers = new Map<string, DockerProvider>();
    for (const host of endpoint === undefined ? environment.hosts.map((host) => host.name) : [endpoint]) {
      providers.set(host, connectDockerHost(this, props.network, host, { dockerHubImages: true }));
    }
    // A swarm's shared networks are overlays spanning every node, created once through the manager; every host's
    // output names them, so whoever joins "the data network of host X" joins the one overlay.
    const swarmNetworks =
      environment.engine === 'swarm'
        ? new HostNetworks(this, 'swarm', {
            namePrefix: system,
            provider: providers.get(endpoint!),
            labels: this.labels('network'),
            swarm: true,
          })
        : undefined;
    for (const host of environment.hosts) {
      const hostNetworks =
        swarmNetworks ??
        new HostNetworks(this, host.name, {
          namePrefix: system,
          provider: providers.get(host.name),
          labels: { ...this.labels('network'), host: host.name },
          frontendIpv6Subnet: environment.ipv6 ? FRONTEND_IPV6_SUBNET : undefined,
        });
      networks.set(host.name, hostNetworks);
      for (const network of HOST_NETWORKS) {
        this.publish(dockerNetworkOutputName(host.name, network), hostNetworks.get(network).name, {
          description: `Docker network "${network}" on ${host.name}`,
        });
      }
      // On swarm the edge proxy is one global service (addSwarmEdge), not a container per host.
      if (environment.engine === 'swarm') continue;
      const provider = providers.get(host.name)!;
      // Only the edge proxy and the socket proxy join it; internal: no route out.
      const dockerApiNetwork = new Network(this, `${host.name}-docker-api`, {
        name: `${system}-docker-api`,
        driver: 'bridge',
        internal: true,
        labels: Object.entries({ ...this.labels('network'), host: host.name, network: 'docker-api', purpose: 'edge proxy to the Docker socket proxy' }).map(
          ([label, value]) => ({ label, value }),
        ),
        provider,
      });
      dockerApiNetwork.overrideLogicalId(`${host.name}-docker-api`);
      const socketProxy = new DockerSocketProxy(this, `${host.name}-docker-socket-proxy`, {
        network: dockerApiNetwork.name,
        dockerSocketGroupId: DOCKER_SOCKET_GROUP_ID,
        labels: { ...this.labels('docker-socket-proxy'), host: host.name },
        provider,
      });
      proxies.set(
        host.name,
        new EdgeProxy(this, `${host.name}-edge-proxy`, {
          acmeEmail: environment.acmeEmail,
          acmeStorageDir: ACME_STORAGE_DIR,
          frontendNetwork: hostNetworks.get('frontend').name,
          proxyProtocolTrustedIps: environment.loadBalancer && [environment.loadBalancer.privateIp],
          dockerEndpoint: socketProxy.endpoint,
          dockerApiNetwork: dockerApiNetwork.name,
          certificates: { cloudflareDnsToken, caServer: environment.acmeDirectory },
          labels: { ...this.labels('edge-proxy'), host: host.name },
          provider,
          // Traefik starts with its Docker endpoint answering.
          dependsOn: [socketProxy.dependable],
        }),
      );
    }
    // Under a Terraform Cloud agent the swarm's joins run here, on the agent on the endpoint, before the edge's global service.
    const joined = endpoint !== undefined && environment.dockerAccess.mode === 'agent' ? this.addAgentSwarmJoins(props.network) : undefined;
    if (endpoint !== undefined) proxies.set('*', this.addSwarmEdge(providers.get(endpoint)!, swarmNetworks!.get('frontend').name, cloudflareDnsToken, joined));
    this.addAccessoryNetworks(providers);
    this.networks = networks;
    this.proxies = proxies;
  }

  /**
   * The edge of a swarm, through the manager's endpoint: Traefik as a global
   * service on the edge nodes (`edge=true`: the hosts running routed
   * services, as the load balancer targets them), with the Swarm provider reading service labels through a
   * socket proxy on a manager, both on an encrypted, internal overlay
   * network; it reaches routed services on the frontend overlay they join
   * (their `traefik.swarm.network` label names it).
   */
  private addSwarmEdge(manager: DockerProvider, frontendNetwork: string, cloudflareDnsToken: string, joined: ITerraformDependable | undefined): EdgeProxy {
    const environment = this.environment;
    const system = environment.systemName;
    const dockerApiNetwork = new OverlayNetwork(this, 'swarm-docker-api-network', {
      name: `${system}-docker-api`,
      internal: true,
      labels: { ...this.labels('network'), network: 'docker-api', purpose: 'edge proxy to the Docker socket proxy' },
      provider: manager,
    });
    const socketProxy = new DockerSocketProxy(this, 'docker-socket-proxy', {
      network: dockerApiNetwork.network.name,
      dockerSocketGroupId: DOCKER_SOCKET_GROUP_ID,
      labels: this.labels('docker-socket-proxy'),
      provider: manager,
      engine: 'swarm',
    });
    return new EdgeProxy(this, 'edge-proxy', {
      acmeEmail: environment.acmeEmail,
      acmeStorageDir: ACME_STORAGE_DIR,
      frontendNetwork,
      proxyProtocolTrustedIps: environment.loadBalancer && [environment.loadBalancer.privateIp],
      dockerEndpoint: socketProxy.endpoint,
      dockerApiNetwork: dockerApiNetwork.network.name,
      certificates: { cloudflareDnsToken, caServer: environment.acmeDirectory },
      labels: this.labels('edge-proxy'),
      provider: manager,
      dependsOn: [socketProxy.dependable, ...(joined ? [joined] : [])],
      swarm: { nodeLabels: EDGE_NODE_LABEL },
    });
  }

  /**
   * The swarm's joins run from the Terraform Cloud agent on the endpoint
   * (`dockerAccess: agent`), where the network workspace, which runs
   * remotely, has neither key nor route: Terraform's own SSH client logs in
   * as the deploy user to the endpoint's private address and runs the join
   * script there, which reaches each host over the private network (the agent
   * image needs nothing beyond Terraform), with the deploy key from a
   * sensitive variable and every host key pinned by the administrator in
   * `swarm_known_hosts` (cloud-init generates a server's host keys at its
   * first boot, so nothing here knows them in advance: docs/scaling.md).
   */
  private addAgentSwarmJoins(networkStack: NetworkStack): ITerraformDependable {
    const environment = this.environment;
    const network = this.outputsOf(networkStack);
    const sshKey = sensitiveVariable(this, SWARM_JOIN_KEY_VARIABLE, `Private half of the deploy key the agent joins the hosts of ${environment.name} to the swarm with (its public half in sshKeys)`);
    const knownHosts = new TerraformVariable(this, SWARM_KNOWN_HOSTS_VARIABLE, {
      type: 'string',
      nullable: false,
      description: `known_hosts lines ("<private ip> ssh-ed25519 AAAA...") of every host of ${environment.name}, each checked against the fingerprint cloud-init printed on its console`,
    });
    const hosts = environment.hosts.map(swarmHostOf(environment));
    return addSwarmJoins(this, {
      formation: swarmFormationOf(environment)!,
      hosts: new Map(
        hosts.map((host) => [host.name, { ssh: `${networkStack.deployUser}@${host.privateIp}`, privateIp: host.privateIp, serverId: network.getString(hostOutputName(host.name, 'server_id')) }]),
      ),
      credentials: { sshKey: sshKey.stringValue, knownHosts: knownHosts.stringValue },
    });
  }

  /**
   * Each accessory's own network, which only it and the services that use it
   * join: least privilege, as `linked` reachability gives services. Internal:
   * no route out, and nothing published. On a swarm an encrypted overlay
   * (attachable: the accessory is a plain container on its node).
   */
  private addAccessoryNetworks(providers: ReadonlyMap<string, DockerProvider>): void {
    const environment = this.environment;
    for (const accessory of environment.accessories) {
      const id = `accessory-network-${accessory.name}`;
      const labels = { ...this.labels('network'), host: accessory.host, network: `accessory ${accessory.name}` };
      const network =
        environment.engine === 'swarm'
          ? new OverlayNetwork(this, id, { name: accessory.networkName, internal: true, attachable: true, labels, provider: providers.get(swarmManagerHost(environment)) }).network
          : new Network(this, id, {
              name: accessory.networkName,
              driver: 'bridge',
              internal: true,
              labels: Object.entries(labels).map(([label, value]) => ({ label, value })),
              provider: providers.get(accessory.host),
            });
      network.overrideLogicalId(id);
      this.publish(accessoryNetworkOutputName(accessory.name), network.name, { description: `Docker network of the ${accessory.name} accessory on ${accessory.host}` });
    }
  }
}
