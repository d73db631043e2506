/**
 * CPU and memory of each monitoring container. The source documents budget
 * monitoring at 1 CPU and 2 GB in all (seed 002, "Resource Allocation"): the
 * memory reservations of the server parts plus one host's collectors add up
 * to about 1.8 GiB; CPU reservations (shares under contention) to 0.58, since
 * the parts idle between scrapes, while their limits add up to more than 1.
 */
import type { ResourceSpec } from '../core/resources';

export const MONITORING_RESOURCES = {
  prometheus: { cpuLimit: 1, memoryLimitMiB: 2048, cpuReservation: 0.25, memoryReservationMiB: 768 },
  loki: { cpuLimit: 1, memoryLimitMiB: 1024, cpuReservation: 0.15, memoryReservationMiB: 512 },
  grafana: { cpuLimit: 0.5, memoryLimitMiB: 512, cpuReservation: 0.05, memoryReservationMiB: 192 },
  alertmanager: { cpuLimit: 0.25, memoryLimitMiB: 128, cpuReservation: 0.02, memoryReservationMiB: 48 },
  nodeExporter: { cpuLimit: 0.25, memoryLimitMiB: 64, cpuReservation: 0.02, memoryReservationMiB: 32 },
  cadvisor: { cpuLimit: 0.5, memoryLimitMiB: 256, cpuReservation: 0.05, memoryReservationMiB: 128 },
  blackbox: { cpuLimit: 0.25, memoryLimitMiB: 64, cpuReservation: 0.01, memoryReservationMiB: 24 },
  promtail: { cpuLimit: 0.5, memoryLimitMiB: 256, cpuReservation: 0.03, memoryReservationMiB: 96 },
  /** postgres_exporter beside the PostgreSQL container (data stack): one query set per scrape. */
  postgresExporter: { cpuLimit: 0.25, memoryLimitMiB: 64, cpuReservation: 0.02, memoryReservationMiB: 32 },
} as const satisfies Record<string, ResourceSpec>;

export type MonitoringPart = keyof typeof MONITORING_RESOURCES;

/** The server parts: on the monitoring host only. */
export const SERVER_PARTS: readonly MonitoringPart[] = ['prometheus', 'loki', 'grafana', 'alertmanager'];
/** On every host; the blackbox exporter only on the monitoring host (it probes names every host reaches alike). */
export const COLLECTOR_PARTS: readonly MonitoringPart[] = ['nodeExporter', 'cadvisor', 'blackbox', 'promtail'];
