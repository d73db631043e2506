/**
 * Loki (single binary, filesystem storage) and the promtail agent that ships
 * every container's logs to it. Keys follow Loki's configuration reference
 * for 3.x (common, schema_config with tsdb/v13, compactor retention with a
 * delete_request_store, limits_config.retention_period) and promtail's
 * (docker_sd_configs, pipeline_stages). No Loki or promtail binary runs here,
 * so these two are checked by shape only (see docs/observability.md).
 */
import { EXPORTER_PORTS } from './prometheus-config';

export interface LokiConfigProps {
  /** Days logs stay searchable; the compactor deletes older chunks. */
  readonly retentionDays: number;
  /** Directory of Loki's data inside its container. */
  readonly dataDir: string;
}

export function lokiConfig(props: LokiConfigProps): Record<string, unknown> {
  const hours = `${props.retentionDays * 24}h`;
  const dir = props.dataDir;
  return {
    auth_enabled: false,
    server: { http_listen_port: EXPORTER_PORTS.loki, grpc_listen_port: 9096, log_level: 'info' },
    common: {
      instance_addr: '127.0.0.1',
      path_prefix: dir,
      storage: { filesystem: { chunks_directory: `${dir}/chunks`, rules_directory: `${dir}/rules` } },
      replication_factor: 1,
      ring: { kvstore: { store: 'inmemory' } },
    },
    schema_config: { configs: [{ from: '2024-01-01', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'index_', period: '24h' } }] },
    compactor: { working_directory: `${dir}/compactor`, retention_enabled: true, delete_request_store: 'filesystem', retention_delete_delay: '2h' },
    limits_config: { retention_period: hours, reject_old_samples: true, reject_old_samples_max_age: hours, allow_structured_metadata: true },
    analytics: { reporting_enabled: false },
  };
}

export interface PromtailConfigProps {
  readonly environment: string;
  readonly host: string;
  /** Loki's push URL as seen from this host. */
  readonly lokiPushUrl: string;
}

/**
 * Promtail reads each container's log through the Docker API (the json-file
 * driver keeps rotating locally; nothing changes on the host) and labels the
 * streams from the container labels the stacks set: `project` (the product,
 * or the platform role for platform containers), `service` (or the container
 * name) and `environment`. JSON lines keep their body, so `| json` works in
 * LogQL, and their `level` becomes a label. Lines `backup-complete <dump>` of
 * the backup job are counted, for the "backup missed" alert.
 */
export function promtailConfig(props: PromtailConfigProps): Record<string, unknown> {
  const label = (name: string) => `__meta_docker_container_label_${name}`;
  return {
    server: { http_listen_port: EXPORTER_PORTS.promtail, grpc_listen_port: 0 },
    positions: { filename: '/tmp/positions.yaml' },
    clients: [{ url: props.lokiPushUrl, external_labels: { environment: props.environment, host: props.host } }],
    scrape_configs: [
      {
        job_name: 'containers',
        docker_sd_configs: [{ host: 'unix:///var/run/docker.sock', refresh_interval: '15s' }],
        relabel_configs: [
          { source_labels: [label('role')], target_label: 'project' },
          { source_labels: [label('product')], regex: '(.+)', target_label: 'project' },
          { source_labels: ['__meta_docker_container_name'], regex: '/?(.*)', target_label: 'service' },
          { source_labels: [label('service')], regex: '(.+)', target_label: 'service' },
          { source_labels: ['__meta_docker_container_name'], regex: '/?(.*)', target_label: 'container' },
        ],
        pipeline_stages: [
          { json: { expressions: { level: 'level' } } },
          { labels: { level: '' } },
          {
            match: {
              selector: '{service="backup-job"} |= "backup-complete"',
              stages: [
                { regex: { expression: 'backup-complete (?P<dump>[a-z]+)' } },
                { labels: { dump: '' } },
                { metrics: { backup_completed_total: { type: 'Counter', description: 'dumps the backup job reported complete', config: { match_all: true, action: 'inc' } } } },
              ],
            },
          },
        ],
      },
    ],
  };
}
