import type { Construct } from 'constructs';
import type { ResolvedProduct } from '../system/resolve';
import { hostOutputName, ZONE_ID_OUTPUT, type NetworkStack } from './network-stack';
import { SystemStack, type SystemStackProps } from './system-stack';
// --- Cloudflare names, caching and OTA buckets; the GitHub deployment environment (issue 4) ---
import { CloudflareProvider } from '@cdktf/provider-cloudflare/lib/provider';
import { GithubProvider } from '@cdktf/provider-github/lib/provider';
import { AddressRecords } from '../constructs/cloudflare/address-records';
import { OtaBucket } from '../constructs/cloudflare/ota-bucket';
import { PageRules } from '../constructs/cloudflare/page-rules';
import { cloudflareAccountIdVariable } from '../constructs/cloudflare/r2-bucket';
import { CloudflareZone } from '../constructs/cloudflare/zone';
import { Duration } from '../constructs/core/duration';
import { SecretValue } from '../constructs/core/secret-value';
import { DeploymentEnvironment } from '../constructs/github/deployment-environment';
import { planEnvironmentCloudflare, r2LocationNear, type EnvironmentCloudflare } from '../system/cloudflare-plan';
// --- end issue 4 ---
// --- Docker containers of the product (issue 3) ---
import type { ServiceContainer } from '../constructs/docker/service-container';
import { placeProductContainers } from './docker-wiring';
import type { DataStack } from './data-stack';
import type { EdgeStack } from './edge-stack';
// --- end issue 3 ---

export interface ProductStackProps extends SystemStackProps {
  /** The product, resolved for this environment. */
  readonly product: ResolvedProduct;
  /** The environment's network stack (host addresses). */
  readonly network: NetworkStack;
  /** The environment's share of its Cloudflare zone (page rules of this stack). @default - planned for this environment alone */
  readonly cloudflare?: EnvironmentCloudflare;
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

    // Issue 4: public names, caching and OTA buckets on Cloudflare; the GitHub deployment environment.
    this.otaBuckets = this.addCloudflare(props.cloudflare ?? planEnvironmentCloudflare(props.environment), props.network);
    this.deploymentEnvironment = this.addDeploymentEnvironment();

    // Issue 3: one container per service on the product's host; data containers never live here.
    this.containers =
      props.edge !== undefined && props.data !== undefined
        ? placeProductContainers(this, this.product, {
            network: props.network,
            edge: props.edge,
            data: props.data,
            secretOf: (name) => this.serviceSecret(name).value,
          })
        : new Map();
  }

  /** The container of each service, by service name (issue 3). */
  public readonly containers: ReadonlyMap<string, ServiceContainer>;

  // --- Cloudflare and GitHub (issue 4) ---

  /** OTA bucket of each mobile service, by service name. */
  public readonly otaBuckets: ReadonlyMap<string, OtaBucket>;
  /** The GitHub environment named like this stack, which deploys it. */
  public readonly deploymentEnvironment: DeploymentEnvironment;

  /**
   * The one sensitive variable holding the product's secret `name` (an
   * UPPER_SNAKE name from the catalog), set with `TF_VAR_<name in lowercase>`.
   * Containers and the GitHub environment read the same variable.
   */
  public serviceSecret(name: string): SecretValue {
    return SecretValue.variable(this, name.toLowerCase(), `${name} of ${this.product.name} in ${this.environment.name}`);
  }

  private addCloudflare(cloudflare: EnvironmentCloudflare, network: NetworkStack): Map<string, OtaBucket> {
    const environment = this.environment;
    // Authenticates from CLOUDFLARE_API_TOKEN.
    new CloudflareProvider(this, 'cloudflare', {});
    // The zone id the network stack looked up (one lookup per environment, not one per product).
    const zoneId = cloudflare.zone.zoneId ?? this.outputsOf(network).getString(ZONE_ID_OUTPUT);
    const zone = new CloudflareZone(this, 'zone', { name: cloudflare.zone.name, zoneId });
    for (const service of this.product.services) {
      if (!service.routed || service.domain === undefined) continue;
      // Managed by this stack (<env>-<product>): the service's public name, on the product's host.
      // APIs are not proxied, so their TTL (300 s) lets a move to another host take minutes.
      new AddressRecords(this, `dns-${service.id}`, {
        zone,
        name: service.domain,
        ipv4: this.hostAddresses.ipv4,
        ipv6: this.hostAddresses.ipv6,
        proxied: service.proxied,
        managedBy: this.stackName,
      });
    }
    // Page-rule mode only; cache rules of the zone live in the primary environment's network stack.
    const pageRules = cloudflare.pageRulesOf(this.stackName);
    if (pageRules.length > 0) new PageRules(this, 'page-rules', { zone, rules: pageRules });

    const buckets = new Map<string, OtaBucket>();
    for (const service of this.product.services) {
      if (service.kind !== 'mobile' || service.domain === undefined) continue;
      // Managed by this stack: the bucket, its custom domain (Cloudflare creates that DNS record) and CORS.
      buckets.set(
        service.name,
        new OtaBucket(this, `${service.id}-ota`, {
          accountId: cloudflareAccountIdVariable(this).stringValue,
          name: `${environment.system.name}-${environment.name}-${service.id}`,
          zone,
          domain: service.domain,
          location: r2LocationNear(environment.spec.location),
          protection: environment.spec.protection,
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
    const system = this.environment.system;
    const github = this.environment.spec.github ?? {};
    // Authenticates from GITHUB_TOKEN.
    new GithubProvider(this, 'github', { owner: system.repository.owner });
    const deployment = new DeploymentEnvironment(this, 'deployment-environment', {
      repository: system.repository.name,
      name: this.stackName,
      reviewerTeams: github.reviewerTeams,
      reviewerUsers: github.reviewerUsers,
      requireApproval: github.requireApproval,
      waitTimer: Duration.minutes(github.waitTimerMinutes ?? 0),
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
  // --- end issue 4 ---
}
