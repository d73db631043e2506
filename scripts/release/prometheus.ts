/**
 * MetricsSource over Prometheus's HTTP API (`GET /api/v1/query?query=...`,
 * prometheus.io/docs/prometheus/latest/querying/api: `data.result` of
 * `resultType: vector`, each sample `[time, "value"]`), with the queries of
 * canary-watch.ts. An empty vector (the version answered nothing) is no
 * number, which the verdict reads as nothing to compare.
 */
import type { ReleaseSlot } from '../../constructs/docker/traffic-split';
import { versionQueries, type VersionSignals } from './canary-watch';
import type { MetricsSource } from './rollout';

/** What fetch returns, reduced to what the client reads. */
export type Fetch = (url: string) => Promise<{ readonly ok: boolean; readonly status: number; text(): Promise<string> }>;

export class PrometheusMetrics implements MetricsSource {
  /** `baseUrl`: where the monitoring stack's Prometheus answers (`http://127.0.0.1:9090` through a tunnel). */
  public constructor(
    private readonly baseUrl: string,
    private readonly fetch: Fetch = (url) => globalThis.fetch(url),
  ) {}

  private async scalar(query: string): Promise<number | undefined> {
    const url = `${this.baseUrl.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
    const answer = await this.fetch(url);
    const text = await answer.text();
    if (!answer.ok) throw new Error(`Prometheus answered ${answer.status} to ${query}: ${text.slice(0, 300)}`);
    const body = JSON.parse(text) as { status: string; data?: { resultType: string; result: Array<{ value: [number, string] }> } };
    if (body.status !== 'success' || body.data?.resultType !== 'vector') throw new Error(`Prometheus gave no vector for ${query}: ${text.slice(0, 300)}`);
    const value = body.data.result[0]?.value[1];
    const number = value === undefined ? undefined : Number(value);
    return number === undefined || Number.isNaN(number) ? undefined : number;
  }

  public async versionSignals(service: string, slot: ReleaseSlot, rangeSeconds: number): Promise<VersionSignals> {
    const queries = versionQueries(service, slot, rangeSeconds);
    return {
      requests: (await this.scalar(queries.requests)) ?? 0,
      errorRatio: await this.scalar(queries.errorRatio),
      p95Seconds: await this.scalar(queries.p95Seconds),
    };
  }
}
