import { Password } from '@cdktf/provider-random/lib/password';
import { Fn, type ITerraformDependable, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { exactKeysProblem } from '../core/configuration-error';
import { generatedPassword, randomProviderOf } from '../core/random-provider';
import { DATA_SERVICE_PROBE_TIMING, HealthCheck } from '../core/health-check';
import type { ResourceSpec } from '../core/resources';
import { HardenedContainer } from './hardened-container';
import { REDIS_ACL_TOKEN, REDIS_ADMIN_PASSWORD_HASH_VARIABLE, REDIS_ADMIN_USER, redisAclScript, VOLUME_MOUNT_POINT, volumeGuardScript, type RedisUserAccess } from './data-scripts';
import { terraformLiteral } from '../core/terraform-literal';

/**
 * What Redis does once `maxmemory` is reached (redis.conf, "maxmemory-policy"): `noeviction` refuses writes,
 * the others evict keys (`volatile-*` only keys with a TTL, `allkeys-*` any). A queue needs `noeviction`:
 * an evicted job is lost without an error, and BullMQ's lock keys carry a TTL, so even `volatile-*` evicts them
 * (BullMQ's production guide, docs.bullmq.io/guide/going-to-production).
 */
export const REDIS_EVICTION_POLICIES = ['noeviction', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random'] as const;
export type RedisEvictionPolicy = (typeof REDIS_EVICTION_POLICIES)[number];

/** Image, port, memory and probe of the Redis container unless its props say otherwise. */
export const REDIS_DEFAULTS = {
  image: 'redis:7-alpine',
  port: 6379,
  maxMemoryMiB: 256,
  // Only keys with a TTL (caches) are evicted: one product's cache never pushes out another's sessions.
  maxMemoryPolicy: 'volatile-lru' as RedisEvictionPolicy,
  resources: { cpuLimit: 0.25, memoryLimitMiB: 384, cpuReservation: 0.25, memoryReservationMiB: 256 } satisfies ResourceSpec,
  // Unauthenticated: the `default` user may PING and nothing else (REDIS_DEFAULT_USER_RULES), so the container holds no password.
  healthCheck: HealthCheck.command(['redis-cli', 'ping'], DATA_SERVICE_PROBE_TIMING),
} as const;

export interface RedisContainerProps {
  /** Host directory of the data volume; AOF and RDB files live in its `redis` subdirectory. */
  readonly dataPath: string;
  /** `HC_Volume_<id>`: the server starts only when the volume's sentinel file names this volume. */
  readonly volumeName: string;
  /** Products with their own ACL user (keys and channels `<product>:*`, no dangerous commands) and password. */
  readonly users: readonly string[];
  /**
   * The password of each user (tokens, sensitive), by user, when another stack owns them: a product's
   * credentials stack, which only that product and the data stack read. Must name every user.
   * @default - a random_password per user here (`redis-password-<user>`), in this stack's state
   */
  readonly userPasswords?: Readonly<Record<string, string>>;
  /** Name of the host's data network (internal: no internet). */
  readonly network: string;
  /** `maxmemory` in MiB; above it `maxMemoryPolicy` applies. @default - REDIS_DEFAULTS.maxMemoryMiB (256) */
  readonly maxMemoryMiB?: number;
  /** What Redis does at `maxmemory`; queues need `noeviction`. @default - REDIS_DEFAULTS.maxMemoryPolicy (volatile-lru) */
  readonly maxMemoryPolicy?: RedisEvictionPolicy;
  /** Rights of a user beyond its prefix (commands, literal pattern subscriptions), by user. @default - none */
  readonly access?: Readonly<Record<string, RedisUserAccess>>;
  /** CPU and memory. @default - REDIS_DEFAULTS.resources */
  readonly resources?: ResourceSpec;
  /** Image. @default - REDIS_DEFAULTS.image (redis:7-alpine) */
  readonly image?: string;
  /** Name of the container and its DNS name on the data network. @default 'redis' */
  readonly hostname?: string;
  /** Labels of the container. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Provider of the host's daemon. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
  /** What must exist first (the volume attachment). @default - none */
  readonly dependsOn?: readonly ITerraformDependable[];
}

/**
 * Redis 7 on the data network with its data on the Hetzner volume: an ACL
 * user per product with its own generated password (keys and channels under
 * `<product>:` only, no @dangerous command), an admin user for the dump job
 * and the operators, append-only file synced every second, `maxmemory` with
 * its eviction policy, and a `redis-cli ping` health check as the `default`
 * user, which may only PING and needs no password.
 *
 * The container holds no password: Terraform hands it each password's SHA-256
 * (`sha256()` of the generated password, sensitive like it), which Redis takes
 * as a `#<hash>` rule. The hashes go in the environment rather than the command:
 * the command stays free of secrets (readable in every plan), and a process's
 * environment is readable only by its owner, where its command line is
 * readable by every user of the host (/proc/<pid>/cmdline). A data container is
 * a plain container even on a swarm, so it cannot mount a Swarm secret.
 */
export class RedisContainer extends Construct {
  public readonly server: HardenedContainer;
  /** The password of the admin user (REDIS_ADMIN_USER, every right): the dump job's; Redis itself holds only its hash. */
  public readonly adminPassword: Password;
  /** The ACL user with every right: the dump job and the operators. */
  public readonly adminUser = REDIS_ADMIN_USER;
  private readonly userPasswords = new Map<string, string>();
  /** DNS name of the server on the data network. */
  public readonly hostname: string;
  /** Where clients connect: the private address it is published on, or its name on the data network. */
  public readonly connectionHost: string;

  public constructor(scope: Construct, id: string, props: RedisContainerProps) {
    super(scope, id);
    const resources = props.resources ?? REDIS_DEFAULTS.resources;
    const maxMemoryMiB = props.maxMemoryMiB ?? REDIS_DEFAULTS.maxMemoryMiB;
    this.connectionHost = props.hostname ?? 'redis';
    this.hostname = props.hostname ?? 'redis';
    if (!Number.isInteger(maxMemoryMiB) || maxMemoryMiB < 16 || maxMemoryMiB >= resources.memoryLimitMiB) {
      throw new Error(
        `RedisContainer ${id}: maxMemoryMiB must be a whole number from 16 to below the memory limit (${resources.memoryLimitMiB} MiB); got ${maxMemoryMiB}. ` +
          'Redis needs headroom above maxmemory for buffers and the AOF rewrite, or the kernel kills it.',
      );
    }

    randomProviderOf(this);
    // `redis-password` was the `default` user's before that user lost its password: the address stays, so the value does.
    this.adminPassword = new Password(this, 'redis-password', { length: 32, special: false });
    this.adminPassword.overrideLogicalId('redis-password');
    const given = props.userPasswords;
    const givenProblem = given === undefined ? undefined : exactKeysProblem('userPasswords', props.users, given);
    if (givenProblem !== undefined) throw new Error(`RedisContainer ${id}: ${givenProblem} (one per user)`);
    const seen = new Set<string>();
    for (const user of props.users) {
      if (!/^[a-z][a-z0-9-]*$/.test(user) || user === 'default' || seen.has(user)) {
        throw new Error(`RedisContainer ${id}: user "${user}" must be a unique lowercase product name (letters, digits, "-"), not "default"`);
      }
      seen.add(user);
      const access = props.access?.[user];
      const bad = [...(access?.commands ?? []), ...(access?.patternSubscriptions ?? [])].find((token) => !REDIS_ACL_TOKEN.test(token));
      const outside = (access?.patternSubscriptions ?? []).find((pattern) => !pattern.startsWith(`${user}:`));
      if (bad !== undefined || outside !== undefined) {
        throw new Error(`RedisContainer ${id}: user "${user}": "${bad ?? outside}" must be a pattern under "${user}:" or a command name, of letters, digits and : _ # / * ? . [ ] | -`);
      }
      if (given !== undefined) {
        this.userPasswords.set(user, given[user]);
        continue;
      }
      this.userPasswords.set(user, generatedPassword(this, `redis-password-${user}`));
    }
    const passwordHashVariable = (user: string) => `REDIS_PASSWORD_HASH_${user.toUpperCase().replace(/-/g, '_')}`;
    const aclFile = '/tmp/users.acl';
    const dataDir = `${VOLUME_MOUNT_POINT}/redis`;

    const server = ['redis-server', ...redisServerArguments({ aclFile, maxMemoryMiB, maxMemoryPolicy: props.maxMemoryPolicy ?? REDIS_DEFAULTS.maxMemoryPolicy }), `--dir ${dataDir}`].join(' ');
    // ACL users from the password hashes in the environment (the file in tmpfs); the entrypoint chowns the cwd to redis.
    const setup = [
      redisAclScript(props.users.map((name) => ({ name, passwordHashVariable: passwordHashVariable(name), access: props.access?.[name] })), aclFile),
      `chown redis ${aclFile}`,
      `mkdir -p ${dataDir} && cd ${dataDir}`,
      `exec docker-entrypoint.sh ${server}`,
    ].join('\n');
    this.server = new HardenedContainer(this, 'redis', {
      name: this.hostname,
      image: props.image ?? REDIS_DEFAULTS.image,
      // The volume guard refuses to start without the volume's sentinel; the image's entrypoint then steps down to the redis user.
      entrypoint: ['sh', '-c', terraformLiteral(volumeGuardScript()), 'volume-guard'],
      command: ['sh', '-c', terraformLiteral(setup), 'redis-setup'],
      environment: { DATA_VOLUME: props.volumeName },
      // Hashes only, sensitive as their passwords are (Terraform marks a function's result of a sensitive value sensitive).
      secretEnvironment: {
        [REDIS_ADMIN_PASSWORD_HASH_VARIABLE]: Fn.sha256(this.adminPassword.result),
        ...Object.fromEntries([...this.userPasswords].map(([user, password]) => [passwordHashVariable(user), Fn.sha256(password)])),
      },
      healthCheck: REDIS_DEFAULTS.healthCheck.toDocker(),
      resources,
      networks: [{ name: props.network, aliases: [this.hostname] }],
      // The entrypoint starts as root only to own /data, then runs redis-server as the redis user via su-exec.
      user: 'root',
      capabilities: ['CHOWN', 'DAC_READ_SEARCH', 'SETGID', 'SETUID'],
      bindMounts: [{ hostPath: props.dataPath, containerPath: VOLUME_MOUNT_POINT, mustExist: true }],
      stopGraceSeconds: 30,
      labels: { ...props.labels, service: 'redis' },
      provider: props.provider,
      dependsOn: props.dependsOn,
    });
  }

  /** `redis://<product>:<password>@<host>:6379/0` of one product's ACL user (its keys must start with `<product>:`): a token, sensitive. */
  public connectionUrl(user: string): string {
    const password = this.userPasswords.get(user);
    if (password === undefined) throw new Error(`RedisContainer: no user "${user}"; have ${[...this.userPasswords.keys()].join(', ') || '(none)'}`);
    return redisConnectionUrl({ user, password, host: this.connectionHost });
  }
}

/**
 * The server's settings as redis-server arguments (`--name value`), without its data directory: the container
 * runs them, and the client tests (__tests__/integration/redis-clients.test.ts) start a real server with them.
 */
export function redisServerArguments(settings: { readonly aclFile: string; readonly maxMemoryMiB: number; readonly maxMemoryPolicy: RedisEvictionPolicy }): string[] {
  return [
    `--aclfile ${settings.aclFile}`,
    '--appendonly yes',
    '--appendfsync everysec',
    `--maxmemory ${settings.maxMemoryMiB}mb`,
    `--maxmemory-policy ${settings.maxMemoryPolicy}`,
    // The dump job's `redis-cli --rdb` is a replica sync; Redis 7 waits 5 s for more replicas to share it
    // (repl-diskless-sync-delay), and there are none: measured 4.7 s -> 0.01 s for a small dataset.
    '--repl-diskless-sync-delay 0',
    // The `default` user has no password (it may only PING), and with protected mode on Redis would then refuse every
    // connection from outside the container (src/networking.c, clientAcceptHandler). The official image builds with it
    // off already (docker-library/redis Dockerfile, "disable Redis protected mode"); said here so any build behaves alike.
    '--protected-mode no',
  ];
}

/**
 * `redis://<user>:<password>@<host>:6379/0` of a product's ACL user: the one spelling of REDIS_URL, for the
 * container and for stacks that only hold the password.
 */
export function redisConnectionUrl(target: { readonly user: string; readonly password: string; readonly host: string; readonly port?: number }): string {
  return `redis://${target.user}:${target.password}@${target.host}:${target.port ?? REDIS_DEFAULTS.port}/0`;
}
