import { CloudflareProvider } from '@cdktf/provider-cloudflare/lib/provider';
import { GithubProvider } from '@cdktf/provider-github/lib/provider';
import { TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { PlacementGroup } from '../.gen/providers/hcloud/placement-group';
import { HcloudProvider } from '../.gen/providers/hcloud/provider';
import { SshKey } from '../.gen/providers/hcloud/ssh-key';
import { CacheRules } from '../constructs/cloudflare/cache-rules';
import { DnsChallengeToken } from '../constructs/cloudflare/dns-challenge-token';
import { CloudflareZone } from '../constructs/cloudflare/zone';
import { ZoneSecurity } from '../constructs/cloudflare/zone-security';
import { Duration } from '../constructs/core/duration';
import { SecretValue } from '../constructs/core/secret-value';
import { DOCKER_SOCKET_GROUP_ID, EDGE_DYNAMIC_HOST_DIR, EDGE_PROXY_USER_ID, ORIGIN_PULL_CA_HOST_PATH, ORIGIN_PULL_CA_URL } from '../constructs/docker/edge-proxy';
import { PipelineEnvironments } from '../constructs/github/pipeline-environments';
import { RepositorySecrets } from '../constructs/github/repository-secrets';
import { CloudInit, PRIVATE_SERVICES_UNIT, privateServicesUnit } from '../constructs/hetzner/cloud-init';
import { HetznerHost } from '../constructs/hetzner/hetzner-host';
import { DEPLOY_PATH_ROLE, DeployPathFirewall } from '../constructs/hetzner/deploy-path-firewall';
import { EdgeLoadBalancer } from '../constructs/hetzner/edge-load-balancer';
import { HostFirewall } from '../constructs/hetzner/host-firewall';
import { PrivateNetwork } from '../constructs/hetzner/private-network';
import { initializerCommands, planSwarmFormation, swarmNodeLabels, type SwarmFormation, type SwarmHost } from '../constructs/hetzner/swarm-formation';
import { planEnvironmentCloudflare, type EnvironmentCloudflare } from '../system/cloudflare-plan';
import type { ResolvedEnvironment, ResolvedHost } from '../system/resolve';
import { ACME_DNS_TOKEN_OUTPUT, hostOutputName, loadBalancerOutputName, privateServicesUnitOutputName, ZONE_ID_OUTPUT } from './outputs';
import { addSwarmJoins } from './swarm-joins';
import { SystemStack, type SystemStackProps } from './system-stack';

export interface NetworkStackProps extends SystemStackProps {
  /** The environment's share of its Cloudflare zone. @default - planned for this environment alone */
  readonly cloudflare?: EnvironmentCloudflare;
  /**
   * Owns the repository-level Actions secrets of the pipeline. Exactly one
   * stack of the system may (a repository has one secret per name).
   * @default - true for a production environment
   */
  readonly ownsRepositorySecrets?: boolean;
}

/** The Terraform Cloud agent image the hosts run in `agent` mode, pinned. */
export const TFC_AGENT_IMAGE = 'hashicorp/tfc-agent:1.28.7';

/** The network stack's variable holding the agent token; the bootstrap stack sets its value from the token it creates. */
export const TFC_AGENT_TOKEN_VARIABLE = 'tfc_agent_token';

/** Where the edge proxy keeps its ACME account and certificates on each host. */
export const ACME_STORAGE_DIR = '/opt/edge/acme';

/**
 * `<env>-network`: the private network, the firewall, SSH keys and the hosts
 * (servers with primary IPs, reverse DNS and cloud-init). Everything else runs
 * on what this stack creates, so it changes rarely and carefully.
 */
export class NetworkStack extends SystemStack {
  public readonly network: PrivateNetwork;
  public readonly firewall: HostFirewall;
  public readonly hosts: ReadonlyMap<string, HetznerHost>;
  /** The load balancer in front of the edge proxies, where routed services run on several hosts. */
  public readonly loadBalancer?: EdgeLoadBalancer;
  /** The Unix user Terraform's SSH sessions log in as on every host (cloud-init's deploy user). */
  public readonly deployUser: string;

  public constructor(scope: Construct, props: NetworkStackProps) {
    const environment = props.environment;
    super(scope, environment.stackName('network'), props);
    // Authenticates from HCLOUD_TOKEN.
    new HcloudProvider(this, 'hcloud', {});

    const publicKeys = environment.sshKeys.map((key) => ({ name: key.name, publicKey: key.publicKey ?? sshKeyVariable(this, key.name).stringValue }));
    const sshKeys = publicKeys.map(
      (key) => new SshKey(this, `ssh-key-${key.name}`, { name: environment.resourceName(key.name), publicKey: key.publicKey, labels: this.labels('admin') }),
    );

    this.network = new PrivateNetwork(this, 'private-network', {
      name: `${environment.systemName}-${environment.name}`,
      ipRange: environment.privateNetwork.ipRange,
      subnetRange: environment.privateNetwork.subnetRange,
      networkZone: environment.networkZone,
      protection: environment.protection,
      labels: this.labels('network'),
    });

    // Terraform reaches Docker from a laptop inside adminSshCidrs, or from the agent on the host: no other port opens.
    this.firewall = new HostFirewall(this, 'firewall', {
      name: environment.resourceName('hosts'),
      adminSshCidrs: environment.adminSshCidrs,
      // Behind the load balancer, web traffic arrives over the private network only.
      publicWeb: environment.loadBalancer === undefined,
      labels: this.labels('firewall'),
    });
    // Without the agent, a pipeline reaches SSH through this firewall, which it opens for its runner and empties after.
    const deployPath =
      environment.dockerAccess.mode === 'ssh'
        ? new DeployPathFirewall(this, 'deploy-path-firewall', { name: environment.resourceName('deploy-path'), labels: this.labels(DEPLOY_PATH_ROLE) })
        : undefined;
    const agentToken =
      environment.dockerAccess.mode === 'agent'
        ? new TerraformVariable(this, TFC_AGENT_TOKEN_VARIABLE, {
            type: 'string',
            sensitive: true,
            description: `Token of the Terraform Cloud agent pool ${environment.dockerAccess.agentPool} (set by the bootstrap stack)`,
          }).stringValue
        : undefined;

    const placementGroup =
      environment.hosts.length > 1
        ? new PlacementGroup(this, 'placement-group', { name: environment.resourceName('spread'), type: 'spread', labels: this.labels('placement') })
        : undefined;

    const swarmHosts = environment.hosts.map(swarmHostOf(environment));
    const formation = swarmFormationOf(environment);
    const endpoint = formation?.initializer ?? environment.hosts[0]!.name;
    const hosts = new Map<string, HetznerHost>();
    let deployUser = '';
    environment.hosts.forEach((host, index) => {
      const cloudInit = new CloudInit({
        authorizedKeys: publicKeys.map((key) => key.publicKey),
        // The edge proxy runs as uid 1001 and reads the Docker socket through the docker group's fixed GID.
        privateDirectories: [{ path: ACME_STORAGE_DIR, uid: EDGE_PROXY_USER_ID }, { path: EDGE_DYNAMIC_HOST_DIR, uid: EDGE_PROXY_USER_ID }],
        dockerGroupId: DOCKER_SOCKET_GROUP_ID,
        privateServices: environment.privatePorts[host.name] && { address: host.privateIp, ports: environment.privatePorts[host.name]! },
        // One agent per environment, on its Docker endpoint: a run on another host's agent would reach the wrong daemon.
        terraformCloudAgent: agentToken === undefined || host.name !== endpoint ? undefined : { token: agentToken, name: host.serverName, image: TFC_AGENT_IMAGE },
        fetchedFiles: [{ url: ORIGIN_PULL_CA_URL, path: ORIGIN_PULL_CA_HOST_PATH }],
        ipv6: environment.ipv6,
        dataHost: host.name === environment.data.host && environment.data.containers.length > 0,
        swarm: formation && {
          privateAddress: host.privateIp,
          subnet: environment.privateNetwork.subnetRange,
          initialize: host.name === formation.initializer ? initializerCommands(swarmHosts[index]!) : undefined,
        },
      });
      deployUser = cloudInit.deployUser;
      const created = new HetznerHost(this, `host-${host.name}`, {
        serverName: host.serverName,
        serverType: host.serverType,
        image: host.image,
        location: environment.location,
        sshKeyIds: sshKeys.map((key) => key.id),
        firewallIds: [this.firewall.firewall.id, ...(deployPath ? [deployPath.firewall.id] : [])],
        privateNetwork: { network: this.network, ip: host.privateIp },
        placementGroupId: placementGroup?.id,
        userData: cloudInit.render(),
        fqdn: host.fqdn,
        protection: environment.protection,
        backups: environment.backups,
        labels: { ...this.labels('host'), host: host.name },
      });
      hosts.set(host.name, created);
      this.publish(hostOutputName(host.name, 'server_id'), created.server.id, { description: `Hetzner server id of ${host.name}` });
      this.publish(hostOutputName(host.name, 'ipv4'), created.ipv4.ipAddress, { description: `Primary IPv4 of ${host.name}` });
      this.publish(hostOutputName(host.name, 'ipv6'), created.server.ipv6Address, { description: `Primary IPv6 of ${host.name}` });
      this.publish(hostOutputName(host.name, 'private_ip'), created.privateIp, { description: `Private network address of ${host.name}` });
      const privateServices = environment.privatePorts[host.name];
      if (privateServices !== undefined) {
        // user_data reaches a server at its first boot only (ignore_changes): a running host installs a changed unit from here (docs/scaling.md).
        this.publish(privateServicesUnitOutputName(host.name), privateServicesUnit({ address: host.privateIp, ports: privateServices }), {
          description: `The ${PRIVATE_SERVICES_UNIT} of ${host.name}: who may reach the ports published on its private address`,
        });
      }
    });
    this.hosts = hosts;
    this.deployUser = deployUser;
    // Under a Terraform Cloud agent the edge stack joins the hosts, from the agent (this workspace runs remotely, without a key).
    if (formation !== undefined && environment.dockerAccess.mode === 'ssh') {
      const user = deployUser;
      addSwarmJoins(this, {
        formation,
        hosts: new Map(
          swarmHosts.map((host) => {
            const created = hosts.get(host.name)!;
            return [host.name, { ssh: `${user}@${created.ipv4.ipAddress}`, privateIp: host.privateIp, serverId: created.server.id, dependsOn: [created.server] }];
          }),
        ),
      });
    }

    const balancer = environment.loadBalancer;
    if (balancer !== undefined) {
      this.loadBalancer = new EdgeLoadBalancer(this, 'edge-load-balancer', {
        name: environment.resourceName('edge'),
        type: balancer.type,
        location: environment.location,
        network: this.network,
        privateIp: balancer.privateIp,
        targets: balancer.targets.map((name) => ({ name, serverId: hosts.get(name)!.server.id })),
        protection: environment.protection,
        labels: this.labels('load-balancer'),
      });
      this.publish(loadBalancerOutputName('ipv4'), this.loadBalancer.ipv4, { description: 'Public IPv4 of the load balancer in front of the edge proxies' });
      this.publish(loadBalancerOutputName('ipv6'), this.loadBalancer.ipv6, { description: 'Public IPv6 of the load balancer in front of the edge proxies' });
    }

    // Zone-wide DNS and caching rulesets (when this environment owns them), pipeline secrets.
    this.addZoneWide(props.cloudflare ?? planEnvironmentCloudflare(environment));
    const ownsRepositorySecrets = props.ownsRepositorySecrets ?? environment.production;
    // Issue 16: the GitHub environments the delivery workflows deploy through, before anything deploys through them.
    this.pipelineEnvironments = this.addPipelineEnvironments(ownsRepositorySecrets);
    if (ownsRepositorySecrets) this.addPipelineSecrets();
  }

  /** `<env>-platform` (and `plan` in the stack owning repository secrets): see constructs/github/pipeline-environments.ts. */
  public readonly pipelineEnvironments: PipelineEnvironments;

  private addPipelineEnvironments(withPlanEnvironment: boolean): PipelineEnvironments {
    const github = this.environment.github;
    // Authenticates from GITHUB_TOKEN.
    new GithubProvider(this, 'github', { owner: this.environment.repository.owner });
    return new PipelineEnvironments(this, 'pipeline-environments', {
      repository: this.environment.repository.name,
      environment: this.environment.name,
      reviewerTeams: github.reviewerTeams,
      reviewerUsers: github.reviewerUsers,
      requireApproval: github.requireApproval,
      waitTimer: Duration.minutes(github.waitTimerMinutes),
      withPlanEnvironment,
    });
  }

  /**
   * The zone, looked up once per environment and published for the product
   * stacks; the environment's DNS-01 token; the zone's TLS settings and
   * cache-rule rulesets: things a zone has once, owned by the primary
   * environment's network stack (see system/cloudflare-plan.ts for why).
   * The apex and `www` belong to the product stack serving them; no wildcard
   * record exists, since nothing answers arbitrary names.
   */
  private addZoneWide(cloudflare: EnvironmentCloudflare): void {
    // Authenticates from CLOUDFLARE_API_TOKEN.
    new CloudflareProvider(this, 'cloudflare', {});
    const zone = new CloudflareZone(this, 'zone', cloudflare.zone);
    this.publish(ZONE_ID_OUTPUT, zone.zoneId, { description: `Cloudflare zone id of ${zone.name}` });
    // Each environment's edge proxies answer DNS-01 with a token of their own, limited to this zone's DNS.
    const dnsToken = new DnsChallengeToken(this, 'acme-dns-token', { zone, name: this.environment.resourceName('acme-dns') });
    this.publish(ACME_DNS_TOKEN_OUTPUT, dnsToken.value, {
      sensitive: true,
      description: `Cloudflare token (DNS edit on ${zone.name} only) the edge proxies answer DNS-01 challenges with`,
    });
    if (cloudflare.ownsZoneRecords) {
      // Managed by <env>-network of the primary environment: a zone has each setting once.
      new ZoneSecurity(this, 'zone-security', { zone });
    }
    if (cloudflare.zoneCacheRules.length > 0) {
      new CacheRules(this, 'zone-caching', { zone, plan: cloudflare.plan, rules: cloudflare.zoneCacheRules, managedBy: this.stackName });
    }
  }

  /**
   * Repository-level secrets every pipeline job needs, whatever GitHub
   * environment it deploys: set by this stack only, so they are never
   * duplicated (two stacks writing one repository secret would fight). The
   * first apply is the bootstrap: run from a workstation with the TF_VAR_*
   * values; later the pipeline applies with the secrets it reads back.
   */
  private addPipelineSecrets(): void {
    const environment = this.environment;
    // The GitHub provider is configured by addPipelineEnvironments. No Terraform Cloud token here
    // (issue 16): a repository secret reaches every job, pull-request plans included, and a value
    // kept in this stack's state is readable by whoever reads state. The plan and apply tokens are
    // environment secrets of `plan` and `<env>-platform`, set by hand (README, "Delivery pipeline").
    const secrets: Record<string, SecretValue> = {
      REGISTRY_TOKEN: SecretValue.variable(this, 'pipeline_registry_token', `${environment.registry.host} token (read:packages) the pipeline passes to Terraform so hosts can pull images`),
    };
    new RepositorySecrets(this, 'pipeline-secrets', { repository: environment.repository.name, secrets });
  }
}

/** The hosts running routed services, whose edge proxy receives their traffic. */
export function edgeHostsOf(environment: ResolvedEnvironment): ReadonlySet<string> {
  return new Set(environment.products.flatMap((product) => product.services.filter((service) => service.routed).flatMap((service) => service.placement?.nodes ?? [service.host])));
}

/** A host of `environment` as a node of its swarm: its labels (swarmNodeLabels) and private address. */
export function swarmHostOf(environment: ResolvedEnvironment): (host: ResolvedHost) => SwarmHost {
  const edgeHosts = edgeHostsOf(environment);
  return (host) => {
    const labels = swarmNodeLabels(host, environment.dataHost, edgeHosts);
    return { name: host.name, role: labels.role!, privateIp: host.privateIp, labels };
  };
}

/** Who forms `environment`'s swarm, when it runs as one. */
export function swarmFormationOf(environment: ResolvedEnvironment): SwarmFormation | undefined {
  return environment.engine === 'swarm' ? planSwarmFormation(environment.name, environment.hosts.map(swarmHostOf(environment))) : undefined;
}

/** An administrator's public key, supplied per workspace; validated so it cannot break the cloud-init document. */
function sshKeyVariable(scope: Construct, name: string): TerraformVariable {
  return new TerraformVariable(scope, `ssh_public_key_${name}`, {
    type: 'string',
    description: `OpenSSH public key of administrator "${name}" (ssh-ed25519 AAAA... comment)`,
    validation: [
      {
        condition: `\${can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+=*( [^\\"\\n]*)?$", var.ssh_public_key_${name}))}`,
        errorMessage: 'Must be one OpenSSH public key line: "<type> <base64> [comment]", no quotes or newlines.',
      },
    ],
  });
}
