import type { ITerraformDependable, TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import { DATA_SERVICE_PROBE_TIMING, HealthCheck } from '../core/health-check';
import { exactKeysProblem } from '../core/configuration-error';
import { generatedPassword } from '../core/random-provider';
import type { ResourceSpec } from '../core/resources';
import { HardenedContainer } from './hardened-container';
import { MAX_SWARM_SECRET_BASE_NAME, SwarmSecret } from './swarm-secret';
import { SwarmService } from './swarm-service';
import { terraformLiteral } from '../core/terraform-literal';
import {
  EXPORTER_PASSWORD_VARIABLE,
  POSTGRES_EXPORTER_ROLE,
  postgresProvisionerPasswordVariables,
  postgresProvisionerScript,
  rolePasswordVariable,
  VOLUME_MOUNT_POINT,
  volumeGuardScript,
} from './data-scripts';

/** Image, port, resources and probe of the PostgreSQL container unless its props say otherwise. */
export const POSTGRES_DEFAULTS = {
  image: 'postgres:16-alpine',
  port: 5432,
  resources: { cpuLimit: 1, memoryLimitMiB: 2048, cpuReservation: 1, memoryReservationMiB: 2048 } satisfies ResourceSpec,
  healthCheck: HealthCheck.command(['pg_isready', '-U', 'postgres'], DATA_SERVICE_PROBE_TIMING),
} as const;

/** PostgreSQL identifiers the provisioner creates unquoted-safe: lowercase, digits, `_`, at most 63 bytes. */
export const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** Databases and roles the server has or the platform creates: no product's. */
export const RESERVED_DATABASES: readonly string[] = ['postgres', 'template0', 'template1', POSTGRES_EXPORTER_ROLE];

/** Connections kept beyond the products' limits: superuser_reserved_connections (3), the dump job, the provisioner, the metrics exporter (3), an operator. */
export const POSTGRES_RESERVED_CONNECTIONS = 10;

/** `max_connections` unless set: every product role's limit, plus POSTGRES_RESERVED_CONNECTIONS. */
export function defaultMaxConnections(databases: number, connectionLimitPerDatabase: number): number {
  return connectionLimitPerDatabase * databases + POSTGRES_RESERVED_CONNECTIONS;
}

export interface PostgresContainerProps {
  /** Host directory of the data volume (`/mnt/HC_Volume_<id>`); the cluster lives in its `pgdata` subdirectory. */
  readonly dataPath: string;
  /** `HC_Volume_<id>`: the server starts only when the volume's sentinel file names this volume. */
  readonly volumeName: string;
  /** Connections each product's role may hold at once (`CONNECTION LIMIT`). @default 20 */
  readonly connectionLimitPerDatabase?: number;
  /** Name of the host's data network (internal: no internet). */
  readonly network: string;
  /** One database per product, each owned by a login role of the same name with its own password. */
  readonly databases: readonly string[];
  /**
   * The password of each database's role (tokens, sensitive), by database, when another stack owns them: a
   * product's credentials stack, which only that product and the data stack read. Must name every database.
   * @default - a random_password per database here (`postgres-password-<database>`), in this stack's state
   */
  readonly rolePasswords?: Readonly<Record<string, string>>;
  /**
   * Password (a token, sensitive) of the `postgres_exporter` role the provisioner then keeps: login to the
   * `postgres` database only, `pg_monitor`, three connections; for a metrics exporter (PostgresExporter).
   * @default - no such role
   */
  readonly exporterPassword?: string;
  /** CPU and memory; the memory limit also sizes the tuning. @default - POSTGRES_DEFAULTS.resources */
  readonly resources?: ResourceSpec;
  /** Image. @default - POSTGRES_DEFAULTS.image (postgres:16-alpine) */
  readonly image?: string;
  /**
   * `max_connections`; at least the products' limits together plus POSTGRES_RESERVED_CONNECTIONS.
   * @default - exactly that sum
   */
  readonly maxConnections?: number;
  /** Further server settings (`-c name=value`), over the tuning derived from memory. @default - none */
  readonly settings?: Readonly<Record<string, string>>;
  /** Name of the container and its DNS name on the data network. @default 'postgres' */
  readonly hostname?: string;
  /** Labels of both containers. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Provider of the host's daemon. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
  /** What must exist first (the volume attachment). @default - none */
  readonly dependsOn?: readonly ITerraformDependable[];
  /**
   * The environment is a swarm: the provisioner becomes a Swarm service on the data node, every password it
   * holds a Swarm secret mounted as a file (PostgresSwarm). The server stays a plain container either way.
   * @default - plain containers only
   */
  readonly swarm?: PostgresSwarm;
}

/** The provisioner of a swarm environment: see PostgresContainer. */
export interface PostgresSwarm {
  /** Node labels of the data node (`{ data: 'true' }`): the provisioner's task, and so its secrets, go there only. */
  readonly nodeLabels: Readonly<Record<string, string>>;
}

/** Health of the provisioner: the marker its script leaves after the SQL succeeded. */
const PROVISIONED_CHECK = HealthCheck.command(['sh', '-c', 'test -f /tmp/provisioned'], {
  interval: Duration.seconds(5),
  timeout: Duration.seconds(3),
  retries: 3,
  startPeriod: Duration.seconds(10),
}).toDocker();

/**
 * Server settings scaled to the container's memory: shared_buffers 25%,
 * effective_cache_size 75%, maintenance_work_mem 1/16 (at most 2 GiB), and
 * work_mem what is left after shared_buffers spread over three sorts per
 * connection (at least 4 MB). Storage is network SSD (Hetzner volumes).
 */
export function postgresTuning(memoryMiB: number, maxConnections: number): Record<string, string> {
  const sharedBuffers = Math.floor(memoryMiB / 4);
  return {
    max_connections: String(maxConnections),
    shared_buffers: `${sharedBuffers}MB`,
    effective_cache_size: `${Math.floor((memoryMiB * 3) / 4)}MB`,
    maintenance_work_mem: `${Math.min(2048, Math.floor(memoryMiB / 16))}MB`,
    work_mem: `${Math.max(4, Math.floor((memoryMiB - sharedBuffers) / (maxConnections * 3)))}MB`,
    random_page_cost: '1.1',
    effective_io_concurrency: '200',
    password_encryption: 'scram-sha-256',
  };
}

/**
 * PostgreSQL 16 on the data network, its cluster on the Hetzner volume, and a
 * database with its own login role for every product.
 *
 * Roles and databases are created by the `postgres-provisioner` container, a
 * psql run against the server that is idempotent (CREATE ... only where
 * missing; ALTER ROLE sets the current password every time). Its command
 * lists the databases and its environment carries the passwords, so Terraform
 * replaces (and so re-runs) it whenever either changes. After the SQL it
 * stays idle instead of exiting: Docker then reports it healthy, and
 * Terraform, waiting for healthy, fails the apply when the SQL failed.
 * Removing a product never drops its database; that stays a manual decision.
 *
 * On a swarm the provisioner is a Swarm service pinned to the data node
 * (`docker_service.postgres-provisioner`; stateless, so nothing is lost when
 * the engine switch replaces the container by it), and the superuser's and
 * every role's password are Swarm secrets mounted as files under
 * /run/secrets, read only by the psql run (postgresProvisionerScript,
 * `passwordsFromFiles`): no `docker inspect` of its task, no `docker service
 * inspect`, no process argument shows one. A new password is a new secret
 * revision (SwarmSecret), and the service rolls onto it, which re-runs the SQL.
 */
export class PostgresContainer extends Construct {
  public readonly server: HardenedContainer;
  /** The provisioner: a container, or on a swarm a service. */
  public readonly provisioner: HardenedContainer | SwarmService;
  /** What exists once the roles and databases do (the provisioner, healthy): for whoever logs in as one. */
  public readonly provisioned: ITerraformDependable;
  /** DNS name of the server on the data network. */
  public readonly hostname: string;
  /** Where clients connect: the private address it is published on, or its name on the data network. */
  public readonly connectionHost: string;
  /** The superuser's generated password (a token, sensitive): for the backup job only. */
  public readonly superuserPassword: string;
  /**
   * On a swarm with an exporter role, the Swarm secret holding its password: the exporter's service mounts this
   * one, so the value has one secret and one revision, and a new password rolls both services.
   */
  public readonly exporterPasswordSecret?: SwarmSecret;
  /** On a swarm, the Swarm secret holding the superuser's password: the backup job's service mounts this one too. */
  public readonly superuserPasswordSecret?: SwarmSecret;
  private readonly passwords = new Map<string, string>();

  public constructor(scope: Construct, id: string, props: PostgresContainerProps) {
    super(scope, id);
    const resources = props.resources ?? POSTGRES_DEFAULTS.resources;
    const connectionLimit = props.connectionLimitPerDatabase ?? 20;
    const needed = defaultMaxConnections(props.databases.length, connectionLimit);
    const maxConnections = props.maxConnections ?? needed;
    this.connectionHost = props.hostname ?? 'postgres';
    this.hostname = props.hostname ?? 'postgres';
    const fail = (message: string): never => {
      throw new Error(`PostgresContainer ${id}: ${message}`);
    };
    if (!Number.isInteger(maxConnections) || maxConnections < 10 || maxConnections > 5000) {
      fail(`maxConnections must be a whole number from 10 to 5000; got ${maxConnections}`);
    }
    for (const [key, value] of Object.entries(props.settings ?? {})) {
      if (!/^[a-z][a-z0-9_.]*$/.test(key) || key === 'max_connections' || /[\n\r'"]/.test(value)) {
        fail(`setting "${key}" must be a parameter name other than max_connections (its own prop), with a one-line value without quotes`);
      }
    }
    if (!Number.isInteger(connectionLimit) || connectionLimit < 1) fail(`connectionLimitPerDatabase must be a whole number >= 1; got ${connectionLimit}`);
    if (maxConnections < needed) {
      fail(`maxConnections ${maxConnections} is below the ${props.databases.length} products' limits (${props.databases.length} x ${connectionLimit}) plus ${POSTGRES_RESERVED_CONNECTIONS} reserved = ${needed}`);
    }
    if (resources.memoryLimitMiB < 256) fail(`memory limit must be at least 256 MiB for a usable server; got ${resources.memoryLimitMiB}`);
    const seen = new Set<string>();
    for (const database of props.databases) {
      if (!DATABASE_NAME.test(database) || RESERVED_DATABASES.includes(database)) {
        fail(`database "${database}" must be lowercase letters, digits and "_" (at most 63), and not ${RESERVED_DATABASES.join(', ')}`);
      }
      if (seen.has(database)) fail(`database "${database}" is listed twice (two products share a databaseName?)`);
      if (props.swarm !== undefined && roleSecretName(this.hostname, database).length > MAX_SWARM_SECRET_BASE_NAME) {
        fail(`database "${database}" is too long on a swarm: its password's Swarm secret "${roleSecretName(this.hostname, database)}" may have at most ${MAX_SWARM_SECRET_BASE_NAME} characters; shorten the product's databaseName`);
      }
      seen.add(database);
    }

    this.superuserPassword = generatedPassword(this, 'postgres-superuser-password');
    const given = props.rolePasswords;
    const givenProblem = given === undefined ? undefined : exactKeysProblem('rolePasswords', props.databases, given);
    if (givenProblem !== undefined) fail(`${givenProblem} (one per database)`);
    for (const database of props.databases) this.passwords.set(database, given?.[database] ?? generatedPassword(this, `postgres-password-${database}`));

    const labels = { ...props.labels, service: 'postgres' };
    this.server = new HardenedContainer(this, 'postgres', {
      name: this.hostname,
      image: props.image ?? POSTGRES_DEFAULTS.image,
      // The volume guard refuses to start unless the volume's sentinel is there, then runs the image's entrypoint.
      entrypoint: ['sh', '-c', terraformLiteral(volumeGuardScript()), 'volume-guard'],
      command: [
        'docker-entrypoint.sh',
        'postgres',
        ...Object.entries({ ...postgresTuning(resources.memoryLimitMiB, maxConnections), ...props.settings }).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
      ],
      // The cluster stays where it always was on the volume (`<volume>/pgdata`).
      environment: { POSTGRES_USER: 'postgres', POSTGRES_DB: 'postgres', PGDATA: `${VOLUME_MOUNT_POINT}/pgdata`, DATA_VOLUME: props.volumeName },
      secretEnvironment: { POSTGRES_PASSWORD: this.superuserPassword },
      healthCheck: POSTGRES_DEFAULTS.healthCheck.toDocker(),
      resources,
      networks: [{ name: props.network, aliases: [this.hostname] }],
      // The entrypoint starts as root only to own the data directory, then runs the server as postgres (uid 70) via su-exec.
      user: 'root',
      capabilities: ['CHOWN', 'DAC_READ_SEARCH', 'FOWNER', 'SETGID', 'SETUID'],
      writablePaths: ['/var/run/postgresql'],
      bindMounts: [{ hostPath: props.dataPath, containerPath: VOLUME_MOUNT_POINT, mustExist: true }],
      shmSizeMiB: Math.max(64, Math.floor(resources.memoryLimitMiB / 8)),
      // A clean shutdown writes a checkpoint; a kill means crash recovery on the next start.
      stopGraceSeconds: 60,
      labels,
      provider: props.provider,
      dependsOn: props.dependsOn,
    });

    const rolePasswords = Object.fromEntries(props.databases.map((database) => [rolePasswordVariable(database), this.passwords.get(database)!]));
    const passwords: Record<string, string> = {
      PGPASSWORD: this.superuserPassword,
      ...rolePasswords,
      ...(props.exporterPassword === undefined ? {} : { [EXPORTER_PASSWORD_VARIABLE]: props.exporterPassword }),
    };
    const scriptOptions = { exporterRole: props.exporterPassword !== undefined, passwordsFromFiles: props.swarm !== undefined };
    const script = postgresProvisionerScript(props.databases, connectionLimit, scriptOptions);
    const provisioner = {
      name: `${this.hostname}-provisioner`,
      environment: { PGHOST: this.hostname, PGUSER: 'postgres', PGDATABASE: 'postgres' },
      healthCheck: PROVISIONED_CHECK,
      resources: { cpuLimit: 0.25, memoryLimitMiB: 64, cpuReservation: 0.05, memoryReservationMiB: 16 },
      networks: [{ name: props.network }],
      labels: { ...props.labels, service: 'postgres-provisioner' },
      provider: props.provider,
      dependsOn: [this.server.container],
    };
    if (props.swarm === undefined) {
      this.provisioner = new HardenedContainer(this, 'postgres-provisioner', {
        ...provisioner,
        image: this.server.image,
        command: ['sh', '-c', terraformLiteral([script, 'touch /tmp/provisioned', 'exec sleep 2147483647'].join('\n'))],
        secretEnvironment: passwords,
        // PID 1 is sleep after the SQL: init forwards the stop signal instead of waiting for the kill.
        init: true,
      });
      this.provisioned = this.provisioner.container;
      return;
    }
    const secretNames: Record<string, string> = {
      PGPASSWORD: `${this.hostname}-superuser-password`,
      [EXPORTER_PASSWORD_VARIABLE]: `${this.hostname}-exporter-password`,
      ...Object.fromEntries(props.databases.map((database) => [rolePasswordVariable(database), roleSecretName(this.hostname, database)])),
    };
    const secretFiles = Object.fromEntries(
      postgresProvisionerPasswordVariables(props.databases, scriptOptions).map((variable) => {
        const name = secretNames[variable]!;
        return [variable, new SwarmSecret(this, `${name}-secret`, { name, value: passwords[variable]!, provider: props.provider })];
      }),
    );
    this.exporterPasswordSecret = secretFiles[EXPORTER_PASSWORD_VARIABLE];
    this.superuserPasswordSecret = secretFiles.PGPASSWORD;
    this.provisioner = new SwarmService(this, 'postgres-provisioner', {
      ...provisioner,
      image: props.image ?? POSTGRES_DEFAULTS.image,
      // A Swarm task has no init (the provider exposes none): the shell stays PID 1 and ends on the stop signal.
      command: ['sh', '-c', terraformLiteral([script, 'touch /tmp/provisioned', "trap 'exit 0' TERM INT", 'sleep 2147483647 & wait'].join('\n'))],
      secretFiles,
      // With the server's data: the passwords reach that node alone (Swarm hands a secret only to its tasks' nodes).
      nodeLabels: props.swarm.nodeLabels,
    });
    this.provisioned = this.provisioner.service;
  }

  /** `postgresql://<role>:<password>@<host>:5432/<database>` for one product database: a token, sensitive. */
  public connectionUrl(database: string): string {
    const password = this.passwords.get(database);
    if (password === undefined) throw new Error(`PostgresContainer: no database "${database}"; have ${[...this.passwords.keys()].join(', ') || '(none)'}`);
    return postgresConnectionUrl({ database, password, host: this.connectionHost });
  }
}

/** Base name of the Swarm secret holding a role's password (`postgres-role-chat`). */
function roleSecretName(hostname: string, database: string): string {
  return `${hostname}-role-${database}`;
}

/**
 * `postgresql://<role>:<password>@<host>:5432/<database>` of a product database, whose login role has the
 * database's name: the one spelling of DATABASE_URL, for the container and for stacks that only hold the password.
 */
export function postgresConnectionUrl(target: { readonly database: string; readonly password: string; readonly host: string; readonly port?: number }): string {
  return `postgresql://${target.database}:${target.password}@${target.host}:${target.port ?? POSTGRES_DEFAULTS.port}/${target.database}`;
}
