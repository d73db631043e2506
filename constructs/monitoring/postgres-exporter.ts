import type { ITerraformDependable, TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import { HealthCheck } from '../core/health-check';
import type { ResourceSpec } from '../core/resources';
import { POSTGRES_EXPORTER_ROLE } from '../docker/data-scripts';
import { POSTGRES_DEFAULTS } from '../docker/postgres-container';
import { HardenedContainer } from '../docker/hardened-container';
import { SwarmSecret } from '../docker/swarm-secret';
import { SwarmService } from '../docker/swarm-service';
import { MONITORING_IMAGES } from './images';
import { EXPORTER_PORTS } from './prometheus-config';
import { MONITORING_RESOURCES } from './resources';

/** Container (or Swarm service) name, and its DNS name on the network the host's scraper shares. */
export const POSTGRES_EXPORTER_NAME = 'postgres-exporter';

export interface PostgresExporterProps {
  /** Name of the PostgreSQL server on the data network. */
  readonly postgresHost: string;
  /** Password of the `postgres_exporter` role (a token, sensitive); the server's provisioner creates the role with it. */
  readonly password: string;
  /** The host's data network, where the server is (internal: no internet). */
  readonly dataNetwork: string;
  /** A network the host's scraper (Prometheus or its agent) is on; the exporter is reachable there as `postgres-exporter`. */
  readonly scrapeNetwork: string;
  /** Image. @default - MONITORING_IMAGES.postgresExporter */
  readonly image?: string;
  /** CPU and memory. @default - MONITORING_RESOURCES.postgresExporter */
  readonly resources?: ResourceSpec;
  /** Labels of the container. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Provider of the host's daemon. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
  /** What must exist first (the provisioner that creates the role). @default - none */
  readonly dependsOn?: readonly ITerraformDependable[];
  /**
   * The environment is a swarm: the exporter becomes a Swarm service on the data node, its password a Swarm
   * secret file it reads itself (`DATA_SOURCE_PASS_FILE`). @default - a plain container, the password in its environment
   */
  readonly swarm?: PostgresExporterSwarm;
}

/** The exporter of a swarm environment: see PostgresExporter. */
export interface PostgresExporterSwarm {
  /** Node labels of the data node (`{ data: 'true' }`): the task, and so the password's secret, go there only. */
  readonly nodeLabels: Readonly<Record<string, string>>;
  /**
   * The Swarm secret already holding `password` (the provisioner's: PostgresContainer.exporterPasswordSecret), so
   * the value has one secret and one revision. @default - a secret of its own, `postgres-exporter-password`
   */
  readonly passwordSecret?: SwarmSecret;
}

/**
 * prometheus-community's postgres_exporter beside a PostgreSQL container: the
 * server's health (`pg_up`), sessions per database and role
 * (`pg_stat_activity_count{datname,usename,state,...}`, collector/pg_stat_activity.go
 * at v0.20.1) and database sizes, on :9187. It logs in as `postgres_exporter`
 * (`pg_monitor` only) to the `postgres` database: statistics, never a
 * product's rows. The address comes in `DATA_SOURCE_URI`, the password in
 * `DATA_SOURCE_PASS`, as its README documents.
 *
 * On a swarm it is a Swarm service named `postgres-exporter` on the data node
 * (`docker_service.postgres-exporter`): the scraper on the backend overlay
 * reaches it by that name as before (a service's name resolves on each of its
 * networks), and the password is a Swarm secret mounted as a file the
 * exporter reads itself through `DATA_SOURCE_PASS_FILE`: at v0.20.1,
 * exporter/datasource.go GetDataSources reads the file named there in
 * preference to `DATA_SOURCE_PASS` (os.ReadFile, strings.TrimSpace), and the
 * README documents it "to prevent having the password in an environment
 * variable". No inspect of the service or its task shows the password.
 */
export class PostgresExporter extends Construct {
  /** The exporter: a container, or on a swarm a service. */
  public readonly exporter: HardenedContainer | SwarmService;

  public constructor(scope: Construct, id: string, props: PostgresExporterProps) {
    super(scope, id);
    const port = EXPORTER_PORTS.postgres;
    const exporter = {
      name: POSTGRES_EXPORTER_NAME,
      image: props.image ?? MONITORING_IMAGES.postgresExporter,
      // The data network is internal, so TLS to the server would protect nothing the network does not.
      environment: { DATA_SOURCE_URI: `${props.postgresHost}:${POSTGRES_DEFAULTS.port}/postgres?sslmode=disable`, DATA_SOURCE_USER: POSTGRES_EXPORTER_ROLE },
      // The image is busybox-based: its wget asks for the landing page (cmd/postgres_exporter/main.go), which
      // queries nothing; /metrics would take one of the role's connections every 30 seconds.
      healthCheck: HealthCheck.command(['wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${port}/`], {
        interval: Duration.seconds(30),
        timeout: Duration.seconds(10),
        retries: 3,
        startPeriod: Duration.seconds(30),
      }).toDocker(),
      resources: props.resources ?? MONITORING_RESOURCES.postgresExporter,
      networks: [{ name: props.dataNetwork }, { name: props.scrapeNetwork, aliases: [POSTGRES_EXPORTER_NAME] }],
      labels: { ...props.labels, service: POSTGRES_EXPORTER_NAME },
      provider: props.provider,
      dependsOn: props.dependsOn,
    };
    if (props.swarm === undefined) {
      this.exporter = new HardenedContainer(this, POSTGRES_EXPORTER_NAME, { ...exporter, secretEnvironment: { DATA_SOURCE_PASS: props.password } });
      return;
    }
    const secret = props.swarm.passwordSecret ?? new SwarmSecret(this, `${POSTGRES_EXPORTER_NAME}-password-secret`, { name: `${POSTGRES_EXPORTER_NAME}-password`, value: props.password, provider: props.provider });
    this.exporter = new SwarmService(this, POSTGRES_EXPORTER_NAME, {
      ...exporter,
      // DATA_SOURCE_PASS_FILE=/run/secrets/data_source_pass, 0400 for the task's user.
      secretFiles: { DATA_SOURCE_PASS: secret },
      // With the server: the password reaches the data node alone (Swarm hands a secret only to its tasks' nodes).
      nodeLabels: props.swarm.nodeLabels,
    });
  }
}
