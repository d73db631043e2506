/**
 * The canary watch's PromQL, evaluated by Prometheus's own engine
 * (`promtool test rules` with promql_expr_test, Prometheus 2.42 from
 * Debian): over Traefik's per-service series, the queries return each
 * version's requests, 5xx ratio and p95, and the verdict on those numbers
 * rolls a slow, failing canary back and keeps a healthy one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgeCanary, versionQueries } from '../../scripts/release/canary-watch';
import { DEFAULT_CANARY } from '../../system/releases';

const SERVICE = 'chat-backend';
const WATCHED_SECONDS = 300;

/** A counter rising by `perMinute` each minute for ten minutes (promtool's expanding notation). */
const rising = (perMinute: number) => `0+${perMinute}x10`;

/**
 * Traefik's series for one version: `ok` answers of 200 and `failed` of 500 a minute,
 * every answer in the latency bucket ending at `bucket` seconds.
 */
function versionSeries(slot: string, ok: number, failed: number, bucket: number): Array<{ series: string; values: string }> {
  const labels = (extra: string) => `{service="${SERVICE}-${slot}@docker",method="GET",protocol="http"${extra}}`;
  const series = [
    { series: `traefik_service_requests_total${labels(',code="200"')}`, values: rising(ok) },
    { series: `traefik_service_requests_total${labels(',code="500"')}`, values: rising(failed) },
  ];
  for (const le of [0.1, 0.25, 0.5, 1, '+Inf']) {
    series.push({ series: `traefik_service_request_duration_seconds_bucket${labels(`,code="200",le="${le}"`)}`, values: rising(le === '+Inf' || Number(le) >= bucket ? ok + failed : 0) });
  }
  return series;
}

function promtool(file: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

beforeAll(() => {
  if (spawnSync('sh', ['-c', 'command -v promtool']).status !== 0) throw new Error('promtool is not installed: run scripts/install-test-tools.sh');
});

describe('the canary watch on Traefik metrics', () => {
  // The old version (blue): 99 of 100 answers fine, in 0.1-0.25 s. The canary (green): 10 of 100 fail, in 0.25-0.5 s.
  const blue = versionQueries(SERVICE, 'blue', WATCHED_SECONDS);
  const green = versionQueries(SERVICE, 'green', WATCHED_SECONDS);
  const expected = {
    blueRequests: 500,
    blueErrors: 0.01,
    blueP95: 0.1 + (0.25 - 0.1) * 0.95,
    greenRequests: 500,
    greenErrors: 0.1,
    greenP95: 0.25 + (0.5 - 0.25) * 0.95,
  };

  it('returns each version’s requests, 5xx ratio and p95 latency (promtool test rules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-watch-'));
    const file = join(dir, 'canary-watch.test.yml');
    const expr = (query: string, value: number) => ({ expr: query, eval_time: '10m', exp_samples: [{ labels: '{}', value }] });
    // JSON is YAML.
    writeFileSync(
      file,
      JSON.stringify({
        rule_files: [],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [...versionSeries('blue', 99, 1, 0.25), ...versionSeries('green', 90, 10, 0.5)],
            promql_expr_test: [
              expr(blue.requests, expected.blueRequests),
              expr(blue.errorRatio, expected.blueErrors),
              expr(blue.p95Seconds, expected.blueP95),
              expr(green.requests, expected.greenRequests),
              expr(green.errorRatio, expected.greenErrors),
              expr(green.p95Seconds, expected.greenP95),
            ],
          },
        ],
      }),
    );
    const result = promtool(file);
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('fails promtool when the numbers are not what the queries return (the test can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-watch-'));
    const file = join(dir, 'canary-watch.test.yml');
    writeFileSync(
      file,
      JSON.stringify({
        rule_files: [],
        tests: [{ interval: '1m', input_series: versionSeries('green', 90, 10, 0.5), promql_expr_test: [{ expr: green.errorRatio, eval_time: '10m', exp_samples: [{ labels: '{}', value: 0.5 }] }] }],
      }),
    );
    expect(promtool(file).status).not.toBe(0);
  });

  it('rolls that canary back, with the numbers, and keeps one that answers like the old version', () => {
    const slow = judgeCanary(
      {
        canary: { requests: expected.greenRequests, errorRatio: expected.greenErrors, p95Seconds: expected.greenP95 },
        stable: { requests: expected.blueRequests, errorRatio: expected.blueErrors, p95Seconds: expected.blueP95 },
        canaryRestarts: 0,
        canaryHealth: ['healthy'],
      },
      DEFAULT_CANARY,
    );
    expect(slow).toEqual({ healthy: false, reason: expect.stringContaining("5xx ratio 10.00% exceeds the old version's 1.00%") });
    const same = { requests: expected.blueRequests, errorRatio: expected.blueErrors, p95Seconds: expected.blueP95 };
    expect(judgeCanary({ canary: same, stable: same, canaryRestarts: 0, canaryHealth: ['healthy'] }, DEFAULT_CANARY)).toEqual({ healthy: true });
  });
});
