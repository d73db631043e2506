import type { ITerraformDependable, TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import { HealthCheck } from '../core/health-check';
import type { ResourceSpec } from '../core/resources';
import { POSTGRES_EXPORTER_ROLE } from '../docker/data-scripts';
import { POSTGRES_DEFAULTS } from '../docker/postgres-container';
import { HardenedContainer } from '../docker/hardened-container';
import { MONITORING_IMAGES } from './images';
import { EXPORTER_PORTS } from './prometheus-config';
import { MONITORING_RESOURCES } from './resources';

/** Container name, and its alias on the network the host's scraper shares. */
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
}

/**
 * prometheus-community's postgres_exporter beside a PostgreSQL container: the
 * server's health (`pg_up`), sessions per database and role
 * (`pg_stat_activity_count{datname,usename,state,...}`, collector/pg_stat_activity.go
 * at v0.20.1) and database sizes, on :9187. It logs in as `postgres_exporter`
 * (`pg_monitor` only) to the `postgres` database: statistics, never a
 * product's rows. The password comes in `DATA_SOURCE_PASS`, the address in
 * `DATA_SOURCE_URI`, as its README documents.
 */
export class PostgresExporter extends Construct {
  public readonly container: HardenedContainer;

  public constructor(scope: Construct, id: string, props: PostgresExporterProps) {
    super(scope, id);
    const port = EXPORTER_PORTS.postgres;
    this.container = new HardenedContainer(this, POSTGRES_EXPORTER_NAME, {
      name: POSTGRES_EXPORTER_NAME,
      image: props.image ?? MONITORING_IMAGES.postgresExporter,
      // The data network is internal, so TLS to the server would protect nothing the network does not.
      environment: { DATA_SOURCE_URI: `${props.postgresHost}:${POSTGRES_DEFAULTS.port}/postgres?sslmode=disable`, DATA_SOURCE_USER: POSTGRES_EXPORTER_ROLE },
      secretEnvironment: { DATA_SOURCE_PASS: props.password },
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
    });
  }
}
