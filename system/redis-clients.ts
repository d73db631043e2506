/**
 * What Redis client libraries need from the environment's Redis, in one place, each fact with its source.
 * A product's ACL user admits only keys and channels under `<product>:` and no @dangerous command
 * (constructs/docker/data-scripts.ts), so a client that keeps its library's default prefix (`bull:`,
 * `socket.io#`) gets NOPERM at runtime. A service declares its clients (`redis.clients`); each is then
 * handed its prefix under the product's as a variable, and the product's user gets what else it needs.
 * Checked against the real clients and redis-server 7.0 in __tests__/integration/redis-clients.test.ts.
 *
 * Not offered, because their keys cannot be moved under a prefix: Sidekiq 7 (its redis-namespace support
 * was removed in 7.0; keys `queue:*`, `schedule`, `retry`, `dead`, ...), and Celery/Kombu before
 * `global_keyprefix` (keys `celery`, `_kombu.binding.*`, `unacked*`, `celery-task-meta-*`, channels like
 * `/0.celeryev*`). Such a client needs a Redis of its own (an accessory).
 */

/** One client library's needs. */
export interface RedisClientFacts {
  /** The library, for messages and documentation. */
  readonly library: string;
  /** The library's option that sets its prefix, and that option's default (which the ACL refuses). */
  readonly prefixOption: string;
  /** Its prefix under the product's: the service configures `<product>:<prefix>`. */
  readonly prefix: string;
  /** Variable the service receives `<product>:<prefix>` in. */
  readonly variable: string;
  /** Commands of Redis's @dangerous category it runs, allowed to the product's user. */
  readonly commands: readonly string[];
  /** Channel patterns it PSUBSCRIBEs, given its full prefix: Redis admits a pattern subscription only when the pattern literally equals an allowed one. */
  readonly patternSubscriptions: (fullPrefix: string) => readonly string[];
  /** Does it keep data an evicting `maxmemory-policy` would lose (jobs)? Then the Redis must use `noeviction`. */
  readonly queue: boolean;
}

export const REDIS_CLIENTS = {
  /**
   * Keys `<prefix>:<queue>:<...>` (bullmq src/classes/queue-keys.ts; option `prefix`, default `bull`). On
   * connect it runs INFO for its version check and warns unless `maxmemory_policy` is `noeviction`
   * (src/classes/redis-connection.ts); INFO is @dangerous. Its production guide requires `noeviction`, and
   * its lock keys carry a TTL, so `volatile-*` policies evict them too (docs.bullmq.io/guide/going-to-production).
   */
  bullmq: {
    library: 'BullMQ',
    prefixOption: "the Queue and Worker option `prefix` (default 'bull')",
    prefix: 'bull',
    variable: 'BULLMQ_PREFIX',
    commands: ['info'],
    patternSubscriptions: () => [],
    queue: true,
  },
  /**
   * @socket.io/redis-adapter: the classic adapter (`createAdapter`, option `key`, default `socket.io`)
   * PSUBSCRIBEs `<key>#<namespace>#*` and, when refused, fails silently; its request and response
   * channels are plain `<key>-request#<namespace>#...` (lib/index.ts). The sharded adapter
   * (`createShardedAdapter`, option `channelPrefix`) SSUBSCRIBEs plain channels `<prefix>#<namespace>#...`
   * (lib/sharded-adapter.ts), which the product's channel pattern admits. Granted here: the default
   * namespace `/`; further namespaces go in `redis.patternSubscriptions`.
   */
  'socket.io': {
    library: 'the Socket.IO Redis adapter',
    prefixOption: "createAdapter's `key` or createShardedAdapter's `channelPrefix` (default 'socket.io')",
    prefix: 'socket.io',
    variable: 'SOCKET_IO_REDIS_PREFIX',
    commands: [],
    patternSubscriptions: (fullPrefix: string) => [`${fullPrefix}#/#*`],
    queue: false,
  },
} as const satisfies Readonly<Record<string, RedisClientFacts>>;

/** A client library a service can declare in `redis.clients`. */
export type RedisClientName = keyof typeof REDIS_CLIENTS;

/** Variable every service that declares its Redis use receives: the product's key prefix, `<product>:`. */
export const REDIS_PREFIX_VARIABLE = 'REDIS_PREFIX';
