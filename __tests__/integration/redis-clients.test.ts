/**
 * Real clients against a real redis-server (Debian's 7.0) run with exactly what the library generates for a
 * product that declares its Redis use: the ACL file from the container's script, the server settings from
 * the container's arguments, and the prefixes from the service's variables. BullMQ adds and processes a job;
 * the Socket.IO adapter's pub/sub commands (the classic adapter's PSUBSCRIBE `<key>#/#*`, the sharded
 * adapter's SSUBSCRIBE) reach each other. The controls show what breaks without the declared use. The server
 * holds only the passwords' hashes, computed by Terraform's own sha256() as the synthesized container gets them:
 * each user logs in with its password and keeps exactly its rights, the `default` user may only PING, and the
 * admin user dumps the data (`redis-cli --rdb`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { REDIS_ADMIN_PASSWORD_HASH_VARIABLE, REDIS_ADMIN_USER, redisAclScript, type RedisAclUser } from '../../constructs/docker/data-scripts';
import { redisConnectionUrl, redisServerArguments } from '../../constructs/docker/redis-container';
import { manacore } from '../../environments';
import type { ServiceSpec, SystemSpec } from '../../system/model';
import { resolveSystem } from '../../system/resolve';
import { run, startRedis, terraformSha256, type RedisServer } from '../helpers/real-servers';

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
const adminPassword = `admin-${Math.random().toString(36).slice(2)}`;
const asAdmin = { user: REDIS_ADMIN_USER, password: adminPassword };
const passwordOf = (user: string) => `redis-${user}-secret`;
/** The users as the data stack gives them to the container: every product on this Redis, with its declared rights. */
const users: RedisAclUser[] = redisService.users.map((product) => ({
  name: product.name,
  passwordHashVariable: `REDIS_PASSWORD_HASH_${product.name.toUpperCase().replace(/-/g, '_')}`,
  access: product.redisAccess,
}));
/** The server's environment as the container has it: hashes only. */
let serverEnvironment: Record<string, string>;
let server: RedisServer;
/** An IPv4 address of this machine that is not loopback, as a product container's address is to Redis. */
const outsideAddress = Object.values(networkInterfaces()).flat().find((entry) => entry?.family === 'IPv4' && !entry.internal)?.address ?? '(none: this test needs a non-loopback IPv4 address)';
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
  const hashes = await terraformSha256([adminPassword, ...users.map((user) => passwordOf(user.name))]);
  serverEnvironment = Object.fromEntries([REDIS_ADMIN_PASSWORD_HASH_VARIABLE, ...users.map((user) => user.passwordHashVariable)].map((variable, i) => [variable, hashes[i]!]));
  const written = await run('busybox', ['sh', '-c', redisAclScript(users), 'sh', aclFile], { env: { PATH: process.env.PATH, ...serverEnvironment } });
  expect(written.stderr).toBe('');
  expect(written.code).toBe(0);
  const settings = redisServerArguments({ aclFile, maxMemoryMiB: redisService.maxMemoryMiB!, maxMemoryPolicy: redisService.maxMemoryPolicy! });
  // Also on an address that is not loopback: Redis's protected mode judges a connection by its peer address.
  server = await startRedis('clients', [...settings.flatMap((setting) => setting.split(' ')), '--bind', '127.0.0.1', outsideAddress]);
}, 30_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('BullMQ under the generated ACL and settings', () => {
  it('is configured with noeviction, the only policy its production guide allows', async () => {
    expect(redisService.maxMemoryPolicy).toBe('noeviction');
    expect((await server.cli(['CONFIG', 'GET', 'maxmemory-policy'], asAdmin)).stdout).toContain('noeviction');
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
      const keys = (await server.cli(['--scan'], asAdmin)).stdout.trim().split('\n');
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

describe('the server holds hashes only, and every user keeps its rights', () => {
  const cli = (args: readonly string[], env: Record<string, string> = {}, host = '127.0.0.1') =>
    run('redis-cli', ['-h', host, '-p', String(server.port), ...args], { env: { PATH: process.env.PATH, ...env } });
  const plain = () => users.find((user) => user.access === undefined)!.name;

  it('Terraform keeps the hash of a sensitive password sensitive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'terraform-sensitive-'));
    try {
      const shown = await run('terraform', ['console'], { cwd: dir, input: 'sha256(sensitive("secret"))\n' });
      expect(shown.stdout.trim()).toBe('(sensitive value)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('holds no password: not in its environment, its ACL file, nor what ACL LIST shows', async () => {
    const passwords = [adminPassword, ...users.map((user) => passwordOf(user.name))];
    const list = (await server.cli(['ACL', 'LIST'], asAdmin)).stdout;
    expect(list).toMatch(/user chat on #[0-9a-f]{64} /);
    for (const text of [JSON.stringify(serverEnvironment), readFileSync(join(work, 'users.acl'), 'utf8'), list]) {
      for (const password of passwords) expect(text).not.toContain(password);
    }
  });

  it('each product logs in with its own password, and a wrong password is refused', async () => {
    for (const user of users) {
      expect((await cli(['--user', user.name, 'ACL', 'WHOAMI'], { REDISCLI_AUTH: passwordOf(user.name) })).stdout.trim()).toBe(user.name);
      const wrong = await cli(['--user', user.name, 'ACL', 'WHOAMI'], { REDISCLI_AUTH: passwordOf(user.name === 'chat' ? plain() : 'chat') });
      expect(wrong.stdout + wrong.stderr).toMatch(/WRONGPASS/);
    }
    const admin = await cli(['--user', REDIS_ADMIN_USER, 'ACL', 'WHOAMI'], { REDISCLI_AUTH: 'not-the-password' });
    expect(admin.stdout + admin.stderr).toMatch(/WRONGPASS/);
  });

  it("keeps each product's rights exactly: the same as a user given the rules it had before hashes", async () => {
    // The rules the ACL script wrote for these users before, spelled out: keys and channels under the prefix, every
    // command but @dangerous, and what chat's clients declared (BullMQ's INFO, the Socket.IO adapter's pattern).
    const before: Record<string, string> = {
      chat: 'resetkeys ~chat:* resetchannels &chat:* &chat:socket.io#/#* -@all +@all -@dangerous +info',
      [plain()]: `resetkeys ~${plain()}:* resetchannels &${plain()}:* -@all +@all -@dangerous`,
    };
    const rights = async (user: string) => {
      const fields = (await server.cli(['--json', 'ACL', 'GETUSER', user], asAdmin)).stdout;
      const { passwords, ...rest } = JSON.parse(fields) as Record<string, unknown>;
      expect(passwords).toHaveLength(1);
      return rest;
    };
    for (const [user, rules] of Object.entries(before)) {
      expect((await server.cli(['ACL', 'SETUSER', `before_${user}`, 'on', '>reference', ...rules.split(' ')], asAdmin)).stdout.trim()).toBe('OK');
      expect(await rights(user)).toEqual(await rights(`before_${user}`));
      await server.cli(['ACL', 'DELUSER', `before_${user}`], asAdmin);
    }
  });

  it('lets the unauthenticated default user PING (the health check) and nothing else', async () => {
    expect((await cli(['ping'])).stdout.trim()).toBe('PONG');
    expect((await cli(['ACL', 'WHOAMI'])).stdout).toMatch(/NOPERM/);
    for (const command of [['SET', 'chat:probe', 'x'], ['GET', 'chat:session:1'], ['SET', 'probe', 'x'], ['PUBLISH', 'chat:events', 'x'], ['SUBSCRIBE', 'chat:events'], ['INFO'], ['CONFIG', 'GET', 'maxmemory'], ['DBSIZE'], ['FLUSHALL']]) {
      const refused = await cli(command);
      expect({ command, reply: refused.stdout.trim() }).toEqual({ command, reply: expect.stringMatching(/NOPERM/) });
    }
    expect((await server.cli(['EXISTS', 'chat:probe', 'probe'], asAdmin)).stdout.trim()).toBe('0');
    // The old single-argument AUTH (as `default`) finds no password to check.
    expect((await cli(['AUTH', adminPassword])).stdout).toMatch(/without any password configured for the default user/);
  });

  it('admits a product connecting from outside the container: protected mode is off, which a passwordless default user needs', async () => {
    expect(outsideAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const fromOutside = await cli(['--user', 'chat', 'SET', 'chat:from-outside', '1'], { REDISCLI_AUTH: passwordOf('chat') }, outsideAddress);
    expect(fromOutside.stdout.trim()).toBe('OK');
    // The control: the same ACL with protected mode on (Debian's build's default) refuses the same connection.
    const guarded = await startRedis('protected', ['--aclfile', join(work, 'users.acl'), '--protected-mode', 'yes', '--bind', '127.0.0.1', outsideAddress]);
    try {
      const refused = await run('redis-cli', ['-h', outsideAddress, '-p', String(guarded.port), '--user', 'chat', 'SET', 'chat:from-outside', '1'], { env: { PATH: process.env.PATH, REDISCLI_AUTH: passwordOf('chat') } });
      expect(refused.stdout + refused.stderr).toMatch(/DENIED|protected mode|reset by peer|Server closed/i);
    } finally {
      await guarded.stop();
    }
  });

  it('dumps the data as the admin user with redis-cli --rdb, which the default user cannot', async () => {
    const file = join(work, 'dump.rdb');
    const dump = await cli(['--user', REDIS_ADMIN_USER, '--rdb', file], { REDISCLI_AUTH: adminPassword });
    expect(dump.code).toBe(0);
    expect(readFileSync(file).subarray(0, 5).toString()).toBe('REDIS');
    const refused = await cli(['--rdb', join(work, 'refused.rdb')]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/NOPERM|permission/i);
  });
});
