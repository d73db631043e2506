/**
 * The canary's watch (docs/releasing.md): while the new version takes its
 * share, its signals are compared with the old version's, and the release
 * promotes it only when they stayed healthy for the whole window.
 *
 * The edge's numbers come from Traefik's Prometheus metrics, per Traefik
 * service (traefik/traefik pkg/metrics/prometheus.go):
 * `traefik_service_requests_total{service,code,method,protocol}` and the
 * histogram `traefik_service_request_duration_seconds`, where `service` is the
 * version's Traefik service (`chat-backend-green@docker`, traffic-split.ts).
 * Restarts and health come from the engine (the container's RestartCount and
 * Docker health status). Swarm's own update monitor (`--update-monitor`,
 * `--update-failure-action rollback`) watches task state only, not the edge's
 * error ratio or latency: that comparison is the one loop of ours.
 */
import { versionServiceName, type ReleaseSlot } from '../../constructs/docker/traffic-split';
import type { ResolvedReleasePolicy } from '../../system/releases';

/** PromQL for one version of a service over `rangeSeconds`. */
export interface VersionQueries {
  /** Requests it answered. */
  readonly requests: string;
  /** Share of its answers that were 5xx (0 to 1); empty when it answered none. */
  readonly errorRatio: string;
  /** Its 95th percentile latency in seconds; empty (NaN) when it answered none. */
  readonly p95Seconds: string;
}

/** The queries of one version; the range is at least a minute so that `increase` has two samples at a 15 s scrape. */
export function versionQueries(service: string, slot: ReleaseSlot, rangeSeconds: number): VersionQueries {
  const selector = `service="${versionServiceName(service, slot)}@docker"`;
  const range = `${Math.max(60, Math.round(rangeSeconds))}s`;
  const requests = `sum(increase(traefik_service_requests_total{${selector}}[${range}]))`;
  return {
    requests,
    errorRatio: `sum(increase(traefik_service_requests_total{${selector},code=~"5.."}[${range}])) / ${requests}`,
    p95Seconds: `histogram_quantile(0.95, sum by (le) (increase(traefik_service_request_duration_seconds_bucket{${selector}}[${range}])))`,
  };
}

/** What one version showed so far. */
export interface VersionSignals {
  readonly requests: number;
  /** 0 to 1; undefined when it answered nothing. */
  readonly errorRatio?: number;
  readonly p95Seconds?: number;
}

/** Everything the watch judges at one moment. */
export interface CanarySignals {
  readonly canary: VersionSignals;
  readonly stable: VersionSignals;
  /** Restarts of the canary's containers since the canary started. */
  readonly canaryRestarts: number;
  /** Docker health of the canary's containers (`healthy`, `unhealthy`, `starting`, or `exited`). */
  readonly canaryHealth: readonly string[];
}

export type CanaryVerdict = { readonly healthy: true } | { readonly healthy: false; readonly reason: string };

const percent = (ratio: number | undefined): string => (ratio === undefined ? 'n/a' : `${(ratio * 100).toFixed(2)}%`);
const millis = (seconds: number | undefined): string => (seconds === undefined || Number.isNaN(seconds) ? 'n/a' : `${Math.round(seconds * 1000)} ms`);

/** A one-line summary of the signals, as the release prints it at every poll. */
export function signalSummary(signals: CanarySignals): string {
  const { canary, stable } = signals;
  return (
    `canary ${canary.requests} req, 5xx ${percent(canary.errorRatio)}, p95 ${millis(canary.p95Seconds)}; ` +
    `old ${stable.requests} req, 5xx ${percent(stable.errorRatio)}, p95 ${millis(stable.p95Seconds)}; ` +
    `restarts ${signals.canaryRestarts}, health ${signals.canaryHealth.join(',') || 'none'}`
  );
}

/**
 * Whether the canary is still healthy, and if not why, with the numbers:
 * any restart or non-healthy container; a 5xx ratio more than the allowed
 * points above the old version's; a p95 above the allowed multiple of the
 * old version's. With no requests yet there is nothing to compare, which is
 * healthy (the watch lasts its whole window either way).
 */
export function judgeCanary(signals: CanarySignals, canary: NonNullable<ResolvedReleasePolicy['canary']>): CanaryVerdict {
  const summary = signalSummary(signals);
  if (signals.canaryRestarts > 0) return { healthy: false, reason: `the canary restarted ${signals.canaryRestarts} time(s) (${summary})` };
  const notHealthy = signals.canaryHealth.filter((status) => status !== 'healthy');
  if (signals.canaryHealth.length === 0 || notHealthy.length > 0) return { healthy: false, reason: `the canary is ${notHealthy.join(', ') || 'gone'} (${summary})` };
  const canaryErrors = signals.canary.errorRatio ?? 0;
  const stableErrors = signals.stable.errorRatio ?? 0;
  if (signals.canary.requests > 0 && (canaryErrors - stableErrors) * 100 > canary.maxErrorRatioIncreasePoints) {
    return {
      healthy: false,
      reason: `the canary's 5xx ratio ${percent(canaryErrors)} exceeds the old version's ${percent(stableErrors)} by more than ${canary.maxErrorRatioIncreasePoints} point(s) (${summary})`,
    };
  }
  const canaryP95 = signals.canary.p95Seconds;
  const stableP95 = signals.stable.p95Seconds;
  if (canaryP95 !== undefined && stableP95 !== undefined && !Number.isNaN(canaryP95) && stableP95 > 0 && canaryP95 > stableP95 * canary.maxLatencyRatio) {
    return {
      healthy: false,
      reason: `the canary's p95 latency ${millis(canaryP95)} is more than ${canary.maxLatencyRatio} times the old version's ${millis(stableP95)} (${summary})`,
    };
  }
  return { healthy: true };
}

/** A progress bar of the watch: `[#####.....] 5m00s / 10m00s`. */
export function progressBar(elapsedSeconds: number, totalSeconds: number, width = 30): string {
  const done = Math.min(1, Math.max(0, elapsedSeconds / totalSeconds));
  const filled = Math.round(done * width);
  const clock = (seconds: number) => `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${clock(Math.min(elapsedSeconds, totalSeconds))} / ${clock(totalSeconds)}`;
}
