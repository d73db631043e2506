/**
 * Real clients against a real redis-server (Debian's 7.0) run with exactly what the library generates for a
 * product that declares its Redis use: the ACL file from the container's script, the server settings from
 * the container's arguments, and the prefixes from the service's variables. BullMQ adds and processes a job;
 * the Socket.IO adapter's pub/sub commands (the classic adapter's PSUBSCRIBE `<key>#/#*`, the sharded
 * adapter's SSUBSCRIBE) reach each other. The controls show what breaks without the declared use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { redisAclScript, type RedisAclUser } from '../../constructs/docker/data-scripts';
import { redisConnectionUrl, redisServerArguments } from '../../constructs/docker/redis-container';
import { manacore } from '../../environments';
import type { ServiceSpec, SystemSpec } from '../../system/model';
import { resolveSystem } from '../../system/resolve';
import { run, startRedis, type RedisServer } from '../helpers/real-servers';

/** Manacore with chat's backend on BullMQ and the Socket.IO adapter; quiz-like products keep plain keys. */
const system: SystemSpec = {
  ...manacore,
  products: manacore.products.map((product) =>
    product.name !== 'chat'
      ? product
      : { ...product, services: product.services.map((service): ServiceSpec => (service.name === 'backend' ? { ...service, redis: { clients: ['bullmq', 'socket.io'] } } : service)) },
  ),
};
const production = resolveSystem(system).environments.find((environment) => environment.name === 'production')!;
const redisService = production.data.containers.find((service) => service.name === 'redis')!;
const backendEnv = production.products.find((product) => product.name === 'chat')!.services.find((service) => service.name === 'backend')!.environment;

const work = mkdtempSync(join(tmpdir(), 'redis-clients-'));
const defaultPassword = `default-${Math.random().toString(36).slice(2)}`;
const passwordOf = (user: string) => `redis-${user}-secret`;
/** The users as the data stack gives them to the container: every product on this Redis, with its declared rights. */
const users: RedisAclUser[] = redisService.users.map((product) => ({
  name: product.name,
  passwordVariable: `REDIS_PASSWORD_${product.name.toUpperCase().replace(/-/g, '_')}`,
  access: product.redisAccess,
}));
let server: RedisServer;
const clients: Redis[] = [];

/** An ioredis connection as `user`, from the REDIS_URL its credentials stack hands it. */
function connect(user: string, options: { maxRetriesPerRequest?: number | null } = {}): Redis {
  const client = new Redis(redisConnectionUrl({ user, password: passwordOf(user), host: '127.0.0.1', port: server.port }), { lazyConnect: true, ...options });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

beforeAll(async () => {
  const aclFile = join(work, 'users.acl');
  const passwords = Object.fromEntries(users.map((user) => [user.passwordVariable, passwordOf(user.name)]));
  const written = await run('busybox', ['sh', '-c', redisAclScript(users), 'sh', aclFile], { env: { ...process.env, REDIS_PASSWORD: defaultPassword, ...passwords } });
  expect(written.stderr).toBe('');
  const settings = redisServerArguments({ aclFile, maxMemoryMiB: redisService.maxMemoryMiB!, maxMemoryPolicy: redisService.maxMemoryPolicy! });
  server = await startRedis('clients', settings.flatMap((setting) => setting.split(' ')));
}, 30_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('BullMQ under the generated ACL and settings', () => {
  it('is configured with noeviction, the only policy its production guide allows', async () => {
    expect(redisService.maxMemoryPolicy).toBe('noeviction');
    expect((await server.cli(['CONFIG', 'GET', 'maxmemory-policy'], { password: defaultPassword })).stdout).toContain('noeviction');
  });

  it("adds a job and a worker processes it, with the prefix from BULLMQ_PREFIX and no eviction warning", async () => {
    const warnings: string[] = [];
    const warn = jest.spyOn(console, 'warn').mockImplementation((message: string) => void warnings.push(String(message)));
    const prefix = backendEnv.BULLMQ_PREFIX!;
    expect(prefix).toBe('chat:bull');
    const queue = new Queue('mail', { connection: connect('chat', { maxRetriesPerRequest: null }), prefix });
    let worker: Worker | undefined;
    try {
      const processed = new Promise<unknown>((resolve, reject) => {
        worker = new Worker('mail', async (job) => ({ sent: job.data.to }), { connection: connect('chat', { maxRetriesPerRequest: null }), prefix });
        worker.on('completed', (_job, result) => resolve(result));
        worker.on('failed', (_job, error) => reject(error));
        worker.on('error', reject);
      });
      await queue.add('welcome', { to: 'ada@example.com' });
      await expect(processed).resolves.toEqual({ sent: 'ada@example.com' });
      const keys = (await server.cli(['--scan'], { password: defaultPassword })).stdout.trim().split('\n');
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((key) => !key.startsWith('chat:bull:mail:'))).toEqual([]);
      expect(warnings.filter((message) => /eviction policy/i.test(message))).toEqual([]);
    } finally {
      await worker?.close();
      await queue.close();
      warn.mockRestore();
    }
  }, 30_000);

  it("fails on the user a product gets without declaring BullMQ: INFO is refused (NOPERM)", async () => {
    const plain = users.find((user) => user.access === undefined)!.name;
    const queue = new Queue('mail', { connection: connect(plain, { maxRetriesPerRequest: null }), prefix: `${plain}:bull` });
    try {
      await expect(queue.add('welcome', {})).rejects.toThrow(/NOPERM.*info/i);
    } finally {
      await queue.close().catch(() => undefined);
    }
  }, 30_000);

  it("fails with BullMQ's default prefix `bull`, outside the product's keys (NOPERM)", async () => {
    const queue = new Queue('mail', { connection: connect('chat', { maxRetriesPerRequest: null }) });
    try {
      await expect(queue.add('welcome', {})).rejects.toThrow(/NOPERM/);
    } finally {
      await queue.close().catch(() => undefined);
    }
  }, 30_000);
});

describe("the Socket.IO Redis adapter's channels under the generated ACL", () => {
  const key = () => backendEnv.SOCKET_IO_REDIS_PREFIX!;
  /** Subscribes one connection of chat's user, publishes from another, and resolves with the message that arrived. */
  async function roundTrip(subscribe: (client: Redis) => Promise<unknown>, publish: (client: Redis) => Promise<unknown>, event: 'pmessage' | 'smessage'): Promise<string> {
    const subscriber = connect('chat');
    const publisher = connect('chat');
    const received = new Promise<string>((resolve) => subscriber.on(event, (...args: string[]) => resolve(args[args.length - 1]!)));
    await subscribe(subscriber);
    await publish(publisher);
    return received;
  }

  it("the classic adapter's PSUBSCRIBE <key>#/#* is admitted and receives a broadcast to a room", async () => {
    expect(key()).toBe('chat:socket.io');
    const message = await roundTrip(
      (client) => client.psubscribe(`${key()}#/#*`),
      (client) => client.publish(`${key()}#/#room-1#`, 'hello room'),
      'pmessage',
    );
    expect(message).toBe('hello room');
  });

  it("the sharded adapter's SSUBSCRIBE on <channelPrefix>#/# is admitted and receives", async () => {
    const message = await roundTrip(
      (client) => client.ssubscribe(`${key()}#/#`),
      (client) => client.spublish(`${key()}#/#`, 'hello shard'),
      'smessage',
    );
    expect(message).toBe('hello shard');
  });

  it('refuses the default key and a namespace nobody declared: Redis matches a pattern subscription literally', async () => {
    const client = connect('chat');
    await expect(client.psubscribe('socket.io#/#*')).rejects.toThrow(/NOPERM/);
    await expect(connect('chat').psubscribe(`${key()}#/admin#*`)).rejects.toThrow(/NOPERM/);
    // Without the declared use the product's user holds only `&chat:*`, which admits no adapter pattern.
    const plain = users.find((user) => user.access === undefined)!.name;
    await expect(connect(plain).psubscribe(`${plain}:socket.io#/#*`)).rejects.toThrow(/NOPERM/);
  });
});
