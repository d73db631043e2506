/**
 * Which of a product's own Docker networks each of its containers joins,
 * derived from the description (ProductSpec.reachability), and what that
 * costs a host in Docker networks.
 */
import type { ConfigurationIssue } from '../constructs/core/configuration-error';
import { HOST_NETWORKS } from '../constructs/docker/host-networks';
import { SERVICE_KIND_BEHAVIOUR } from './kinds';
import type { ProductSpec } from './model';

/**
 * Bridge networks one Docker daemon can create with its default address
 * pools: 172.17-31.0.0/16 (15) and 192.168.0.0/16 in /20s (16). Measured on
 * dockerd 20.10 (Debian docker.io): the 32nd `docker network create` fails
 * with "could not find an available, non-overlapping IPv4 address pool
 * among the defaults". The default bridge (docker0) takes one of them.
 */
export const DOCKER_DEFAULT_POOL_NETWORKS = 31;

/** Networks every host has besides the products': docker0, the three host networks and the edge's Docker API network (stacks/edge-stack.ts). */
export const PLATFORM_NETWORKS_PER_HOST = 1 + HOST_NETWORKS.length + 1;

/** The product-level networks of one service, by the names of the services that own them. */
export interface ServiceReach {
  /** Owners of the product networks the service joins: its link targets in the product, and itself when it owns one. */
  readonly joins: readonly string[];
  /** Does the service own a network (others link to it, or it has no other network for its outbound traffic)? */
  readonly owns: boolean;
}

/**
 * `linked` reachability: a service that others in its product link to owns
 * a network, which it and its callers join; a service with no other way
 * out (no link, no host network but the internal `data`) owns one for its
 * outbound traffic only.
 * `product`: undefined, everything shares the product network.
 */
export function linkedReach(product: ProductSpec, hostNetworksOf: (service: string) => readonly string[]): ReadonlyMap<string, ServiceReach> | undefined {
  if ((product.reachability ?? 'product') !== 'linked') return undefined;
  const containers = product.services.filter((service) => SERVICE_KIND_BEHAVIOUR[service.kind]?.container);
  const targets = new Map<string, string[]>(containers.map((service) => [service.name, []]));
  for (const service of containers) {
    for (const link of Object.values(service.links ?? {})) {
      const target = typeof link === 'string' ? link : link.target;
      // `product/service` across products goes over the shared backend network, not the product's.
      const name = target.includes('/') ? (target.split('/')[0] === product.name ? target.split('/')[1]! : undefined) : target;
      if (name !== undefined && name !== service.name && targets.has(name) && !targets.get(service.name)!.includes(name)) targets.get(service.name)!.push(name);
    }
  }
  const linkedTo = new Set([...targets.values()].flat());
  return new Map(
    containers.map((service) => {
      // `data` is internal (no route out): a service on it alone still needs a network for its outbound calls.
      const outbound = hostNetworksOf(service.name).some((network) => network !== 'data');
      const own = linkedTo.has(service.name) || (targets.get(service.name)!.length === 0 && !outbound);
      return [service.name, { joins: [...(own ? [service.name] : []), ...targets.get(service.name)!].sort(), owns: own }];
    }),
  );
}

/** A host whose networks exceed the daemon's default address pools, named with what takes them. */
export function networkCountIssues(environment: string, perHost: ReadonlyMap<string, ReadonlyMap<string, number>>): ConfigurationIssue[] {
  const issues: ConfigurationIssue[] = [];
  for (const [host, products] of perHost) {
    const total = PLATFORM_NETWORKS_PER_HOST + [...products.values()].reduce((sum, count) => sum + count, 0);
    if (total <= DOCKER_DEFAULT_POOL_NETWORKS) continue;
    const breakdown = [...products].map(([product, count]) => `${product} ${count}`).join(', ');
    issues.push({
      environment,
      field: 'products.reachability',
      value: total,
      allowed: `at most ${DOCKER_DEFAULT_POOL_NETWORKS} Docker networks on host "${host}" (${PLATFORM_NETWORKS_PER_HOST} are the platform's; products: ${breakdown}): reachability "product" for some products, or spread them over more hosts`,
      why: `a Docker daemon's default address pools hold ${DOCKER_DEFAULT_POOL_NETWORKS} bridge networks; the next network fails at apply with "could not find an available, non-overlapping IPv4 address pool"`,
    });
  }
  return issues;
}
