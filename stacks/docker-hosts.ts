/**
 * How a stack reaches the Docker daemon of a host: the provider per host,
 * from the network stack's outputs (address) and the environment's access
 * mode; TLS material and registry credentials from sensitive variables.
 */
import type { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { sensitiveVariable } from '../constructs/core/sensitive-variable';
import { DockerConnection, DockerHostProvider } from '../constructs/docker/docker-host-provider';
import type { NetworkStack } from './network-stack';
import { hostOutputName } from './outputs';
import type { SystemStack } from './system-stack';

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
 */
export function connectDockerHost(stack: SystemStack, network: NetworkStack, host: string, options: DockerHostOptions = {}): DockerProvider {
  const environment = stack.environment;
  const address = stack.outputsOf(network).getString(hostOutputName(host, 'ipv4'));
  const access = environment.dockerAccess;
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
  const registry = environment.registry.host;
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
