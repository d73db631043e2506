import { ConfigurationError } from '../constructs/core/configuration-error';
import type { TerraformProvider } from 'cdktf';
import { CloudflareProvider } from '@cdktf/provider-cloudflare/lib/provider';
import { GithubProvider } from '@cdktf/provider-github/lib/provider';
import type { Construct } from 'constructs';
import { AddressRecords } from '../constructs/cloudflare/address-records';
import { CnameRecord } from '../constructs/cloudflare/cname-record';
import { OtaBucket } from '../constructs/cloudflare/ota-bucket';
import { ServiceBucket } from '../constructs/cloudflare/service-bucket';
import { PageRules } from '../constructs/cloudflare/page-rules';
import { cloudflareAccountIdVariable, r2S3Endpoint } from '../constructs/cloudflare/r2-bucket';
import { CloudflareZone } from '../constructs/cloudflare/zone';
import { Duration } from '../constructs/core/duration';
import { SecretValue } from '../constructs/core/secret-value';
import { sensitiveVariable } from '../constructs/core/sensitive-variable';
import type { Image } from '@cdktf/provider-docker/lib/image';
import { Network } from '@cdktf/provider-docker/lib/network';
import { HOST_NETWORKS } from '../constructs/docker/host-networks';
import { ReleaseTask } from '../constructs/docker/release-task';
import { SmokeCheck } from '../constructs/docker/smoke-check';
import { RELEASE_LABELS, RELEASE_SLOTS, type ReleaseSlot } from '../constructs/docker/traffic-split';
import { releaseStepLabels } from '../system/releases';
import { PreMigrationBackup } from '../constructs/docker/pre-migration-backup';
import { backupEncryptionRecipient } from '../constructs/docker/backup-job';
import { serviceInspectLabels, ServiceContainer, withClientIpHeader, type ServiceNetwork, type ServiceRoute } from '../constructs/docker/service-container';
import { EdgeRoute, TRAEFIK_SWARM_NETWORK_LABEL } from '../constructs/docker/edge-route';
import { OverlayNetwork } from '../constructs/docker/overlay-network';
import { SwarmService } from '../constructs/docker/swarm-service';
import { SwarmSecret } from '../constructs/docker/swarm-secret';
import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { dependable, type TerraformResource } from 'cdktf';
import { DeploymentEnvironment } from '../constructs/github/deployment-environment';
import { planEnvironmentCloudflare, r2LocationNear, type EnvironmentCloudflare } from '../system/cloudflare-plan';
import { BACKUP_BUCKET_SUFFIX, DATA_ENV_VARS } from '../system/defaults';
import type { DataDependency } from '../system/model';
import { bucketSecretNames, type ResolvedProduct, type ResolvedService } from '../system/resolve';
import type { CredentialsStack } from './credentials-stack';
import type { DataStack } from './data-stack';
import { connectDockerHost, swarmManagerHost } from './docker-hosts';
import type { EdgeStack } from './edge-stack';
import type { NetworkStack } from './network-stack';
import { accessoryNetworkOutputName, dataUrlOutputName, dockerNetworkOutputName, hostOutputName, loadBalancerOutputName, sharedSecretOutputName, ZONE_ID_OUTPUT } from './outputs';
import { SystemStack, type StackOutputs, type SystemStackProps } from './system-stack';

/** A service about to be placed, with what its containers or its Swarm service share. */
interface PlacedService {
  readonly service: ResolvedService;
  readonly provider: DockerProvider;
  readonly secretEnvironment: Readonly<Record<string, string>>;
  readonly networks: readonly ServiceNetwork[];
  readonly labels: Readonly<Record<string, string>>;
}
import type { InvariantExemption } from '../policy/invariants';

export interface ProductStackProps extends SystemStackProps {
  /** The product, resolved for this environment. */
  readonly product: ResolvedProduct;
  /** The environment's network stack (host addresses). */
  readonly network: NetworkStack;
  /** The environment's share of its Cloudflare zone (page rules of this stack). @default - planned for this environment alone */
  readonly cloudflare?: EnvironmentCloudflare;
  /** The environment's edge stack (host networks). @default - no containers: the stack holds only DNS, buckets and GitHub */
  readonly edge?: EdgeStack;
  /**
   * The environment's data stack: deployed before this one (its servers must know the product's roles),
   * never read, since its state holds every product's passwords. @default - no containers
   */
  readonly data?: DataStack;
  /** The product's credentials stack: its data connection strings. @default - none; needed when it uses a data container */
  readonly credentials?: CredentialsStack;
}

/** Sensitive variable of a product stack holding an external service's connection string (Supabase, Upstash). */
export function externalDataVariableName(dependency: DataDependency): string {
  return dependency === 'postgres' ? 'database_url' : 'redis_url';
}

/**
 * `<env>-<product>`: one product in one environment, so `cdktf deploy
 * production-chat` touches chat in production and nothing else: its
 * containers, public names, caching, OTA buckets and GitHub environment.
 */
export class ProductStack extends SystemStack {
  public readonly product: ResolvedProduct;
  /** Public IPv4 and IPv6 of the host the product runs on (from the network stack). */
  public readonly hostAddresses: { readonly ipv4: string; readonly ipv6: string };
  /** The R2 bucket of each service bucket, by `<service>/<bucket>`. */
  public readonly serviceBuckets: ReadonlyMap<string, ServiceBucket>;
  /** OTA bucket of each mobile service, by service name. */
  public readonly otaBuckets: ReadonlyMap<string, OtaBucket>;
  /** The GitHub environment named like this stack, which deploys it. */
  public readonly deploymentEnvironment: DeploymentEnvironment;
  /** The (first) container of each service, by service name, with plain containers; data containers never live here. */
  public get containers(): ReadonlyMap<string, ServiceContainer> {
    return this.containerMap;
  }
  /** The Swarm service of each service, by service name, on a swarm. */
  public readonly services = new Map<string, SwarmService>();
  private readonly containerMap = new Map<string, ServiceContainer>();
  private readonly replicaContainers = new Map<string, TerraformResource[]>();

  protected override get runsAppContainers(): boolean {
    return true;
  }

  /** Each container's `plainVariables`: a literal under a secret-looking name the service declares plain, one variable at a time. */
  private readonly plainVariableWaivers: InvariantExemption[] = [];

  protected override get ownExemptions(): readonly InvariantExemption[] {
    return this.plainVariableWaivers;
  }

  public constructor(scope: Construct, props: ProductStackProps) {
    super(scope, props.product.stackName, props);
    this.product = props.product;
    const network = this.outputsOf(props.network);
    this.hostAddresses = {
      ipv4: network.getString(hostOutputName(props.product.host, 'ipv4')),
      ipv6: network.getString(hostOutputName(props.product.host, 'ipv6')),
    };
    if (props.data !== undefined) this.deploysAfter(props.data);
    const cloudflare = props.cloudflare ?? planEnvironmentCloudflare(props.environment);
    // The zone id the network stack looked up (one lookup per environment, not one per product).
    const zone = new CloudflareZone(this, 'zone', { name: cloudflare.zone.name, zoneId: cloudflare.zone.zoneId ?? network.getString(ZONE_ID_OUTPUT) });
    this.serviceBuckets = this.addServiceBuckets(zone);
    if (props.edge !== undefined && props.data !== undefined) this.placeServices(props.network, props.edge, props.credentials);
    this.otaBuckets = this.addCloudflare(cloudflare, props.network, zone);
    this.deploymentEnvironment = this.addDeploymentEnvironment();
  }

  /**
   * The one sensitive variable holding the product's secret `name` (an
   * UPPER_SNAKE name from the catalog), set with `TF_VAR_<name in lowercase>`.
   * Containers and the GitHub environment read the same variable.
   */
  public serviceSecret(name: string): SecretValue {
    return SecretValue.variable(this, name.toLowerCase(), `${name} of ${this.product.name} in ${this.environment.name}`);
  }

  /**
   * The R2 buckets of the product's services, each with a token that reads
   * and writes it alone. Generated here, not supplied by hand: the token's
   * secret stays in this product's state and reaches only its own services
   * (docs/deploying.md, "Object storage"). This stack's Cloudflare token
   * then needs "API Tokens Write".
   */
  private addServiceBuckets(zone: CloudflareZone): Map<string, ServiceBucket> {
    const environment = this.environment;
    const buckets = new Map<string, ServiceBucket>();
    for (const service of this.product.services) {
      for (const bucket of service.buckets) {
        buckets.set(
          `${service.name}/${bucket.name}`,
          new ServiceBucket(this, `${this.product.name}-${bucket.name}-bucket`, {
            accountId: cloudflareAccountIdVariable(this).stringValue,
            name: bucket.bucketName,
            location: r2LocationNear(environment.location),
            protection: environment.protection,
            publicDomain: bucket.publicDomain === undefined ? undefined : { zone, domain: bucket.publicDomain },
          }),
        );
      }
    }
    return buckets;
  }

  /** A service's bucket variables that are secret (endpoint, name, credentials), by variable name. */
  private bucketSecretsOf(service: ResolvedService): Record<string, string> {
    const secrets: Record<string, string> = {};
    for (const bucket of service.buckets) {
      const created = this.serviceBuckets.get(`${service.name}/${bucket.name}`)!;
      const names = bucketSecretNames(bucket.variablePrefix);
      secrets[names.endpoint] = created.bucket.s3Endpoint;
      secrets[names.bucket] = created.bucket.bucketName;
      secrets[names.accessKeyId] = created.accessKeyId;
      secrets[names.secretAccessKey] = created.secretAccessKey;
    }
    return secrets;
  }

  private addCloudflare(cloudflare: EnvironmentCloudflare, network: NetworkStack, zone: CloudflareZone): Map<string, OtaBucket> {
    const environment = this.environment;
    // Authenticates from CLOUDFLARE_API_TOKEN.
    new CloudflareProvider(this, 'cloudflare', {});
    // Behind a load balancer every routed name points at it; otherwise at the product's host.
    const edgeAddresses =
      environment.loadBalancer === undefined
        ? this.hostAddresses
        : { ipv4: this.outputsOf(network).getString(loadBalancerOutputName('ipv4')), ipv6: this.outputsOf(network).getString(loadBalancerOutputName('ipv6')) };
    const apex = environment.apex?.product === this.product.name ? environment.apex : undefined;
    for (const service of this.product.services) {
      if (!service.routed || service.domain === undefined) continue;
      // A name moves only once the container answering it is healthy (the container waits for its health check; a
      // Swarm service for every replica running).
      const container = this.containers.get(service.name)?.hardened.container ?? this.services.get(service.name)?.service;
      const dependsOn = container === undefined ? undefined : [container];
      // Managed by this stack (<env>-<product>): the service's public name, on the product's host or the balancer.
      // APIs are not proxied, so their TTL (300 s) lets a move to another host take minutes.
      // AAAA only where the edge serves IPv6 (policy: ipv6-served).
      const records = (id: string, name: string) =>
        new AddressRecords(this, id, {
          zone,
          name,
          ipv4: edgeAddresses.ipv4,
          ipv6: environment.ipv6 ? edgeAddresses.ipv6 : undefined,
          proxied: service.proxied,
          managedBy: this.stackName,
          dependsOn,
        });
      records(`dns-${service.id}`, service.domain);
      if (apex?.service === service.name) {
        // Managed by this stack: the apex is served by this service; www answers here too and redirects to the apex.
        records('dns-apex', apex.domain);
        new CnameRecord(this, 'dns-www', { zone, name: apex.wwwDomain, target: apex.domain, proxied: true, managedBy: this.stackName, dependsOn });
      }
    }
    // Page-rule mode only; cache rules of the zone live in the primary environment's network stack.
    const pageRules = cloudflare.pageRulesOf(this.stackName);
    if (pageRules.length > 0) new PageRules(this, 'page-rules', { zone, rules: pageRules });

    const buckets = new Map<string, OtaBucket>();
    for (const service of this.product.services) {
      if (!service.otaBucket || service.domain === undefined) continue;
      // Managed by this stack: the bucket, its custom domain (Cloudflare creates that DNS record) and CORS.
      buckets.set(
        service.name,
        new OtaBucket(this, `${service.id}-ota`, {
          accountId: cloudflareAccountIdVariable(this).stringValue,
          name: environment.resourceName(service.id),
          zone,
          domain: service.domain,
          location: r2LocationNear(environment.location),
          protection: environment.protection,
        }),
      );
    }
    return buckets;
  }

  /**
   * The GitHub environment `<env>-<product>`: reviewers and the main-only
   * branch policy from the environment file; the product's secrets (from the
   * same sensitive variables its containers read, so a pipeline job approved
   * for this environment can apply this stack) and plain facts as variables.
   */
  private addDeploymentEnvironment(): DeploymentEnvironment {
    const environment = this.environment;
    const github = environment.github;
    // Authenticates from GITHUB_TOKEN.
    new GithubProvider(this, 'github', { owner: environment.repository.owner });
    const deployment = new DeploymentEnvironment(this, 'deployment-environment', {
      repository: environment.repository.name,
      name: this.stackName,
      reviewerTeams: github.reviewerTeams,
      reviewerUsers: github.reviewerUsers,
      requireApproval: github.requireApproval,
      waitTimer: Duration.minutes(github.waitTimerMinutes),
    });
    if (this.product.publicUrl !== undefined) deployment.url(this.product.publicUrl);
    deployment.addVariable('SERVER_IPV4', this.hostAddresses.ipv4);
    deployment.addVariable('SERVER_IPV6', this.hostAddresses.ipv6);
    const secretNames = new Set<string>();
    for (const service of this.product.services) {
      const prefix = service.name.toUpperCase().replace(/-/g, '_');
      if (service.image !== undefined) deployment.addVariable(`${prefix}_IMAGE_TAG`, service.image.tag);
      if (service.domain !== undefined) deployment.addVariable(`${prefix}_URL`, `https://${service.domain}`);
      service.secrets.forEach((name) => secretNames.add(name));
    }
    for (const name of [...secretNames].sort()) deployment.addSecret(name, this.serviceSecret(name));
    for (const [service, bucket] of this.otaBuckets) {
      const prefix = service.toUpperCase().replace(/-/g, '_');
      deployment.addVariable(`${prefix}_BUCKET`, bucket.bucket.bucketName);
      deployment.addVariable(`${prefix}_S3_ENDPOINT`, bucket.bucket.s3Endpoint);
    }
    if (this.otaBuckets.size > 0) {
      // The workflow publishing OTA updates uploads with an R2 token scoped to this product's buckets.
      deployment.addSecret('OTA_R2_ACCESS_KEY_ID', SecretValue.variable(this, 'ota_r2_access_key_id', `R2 access key id that uploads ${this.product.name} OTA bundles`));
      deployment.addSecret('OTA_R2_SECRET_ACCESS_KEY', SecretValue.variable(this, 'ota_r2_secret_access_key', `R2 secret access key that uploads ${this.product.name} OTA bundles`));
    }
    return deployment;
  }

  /**
   * The product's services: plain containers on its one host, or Swarm
   * services through the swarm's manager. Secrets from this stack's
   * sensitive variables, data connection strings from the product's
   * credentials stack (or, for external services, sensitive variables), and
   * the shared networks by the names the edge stack publishes.
   */
  private placeServices(networkStack: NetworkStack, edgeStack: EdgeStack, credentials: CredentialsStack | undefined): void {
    const product = this.product;
    const services = product.services.filter((service) => service.runsContainer);
    if (services.length === 0) return;
    const environment = this.environment;
    const swarm = environment.engine === 'swarm';
    // One Docker endpoint: the product's host, or the swarm's manager. A docker_service without an `auth` block sends
    // this provider's registry_auth for its image's registry with the create and update (kreuzwerker v3.6.2
    // resource_docker_service_structures.go, retrieveAndMarshalAuth/fromRegistryAuth), so every node pulls the
    // private image.
    const endpoint = swarm ? swarmManagerHost(environment) : product.host;
    const provider = connectDockerHost(this, networkStack, endpoint, { registryLogin: true });
    const edge = this.outputsOf(edgeStack);
    const networkNames = new Map(
      HOST_NETWORKS.filter((network) => services.some((service) => service.networks.includes(network))).map((network) => [
        network,
        edge.getString(dockerNetworkOutputName(endpoint, network)),
      ]),
    );
    // The product's own networks: one shared by all its services (`product`), or one per linked service that only it
    // and its callers join (`linked`). Services reach each other by short name; nothing else is on them. On a swarm,
    // encrypted overlays, attachable for the release tasks (plain containers).
    const owners = product.reachability === 'linked' ? product.serviceNetworks : [undefined];
    const productNetworks = new Map(
      owners.map((owner) => {
        const id = owner === undefined ? 'product-network' : `service-network-${owner}`;
        const name = owner === undefined ? product.networkName : `${product.networkName}.${owner}`;
        const labels = { ...this.labels('network'), ...(swarm ? {} : { host: endpoint }), network: owner === undefined ? 'product' : `service ${owner}` };
        const network = swarm
          ? new OverlayNetwork(this, id, { name, attachable: true, labels, provider }).network
          : new Network(this, id, { name, driver: 'bridge', labels: Object.entries(labels).map(([label, value]) => ({ label, value })), provider });
        network.overrideLogicalId(id);
        return [owner, network.name] as const;
      }),
    );
    const dataUrls = new Map<DataDependency, string>();
    const credentialsOutputs = () => {
      if (credentials === undefined) throw new Error(`Stack ${this.stackName}: ${product.name} uses a data container of ${environment.name} but was given no credentials stack`);
      return this.outputsOf(credentials);
    };
    for (const [dependency, source] of Object.entries(product.data) as Array<[DataDependency, 'container' | 'external']>) {
      dataUrls.set(
        dependency,
        source === 'container'
          ? credentialsOutputs().getString(dataUrlOutputName(dependency))
          : sensitiveVariable(this, externalDataVariableName(dependency), `Connection string of ${product.name}'s ${dependency} at ${product.externalProviders[dependency]}`)
              .stringValue,
      );
    }
    const started: TerraformResource[] = [];
    const tasks: ReleaseTask[] = [];
    for (const service of services) {
      const secretEnvironment = {
        ...this.secretEnvironmentOf(service, dataUrls),
        ...Object.fromEntries(service.sharedSecrets.map((secret) => [secret.name, credentialsOutputs().getString(sharedSecretOutputName(secret.accessory, secret.name))])),
        ...this.bucketSecretsOf(service),
      };
      const placed: PlacedService = {
        service,
        provider,
        secretEnvironment,
        // An accessory is reached by name on its own network.
        networks: [
          ...service.networks.map((role) => ({ role, name: networkNames.get(role)! })),
          ...service.accessories.map((accessory) => ({ role: `accessory ${accessory}`, name: edge.getString(accessoryNetworkOutputName(accessory)) })),
          ...(service.productNetworks ?? [undefined]).map((owner) => ({
            role: owner === undefined ? 'product' : `service ${owner}`,
            name: productNetworks.get(owner)!,
            // Its short name on its own network only: a caller is not reachable by name where it merely calls.
            aliases: owner === undefined || owner === service.name ? [service.name] : undefined,
          })),
        ],
        labels: { ...this.labels('service'), ...(swarm ? {} : { host: endpoint }), product: product.name, service: service.name, kind: service.kind },
      };
      const image = swarm ? this.addSwarmService(placed, networkNames.get('frontend')) : this.addContainers(placed);
      started.push(...(swarm ? [this.services.get(service.name)!.service] : this.containersOf(service.name)));
      // Release tasks run once, before the product's new containers or tasks, with the service's image, variables and
      // networks (not its aliases: a running task answers to no name): a plain container on the one endpoint, which on
      // a swarm joins the attachable overlays (the Docker provider v3.6.2 has no job mode: docker_service's `mode`
      // takes `replicated` or `global` only, and converging waits for running tasks, which a finished job never is).
      for (const task of service.tasks) {
        // The task has the service's variables, so the service's plainVariables hold for it too.
        this.waivePlainVariables(service, `docker_container.${task.id}`);
        tasks.push(
          new ReleaseTask(this, task.id, {
            taskName: task.name,
            serviceName: service.id,
            image,
            imageRef: service.image!.ref,
            imageTag: service.image!.tag,
            command: task.command,
            timeoutSeconds: task.timeoutSeconds,
            environment: service.environment,
            secretEnvironment,
            networks: [
              ...service.networks.map((role) => ({ name: networkNames.get(role)! })),
              ...(service.productNetworks ?? [undefined]).map((owner) => ({ name: productNetworks.get(owner)! })),
            ],
            writablePaths: service.writablePaths,
            readOnlyRootFilesystem: service.readOnlyRootFilesystem,
            resources: task.resources,
            labels: { ...this.labels('task'), ...(swarm ? {} : { host: endpoint }), product: product.name, service: service.name },
            provider,
          }),
        );
      }
    }
    const firstWithTasks = services.find((service) => service.tasks.length > 0);
    if (firstWithTasks !== undefined && environment.data.preMigrationBackup && product.data.postgres === 'container') {
      this.addPreMigrationBackup(tasks, firstWithTasks.image!.tag, dataUrls.get('postgres')!, endpoint, provider, edge);
    }
    // Every new container or service update of the product waits for every release task: none starts, nor replaces an
    // old one, before they succeeded.
    if (tasks.length > 0) {
      for (const resource of started) resource.dependsOn = [...(resource.dependsOn ?? []), ...tasks.map((task) => dependable(task.hardened.container))];
    }
  }

  /**
   * One container per replica on the product's host; returns the image its release tasks run. A service released
   * through slots (docs/releasing.md) gets a version per slot that holds a tag: `<id>-blue`, `<id>-green`, labelled
   * with their slot and release steps, routed through the edge's split; the slot that does not serve may stay stopped
   * (the kept version of the rollback window). While it moves to slots (no slots recorded yet), its pre-slot
   * containers stay exactly as they were and keep serving beside the blue slot, until `release run` has written the
   * split and the tags file records the slots: then the next apply removes them.
   */
  private addContainers(placed: PlacedService): Image {
    const { service } = placed;
    const slots = service.slots;
    if (slots === undefined) return this.addVersion(placed, service.id, service.image!.tag, {});
    const versions = new Map<string, Image>();
    if (slots.moving) versions.set(service.image!.tag, this.addVersion(placed, service.id, service.image!.tag, {}));
    const steps = releaseStepLabels(this.environment.releases, service.smoke);
    for (const slot of RELEASE_SLOTS) {
      const tag = slots.tags[slot];
      if (tag === undefined) continue;
      const image = this.addVersion(placed, `${service.id}-${slot}`, tag, {
        splitSlot: slot,
        mayBeStopped: slot !== slots.live,
        labels: { [RELEASE_LABELS.service]: service.id, [RELEASE_LABELS.slot]: slot, ...steps },
        servesNames: !slots.moving && slot === slots.live,
        // One docker_image per tag: the pre-slot container and the blue slot run the same one while moving.
        image: versions.get(tag),
      });
      // Once the slots are recorded, blue's image is the pre-slot container's image resource renamed (a `moved` block),
      // not a new one whose unknown image_id would replace the serving container; ignored where there was none.
      if (!slots.moving && slot === 'blue' && !versions.has(tag)) image.moveFromId(`docker_image.${service.id}`);
      if (!versions.has(tag)) versions.set(tag, image);
    }
    this.addSmokeChecks(placed, versions.get(service.image!.tag)!);
    return versions.get(service.image!.tag)!;
  }

  /**
   * The smoke checks of a service released through slots, as `release run` runs them (scripts/release/release-sites.ts):
   * synthesized with `count = 0`, so Terraform validates and shows them but never runs them; the release substitutes
   * the new version's image and container for the references here.
   */
  private addSmokeChecks({ service, provider, networks }: PlacedService, image: Image): void {
    // The serving slot's container, by its address rather than a token: the check's settings are hashed at synth time,
    // and `release run` puts the new version's name in its place (release-sites.ts, smokeRunFor).
    const target = `\${docker_container.${service.id}-${service.slots!.live}.name}`;
    for (const check of service.smoke) {
      const smoke = new SmokeCheck(this, `${service.id}-smoke-${check.name}`, {
        checkName: check.name,
        serviceName: service.id,
        target,
        image,
        imageRef: service.image!.ref,
        imageTag: service.image!.tag,
        check: check.kind === 'http' ? { http: { path: check.path, port: check.port, status: check.status, bodyContains: check.bodyContains, client: check.client } } : { command: check.command },
        timeoutSeconds: check.timeoutSeconds,
        networks: networks.filter((network) => network.role === 'product' || network.role.startsWith('service ')).map((network) => ({ name: network.name })),
        // The service's own limits, as its release tasks have: the check runs the service's image.
        resources: service.resources,
        labels: { ...this.labels('task'), host: service.host, product: service.product, service: service.name },
        provider,
      });
      smoke.task.hardened.container.count = 0;
    }
  }

  /** One version of a service: a container per replica, ids `<idPrefix>`, `<idPrefix>-2`, ...; returns their image. */
  private addVersion(
    { service, provider, secretEnvironment, networks, labels }: PlacedService,
    idPrefix: string,
    tag: string,
    release: {
      readonly splitSlot?: ReleaseSlot;
      readonly mayBeStopped?: boolean;
      readonly labels?: Readonly<Record<string, string>>;
      /** Its first container is the one DNS waits for. @default true */
      readonly servesNames?: boolean;
      /** An image resource of the same tag already in the stack. @default - its own */
      readonly image?: Image;
    },
  ): Image {
    const apex = this.apexOf(service);
    const route = this.routeOf(service, apex);
    let image: Image | undefined = release.image;
    for (let replica = 1; replica <= service.replicas; replica++) {
      const instance = replica === 1 ? idPrefix : `${idPrefix}-${replica}`;
      const container = new ServiceContainer(this, instance, {
        instance,
        serviceName: service.id,
        image: tag === service.image!.tag ? service.image!.ref : `${service.image!.repository}:${tag}`,
        imageTag: tag,
        command: service.command,
        port: service.port,
        healthPort: service.healthPort,
        healthCheck: service.healthCheck!,
        resources: service.resources,
        environment: service.environment,
        secretEnvironment,
        networks,
        writablePaths: service.writablePaths,
        readOnlyRootFilesystem: service.readOnlyRootFilesystem,
        updateOrder: service.updateOrder,
        route: route && release.splitSlot !== undefined ? { ...route, splitSlot: release.splitSlot } : route,
        stopGraceSeconds: service.stopGraceSeconds,
        restart: service.restart,
        labels: release.labels === undefined ? labels : { ...labels, ...release.labels },
        provider,
        mayBeStopped: release.mayBeStopped,
        // Further replicas: same alias and route (one load-balanced service), their own containers, one image.
        replica,
        sharedImage: image,
      });
      image ??= container.hardened.image;
      this.waivePlainVariables(service, `docker_container.${instance}`);
      if (replica === 1 && (release.servesNames ?? true)) this.containerMap.set(service.name, container);
      this.replicaContainers.set(service.name, [...(this.replicaContainers.get(service.name) ?? []), container.hardened.container]);
    }
    return image!;
  }

  /**
   * The service as one Swarm service (SwarmService): its replicas placed by its group's role label and spread, at
   * most `maxReplicasPerNode` on a node, rolled out start-first with automatic rollback. A routed service carries
   * its Traefik router on the service's labels, which Traefik's Swarm provider reads (not the tasks'), with the port
   * it must be given (Swarm exposes none to detect) and the network to reach the tasks on: Traefik docs, "Traefik &
   * Docker Swarm" (https://doc.traefik.io/traefik/routing/providers/swarm/: labels on services; port detection;
   * `traefik.swarm.network`). Returns the image reference its release tasks pull.
   */
  private addSwarmService({ service, provider, secretEnvironment, networks, labels }: PlacedService, frontendNetwork: string | undefined): string {
    const route = this.routeOf(service, this.apexOf(service));
    const edgeRoute = route && new EdgeRoute({ name: service.id, port: service.port!, ...route });
    const restart = service.restart;
    const health = service.healthCheck!;
    const files = this.secretFilesOf(service, secretEnvironment, provider);
    this.services.set(
      service.name,
      new SwarmService(this, service.id, {
        name: service.id,
        image: service.image!.ref,
        command: service.command,
        environment: withClientIpHeader(service.environment, route),
        secretEnvironment: Object.fromEntries(Object.entries(secretEnvironment).filter(([variable]) => files[variable] === undefined)),
        secretFiles: files,
        secretFileVariables: service.secretFiles,
        healthCheck: health.toDocker(service.healthPort ?? service.port),
        resources: service.resources,
        networks: networks.map((network) => ({ name: network.name, aliases: network.aliases })),
        replicas: service.replicas,
        nodeLabels: service.placement!.nodeLabels,
        maxReplicasPerNode: service.placement!.maxReplicasPerNode,
        updateOrder: service.updateOrder,
        restartCondition: typeof restart === 'string' ? 'any' : 'on-failure',
        maxRestartAttempts: typeof restart === 'string' ? undefined : restart.onFailure.maxRetries,
        stopGraceSeconds: service.stopGraceSeconds,
        readOnlyRootFilesystem: service.readOnlyRootFilesystem,
        writablePaths: service.writablePaths,
        capabilities: service.port !== undefined && service.port < 1024 ? ['NET_BIND_SERVICE'] : undefined,
        labels: {
          ...labels,
          ...serviceInspectLabels(service.image!.tag, service.resources, health),
          ...edgeRoute?.toLabels(),
          ...(edgeRoute !== undefined && frontendNetwork !== undefined ? { [TRAEFIK_SWARM_NETWORK_LABEL]: frontendNetwork } : {}),
        },
        provider,
      }),
    );
    this.waivePlainVariables(service, `docker_service.${service.id}`);
    return service.image!.ref;
  }

  /**
   * A Swarm secret for each variable the service's image reads from a file (`secretFiles`), named
   * `<product>-<service>-<variable>` and a revision of its value (SwarmSecret): a new database password or key is a
   * new secret the service rolls onto, and the old one is removed once no service spec references it.
   */
  private secretFilesOf(service: ResolvedService, secretEnvironment: Readonly<Record<string, string>>, provider: TerraformProvider): Record<string, SwarmSecret> {
    const files: Record<string, SwarmSecret> = {};
    for (const variable of Object.keys(service.secretFiles).sort()) {
      const value = secretEnvironment[variable];
      if (value === undefined) {
        // Validation refuses this first (system/validation/variables.ts); a library caller building stacks by hand still gets the same shape.
        throw new ConfigurationError([
          {
            environment: this.environment.name,
            product: service.product,
            field: `services.${service.name}.secretFiles`,
            value: variable,
            allowed: Object.keys(secretEnvironment).sort(),
            why: 'a variable read from a file must be one of the secret variables the service is given',
          },
        ]);
      }
      const name = `${service.id}-${variable.toLowerCase().replace(/_/g, '-')}`;
      files[variable] = new SwarmSecret(this, `${name}-secret`, { name, value, provider });
    }
    return files;
  }

  /** The apex this service answers, if any. */
  private apexOf(service: ResolvedService) {
    const apex = this.environment.apex;
    return apex?.product === this.product.name && apex.service === service.name ? apex : undefined;
  }

  /** The public route of a routed service. */
  private routeOf(service: ResolvedService, apex: ReturnType<ProductStack['apexOf']>): ServiceRoute | undefined {
    if (!service.routed) return undefined;
    return {
      domain: service.domain!,
      rateLimit: service.rateLimit,
      proxied: service.proxied,
      certificate: { zone: this.environment.rootDomain },
      aliases: apex === undefined ? undefined : [apex.domain],
      redirects: apex === undefined ? undefined : [apex.wwwDomain],
    };
  }

  /** The containers of a service's replicas. */
  private containersOf(service: string): TerraformResource[] {
    return this.replicaContainers.get(service) ?? [];
  }

  /**
   * The product's database dumped to the backup bucket before its release tasks run
   * (constructs/docker/pre-migration-backup.ts): as the product's own role, with the backup bucket's
   * write token given to this stack (the data stack's state, holding every product's passwords, is never read).
   */
  private addPreMigrationBackup(tasks: readonly ReleaseTask[], releaseTag: string, databaseUrl: string, host: string, provider: TerraformProvider, edge: StackOutputs): void {
    const environment = this.environment;
    const job = environment.data.backupJob!;
    const postgres = environment.data.containers.find((service) => service.name === 'postgres')!;
    new PreMigrationBackup(this, 'pre-migration-backup', {
      product: this.product.name,
      databaseUrl,
      releaseTag,
      image: job.image,
      target: {
        s3Endpoint: r2S3Endpoint(cloudflareAccountIdVariable(this).stringValue),
        bucketName: environment.resourceName(BACKUP_BUCKET_SUFFIX),
        prefix: postgres.backup.prefix,
        accessKeyId: SecretValue.variable(this, 'backup_r2_access_key_id', `Access key id of the R2 token ${this.product.name}'s pre-migration backup writes with (Bucket Item Write on the backup bucket only)`).value,
        secretAccessKey: SecretValue.variable(this, 'backup_r2_secret_access_key', `Secret access key of the R2 token ${this.product.name}'s pre-migration backup writes with`).value,
        encryptionRecipient: backupEncryptionRecipient(this, job.encryptionKey),
      },
      precedes: tasks,
      // PostgreSQL by name on the data network (a host's internal bridge, or a swarm's overlay), R2 through the backend network.
      networks: (['data', 'backend'] as const).map((role) => ({ name: edge.getString(dockerNetworkOutputName(host, role)) })),
      resources: job.resources,
      labels: { ...this.labels('task'), ...(environment.engine === 'swarm' ? {} : { host }) },
      provider,
    });
  }

  /** Records that `service` declares its plainVariables plain in the container at `resource`. */
  private waivePlainVariables(service: ResolvedService, resource: string): void {
    for (const variable of service.plainVariables) {
      this.plainVariableWaivers.push({
        rule: 'no-plaintext-secret',
        stack: this.stackName,
        resource,
        variable,
        reason: `services.${service.name}.plainVariables declares ${variable} holds no secret`,
      });
    }
  }

  /** A service's secret variables and the connection strings of the data services it uses, by variable name. */
  private secretEnvironmentOf(service: ResolvedService, dataUrls: ReadonlyMap<DataDependency, string>): Record<string, string> {
    const secrets: Record<string, string> = {};
    for (const name of service.secrets) secrets[name] = this.serviceSecret(name).value;
    for (const dependency of service.uses) {
      const name = DATA_ENV_VARS[dependency];
      if (name in secrets) {
        throw new Error(`${service.product}/${service.name}: ${name} is both a declared secret and the ${dependency} connection string; drop it from secrets`);
      }
      secrets[name] = dataUrls.get(dependency)!;
    }
    return secrets;
  }
}
