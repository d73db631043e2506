/** A service's declared Redis use (`redis`), and the eviction policy of the environment's Redis against the queues kept on it. */
import { REDIS_ACL_TOKEN } from '../../constructs/docker/data-scripts';
import { REDIS_EVICTION_POLICIES } from '../../constructs/docker/redis-container';
import type { EnvironmentSpec, ProductSpec, ServiceSpec, SystemSpec } from '../model';
import { REDIS_CLIENTS } from '../redis-clients';
import { queuesOnRedisContainer, redisKeyPrefix } from '../redis-usage';
import type { IssueLog, Report } from './shared';

export function validateServiceRedis(product: ProductSpec, service: ServiceSpec, report: Report): void {
  const usage = service.redis;
  if (usage === undefined) return;
  const field = (name: string) => `services.${service.name}.redis${name === '' ? '' : `.${name}`}`;
  if (!service.uses?.includes('redis')) {
    report({ field: field(''), value: usage, allowed: `a Redis use of a service that lists "redis" in uses (add it to services.${service.name}.uses)` });
  }
  for (const client of usage.clients ?? []) {
    if (!(client in REDIS_CLIENTS)) {
      report({
        field: field('clients'),
        value: client,
        allowed: Object.keys(REDIS_CLIENTS),
        why: 'the facts about each client (its prefix option, commands, pattern subscriptions) are in system/redis-clients.ts; a client whose keys cannot be prefixed needs a Redis of its own',
      });
    }
  }
  if (usage.queue !== undefined && typeof usage.queue !== 'boolean') report({ field: field('queue'), value: usage.queue, allowed: ['true', 'false'] });
  const prefix = redisKeyPrefix(product.name);
  for (const pattern of usage.patternSubscriptions ?? []) {
    if (typeof pattern !== 'string' || !pattern.startsWith(prefix) || pattern === `${prefix}*` || !REDIS_ACL_TOKEN.test(pattern)) {
      report({
        field: field('patternSubscriptions'),
        value: pattern,
        allowed: `a channel pattern under "${prefix}" of letters, digits and : _ # / * ? . [ ] | - (such as "${prefix}socket.io#/admin#*"); "${prefix}*" is always allowed`,
        why: "the product's Redis user reaches only channels under its own prefix",
      });
    }
  }
}

/** The eviction policy is one Redis knows; a queue never lives on an evicting Redis. */
export function validateRedisEviction(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  const redis = environment.data.redis;
  const policy = redis.maxMemoryPolicy;
  if (policy === undefined) return;
  const report = log.in({ environment: environment.name });
  if (redis.mode !== 'container') {
    report({ field: 'data.redis.maxMemoryPolicy', value: policy, allowed: 'nothing: an external Redis keeps its provider\'s eviction settings (set them there)' });
    return;
  }
  if (!(REDIS_EVICTION_POLICIES as readonly string[]).includes(policy)) {
    report({ field: 'data.redis.maxMemoryPolicy', value: policy, allowed: REDIS_EVICTION_POLICIES });
    return;
  }
  if (policy === 'noeviction') return;
  for (const queue of queuesOnRedisContainer(system, environment)) {
    const [product, service] = queue.split('/');
    log.in({ environment: environment.name, product })({
      field: 'data.redis.maxMemoryPolicy',
      value: policy,
      allowed: `"noeviction", because ${queue} keeps a queue on this Redis (services.${service}.redis)`,
      why: `an evicting policy drops jobs without an error once maxmemory is reached (BullMQ's lock keys carry a TTL, so even volatile-* evicts them); a cache that must evict needs a Redis of its own`,
    });
  }
}
