/**
 * Release steps (issue 35): smoke checks and release policies in the catalog,
 * the smoke check's synthesized runner, the edge's traffic split and the
 * canary's verdict.
 */
import { Image } from '@cdktf/provider-docker/lib/image';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { HealthCheck } from '../constructs/core/health-check';
import { SmokeCheck } from '../constructs/docker/smoke-check';
import { allTo, canaryWeights, parseSplitConfiguration, splitConfiguration } from '../constructs/docker/traffic-split';
import { ServiceContainer } from '../constructs/docker/service-container';
import { EdgeRoute } from '../constructs/docker/edge-route';
import { nutri } from '../examples/nutri';
import { manacore } from '../environments';
import { judgeCanary, progressBar, versionQueries, type CanarySignals } from '../scripts/release/canary-watch';
import { PrometheusMetrics } from '../scripts/release/prometheus';
import { trafficState } from '../scripts/release/rollout';
import { DEFAULT_CANARY, resolveReleasePolicy } from '../system/releases';
import { resolveSystem } from '../system/resolve';
import { environmentOf, serviceOf, variant } from './helpers/spec';
import { resources, synthStack } from './helpers/synth';

const withSmoke = (smoke: Record<string, unknown>, service = 'api') =>
  variant(nutri, (system) => {
    (serviceOf(system, 'nutri', service) as any).smoke = smoke;
  });

describe('smoke checks in the catalog', () => {
  it('resolves an HTTP check with the client its health check uses and the status it expects', () => {
    const resolved = resolveSystem(withSmoke({ home: { http: { path: '/api/health', bodyContains: 'ok' } }, script: { command: ['node', 'smoke.js'], timeoutSeconds: 60 } }));
    const api = resolved.environments[0]!.products.find((p) => p.name === 'nutri')!.services.find((s) => s.name === 'api')!;
    expect(api.smoke).toEqual([
      { name: 'home', kind: 'http', path: '/api/health', port: 3000, status: 200, bodyContains: 'ok', timeoutSeconds: 30, client: 'wget' },
      { name: 'script', kind: 'command', command: ['node', 'smoke.js'], timeoutSeconds: 60 },
    ]);
  });

  it('refuses a check that is both or neither an HTTP request and a command', () => {
    expect(() => resolveSystem(withSmoke({ both: { http: { path: '/' }, command: ['true'] } }))).toThrow(/field "services\.api\.smoke\.both".*allowed: exactly one of http/);
    expect(() => resolveSystem(withSmoke({ none: {} }))).toThrow(/field "services\.api\.smoke\.none".*exactly one of http/);
  });

  it('refuses a status that is no HTTP status, a path without "/", a quote in the expected body', () => {
    expect(() => resolveSystem(withSmoke({ home: { http: { path: '/', status: 42 } } }))).toThrow(/smoke\.home\.http\.status": got 42; allowed: an HTTP status code from 100 to 599/);
    expect(() => resolveSystem(withSmoke({ home: { http: { path: 'health' } } }))).toThrow(/smoke\.home\.http\.path": got "health"/);
    expect(() => resolveSystem(withSmoke({ home: { http: { path: '/', bodyContains: "it's" } } }))).toThrow(/smoke\.home\.http\.bodyContains/);
  });

  it('names a port the service does not declare, and the named ports it has', () => {
    expect(() => resolveSystem(withSmoke({ home: { http: { path: '/', port: 'admin' } } }))).toThrow(/smoke\.home\.http\.port": got "admin"; allowed: a named port of the service/);
  });

  it('names a misspelt field of a check', () => {
    expect(() => resolveSystem(withSmoke({ home: { http: { path: '/', expect: 200 } } }))).toThrow(/smoke\.home\.http\.expect/);
  });

  it('refuses an HTTP check on a service whose health check is not HTTP, and says why', () => {
    const bad = variant(nutri, (system) => {
      const api = serviceOf(system, 'nutri', 'api') as any;
      api.healthCheck = HealthCheck.command(['/app/healthcheck']);
      api.smoke = { home: { http: { path: '/' } } };
    });
    expect(() => resolveSystem(bad)).toThrow(/smoke\.home\.http".*HTTP client the service's HTTP health check uses/);
  });
});

describe('release policies', () => {
  it("gives production the seed's canary (10% for 10 minutes) and every environment an hour of rollback window", () => {
    expect(resolveReleasePolicy({ production: true })).toEqual({ canary: DEFAULT_CANARY, rollbackWindowMinutes: 60 });
    expect(DEFAULT_CANARY).toMatchObject({ sharePercent: 10, watchMinutes: 10 });
  });

  it('gives staging no canary unless asked, and takes overrides field by field', () => {
    expect(resolveReleasePolicy({ production: false })).toEqual({ canary: undefined, rollbackWindowMinutes: 60 });
    expect(resolveReleasePolicy({ production: false, releases: { canary: { watchMinutes: 2 } } }).canary).toEqual({ ...DEFAULT_CANARY, watchMinutes: 2 });
    expect(resolveReleasePolicy({ production: true, releases: { canary: false, rollbackWindowMinutes: 15 } })).toEqual({ canary: undefined, rollbackWindowMinutes: 15 });
  });

  it('resolves for each Manacore environment', () => {
    const resolved = resolveSystem(manacore);
    for (const environment of resolved.environments) expect(environment.releases.canary === undefined).toBe(!environment.production);
  });

  it('refuses a canary share above half, a watch beyond an hour, a window below five minutes', () => {
    const withReleases = (releases: unknown) =>
      variant(manacore, (system) => {
        (environmentOf(system, 'production') as any).releases = releases;
      });
    expect(() => resolveSystem(withReleases({ canary: { sharePercent: 60 } }))).toThrow(/environment "production".*releases\.canary\.sharePercent": got 60; allowed: a whole percent from 1 to 50/);
    expect(() => resolveSystem(withReleases({ canary: { watchMinutes: 90 } }))).toThrow(/releases\.canary\.watchMinutes": got 90/);
    expect(() => resolveSystem(withReleases({ rollbackWindowMinutes: 1 }))).toThrow(/releases\.rollbackWindowMinutes": got 1; allowed: a whole number of minutes from 5/);
    expect(() => resolveSystem(withReleases({ canary: { share: 10 } }))).toThrow(/releases\.canary\.share\b/);
  });
});

describe('a smoke check runner', () => {
  const synth = (check: ConstructorParameters<typeof SmokeCheck>[2]['check']) => {
    const stack = new TerraformStack(Testing.app(), 'smoke');
    new DockerProvider(stack, 'docker', {});
    const image = new Image(stack, 'image', { name: 'ghcr.io/acme/chat-backend:main-2222222' });
    new SmokeCheck(stack, 'home', {
      checkName: 'home',
      serviceName: 'chat-backend',
      target: '${docker_container.chat-backend-green.name}',
      image,
      imageRef: 'ghcr.io/acme/chat-backend:main-2222222',
      imageTag: 'main-2222222',
      check,
      timeoutSeconds: 30,
      networks: [{ name: 'manacore-chat' }],
      resources: { cpuLimit: 0.25, memoryLimitMiB: 64, cpuReservation: 0.1, memoryReservationMiB: 32 },
    });
    return resources(synthStack(stack), 'docker_container')['chat-backend-smoke-home'];
  };

  it("requests the new version's own container by name, with the image's own client, escaped for Terraform", () => {
    const runner = synth({ http: { path: '/api/health', port: 3002, status: 200, bodyContains: 'ok', client: 'wget' } });
    const script: string = runner.command[2];
    expect(runner.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(script).toContain("wget -S -O /tmp/smoke-body 'http://${docker_container.chat-backend-green.name}:3002/api/health'");
    // The shell's own ${status...} is not Terraform's.
    expect(script).toContain('$${status:-no answer}');
    expect(script).toContain("grep -F -q -e 'ok' /tmp/smoke-body");
    expect(runner).toMatchObject({ attach: true, must_run: false, read_only: true, user: '1001' });
    expect(runner.entrypoint).toEqual(['timeout', '-s', 'TERM', '-k', '10', '35']);
  });

  it('fails the apply naming the check, the version and its output', () => {
    const runner = synth({ http: { path: '/', port: 80, status: 200, client: 'curl' } });
    const [postcondition] = runner.lifecycle.postcondition;
    expect(postcondition.condition).toBe('${self.exit_code == 0}');
    expect(postcondition.error_message).toMatch(/^Smoke check "smoke-home" of chat-backend \(main-2222222\) failed/);
    expect(postcondition.error_message).toContain('The new version received no traffic; the previous version keeps serving.');
    expect(postcondition.error_message).toContain('Last lines of its output');
  });

  it('runs a command check with the address in SMOKE_TARGET_URL', () => {
    const runner = synth({ command: ['node', 'smoke.js'], port: 3002 });
    expect(runner.command).toEqual(['node', 'smoke.js']);
    expect(runner.env).toContain('SMOKE_TARGET_URL=http://${docker_container.chat-backend-green.name}:3002');
  });

  it('with node, needs no shell', () => {
    const runner = synth({ http: { path: '/', port: 3000, status: 204, client: 'node' } });
    expect(runner.command[0]).toBe('node');
    expect(runner.command[2]).toContain('answer.status !== 204');
    expect(runner.command[2]).toContain('$${answer.status}');
  });
});

describe('the traffic split', () => {
  const route = (splitSlot?: 'blue' | 'green') => new EdgeRoute({ name: 'chat-backend', domain: 'api-chat.manacore.app', port: 3002, splitSlot }).toLabels();

  it('routes every version to the split and defines each version as its own Traefik service', () => {
    const blue = route('blue');
    const green = route('green');
    expect(blue['traefik.http.routers.chat-backend-split.service']).toBe('chat-backend@file');
    expect(blue['traefik.http.services.chat-backend-blue.loadbalancer.server.port']).toBe('3002');
    expect(Object.keys(blue).some((key) => key.startsWith('traefik.http.services.chat-backend.'))).toBe(false);
    // Identical routers on both versions, or Traefik drops the router (provider/configuration.go, Merge).
    const routerLabels = (labels: Record<string, string>) => Object.entries(labels).filter(([key]) => key.startsWith('traefik.http.routers.'));
    expect(routerLabels(green)).toEqual(routerLabels(blue));
    // Middlewares stay the route's own, the same on both.
    expect(Object.entries(green).filter(([key]) => key.startsWith('traefik.http.middlewares.'))).toEqual(Object.entries(route()).filter(([key]) => key.startsWith('traefik.http.middlewares.')));
  });

  it('leaves a route that is not split as it was', () => {
    expect(route()['traefik.http.routers.chat-backend.service']).toBe('chat-backend');
    expect(route()['traefik.http.services.chat-backend.loadbalancer.server.port']).toBe('3002');
  });

  it('lets a kept version of a service stay stopped through an apply', () => {
    const stack = new TerraformStack(Testing.app(), 'slots');
    new DockerProvider(stack, 'docker', {});
    const common = {
      serviceName: 'chat-backend',
      image: 'ghcr.io/acme/chat-backend:main-1111111',
      imageTag: 'main-1111111',
      port: 3002,
      healthCheck: HealthCheck.http('/api/health'),
      resources: { cpuLimit: 1, memoryLimitMiB: 512, cpuReservation: 0.5, memoryReservationMiB: 256 },
      networks: [{ role: 'frontend', name: 'frontend' }],
    };
    new ServiceContainer(stack, 'chat-backend-blue', { ...common, instance: 'chat-backend-blue', route: { domain: 'api-chat.manacore.app', splitSlot: 'blue' }, mayBeStopped: true });
    new ServiceContainer(stack, 'chat-backend', { ...common });
    const containers = resources(synthStack(stack), 'docker_container');
    const labels = (block: any) => Object.fromEntries(block.labels.map((entry: any) => [entry.label, entry.value]));
    expect(containers['chat-backend-blue'].must_run).toBe(false);
    expect(labels(containers['chat-backend-blue'])['traefik.http.routers.chat-backend-split.service']).toBe('chat-backend@file');
    expect(containers['chat-backend'].must_run).toBeUndefined();
  });

  it('writes a weighted service over the versions that get traffic, and reads it back', () => {
    const canary = splitConfiguration('chat-backend', canaryWeights('green', 10));
    expect(JSON.parse(canary)).toEqual({
      http: { services: { 'chat-backend': { weighted: { services: [{ name: 'chat-backend-blue@docker', weight: 90 }, { name: 'chat-backend-green@docker', weight: 10 }] } } } },
    });
    expect(JSON.parse(splitConfiguration('chat-backend', allTo('blue'))).http.services['chat-backend'].weighted.services).toEqual([{ name: 'chat-backend-blue@docker', weight: 100 }]);
    expect(parseSplitConfiguration('chat-backend', canary)).toEqual({ blue: 90, green: 10 });
    expect(parseSplitConfiguration('chat-backend', 'not json')).toBeUndefined();
  });

  it('refuses weights that do not add up to 100', () => {
    expect(() => splitConfiguration('chat-backend', { blue: 50, green: 60 })).toThrow(/whole percents adding up to 100/);
  });
});

describe("the canary's verdict", () => {
  const signals = (overrides: Partial<CanarySignals> = {}): CanarySignals => ({
    canary: { requests: 100, errorRatio: 0.01, p95Seconds: 0.2 },
    stable: { requests: 900, errorRatio: 0.005, p95Seconds: 0.18 },
    canaryRestarts: 0,
    canaryHealth: ['healthy'],
    ...overrides,
  });

  it('is healthy within the thresholds', () => {
    expect(judgeCanary(signals(), DEFAULT_CANARY)).toEqual({ healthy: true });
  });

  it('rolls back on a 5xx ratio above the allowed increase, with both numbers', () => {
    const verdict = judgeCanary(signals({ canary: { requests: 100, errorRatio: 0.08, p95Seconds: 0.2 } }), DEFAULT_CANARY);
    expect(verdict).toMatchObject({ healthy: false, reason: expect.stringMatching(/5xx ratio 8\.00% exceeds the old version's 0\.50% by more than 1 point/) });
  });

  it('rolls back on a slower p95, a restart, or an unhealthy container', () => {
    expect(judgeCanary(signals({ canary: { requests: 100, errorRatio: 0, p95Seconds: 0.5 } }), DEFAULT_CANARY)).toMatchObject({ healthy: false, reason: expect.stringMatching(/p95 latency 500 ms is more than 1\.5 times the old version's 180 ms/) });
    expect(judgeCanary(signals({ canaryRestarts: 2 }), DEFAULT_CANARY)).toMatchObject({ healthy: false, reason: expect.stringMatching(/restarted 2 time/) });
    expect(judgeCanary(signals({ canaryHealth: ['unhealthy'] }), DEFAULT_CANARY)).toMatchObject({ healthy: false, reason: expect.stringMatching(/the canary is unhealthy/) });
  });

  it('queries the version of the split by its Traefik service name', () => {
    expect(versionQueries('chat-backend', 'green', 30).errorRatio).toBe(
      'sum(increase(traefik_service_requests_total{service="chat-backend-green@docker",code=~"5.."}[60s])) / sum(increase(traefik_service_requests_total{service="chat-backend-green@docker"}[60s]))',
    );
  });

  it('draws its progress', () => {
    expect(progressBar(300, 600, 10)).toBe('[#####.....] 5m00s / 10m00s');
  });
});

describe('the edge numbers from Prometheus', () => {
  it("asks Prometheus's query API for each signal and reads its vectors; an empty vector is no number", async () => {
    const asked: string[] = [];
    const answers: Record<string, string> = { requests: '500', errorRatio: '0.1' };
    const metrics = new PrometheusMetrics('http://prometheus:9090/', async (url) => {
      const query = decodeURIComponent(url.split('query=')[1]!);
      asked.push(query);
      const which = query.startsWith('histogram_quantile') ? 'p95' : query.includes('code=~') ? 'errorRatio' : 'requests';
      const result = answers[which] === undefined ? [] : [{ metric: {}, value: [1765108800, answers[which]] }];
      return { ok: true, status: 200, text: async () => JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }) };
    });
    expect(await metrics.versionSignals('chat-backend', 'green', 120)).toEqual({ requests: 500, errorRatio: 0.1, p95Seconds: undefined });
    expect(asked).toEqual(Object.values(versionQueries('chat-backend', 'green', 120)));
  });

  it('fails with what Prometheus said when it refuses a query', async () => {
    const metrics = new PrometheusMetrics('http://prometheus:9090', async () => ({ ok: false, status: 400, text: async () => '{"status":"error","error":"parse error"}' }));
    await expect(metrics.versionSignals('chat-backend', 'blue', 60)).rejects.toThrow(/Prometheus answered 400 to sum\(increase.*parse error/);
  });
});

describe('the traffic state ops shows', () => {
  it('says the split, the versions and when the rollback window ends', () => {
    const now = new Date('2026-12-07T12:30:00Z');
    const record = { live: 'green' as const, tags: { blue: 'main-1111111', green: 'main-2222222' }, windowEndsAt: '2026-12-07T13:00:00.000Z' };
    expect(trafficState('chat-backend', { blue: 0, green: 100 }, record, now, [{ name: 'chat-backend-blue', running: false, health: 'none', restarts: 0 }])).toBe(
      'chat-backend: green 100% (main-2222222), blue 0% (main-1111111, kept stopped); rollback window until 2026-12-07T13:00:00.000Z (30 min left)',
    );
    expect(trafficState('chat-backend', { blue: 90, green: 10 }, { live: 'blue', tags: { blue: 'main-1111111' } }, now)).toBe('chat-backend: blue 90% (main-1111111), green 10%; no rollback window');
    expect(trafficState('chat-backend', undefined, undefined, now)).toMatch(/no traffic split on the edge/);
  });
});
