/**
 * The environment's Prometheus alerting rules, generated from thresholds.
 * Defaults are the source documents' (seed 000 "Alert Thresholds", seed 002
 * "Alert Rules"); the output is a Prometheus rule file (JSON is YAML), checked
 * by `promtool check rules` in the tests.
 */

export type AlertSeverity = 'critical' | 'warning';

/** Thresholds of the environment's alerts; each overridable per environment. */
export interface AlertThresholds {
  /** A health check failing this long is "service down" (critical). @default 2 */
  readonly serviceDownMinutes: number;
  /** Share of requests answered 5xx above which a service alerts (critical). @default 5 */
  readonly errorRatePercent: number;
  /** How long the error rate must stay above it. @default 5 */
  readonly errorRateMinutes: number;
  /** p95 latency above which a service alerts (warning). @default 500 */
  readonly latencyP95Ms: number;
  /** How long p95 must stay above it. @default 10 */
  readonly latencyMinutes: number;
  /** Container memory, percent of its limit, that warns. @default 80 */
  readonly memoryWarningPercent: number;
  /** Container memory, percent of its limit, that pages. @default 90 */
  readonly memoryCriticalPercent: number;
  /** How long memory must stay above either. @default 5 */
  readonly memoryMinutes: number;
  /** Host CPU busy percent that warns. @default 80 */
  readonly cpuPercent: number;
  /** How long CPU must stay above it. @default 5 */
  readonly cpuMinutes: number;
  /** Free disk percent below which a filesystem pages. @default 10 */
  readonly diskFreePercent: number;
  /** Days before a certificate expires that warn. @default 14 */
  readonly certificateExpiryDays: number;
  /** Hours past a backup's daily schedule before "backup missed" pages. @default 2 */
  readonly backupGraceHours: number;
  /** On a swarm: how long a service may run fewer tasks than its replicas before it warns (a reschedule takes seconds). @default 5 */
  readonly underReplicatedMinutes: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  serviceDownMinutes: 2,
  errorRatePercent: 5,
  errorRateMinutes: 5,
  latencyP95Ms: 500,
  latencyMinutes: 10,
  memoryWarningPercent: 80,
  memoryCriticalPercent: 90,
  memoryMinutes: 5,
  cpuPercent: 80,
  cpuMinutes: 5,
  diskFreePercent: 10,
  certificateExpiryDays: 14,
  backupGraceHours: 2,
  underReplicatedMinutes: 5,
};

/** A container that has no HTTP health endpoint (a worker): watched by presence. */
export interface WatchedContainer {
  readonly product: string;
  readonly service: string;
  /** On a swarm: the Swarm service whose tasks are this service's containers. @default - a plain container, found by its `product` and `service` labels */
  readonly swarmService?: string;
}

/** A Swarm service and the replicas Terraform gives it (`docker_service` mode.replicated.replicas). */
export interface ReplicatedService {
  readonly product: string;
  readonly service: string;
  /** The Swarm service's name: its tasks' containers carry it as `com.docker.swarm.service.name`. */
  readonly swarmService: string;
  readonly replicas: number;
}

/**
 * cAdvisor's series of one Swarm service's running task containers. Docker labels every task container with
 * `com.docker.swarm.service.name` (moby daemon/cluster/executor/container/container.go, `labels()`); cAdvisor
 * exports it as `container_label_com_docker_swarm_service_name` and the scrape maps it to `swarm_service`
 * (prometheus-config.ts). A stopped task's container has no cgroup, so cAdvisor counts running tasks only.
 */
export const swarmTasksSelector = (swarmService: string) => `container_last_seen{swarm_service="${swarmService}"}`;

export interface AlertRulesProps {
  readonly environment: string;
  readonly thresholds: AlertThresholds;
  /** Containers without a probe, alerted when absent. @default - none */
  readonly presenceOnly?: readonly WatchedContainer[];
  /**
   * On a swarm: every replicated service, alerted when fewer tasks run than its replicas. The desired count is the
   * description's (what Terraform sets), because neither cAdvisor nor Prometheus's `dockerswarm_sd_configs` expose
   * it (the services role's meta labels carry the mode and updating status, not the replica count: Prometheus
   * discovery/moby/services.go, documented under "dockerswarm_sd_config"). @default - none
   */
  readonly replicated?: readonly ReplicatedService[];
  /** Dumps expected daily (`postgres`, `redis`): each alerts when none completed for a day plus the grace. @default - none */
  readonly dailyBackups?: readonly string[];
  /**
   * The PostgreSQL container watched through postgres_exporter: its product roles, the connections each may
   * hold (`CONNECTION LIMIT`) and `max_connections`. @default - no PostgreSQL alerts
   */
  readonly postgres?: { readonly roles: readonly string[]; readonly connectionLimit: number; readonly maxConnections: number };
}

/** Share of a connection limit in use that warns: the next burst gets "too many connections". */
export const CONNECTIONS_WARNING_RATIO = 0.8;

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** The rule file: one group per concern. */
export function alertRules(props: AlertRulesProps): { groups: Array<{ name: string; rules: Rule[] }> } {
  const t = props.thresholds;
  const env = props.environment;
  // `extra` labels tell apart rules sharing a name (promtool refuses duplicates).
  const rule = (alert: string, expr: string, minutes: number, severity: AlertSeverity, summary: string, description: string, extra: Record<string, string> = {}): Rule => ({
    alert,
    expr,
    for: `${minutes}m`,
    labels: { severity, environment: env, ...extra },
    annotations: { summary, description },
  });
  const services: Rule[] = [
    rule(
      'ServiceDown',
      `probe_success{job="health"} == 0`,
      t.serviceDownMinutes,
      'critical',
      'Health check of {{ $labels.product }}/{{ $labels.service }} failing',
      `{{ $labels.instance }} has failed its health check for ${t.serviceDownMinutes} minutes`,
    ),
    ...(props.presenceOnly ?? []).map((c) =>
      rule(
        'ServiceDown',
        `absent(${c.swarmService === undefined ? `container_last_seen{product="${c.product}",service="${c.service}"}` : swarmTasksSelector(c.swarmService)})`,
        t.serviceDownMinutes,
        'critical',
        `${c.product}/${c.service} is not running`,
        `No container of ${c.product}/${c.service} seen for ${t.serviceDownMinutes} minutes`,
        { product: c.product, service: c.service },
      ),
    ),
    ...(props.replicated ?? []).map((s) =>
      rule(
        'ServiceUnderReplicated',
        // `or vector(0)`: with no task running, count() has no series to compare.
        `(count(${swarmTasksSelector(s.swarmService)}) or vector(0)) < ${s.replicas}`,
        t.underReplicatedMinutes,
        'warning',
        `${s.product}/${s.service} runs {{ $value }} of its ${s.replicas} replicas`,
        `Swarm has not placed every task of ${s.swarmService} for ${t.underReplicatedMinutes} minutes: a node is down or full (docker service ps ${s.swarmService}; ops status)`,
        { product: s.product, service: s.service },
      ),
    ),
    rule(
      'HighErrorRate',
      `sum by (product, service) (rate(http_requests_total{status_code=~"5.."}[5m])) / sum by (product, service) (rate(http_requests_total[5m])) > ${t.errorRatePercent / 100}`,
      t.errorRateMinutes,
      'critical',
      `High error rate of {{ $labels.product }}/{{ $labels.service }} (>${t.errorRatePercent}%)`,
      '{{ $labels.product }}/{{ $labels.service }} answers {{ $value | humanizePercentage }} of requests with 5xx',
    ),
    rule(
      'HighLatencyP95',
      `histogram_quantile(0.95, sum by (product, service, le) (rate(http_request_duration_seconds_bucket[5m]))) > ${t.latencyP95Ms / 1000}`,
      t.latencyMinutes,
      'warning',
      `p95 latency of {{ $labels.product }}/{{ $labels.service }} above ${t.latencyP95Ms} ms`,
      'p95 is {{ $value | humanizeDuration }}',
    ),
  ];
  const memoryRatio = `container_memory_working_set_bytes{name!=""} / (container_spec_memory_limit_bytes{name!=""} > 0)`;
  const resources: Rule[] = [
    rule(
      'ContainerMemoryHigh',
      `${memoryRatio} > ${t.memoryWarningPercent / 100}`,
      t.memoryMinutes,
      'warning',
      `Container {{ $labels.name }} above ${t.memoryWarningPercent}% of its memory limit`,
      '{{ $labels.name }} on {{ $labels.host }} uses {{ $value | humanizePercentage }} of its limit',
    ),
    rule(
      'ContainerMemoryCritical',
      `${memoryRatio} > ${t.memoryCriticalPercent / 100}`,
      t.memoryMinutes,
      'critical',
      `Container {{ $labels.name }} above ${t.memoryCriticalPercent}% of its memory limit`,
      '{{ $labels.name }} on {{ $labels.host }} uses {{ $value | humanizePercentage }} of its limit; the kernel kills it at 100%',
    ),
    rule(
      'HostCpuHigh',
      `100 * (1 - avg by (host) (rate(node_cpu_seconds_total{mode="idle"}[5m]))) > ${t.cpuPercent}`,
      t.cpuMinutes,
      'warning',
      `CPU of host {{ $labels.host }} above ${t.cpuPercent}%`,
      'Host {{ $labels.host }} is {{ $value | humanize }}% busy',
    ),
    rule(
      'DiskSpaceLow',
      `100 * node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs"} < ${t.diskFreePercent}`,
      5,
      'critical',
      `Less than ${t.diskFreePercent}% free on {{ $labels.host }}:{{ $labels.mountpoint }}`,
      '{{ $value | humanize }}% free',
    ),
    rule(
      'CertificateExpiresSoon',
      `(probe_ssl_earliest_cert_expiry{job="public"} - time()) / 86400 < ${t.certificateExpiryDays}`,
      60,
      'warning',
      `Certificate of {{ $labels.instance }} expires within ${t.certificateExpiryDays} days`,
      'Expires in {{ $value | humanize }} days; the edge proxy renews 30 days ahead, so renewal is failing',
    ),
  ];
  const backups: Rule[] = (props.dailyBackups ?? []).map((dump) =>
    rule(
      'BackupMissed',
      // The job logs "backup-complete <dump>" after each upload; promtail counts those lines.
      // Quiet for the first day after Prometheus (re)starts, when no window can hold a dump yet.
      `(sum(increase(promtail_custom_backup_completed_total{dump="${dump}"}[${24 + t.backupGraceHours}h])) or vector(0)) < 1 and on() (time() - max(process_start_time_seconds{job="prometheus"})) > ${(24 + t.backupGraceHours) * 3600}`,
      15,
      'critical',
      `No ${dump} backup completed in ${24 + t.backupGraceHours} hours`,
      `The backup job logged no "backup-complete ${dump}" within its daily schedule plus ${t.backupGraceHours} hours`,
      { dump },
    ),
  );
  const pg = props.postgres;
  // pg_up and pg_stat_activity_count{datname,state,usename,...} as postgres_exporter v0.20.1 exports them
  // (exporter/postgres_exporter.go, collector/pg_stat_activity.go); the exporter skips its own session.
  const postgres: Rule[] =
    pg === undefined
      ? []
      : [
          rule(
            'PostgresDown',
            'pg_up{job="postgres"} == 0',
            t.serviceDownMinutes,
            'critical',
            'PostgreSQL of {{ $labels.host }} is not answering',
            `postgres_exporter has not reached the server for ${t.serviceDownMinutes} minutes: every product using it is failing`,
          ),
          rule(
            'PostgresExporterDown',
            'up{job="postgres"} == 0',
            5,
            'warning',
            'postgres_exporter of {{ $labels.host }} is not scraped',
            'PostgreSQL is unwatched: no connection counts, and PostgresDown cannot fire',
          ),
          rule(
            'PostgresRoleConnectionsHigh',
            `sum by (usename) (pg_stat_activity_count{job="postgres",usename=~"${pg.roles.join('|')}"}) >= ${Math.ceil(pg.connectionLimit * CONNECTIONS_WARNING_RATIO)}`,
            5,
            'warning',
            `{{ $labels.usename }} holds {{ $value }} of its ${pg.connectionLimit} PostgreSQL connections`,
            `At ${pg.connectionLimit} the server refuses {{ $labels.usename }} new connections ("too many connections for role"): check its pool size, or raise data.postgres.connectionsPerProduct`,
          ),
          rule(
            'PostgresConnectionsHigh',
            `sum by (host) (pg_stat_activity_count{job="postgres"}) >= ${Math.ceil(pg.maxConnections * CONNECTIONS_WARNING_RATIO)}`,
            5,
            'warning',
            `PostgreSQL holds {{ $value }} of its ${pg.maxConnections} connections`,
            'Near max_connections even the reserved connections (backups, the provisioner, an operator) run out',
          ),
        ];
  return {
    groups: [
      { name: 'services', rules: services },
      { name: 'resources', rules: resources },
      ...(backups.length > 0 ? [{ name: 'backups', rules: backups }] : []),
      ...(postgres.length > 0 ? [{ name: 'postgres', rules: postgres }] : []),
    ],
  };
}
