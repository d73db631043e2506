/**
 * A service declares how it uses Redis (`redis`): its clients get prefixes under the product's as variables,
 * the product's ACL user the rights they need, and the environment's Redis the eviction policy a queue needs.
 * That the real clients then work is __tests__/integration/redis-clients.test.ts.
 */
import { manacore } from '../environments';
import type { EnvironmentSpec, ServiceSpec, SystemSpec } from '../system/model';
import { resolveSystem } from '../system/resolve';
import { container, envOf } from './helpers/docker';
import { SynthesizedSystem } from './helpers/synth';

const chatJobs: ServiceSpec = { name: 'jobs', kind: 'worker', command: ['node', 'dist/jobs.js'], uses: ['redis'], redis: { clients: ['bullmq'] } };

/** Manacore with chat's backend on BullMQ and the Socket.IO adapter and a BullMQ worker, and each environment's Redis changed by `redis`. */
function withChatQueues(redis: (environment: EnvironmentSpec) => Partial<EnvironmentSpec['data']['redis']> = () => ({})): SystemSpec {
  return {
    ...manacore,
    products: manacore.products.map((product) =>
      product.name !== 'chat'
        ? product
        : {
            ...product,
            services: [...product.services.map((service) => (service.name === 'backend' ? { ...service, redis: { clients: ['bullmq', 'socket.io'] as const } } : service)), chatJobs],
          },
    ),
    environments: manacore.environments.map((environment) => ({
      ...environment,
      data: { ...environment.data, redis: { ...environment.data.redis, ...redis(environment) } as EnvironmentSpec['data']['redis'] },
    })),
  };
}

const problemsOf = (system: SystemSpec): string => {
  try {
    resolveSystem(system);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a ConfigurationError');
};

describe('Redis clients a service declares', () => {
  const app = new SynthesizedSystem(withChatQueues());
  const data = app.synth('production-data');
  const setup = (): string => container(data, 'redis').command[2];

  it("hands each client its prefix under the product's, and the product's prefix", () => {
    const backend = envOf(container(app.synth('production-chat'), 'chat-backend'));
    expect(backend).toMatchObject({ REDIS_PREFIX: 'chat:', BULLMQ_PREFIX: 'chat:bull', SOCKET_IO_REDIS_PREFIX: 'chat:socket.io' });
    expect(envOf(container(app.synth('production-chat'), 'chat-jobs'))).toMatchObject({ REDIS_PREFIX: 'chat:', BULLMQ_PREFIX: 'chat:bull' });
  });

  it("gives the product's ACL user INFO (BullMQ's version check) and the adapter's literal pattern subscription, and no one else's user", () => {
    expect(setup()).toContain('resetkeys ~chat:* resetchannels &chat:* &chat:socket.io#/#* -@all +@all -@dangerous +info"');
    expect(setup()).toContain('resetkeys ~picture:* resetchannels &picture:* -@all +@all -@dangerous"');
  });

  it('runs the Redis a queue lives on with noeviction', () => {
    expect(setup()).toContain('--maxmemory 512mb --maxmemory-policy noeviction');
  });

  it('keeps volatile-lru where no queue lives', () => {
    const plain = new SynthesizedSystem(manacore).synth('production-data');
    expect(container(plain, 'redis').command[2]).toContain('--maxmemory-policy volatile-lru');
  });

  it('takes the eviction policy as a setting', () => {
    const system = { ...manacore, environments: manacore.environments.map((e) => ({ ...e, data: { ...e.data, redis: { ...e.data.redis, maxMemoryPolicy: 'allkeys-lru' as const } } })) };
    expect(container(new SynthesizedSystem(system).synth('staging-data'), 'redis').command[2]).toContain('--maxmemory-policy allkeys-lru');
  });
});

describe('Redis use that would fail at runtime is refused at synth', () => {
  it('refuses a queue on an evicting Redis, naming environment, product, field and why', () => {
    const message = problemsOf(withChatQueues(() => ({ maxMemoryPolicy: 'volatile-lru' })));
    expect(message).toContain(
      'environment "production", product "chat", field "data.redis.maxMemoryPolicy": got "volatile-lru"; allowed: "noeviction", because chat/backend keeps a queue on this Redis (services.backend.redis)',
    );
    expect(message).toContain('chat/jobs keeps a queue');
    expect(message).toMatch(/drops jobs without an error/);
  });

  it('refuses an eviction policy Redis does not know, and one on an external Redis', () => {
    expect(problemsOf(withChatQueues(() => ({ maxMemoryPolicy: 'lru' as never })))).toContain('field "data.redis.maxMemoryPolicy": got "lru"; allowed: noeviction, volatile-lru');
    const external = withChatQueues(() => ({ mode: 'external', provider: 'upstash', maxMemoryPolicy: 'noeviction' }) as never);
    expect(problemsOf(external)).toContain("an external Redis keeps its provider's eviction settings");
  });

  it('refuses a client it has no facts for, a Redis use without uses: redis, and a pattern outside the product prefix', () => {
    const system: SystemSpec = {
      ...manacore,
      products: manacore.products.map((product) =>
        product.name !== 'chat'
          ? product
          : {
              ...product,
              services: [
                ...product.services,
                { name: 'sidekiq', kind: 'worker', command: ['bundle', 'exec', 'sidekiq'], uses: ['redis'], redis: { clients: ['sidekiq' as never] } },
                { name: 'cron', kind: 'worker', command: ['node', 'cron.js'], redis: { queue: true } },
                { name: 'ws', kind: 'worker', command: ['node', 'ws.js'], uses: ['redis'], redis: { patternSubscriptions: ['socket.io#/#*'] } },
              ],
            },
      ),
    };
    const message = problemsOf(system);
    expect(message).toContain('field "services.sidekiq.redis.clients": got "sidekiq"; allowed: bullmq, socket.io');
    expect(message).toContain('field "services.cron.redis": got {"queue":true}; allowed: a Redis use of a service that lists "redis" in uses');
    expect(message).toContain('field "services.ws.redis.patternSubscriptions": got "socket.io#/#*"; allowed: a channel pattern under "chat:"');
  });

  it('warns where a queue lives on an external Redis, whose eviction the library cannot see', () => {
    const external = withChatQueues(() => ({ mode: 'external', provider: 'upstash' }) as never);
    expect(resolveSystem(external).warnings).toContain(
      'environment "production", product "chat": backend, jobs keep a queue on an external Redis; set its eviction policy to noeviction there (an evicting one drops jobs without an error)',
    );
    expect(resolveSystem(withChatQueues()).warnings.filter((warning) => /queue/.test(warning))).toEqual([]);
  });

  it("refuses a variable a client's prefix would overwrite", () => {
    const system: SystemSpec = {
      ...manacore,
      products: manacore.products.map((product) => (product.name !== 'chat' ? product : { ...product, services: [...product.services, { ...chatJobs, environment: { BULLMQ_PREFIX: 'bull' } }] })),
    };
    expect(problemsOf(system)).toContain("BULLMQ_PREFIX is set by environment and by redis (its clients' prefixes)");
  });
});
