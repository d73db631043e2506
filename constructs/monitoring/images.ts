/**
 * The monitoring images, each pinned to a release (the `pinned-image`
 * invariant refuses untagged or `latest` images in production). Promtail is
 * in long-term maintenance since Loki 3.4 in favour of Grafana Alloy; 3.5 is
 * its last line and still reads the Docker API the way this stack needs.
 */
export const MONITORING_IMAGES = {
  prometheus: 'prom/prometheus:v3.5.0',
  alertmanager: 'prom/alertmanager:v0.28.1',
  loki: 'grafana/loki:3.5.3',
  promtail: 'grafana/promtail:3.5.3',
  grafana: 'grafana/grafana:12.1.1',
  nodeExporter: 'prom/node-exporter:v1.9.1',
  cadvisor: 'gcr.io/cadvisor/cadvisor:v0.52.1',
  blackbox: 'prom/blackbox-exporter:v0.27.0',
  /** prometheus-community/postgres_exporter v0.20.1 (published to Docker Hub as prometheuscommunity/, .github/workflows/ci.yml). */
  postgresExporter: 'prometheuscommunity/postgres-exporter:v0.20.1',
  /** Writes the configuration files and owns the data directories: a shell and chown. */
  setup: 'busybox:1.37.0',
} as const;

/** User every monitoring container runs as (the hosts' convention, see HardenedContainer). */
export const MONITORING_USER_ID = 1001;
