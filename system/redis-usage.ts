/**
 * A product's use of Redis, derived from what its services declare (`redis`): the variables each service
 * receives, the rights of the product's ACL user, and the eviction policy the environment's Redis needs.
 */
import type { RedisUserAccess } from '../constructs/docker/data-scripts';
import { REDIS_DEFAULTS, type RedisEvictionPolicy } from '../constructs/docker/redis-container';
import type { EnvironmentSpec, ProductSpec, ServiceSpec, SystemSpec } from './model';
import { REDIS_CLIENTS, REDIS_PREFIX_VARIABLE } from './redis-clients';

/** The prefix every key and channel of a product's Redis user starts with. */
export const redisKeyPrefix = (product: string): string => `${product}:`;

/** Variables a service receives for its Redis clients: the product's prefix and each client's prefix under it. */
export function redisVariables(product: string, service: ServiceSpec): Record<string, string> {
  if (service.redis === undefined) return {};
  const prefix = redisKeyPrefix(product);
  return {
    [REDIS_PREFIX_VARIABLE]: prefix,
    ...Object.fromEntries((service.redis.clients ?? []).filter((name) => name in REDIS_CLIENTS).map((name) => [REDIS_CLIENTS[name].variable, `${prefix}${REDIS_CLIENTS[name].prefix}`])),
  };
}

/** Does the service keep data an evicting Redis would lose? */
export function keepsRedisQueue(service: ServiceSpec): boolean {
  return service.redis?.queue ?? (service.redis?.clients ?? []).some((name) => REDIS_CLIENTS[name]?.queue === true);
}

/** Rights the product's ACL user needs beyond its prefix, or undefined when its services need none. */
export function redisAccessOf(product: ProductSpec): RedisUserAccess | undefined {
  const services = product.services.filter((service) => service.uses?.includes('redis') && service.redis !== undefined);
  const clients = services.flatMap((service) => service.redis!.clients ?? []).map((name) => REDIS_CLIENTS[name]);
  const commands = [...new Set(clients.flatMap((client) => client.commands))];
  const patternSubscriptions = [
    ...new Set([
      ...clients.flatMap((client) => client.patternSubscriptions(`${redisKeyPrefix(product.name)}${client.prefix}`)),
      ...services.flatMap((service) => service.redis!.patternSubscriptions ?? []),
    ]),
  ];
  if (commands.length === 0 && patternSubscriptions.length === 0) return undefined;
  return { commands, patternSubscriptions };
}

/** Services of products deployed in the environment that keep a queue on its Redis container, as `product/service`. */
export function queuesOnRedisContainer(system: SystemSpec, environment: EnvironmentSpec): string[] {
  if (environment.data.redis.mode !== 'container') return [];
  return environment.products.flatMap((deployment) => {
    const product = system.products.find((candidate) => candidate.name === deployment.product);
    if (product === undefined || deployment.externalData?.includes('redis')) return [];
    return product.services.filter((service) => service.uses?.includes('redis') && keepsRedisQueue(service)).map((service) => `${product.name}/${service.name}`);
  });
}

/** A warning per product keeping a queue on an external Redis, whose eviction policy the library cannot see. */
export function externalQueueWarnings(system: SystemSpec): string[] {
  return system.environments.flatMap((environment) =>
    environment.products.flatMap((deployment) => {
      const product = system.products.find((candidate) => candidate.name === deployment.product);
      const external = environment.data.redis.mode === 'external' || deployment.externalData?.includes('redis');
      const queues = external ? (product?.services ?? []).filter((service) => service.uses?.includes('redis') && keepsRedisQueue(service)) : [];
      return queues.length === 0
        ? []
        : [
            `environment "${environment.name}", product "${deployment.product}": ${queues.map((service) => service.name).join(', ')} keep a queue on an external Redis; set its eviction policy to noeviction there (an evicting one drops jobs without an error)`,
          ];
    }),
  );
}

/** The eviction policy of the environment's Redis container: as set, else `noeviction` where a queue lives on it. */
export function redisEvictionPolicy(system: SystemSpec, environment: EnvironmentSpec): RedisEvictionPolicy {
  const redis = environment.data.redis;
  const set = redis.mode === 'container' ? redis.maxMemoryPolicy : undefined;
  return set ?? (queuesOnRedisContainer(system, environment).length > 0 ? 'noeviction' : REDIS_DEFAULTS.maxMemoryPolicy);
}
