/**
 * How stacks reach Docker on their hosts and hand Docker values to each other:
 * the provider per host (from the network stack's outputs), the host networks
 * (published by the edge stack), and the data services' connection strings
 * (published by the data stack as sensitive outputs).
 */
import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { BackupJob } from '../constructs/docker/backup-job';
import type { BackupBucket } from '../constructs/cloudflare/backup-bucket';
import { sensitiveVariable } from '../constructs/core/sensitive-variable';
import { DockerConnection, DockerHostProvider } from '../constructs/docker/docker-host-provider';
import { PostgresContainer } from '../constructs/docker/postgres-container';
import { RedisContainer } from '../constructs/docker/redis-container';
import { ServiceContainer } from '../constructs/docker/service-container';
import type { DataVolume } from '../constructs/hetzner/data-volume';
import { BACKUP_JOB_IMAGE, BACKUP_JOB_RESOURCES, BACKUP_PLAN, DATA_ENV_VARS, POSTGRES_DEFAULTS, REDIS_DEFAULTS } from '../system/defaults';
import { HOST_NETWORKS, type DataDependency, type HostNetwork } from '../system/model';
import type { ResolvedProduct } from '../system/resolve';
import { hostOutputName, type NetworkStack } from './network-stack';
import type { SystemStack } from './system-stack';

/** Output of the edge stack naming one Docker network of one host. */
export function dockerNetworkOutputName(host: string, network: HostNetwork): string {
  return `host_${host.replace(/-/g, '_')}_docker_network_${network}`;
}

/** Sensitive output of the data stack with a product's connection string for a data service (`database_url_chat`). */
export function dataUrlOutputName(dependency: DataDependency, product: string): string {
  return `${dependency === 'postgres' ? 'database' : 'redis'}_url_${product.replace(/-/g, '_')}`;
}

/** Sensitive variable of a product stack holding an external service's connection string (Supabase, Upstash). */
export function externalDataVariableName(dependency: DataDependency): string {
  return dependency === 'postgres' ? 'database_url' : 'redis_url';
}

/** Provider alias of a host in a stack spanning several hosts (`app-1` gives `app_1`). */
export function hostAlias(host: string): string {
  return host.replace(/-/g, '_');
}

export interface DockerHostOptions {
  /** Use an alias (stacks spanning several hosts). @default false: the stack's default docker provider */
  readonly aliased?: boolean;
  /** Log in to the system's registry (ghcr.io) to pull private images. @default false */
  readonly registryLogin?: boolean;
}

/**
 * The Docker provider of `host` in `stack`: SSH as the deploy user, or TLS
 * with client certificates when the environment's `dockerAccess` says so.
 * The address comes from the network stack's outputs; TLS material and
 * registry credentials from sensitive variables.
 */
export function connectDockerHost(stack: SystemStack, network: NetworkStack, host: string, options: DockerHostOptions = {}): DockerProvider {
  const environment = stack.environment;
  const address = stack.outputsOf(network).getString(hostOutputName(host, 'ipv4'));
  const access = environment.spec.dockerAccess ?? { mode: 'ssh' };
  const connection =
    access.mode === 'tls'
      ? DockerConnection.tls(address, {
          port: access.port,
          client: {
            // Same name as the network stack's variable: one CA signs the daemon's and the client's certificates.
            caMaterial: sensitiveVariable(stack, 'docker_tls_ca_certificate', 'PEM of the CA that signs Docker client certificates').stringValue,
            certMaterial: sensitiveVariable(stack, 'docker_tls_client_certificate', 'PEM of the Docker client certificate Terraform presents').stringValue,
            keyMaterial: sensitiveVariable(stack, 'docker_tls_client_key', 'PEM of the Docker client private key').stringValue,
          },
        })
      : DockerConnection.ssh(address);
  const registry = environment.system.registry.host;
  const registries = options.registryLogin
    ? [
        {
          address: registry,
          username: sensitiveVariable(stack, 'registry_username', `User that pulls images from ${registry}`).stringValue,
          password: sensitiveVariable(stack, 'registry_password', `Token (read:packages) that pulls images from ${registry}`).stringValue,
        },
      ]
    : undefined;
  const alias = options.aliased ? hostAlias(host) : undefined;
  return new DockerHostProvider(stack, alias === undefined ? 'docker' : `docker-${host}`, { connection, registries, alias }).provider;
}

/** The stacks a stack placing containers reads from. */
export interface DockerSources {
  /** Host addresses. */
  readonly network: NetworkStack;
  /** Host network names. */
  readonly edge: SystemStack;
}

/** The data containers of an environment, when it runs them. */
export interface DataContainers {
  readonly postgres?: PostgresContainer;
  readonly redis?: RedisContainer;
  readonly backupJob?: BackupJob;
}

/**
 * PostgreSQL and Redis on the data host, their data on the stack's volumes,
 * and each product's connection strings published as sensitive outputs.
 */
export function placeDataContainers(
  stack: SystemStack,
  sources: DockerSources,
  volumes: ReadonlyMap<DataDependency, DataVolume>,
  backupBucket?: BackupBucket,
): DataContainers {
  if (volumes.size === 0) return {};
  const environment = stack.environment;
  const host = environment.dataHost;
  const provider = connectDockerHost(stack, sources.network, host);
  const network = stack.outputsOf(sources.edge).getString(dockerNetworkOutputName(host, 'data'));
  const labels = { ...stack.labels('data'), host };
  const data = environment.spec.data;

  // What both share: their volume's directory, the data network, the host's provider, and to start after the volume is attached.
  const onVolume = (volume: DataVolume) => ({ dataPath: volume.mountPath, network, labels, provider, dependsOn: [volume.attachment] });
  const resources = (dependency: DataDependency) => {
    const settings = data[dependency];
    return { ...(dependency === 'postgres' ? POSTGRES_DEFAULTS : REDIS_DEFAULTS).resources, ...(settings.mode === 'container' ? settings.resources : {}) };
  };
  const postgresVolume = volumes.get('postgres');
  const postgres =
    postgresVolume &&
    new PostgresContainer(stack, 'postgres', {
      ...onVolume(postgresVolume),
      databases: environment.containerDataUsers.postgres.map((product) => product.databaseName),
      resources: resources('postgres'),
    });
  const redisVolume = volumes.get('redis');
  const redis =
    redisVolume && new RedisContainer(stack, 'redis', { ...onVolume(redisVolume), maxMemoryMiB: data.redis.maxMemoryMiB, resources: resources('redis') });

  for (const product of environment.containerDataUsers.postgres) {
    stack.publish(dataUrlOutputName('postgres', product.name), postgres!.connectionUrl(product.databaseName), {
      sensitive: true,
      description: `DATABASE_URL of ${product.name}: its own database and role`,
    });
  }
  for (const product of environment.containerDataUsers.redis) {
    stack.publish(dataUrlOutputName('redis', product.name), redis!.connectionUrl, { sensitive: true, description: `REDIS_URL of ${product.name}` });
  }
  const backupTag = data.backupImageTag;
  const backupJob =
    backupBucket && backupTag !== undefined
      ? new BackupJob(stack, 'backup-job', {
          image: `${environment.system.registry.host}/${environment.system.registry.owner}/${BACKUP_JOB_IMAGE}:${backupTag}`,
          bucket: backupBucket,
          postgres: postgres && {
            host: postgres.hostname,
            password: postgres.superuserPassword,
            databases: environment.containerDataUsers.postgres.map((product) => product.databaseName),
            schedule: { cron: BACKUP_PLAN.postgres.cron, prefix: 'postgres/' },
          },
          redis: redis && { host: redis.hostname, password: redis.password.result, schedule: { cron: BACKUP_PLAN.redis.cron, prefix: 'redis/' } },
          // The data network has no internet; the backend network reaches R2.
          networks: [{ name: network }, { name: stack.outputsOf(sources.edge).getString(dockerNetworkOutputName(host, 'backend')) }],
          resources: BACKUP_JOB_RESOURCES,
          provider,
          labels,
        })
      : undefined;
  return { postgres, redis, backupJob };
}

/**
 * The containers of one product on its host: secrets from the product
 * stack's sensitive variables, data connection strings from the data stack's
 * sensitive outputs (or, for external services, sensitive variables), and
 * the host networks by the names the edge stack publishes.
 */
export function placeProductContainers(
  stack: SystemStack,
  product: ResolvedProduct,
  sources: DockerSources & {
    readonly data: SystemStack;
    /** The sensitive value of the product's secret `name` (shared with its GitHub environment). */
    readonly secretOf: (name: string) => string;
  },
): ReadonlyMap<string, ServiceContainer> {
  const services = product.services.filter((service) => service.runsContainer);
  const containers = new Map<string, ServiceContainer>();
  if (services.length === 0) return containers;
  const provider = connectDockerHost(stack, sources.network, product.host, { registryLogin: true });
  const edge = stack.outputsOf(sources.edge);
  const joined = HOST_NETWORKS.filter((network) => services.some((service) => service.networks.includes(network)));
  const networkNames = Object.fromEntries(joined.map((network) => [network, edge.getString(dockerNetworkOutputName(product.host, network))]));

  const dataUrls = new Map<DataDependency, string>();
  for (const [dependency, source] of Object.entries(product.data) as Array<[DataDependency, 'container' | 'external']>) {
    const settings = stack.environment.spec.data[dependency];
    const provenance = settings.mode === 'external' ? settings.provider : 'an external provider';
    dataUrls.set(
      dependency,
      source === 'container'
        ? stack.outputsOf(sources.data).getString(dataUrlOutputName(dependency, product.name))
        : sensitiveVariable(stack, externalDataVariableName(dependency), `Connection string of ${product.name}'s ${dependency} at ${provenance}`).stringValue,
    );
  }

  for (const service of services) {
    const secretEnvironment: Record<string, string> = {};
    for (const name of service.secrets) {
      secretEnvironment[name] = sources.secretOf(name);
    }
    for (const dependency of service.uses) {
      const name = DATA_ENV_VARS[dependency];
      if (name in secretEnvironment) {
        throw new Error(`${product.name}/${service.name}: ${name} is both a declared secret and the ${dependency} connection string; drop it from secrets`);
      }
      secretEnvironment[name] = dataUrls.get(dependency)!;
    }
    containers.set(
      service.name,
      new ServiceContainer(stack, service.id, { service, networkNames, secretEnvironment, labels: { ...stack.labels('service'), host: product.host }, provider }),
    );
  }
  return containers;
}
