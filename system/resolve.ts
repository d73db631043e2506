/**
 * Turns the catalog and one environment into the fully derived view every
 * stack builds from: defaults filled in, domains, images, hosts, networks and
 * connection wiring computed once, here, instead of in each construct.
 */
import { ConfigurationError, type ConfigurationIssue } from '../constructs/core/configuration-error';
import { HealthCheck } from '../constructs/core/health-check';
import { HETZNER_LOCATIONS } from '../constructs/hetzner/locations';
import { HETZNER_SERVER_TYPES, type ServerTypeFacts } from '../constructs/hetzner/server-types';
import { DEFAULT_HOST_IMAGE, DEFAULT_PRIVATE_NETWORK, KIND_DEFAULTS, networksOf } from './defaults';
import type {
  DataDependency,
  EnvironmentSpec,
  HostNetwork,
  ProductSpec,
  ResourceSpec,
  ServiceKind,
  ServiceSpec,
  SystemSpec,
} from './model';
import { planCapacity } from './capacity';
import { findLinkTarget, serviceLabel, validateSystem } from './validation';

/** A container image reference split into its parts. */
export interface ImageRef {
  /** `ghcr.io/<owner>/<image>` */
  readonly repository: string;
  readonly tag: string;
  /** `repository:tag` */
  readonly ref: string;
}

/** Where a product's Postgres or Redis comes from in one environment. */
export type DataSource = 'container' | 'external';

export interface ResolvedService {
  readonly product: string;
  readonly name: string;
  readonly kind: ServiceKind;
  /** `<product>-<service>`: the stable network alias of the container and base of its Terraform ids. */
  readonly id: string;
  readonly port?: number;
  /** Image for container kinds; undefined for mobile. */
  readonly image?: ImageRef;
  readonly command?: readonly string[];
  readonly healthCheck?: HealthCheck;
  readonly resources: ResourceSpec;
  /** Plain variables, including the URLs of linked services. */
  readonly environment: Readonly<Record<string, string>>;
  /** Names of secret variables (values come from sensitive Terraform variables). */
  readonly secrets: readonly string[];
  readonly uses: readonly DataDependency[];
  /** Fully qualified public name, for routed kinds and mobile. */
  readonly domain?: string;
  readonly routed: boolean;
  /** Whether the DNS record goes through Cloudflare's proxy. */
  readonly proxied: boolean;
  readonly networks: readonly HostNetwork[];
  readonly writablePaths: readonly string[];
  /** Host the container runs on. */
  readonly host: string;
  readonly runsContainer: boolean;
}

export interface ResolvedProduct {
  readonly name: string;
  /** `<env>-<product>`: stack, GitHub environment and workspace suffix. */
  readonly stackName: string;
  readonly host: string;
  readonly services: readonly ResolvedService[];
  readonly databaseName: string;
  /** Data services the product uses and where each comes from. */
  readonly data: Readonly<Partial<Record<DataDependency, DataSource>>>;
  /** Public URL shown on the GitHub environment: web, else landing, else api. */
  readonly publicUrl?: string;
}

export interface ResolvedHost {
  readonly name: string;
  /** `<system>-<env>-<host>`: the Hetzner server name. */
  readonly serverName: string;
  readonly serverType: string;
  readonly facts: ServerTypeFacts;
  readonly image: string;
  /** Reverse DNS name of the host's primary IPs. */
  readonly fqdn: string;
}

export interface ResolvedEnvironment {
  readonly system: SystemSpec;
  readonly spec: EnvironmentSpec;
  readonly name: string;
  readonly production: boolean;
  readonly networkZone: string;
  readonly privateNetwork: { readonly ipRange: string; readonly subnetRange: string };
  readonly hosts: readonly ResolvedHost[];
  /** Host the Postgres and Redis containers run on. */
  readonly dataHost: string;
  readonly products: readonly ResolvedProduct[];
  /** Products using a Postgres/Redis container (they get a database and credentials in the data stack). */
  readonly containerDataUsers: Readonly<Record<DataDependency, readonly ResolvedProduct[]>>;
  /** `<env>-<name>` */
  stackName(name: string): string;
  /** `<prefix><label>.<root>` */
  domain(label: string): string;
}

/** The whole system, validated and resolved per environment. */
export interface ResolvedSystem {
  readonly spec: SystemSpec;
  readonly environments: readonly ResolvedEnvironment[];
  /** Things that are allowed but close to a limit (a host over 85% reserved); printed at synth. */
  readonly warnings: readonly string[];
}

/** Validates the whole system and resolves every environment; throws a ConfigurationError listing every problem. */
export function resolveSystem(system: SystemSpec): ResolvedSystem {
  const issues = validateSystem(system);
  if (issues.length > 0) throw new ConfigurationError(issues);
  const environments = system.environments.map((environment) => resolveEnvironment(system, environment, issues));
  if (issues.length > 0) throw new ConfigurationError(issues);
  const capacity = environments.map(planCapacity);
  const overCommitted = capacity.flatMap((report) => report.issues);
  if (overCommitted.length > 0) throw new ConfigurationError(overCommitted);
  return { spec: system, environments, warnings: capacity.flatMap((report) => report.warnings) };
}

function resolveEnvironment(system: SystemSpec, spec: EnvironmentSpec, issues: ConfigurationIssue[]): ResolvedEnvironment {
  const prefix = spec.domainPrefix ?? '';
  const domain = (label: string) => `${prefix}${label}.${system.rootDomain}`;
  const stackName = (name: string) => `${spec.name}-${name}`;
  const firstHost = spec.hosts[0]!.name;
  const hosts = spec.hosts.map(
    (host): ResolvedHost => ({
      name: host.name,
      serverName: `${system.name}-${spec.name}-${host.name}`,
      serverType: host.serverType,
      facts: HETZNER_SERVER_TYPES[host.serverType]!,
      image: host.image ?? DEFAULT_HOST_IMAGE,
      fqdn: domain(host.name),
    }),
  );
  const hostOf = new Map(spec.products.map((d) => [d.product, d.host ?? firstHost]));

  const products = spec.products.map((deployment): ResolvedProduct => {
    const product = system.products.find((p) => p.name === deployment.product)!;
    const host = hostOf.get(product.name)!;
    const services = product.services.map((service): ResolvedService => {
      const kind = KIND_DEFAULTS[service.kind];
      const label = serviceLabel(product, service);
      const uses = service.uses ?? [];
      const tag = deployment.imageTags?.[service.name] ?? deployment.imageTag;
      const repository = `${system.registry.host}/${system.registry.owner}/${service.image ?? `${product.name}-${service.name}`}`;
      const port = service.port ?? kind.port;
      return {
        product: product.name,
        name: service.name,
        kind: service.kind,
        id: `${product.name}-${service.name}`,
        port,
        image: kind.container ? { repository, tag, ref: `${repository}:${tag}` } : undefined,
        command: service.command,
        healthCheck: kind.container ? (service.healthCheck ?? kind.healthCheck ?? defaultWorkerCheck(service.command)) : undefined,
        resources: scaleReservations({ ...kind.resources!, ...service.resources }, spec.reservationScale ?? 1),
        environment: {
          ...service.environment,
          ...resolveLinks(system, spec, product, service, hostOf, domain, issues),
        },
        secrets: service.secrets ?? [],
        uses,
        domain: label === undefined ? undefined : domain(label),
        routed: kind.routed,
        proxied: kind.proxied,
        networks: networksOf(service),
        writablePaths: kind.writablePaths,
        host,
        runsContainer: kind.container,
      };
    });
    const data: Partial<Record<DataDependency, DataSource>> = {};
    for (const dependency of new Set(services.flatMap((s) => s.uses))) {
      const external = deployment.externalData?.includes(dependency) || spec.data[dependency].mode === 'external';
      data[dependency] = external ? 'external' : 'container';
    }
    const byKind = (kind: ServiceKind) => services.find((s) => s.kind === kind)?.domain;
    const publicDomain = byKind('web') ?? byKind('landing') ?? byKind('api');
    return {
      name: product.name,
      stackName: stackName(product.name),
      host,
      services,
      databaseName: product.databaseName ?? product.name.replace(/-/g, '_'),
      data,
      publicUrl: publicDomain === undefined ? undefined : `https://${publicDomain}`,
    };
  });

  const containerUsers = (dependency: DataDependency) => products.filter((p) => p.data[dependency] === 'container');
  return {
    system,
    spec,
    name: spec.name,
    production: spec.production,
    networkZone: HETZNER_LOCATIONS[spec.location].networkZone,
    privateNetwork: spec.privateNetwork ?? DEFAULT_PRIVATE_NETWORK,
    hosts,
    dataHost: spec.data.host ?? firstHost,
    products,
    containerDataUsers: { postgres: containerUsers('postgres'), redis: containerUsers('redis') },
    stackName,
    domain,
  };
}

function scaleReservations(resources: ResourceSpec, scale: number): ResourceSpec {
  if (scale === 1) return resources;
  return {
    ...resources,
    cpuReservation: Math.round(resources.cpuReservation * scale * 1000) / 1000,
    memoryReservationMiB: Math.round(resources.memoryReservationMiB * scale),
  };
}

function defaultWorkerCheck(command: readonly string[] | undefined): HealthCheck | undefined {
  // Validation guarantees a worker without a health check has a command.
  return command === undefined ? undefined : HealthCheck.process(command.join(' '));
}

/**
 * A link becomes the target's URL: by container name on a shared host
 * network when both run on one host, otherwise the target's public HTTPS
 * domain (internal services are never reachable across hosts). A public URL
 * is always the HTTPS domain.
 */
function resolveLinks(
  system: SystemSpec,
  spec: EnvironmentSpec,
  product: ProductSpec,
  service: ServiceSpec,
  hostOf: ReadonlyMap<string, string>,
  domain: (label: string) => string,
  issues: ConfigurationIssue[],
): Record<string, string> {
  const resolved: Record<string, string> = {};
  const entries = [
    ...Object.entries(service.links ?? {}).map(([envVar, target]) => ({ envVar, target, via: 'links' as const })),
    ...Object.entries(service.publicUrls ?? {}).map(([envVar, target]) => ({ envVar, target, via: 'publicUrls' as const })),
  ];
  for (const { envVar, target, via } of entries) {
    const found = findLinkTarget(system, product, target)!;
    const targetHost = hostOf.get(found.product.name);
    const report = (allowed: string) =>
      issues.push({ environment: spec.name, product: product.name, field: `services.${service.name}.${via}.${envVar}`, value: target, allowed });
    if (targetHost === undefined) {
      report(`a product deployed in "${spec.name}" (deploy ${found.product.name} here or drop the link)`);
      continue;
    }
    const kind = KIND_DEFAULTS[found.service.kind];
    // By name only where both containers share a Docker network on one host; otherwise through the public domain.
    const shareNetwork = networksOf(service).some((network) => network !== 'data' && networksOf(found.service).includes(network));
    if (via === 'links' && targetHost === hostOf.get(product.name) && shareNetwork) {
      resolved[envVar] = `http://${found.product.name}-${found.service.name}:${found.service.port ?? kind.port}`;
    } else if (kind.routed) {
      resolved[envVar] = `https://${domain(serviceLabel(found.product, found.service)!)}`;
    } else {
      report(`a service on the same host ("${hostOf.get(product.name)}"): internal services are not reachable from other hosts`);
    }
  }
  return resolved;
}
