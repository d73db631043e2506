/**
 * How a stack reaches the Docker daemon of a host: the provider per host,
 * from the network stack's outputs (address) and the environment's access
 * mode; TLS material and registry credentials from sensitive variables.
 */
import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { sensitiveVariable } from '../constructs/core/sensitive-variable';
import { DockerConnection, DockerHostProvider, type RegistryLogin } from '../constructs/docker/docker-host-provider';
import { planSwarmFormation, swarmNodeLabels } from '../constructs/hetzner/swarm-formation';
import type { ResolvedEnvironment } from '../system/resolve';
import type { NetworkStack } from './network-stack';
import { hostOutputName } from './outputs';
import type { SystemStack } from './system-stack';

/**
 * The host whose Docker endpoint is the swarm's: the manager that initializes it, the data host
 * (swarm-formation.ts). Every service, overlay network and secret is created through it, and the data containers
 * run on it, so a swarm environment has one endpoint however many nodes it has.
 */
export function swarmManagerHost(environment: Pick<ResolvedEnvironment, 'name' | 'hosts' | 'dataHost'>): string {
  return planSwarmFormation(
    environment.name,
    environment.hosts.map((host) => {
      const labels = swarmNodeLabels(host, environment.dataHost);
      return { name: host.name, role: labels.role!, privateIp: host.privateIp, labels };
    }),
  ).initializer;
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
  /** Log in to Docker Hub when the environment asks for it (`dockerHubLogin`). @default false */
  readonly dockerHubImages?: boolean;
}

/** Docker Hub's registry address, as the Docker provider matches `registry_auth` for images without a registry host. */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';

/**
 * The Docker provider of `host` in `stack`: SSH as the deploy user from an
 * administrator's machine, or the local socket when the environment's runs
 * execute on a Terraform Cloud agent on the host (see docs/deploying.md).
 */
export function connectDockerHost(stack: SystemStack, network: NetworkStack, host: string, options: DockerHostOptions = {}): DockerProvider {
  const environment = stack.environment;
  const connection =
    environment.dockerAccess.mode === 'agent'
      ? DockerConnection.localSocket()
      : DockerConnection.ssh(stack.outputsOf(network).getString(hostOutputName(host, 'ipv4')));
  const registries: RegistryLogin[] = [];
  if (options.registryLogin) {
    const registry = environment.registry.host;
    registries.push({
      address: registry,
      username: sensitiveVariable(stack, 'registry_username', `User that pulls images from ${registry}`).stringValue,
      password: sensitiveVariable(stack, 'registry_password', `Token (read:packages) that pulls images from ${registry}`).stringValue,
    });
  }
  if (options.dockerHubImages && environment.dockerHubLogin) {
    registries.push({
      address: DOCKER_HUB_REGISTRY,
      username: sensitiveVariable(stack, 'dockerhub_username', 'Docker Hub user that pulls public images (higher rate limit than anonymous pulls)').stringValue,
      password: sensitiveVariable(stack, 'dockerhub_token', 'Docker Hub access token (read-only, public repositories)').stringValue,
    });
  }
  const alias = options.aliased ? hostAlias(host) : undefined;
  return new DockerHostProvider(stack, alias === undefined ? 'docker' : `docker-${host}`, {
    connection,
    registries: registries.length > 0 ? registries : undefined,
    alias,
  }).provider;
}
