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
import { PreMigrationBackup } from '../constructs/docker/pre-migration-backup';
import { backupEncryptionRecipient } from '../constructs/docker/backup-job';
import { ServiceContainer } from '../constructs/docker/service-container';
import { DeploymentEnvironment } from '../constructs/github/deployment-environment';
import { planEnvironmentCloudflare, r2LocationNear, type EnvironmentCloudflare } from '../system/cloudflare-plan';
import { BACKUP_BUCKET_SUFFIX, DATA_ENV_VARS } from '../system/defaults';
import type { DataDependency } from '../system/model';
import { bucketSecretNames, type ResolvedProduct, type ResolvedService } from '../system/resolve';
import type { CredentialsStack } from './credentials-stack';
import type { DataStack } from './data-stack';
import { connectDockerHost } from './docker-hosts';
import type { EdgeStack } from './edge-stack';
import type { NetworkStack } from './network-stack';
import { accessoryNetworkOutputName, dataUrlOutputName, dockerNetworkOutputName, hostOutputName, loadBalancerOutputName, sharedSecretOutputName, ZONE_ID_OUTPUT } from './outputs';
import { SystemStack, type StackOutputs, type SystemStackProps } from './system-stack';
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
  /** The container of each service, by service name; data containers never live here. */
  public readonly containers: ReadonlyMap<string, ServiceContainer>;

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
    this.containers =
      props.edge !== undefined && props.data !== undefined ? this.placeContainers(props.network, props.edge, props.credentials) : new Map();
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
      // A name moves only once the container answering it is healthy (the container waits for its health check).
      const container = this.containers.get(service.name)?.hardened.container;
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
   * One container per service on the product's host: secrets from this
   * stack's sensitive variables, data connection strings from the product's
   * credentials stack (or, for external services, sensitive variables), and
   * the host networks by the names the edge stack publishes.
   */
  private placeContainers(networkStack: NetworkStack, edgeStack: EdgeStack, credentials: CredentialsStack | undefined): Map<string, ServiceContainer> {
    const product = this.product;
    const services = product.services.filter((service) => service.runsContainer);
    const containers = new Map<string, ServiceContainer>();
    if (services.length === 0) return containers;
    const environment = this.environment;
    const apex = environment.apex?.product === product.name ? environment.apex : undefined;
    const edge = this.outputsOf(edgeStack);
    // One host: the stack's default provider and plain addresses. Several hosts: an aliased provider for EVERY host of the
    // environment and addresses keyed by host, so a container that leaves a host is destroyed there by that host's
    // provider (the Docker provider drops from state what it cannot find on the daemon it is configured for).
    const multiHost = environment.hosts.length > 1;
    const providers = new Map(
      (multiHost ? environment.hosts.map((host) => host.name) : [product.host]).map((host) => [
        host,
        connectDockerHost(this, networkStack, host, { registryLogin: true, aliased: multiHost }),
      ]),
    );
    const onHost = new Map(
      product.hosts.map((host) => {
        const provider = providers.get(host)!;
        const joined = HOST_NETWORKS.filter((network) => services.some((service) => service.networks.includes(network)));
        const networkNames = new Map(joined.map((network) => [network, edge.getString(dockerNetworkOutputName(host, network))]));
        // The product's own networks on this host: one shared by all its services (`product`), or one per linked service
        // that only it and its callers join (`linked`). Services reach each other by short name; nothing else is on them.
        const owners = product.reachability === 'linked' ? product.serviceNetworks : [undefined];
        const productNetworks = new Map(
          owners.map((owner) => {
            const base = owner === undefined ? 'product-network' : `service-network-${owner}`;
            const id = multiHost ? `${base}-${host}` : base;
            const network = new Network(this, id, {
              name: owner === undefined ? product.networkName : `${product.networkName}.${owner}`,
              driver: 'bridge',
              labels: Object.entries({ ...this.labels('network'), host, network: owner === undefined ? 'product' : `service ${owner}` }).map(([label, value]) => ({ label, value })),
              provider,
            });
            network.overrideLogicalId(id);
            return [owner, network] as const;
          }),
        );
        return [host, { provider, networkNames, productNetworks }] as const;
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
    const allContainers: ServiceContainer[] = [];
    const tasks: ReleaseTask[] = [];
    for (const service of services) {
      const secretEnvironment = {
        ...this.secretEnvironmentOf(service, dataUrls),
        ...Object.fromEntries(service.sharedSecrets.map((secret) => [secret.name, credentialsOutputs().getString(sharedSecretOutputName(secret.accessory, secret.name))])),
        ...this.bucketSecretsOf(service),
      };
      const images = new Map<string, Image>();
      const onThisHost = new Map<string, number>();
      service.placements.forEach((host, index) => {
        const replica = index + 1;
        const { provider, networkNames, productNetworks } = onHost.get(host)!;
        // Several hosts: `<service>-<host>`, `<service>-<host>-2`... counted per host, so moving one replica leaves the others' addresses alone.
        const countOnHost = (onThisHost.get(host) ?? 0) + 1;
        onThisHost.set(host, countOnHost);
        const instance = multiHost ? `${service.id}-${host}${countOnHost > 1 ? `-${countOnHost}` : ''}` : replica === 1 ? service.id : `${service.id}-${replica}`;
        const container = new ServiceContainer(this, instance, {
          instance,
          serviceName: service.id,
          image: service.image!.ref,
          imageTag: service.image!.tag,
          command: service.command,
          port: service.port,
          healthPort: service.healthPort,
          healthCheck: service.healthCheck!,
          resources: service.resources,
          environment: service.environment,
          secretEnvironment,
          networks: [
            ...service.networks.map((role) => ({ role, name: networkNames.get(role)! })),
            // One host: an accessory is reached by name on its own network; several: at its host's private address.
            ...(environment.dataAccess === 'local'
              ? service.accessories.map((accessory) => ({ role: `accessory ${accessory}`, name: edge.getString(accessoryNetworkOutputName(accessory)) }))
              : []),
            ...(service.productNetworks ?? [undefined]).map((owner) => ({
              role: owner === undefined ? 'product' : `service ${owner}`,
              name: productNetworks.get(owner)!.name,
              // Its short name on its own network only: a caller is not reachable by name where it merely calls.
              aliases: owner === undefined || owner === service.name ? [service.name] : undefined,
            })),
          ],
          writablePaths: service.writablePaths,
          readOnlyRootFilesystem: service.readOnlyRootFilesystem,
          updateOrder: service.updateOrder,
          route: service.routed
            ? {
                domain: service.domain!,
                rateLimit: service.rateLimit,
                proxied: service.proxied,
                certificate: { zone: environment.rootDomain },
                aliases: apex?.service === service.name ? [apex.domain] : undefined,
                redirects: apex?.service === service.name ? [apex.wwwDomain] : undefined,
              }
            : undefined,
          stopGraceSeconds: service.stopGraceSeconds,
          restart: service.restart,
          labels: { ...this.labels('service'), host, product: product.name, service: service.name, kind: service.kind },
          provider,
          // Further replicas: same alias and route (one load-balanced service), their own containers; one image per host's daemon.
          replica,
          sharedImage: images.get(host),
        });
        if (!images.has(host)) images.set(host, container.hardened.image);
        this.waivePlainVariables(service, `docker_container.${instance}`);
        if (replica === 1) containers.set(service.name, container);
        allContainers.push(container);
      });
      // Release tasks run once, on the host of the service's first replica, with its image, variables and networks
      // (not its aliases: a running task answers to no name).
      const taskHost = service.placements[0]!;
      const { provider, networkNames, productNetworks } = onHost.get(taskHost)!;
      for (const task of service.tasks) {
        // The task has the service's variables, so the service's plainVariables hold for it too.
        this.waivePlainVariables(service, `docker_container.${task.id}`);
        tasks.push(
          new ReleaseTask(this, task.id, {
            taskName: task.name,
            serviceName: service.id,
            image: images.get(taskHost)!,
            imageRef: service.image!.ref,
            imageTag: service.image!.tag,
            command: task.command,
            timeoutSeconds: task.timeoutSeconds,
            environment: service.environment,
            secretEnvironment,
            networks: [
              ...service.networks.map((role) => ({ name: networkNames.get(role)! })),
              ...(service.productNetworks ?? [undefined]).map((owner) => ({ name: productNetworks.get(owner)!.name })),
            ],
            writablePaths: service.writablePaths,
            readOnlyRootFilesystem: service.readOnlyRootFilesystem,
            resources: task.resources,
            labels: { ...this.labels('task'), host: taskHost, product: product.name, service: service.name },
            provider,
          }),
        );
      }
    }
    const firstWithTasks = services.find((service) => service.tasks.length > 0);
    if (firstWithTasks !== undefined && environment.data.preMigrationBackup && product.data.postgres === 'container') {
      const host = firstWithTasks.placements[0]!;
      this.addPreMigrationBackup(tasks, firstWithTasks.image!.tag, dataUrls.get('postgres')!, host, onHost.get(host)!.provider, edge);
    }
    // Every new container of the product waits for every release task: none starts, nor replaces an old one, before they succeeded.
    if (tasks.length > 0) for (const container of allContainers) container.startAfter(...tasks.map((task) => task.hardened.container));
    return containers;
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
      // PostgreSQL on the host's data network (internal), R2 through the backend network; across hosts, the private address.
      networks: [...(environment.dataAccess === 'local' ? (['data'] as const) : []), 'backend' as const].map((role) => ({ name: edge.getString(dockerNetworkOutputName(host, role)) })),
      resources: job.resources,
      labels: { ...this.labels('task'), host },
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
