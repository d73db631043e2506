/**
 * The release steps on a real Docker engine (Debian's dockerd 20.10, started
 * here with its own socket): versions of a service in two slots, the
 * synthesized smoke check run against the new version's own container, the
 * canary watch reading the engine's health and restarts, promotion with the
 * old version kept stopped for the rollback window, and a rollback inside
 * the window, timed. The edge proxy is a stand-in holding the file provider
 * directory (a host bind mount on a read-only root, as the real one): no
 * Traefik binary runs here, so what the edge would do is read from the split
 * file it would load (constructs/docker/traffic-split.ts cites Traefik's
 * source for that), and the edge's own numbers (5xx ratio, latency) are
 * tested on Prometheus's engine in canary-watch.test.ts.
 */
import { Image } from '@cdktf/provider-docker/lib/image';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TerraformStack, Testing } from 'cdktf';
import { SmokeCheck } from '../../constructs/docker/smoke-check';
import { allTo, parseSplitConfiguration, RELEASE_LABELS, splitConfiguration, type ReleaseSlot } from '../../constructs/docker/traffic-split';
import { DockerCliHost, SLOT_LABEL, smokeRunArgs, type SmokeRunArgs } from '../../scripts/release/docker-host';
import { closeWindow, currentSplit, readRecord, releaseVersion, rollbackVersion, trafficState, type MetricsSource, type StepOutput } from '../../scripts/release/rollout';
import { DEFAULT_CANARY, type ResolvedReleasePolicy } from '../../system/releases';
import { manacore } from '../../environments';
import { main as opsMain, type OpsIo } from '../../scripts/ops/cli';
import { main as releaseMain, type ReleaseIo } from '../../scripts/release/cli';
import { inspectTarget, type ReleaseSites } from '../../scripts/release/release-sites';
import { SwarmEngine } from '../helpers/swarm-engine';
import { E2E_BUSYBOX } from '../../tools/e2e/engine/standins';
import { resources, synthStack } from '../helpers/synth';

jest.setTimeout(300_000);

const IMAGE = 'release-test/app:1';
const SERVICE = 'chat-backend';
const NETWORK = 'release-product';
const EDGE = 'edge-proxy';
const EDGE_DIRECTORY = '/etc/traefik/dynamic';
const TARGET = '${docker_container.chat-backend-next.name}';

let engine: SwarmEngine;
let host: DockerCliHost;
let edgeDirectory: string;
const lines: string[] = [];
let clock = new Date('2026-12-07T12:00:00Z');
const out: StepOutput = { line: (text) => lines.push(text), now: () => clock };
/** No edge metrics here (no Traefik): the watch judges the engine's health and restarts. */
const noEdgeMetrics: MetricsSource = { versionSignals: async () => ({ requests: 0 }) };
const measured: string[] = [];

/**
 * What a version does: `good` serves /health and /ready; `no-ready` lacks /ready (its smoke check fails);
 * `sickens` turns unhealthy a few seconds after it started.
 */
type Behaviour = 'good' | 'no-ready' | 'sickens';
/**
 * Serves /tmp/www and stops on SIGTERM, as an app does: httpd as PID 1 would ignore it, and every `docker stop` of a
 * version would wait out its 2 s stop timeout.
 */
const SERVE = 'httpd -f -p 8080 -h /tmp/www & trap "kill $!; exit 0" TERM; wait';
const SCRIPTS: Record<Behaviour, string> = {
  good: `mkdir -p /tmp/www && echo ok > /tmp/www/health && echo ready > /tmp/www/ready && ${SERVE}`,
  'no-ready': `mkdir -p /tmp/www && echo ok > /tmp/www/health && ${SERVE}`,
  sickens: `mkdir -p /tmp/www; echo ok > /tmp/www/health; echo ready > /tmp/www/ready; (sleep 6; rm /tmp/www/health) & ${SERVE}`,
};

/** Starts a version of the service in `slot`, as Terraform would create it (hardened, health-checked, labelled). */
function runVersion(slot: ReleaseSlot, tag: string, behaviour: Behaviour): string {
  const name = `${SERVICE}-${slot}-${tag}`;
  engine.cli([
    'run', '--detach', '--name', name, '--label', `${RELEASE_LABELS.service}=${SERVICE}`, '--label', `${SLOT_LABEL}=${slot}`, '--label', `image.tag=${tag}`,
    '--network', NETWORK, '--user', '1001', '--read-only', '--tmpfs', '/tmp:rw,noexec,nosuid,size=16m', '--cap-drop', 'ALL',
    '--health-cmd', 'wget -q --spider http://127.0.0.1:8080/health || exit 1', '--health-interval', '1s', '--health-timeout', '1s', '--health-retries', '2',
    '--stop-timeout', '2', IMAGE, 'sh', '-c', SCRIPTS[behaviour],
  ]);
  return name;
}

/** The smoke check `ready` as SmokeCheck synthesizes it: its `docker_container` block. */
function readyCheckBlock(): Record<string, any> {
  const stack = new TerraformStack(Testing.app(), 'smoke');
  new DockerProvider(stack, 'docker', {});
  const image = new Image(stack, 'image', { name: IMAGE });
  new SmokeCheck(stack, 'ready', {
    checkName: 'ready',
    serviceName: SERVICE,
    target: TARGET,
    image,
    imageRef: IMAGE,
    imageTag: 'next',
    check: { http: { path: '/ready', port: 8080, status: 200, bodyContains: 'ready', client: 'wget' } },
    timeoutSeconds: 5,
    networks: [{ name: NETWORK }],
    resources: { cpuLimit: 0.25, memoryLimitMiB: 32, cpuReservation: 0.1, memoryReservationMiB: 16 },
  });
  return resources(synthStack(stack), 'docker_container')[`${SERVICE}-smoke-ready`];
}

/** The smoke check `ready` as `docker run` arguments against `target`. */
function readyCheck(target: string): SmokeRunArgs {
  const block = readyCheckBlock();
  const resolve = (text: string) => text.split('${docker_image.image.image_id}').join(IMAGE).split(TARGET).join(target);
  return { name: 'ready', container: { args: smokeRunArgs(block, resolve) } };
}

/**
 * An image of busybox-static (what the e2e's stand-ins are made of: scripts/install-test-tools.sh --e2e): its own
 * resolver, where the dynamically linked busybox's wget needs glibc's NSS modules to look a container name up.
 */
function importStaticBusybox(reference: string): void {
  if (!fs.existsSync(E2E_BUSYBOX)) throw new Error(`${E2E_BUSYBOX} is missing: run scripts/install-test-tools.sh --e2e`);
  const root = path.join(engine.dir, 'rootfs-static');
  for (const sub of ['bin', 'tmp', 'etc']) fs.mkdirSync(path.join(root, sub), { recursive: true });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.copyFileSync(E2E_BUSYBOX, path.join(root, 'bin/busybox'));
  fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
  for (const applet of spawnSync(E2E_BUSYBOX, ['--list']).stdout.toString().split('\n').filter(Boolean)) {
    if (applet !== 'busybox') fs.symlinkSync('busybox', path.join(root, 'bin', applet));
  }
  engine.cli(['import', '-', reference], spawnSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 * 1024 * 1024 }).stdout);
}

const policy = (watchSeconds: number): ResolvedReleasePolicy => ({ canary: { ...DEFAULT_CANARY, watchMinutes: watchSeconds / 60 }, rollbackWindowMinutes: 60 });
// The test's own reads and polls go over the Engine API (a docker CLI run costs 30-50 ms of CPU); the release steps
// under test use the CLI, as on a host.
const inspect = (name: string) => engine.api('GET', `/containers/${name}/json`);
/**
 * The split and the release record as the edge proxy would load them, read from its file provider directory on this
 * machine (the bind mount the first test shows), not with a docker cp each; the steps themselves read them over the CLI.
 */
const splitOnEdge = () => parseSplitConfiguration(SERVICE, fs.readFileSync(path.join(edgeDirectory, `split-${SERVICE}.yaml`), 'utf8'));
const recordOnEdge = () => JSON.parse(fs.readFileSync(path.join(edgeDirectory, `release-${SERVICE}.json`), 'utf8'));
const names = async (slot: ReleaseSlot): Promise<string[]> => {
  const containers = (await engine.api('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`${SLOT_LABEL}=${slot}`] }))}`)) as Array<{ Names: string[] }>;
  return containers.map((container) => container.Names[0]!.replace(/^\//, ''));
};

beforeAll(async () => {
  // Containers only: no swarm, so this runs beside the swarm tests.
  engine = await SwarmEngine.start({ swarm: false });
  importStaticBusybox(IMAGE);
  engine.cli(['network', 'create', NETWORK]);
  edgeDirectory = path.join(engine.dir, 'edge-dynamic');
  fs.mkdirSync(edgeDirectory);
  // The edge proxy's stand-in: read-only root, the host's directory mounted where the file provider reads.
  engine.cli(['run', '--detach', '--name', EDGE, '--read-only', '--volume', `${edgeDirectory}:${EDGE_DIRECTORY}`, IMAGE, 'sleep', '100000']);
  host = new DockerCliHost(['docker', '--host', `unix://${engine.socket}`], { container: EDGE, directory: EDGE_DIRECTORY });
  // What the previous release left: v1 in blue serving everything.
  runVersion('blue', 'v1', 'good');
  await engine.until('v1 is healthy', async () => (await inspect(`${SERVICE}-blue-v1`)).State.Health?.Status === 'healthy', 30);
  await host.writeFile(`split-${SERVICE}.yaml`, splitConfiguration(SERVICE, allTo('blue')));
  await host.writeFile(`release-${SERVICE}.json`, JSON.stringify({ live: 'blue', tags: { blue: 'v1' } }));
});

afterAll(async () => {
  if (measured.length > 0) process.stdout.write(`release steps on the engine:\n  ${measured.join('\n  ')}\n`);
  await engine?.stop();
});

it('writes the split into the edge proxy through its mounted directory, despite its read-only root', () => {
  expect(JSON.parse(fs.readFileSync(path.join(edgeDirectory, `split-${SERVICE}.yaml`), 'utf8')).http.services[SERVICE].weighted.services).toEqual([{ name: `${SERVICE}-blue@docker`, weight: 100 }]);
});

it('a failing smoke check removes the new version and leaves the old one serving, naming the check and its output', async () => {
  const started = Date.now();
  const green = runVersion('green', 'v2', 'no-ready');
  const outcome = await releaseVersion(host, noEdgeMetrics, { service: SERVICE, slot: 'green', tag: 'v2', smoke: [readyCheck(green)], policy: policy(10), timing: { pollSeconds: 2, healthySeconds: 30 } }, out);
  measured.push(`failing smoke check: released and refused in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  expect(outcome).toMatchObject({ result: 'smoke-failed', check: 'ready' });
  if (outcome.result !== 'smoke-failed') return;
  expect(outcome.output).toMatch(new RegExp(`GET http://${green}:8080/ready -> 404`));
  expect(outcome.output).toContain('expected status 200');
  expect(await names('green')).toEqual([]);
  expect(splitOnEdge()).toEqual({ blue: 100, green: 0 });
  expect((await inspect(`${SERVICE}-blue-v1`)).State).toMatchObject({ Running: true, Health: { Status: 'healthy' } });
  expect(lines.join('\n')).toMatch(/==> smoke check ready\n[\s\S]*smoke check ready failed \(exit 1\)/);
});

it('a passing smoke check is the same check: it passes against a version that serves /ready', async () => {
  const green = runVersion('green', 'v2b', 'good');
  await engine.until('v2b is healthy', async () => (await inspect(green)).State.Health?.Status === 'healthy', 30);
  const result = await host.runSmokeCheck(readyCheck(green));
  expect(result).toEqual({ exitCode: 0, output: expect.stringMatching(/-> 200\n[\s\S]*passed/) });
  engine.cli(['rm', '--force', green]);
});

it('an unhealthy canary is rolled back on its own, saying why', async () => {
  const started = Date.now();
  const green = runVersion('green', 'v3', 'sickens');
  const outcome = await releaseVersion(host, noEdgeMetrics, { service: SERVICE, slot: 'green', tag: 'v3', smoke: [readyCheck(green)], policy: policy(40), timing: { pollSeconds: 2, healthySeconds: 30 } }, out);
  measured.push(`unhealthy canary: rolled back ${((Date.now() - started) / 1000).toFixed(1)} s after its release started`);
  expect(outcome).toEqual({ result: 'rolled-back', reason: expect.stringMatching(/the canary is unhealthy/) });
  expect(splitOnEdge()).toEqual({ blue: 100, green: 0 });
  expect(await names('green')).toEqual([]);
  expect((await inspect(`${SERVICE}-blue-v1`)).State.Running).toBe(true);
  // The watch showed its share, its progress and the signals while it ran.
  expect(lines.join('\n')).toMatch(/==> canary share 10% to green[\s\S]*\[#*\.*\] 0m0\ds \/ 0m40s canary 0 req/);
});

it('a healthy canary is promoted after its watch; the old version stays on the host, stopped', async () => {
  const started = Date.now();
  const green = runVersion('green', 'v4', 'good');
  const outcome = await releaseVersion(host, noEdgeMetrics, { service: SERVICE, slot: 'green', tag: 'v4', smoke: [readyCheck(green)], policy: policy(6), timing: { pollSeconds: 2, healthySeconds: 30 } }, out);
  measured.push(`healthy canary: promoted after a 6 s watch, release ${((Date.now() - started) / 1000).toFixed(1)} s`);
  expect(outcome).toEqual({ result: 'promoted', windowEndsAt: '2026-12-07T13:00:00.000Z' });
  expect(splitOnEdge()).toEqual({ blue: 0, green: 100 });
  expect((await inspect(`${SERVICE}-blue-v1`)).State.Running).toBe(false);
  // changedAt: what record-slots copies into the tags file, so a tags file that missed this promotion is refused.
  expect(recordOnEdge()).toEqual({ live: 'green', tags: { blue: 'v1', green: 'v4' }, windowEndsAt: '2026-12-07T13:00:00.000Z', changedAt: '2026-12-07T12:00:00.000Z' });
  // What ops shows, read back from the edge's files and the engine.
  expect(trafficState(SERVICE, await currentSplit(host, SERVICE), await readRecord(host, SERVICE), new Date('2026-12-07T12:10:00Z'), await host.containers(SERVICE, 'blue'))).toBe(
    'chat-backend: green 100% (v4), blue 0% (v1, kept stopped); rollback window until 2026-12-07T13:00:00.000Z (50 min left)',
  );
});

it('a rollback inside the window starts the kept version and switches back in seconds, without a pull', async () => {
  clock = new Date('2026-12-07T12:30:00Z');
  const outcome = await rollbackVersion(host, SERVICE, out, { healthySeconds: 30 });
  expect(outcome).toMatchObject({ path: 'window', to: 'blue' });
  if (outcome.path !== 'window') return;
  measured.push(`rollback inside the window: traffic back on v1 after ${outcome.switchedSeconds.toFixed(1)} s (started, healthy, split written), done in ${outcome.seconds.toFixed(1)} s (v4 stopped)`);
  expect(outcome.switchedSeconds).toBeLessThan(10);
  expect(outcome.seconds).toBeLessThan(15);
  expect(splitOnEdge()).toEqual({ blue: 100, green: 0 });
  expect((await inspect(`${SERVICE}-blue-v1`)).State).toMatchObject({ Running: true, Health: { Status: 'healthy' } });
  expect((await inspect(`${SERVICE}-green-v4`)).State.Running).toBe(false);
  expect(lines.join('\n')).toContain('rollback of chat-backend inside the window: start blue (v1), no pull');
});

it('after the window the version not serving is removed, and a rollback says it must be released again', async () => {
  clock = new Date('2026-12-07T13:01:00Z');
  expect(await closeWindow(host, SERVICE, out)).toEqual([`${SERVICE}-green-v4`]);
  expect(await names('green')).toEqual([]);
  expect(await rollbackVersion(host, SERVICE, out)).toEqual({ path: 'redeploy', tag: 'v4' });
  expect(lines.join('\n')).toMatch(/after the rollback window \(none\)/);
});

describe('the release commands over the same host (npm run release -- run|rollback|close-window, npm run ops -- traffic)', () => {
  const printed: string[] = [];
  const errors: string[] = [];
  const docker = () => ['docker', '--host', `unix://${engine.socket}`];
  /** The engine as the environment's one host, app-1, with the synthesized `ready` check of chat-backend. */
  const sites = (): ReleaseSites => ({
    sites: [{ name: 'app-1', host, smokeTarget: async (container) => inspectTarget(docker(), container) }],
    metrics: () => noEdgeMetrics,
    smokeChecks: (product, service) => (`${product}-${service}` === SERVICE ? [{ name: 'ready', block: readyCheckBlock() }] : []),
  });
  const releaseIo = (): ReleaseIo => ({
    out: (text) => printed.push(text),
    err: (text) => errors.push(text),
    root: process.cwd(),
    system: manacore,
    git: () => '',
    sites,
    steps: { line: (text) => printed.push(`${text}\n`), now: () => clock },
  });
  const release = async (...argv: string[]) => {
    printed.length = 0;
    errors.length = 0;
    return releaseMain(argv, releaseIo());
  };

  beforeAll(async () => {
    // Staging: smoke checks always, no canary (system/releases.ts), a 60-minute window.
    clock = new Date('2026-12-08T09:00:00Z');
    for (const name of await names('green')) await engine.api('DELETE', `/containers/${name}?force=true`);
  });

  it('run: a new version in the idle slot is smoke-checked and promoted, each step printed with its timing', async () => {
    const green = runVersion('green', 'v5', 'good');
    const started = Date.now();
    expect(await release('run', 'staging', 'chat', 'backend')).toBe(0);
    measured.push(`release run (staging, smoke checks, no canary): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const text = printed.join('');
    expect(text).toContain('=== chat-backend on app-1: v5 in green');
    expect(text).toMatch(/==> new version v5 up \(green\)\n {4}new version v5 up \(green\): done in \d+\.\d s/);
    expect(text).toMatch(/==> smoke check ready\n {4}smoke check ready: done in \d+\.\d s/);
    expect(text).not.toContain('canary share');
    expect(text).toContain('1 promoted, 0 not (none)');
    expect(errors).toEqual([]);
    expect(splitOnEdge()).toEqual({ blue: 0, green: 100 });
    expect((await inspect(green)).State.Running).toBe(true);
    expect((await inspect(`${SERVICE}-blue-v1`)).State.Running).toBe(false);
  });

  it('run again: nothing new in the idle slot (it holds the kept version), exit 0', async () => {
    expect(await release('run', 'staging', 'chat', 'backend')).toBe(0);
    expect(printed.join('')).toContain('--- chat-backend on app-1: green serves v5; blue holds the kept version v1');
    expect(printed.join('')).toContain('nothing to release in staging chat');
  });

  it('ops traffic: the split, both tags and when the window ends', async () => {
    const out: string[] = [];
    const io = { out: (text: string) => out.push(text), err: () => undefined, env: process.env, system: manacore, releaseSites: sites, now: () => new Date('2026-12-08T09:20:00Z') } as unknown as OpsIo;
    expect(await opsMain(['traffic', 'staging', 'chat'], io)).toBe(0);
    expect(out.join('')).toContain('app-1  chat-backend: green 100% (v5), blue 0% (v1, kept stopped); rollback window until 2026-12-08T10:00:00.000Z (40 min left)');
    // A routed service no release put into slots says so.
    expect(out.join('')).toMatch(/app-1 {2}chat-web: no traffic split on the edge/);
  });

  it('rollback inside the window: back to the kept version, no pull, in seconds', async () => {
    clock = new Date('2026-12-08T09:30:00Z');
    expect(await release('rollback', 'staging', 'chat', 'backend')).toBe(0);
    const said = /switched back to v1 \(kept version, no pull\) in (\d+\.\d) s/.exec(printed.join(''));
    expect(said).not.toBeNull();
    measured.push(`release rollback inside the window: ${said![1]} s`);
    expect(Number(said![1])).toBeLessThan(15);
    expect(splitOnEdge()).toEqual({ blue: 100, green: 0 });
  });

  it('close-window after the window removes the kept version; rollback then says how to re-deploy its tag', async () => {
    clock = new Date('2026-12-08T10:01:00Z');
    expect(await release('close-window', 'staging', 'chat')).toBe(0);
    expect(printed.join('')).toContain(`rollback window of ${SERVICE} closed: removed ${SERVICE}-green-v5`);
    expect(await names('green')).toEqual([]);
    expect(await release('rollback', 'staging', 'chat', 'backend')).toBe(0);
    const text = printed.join('');
    expect(text).toContain('the rollback window is over, v5 is no longer on the host. Re-deploy it through the normal path (Terraform pulls it):');
    expect(text).toContain('npm run ops -- rollback staging chat/backend v5');
  });

  it('a failing smoke check fails the command (exit 1) with the check and its output; the old version keeps serving', async () => {
    runVersion('green', 'v6', 'no-ready');
    expect(await release('run', 'staging', 'chat', 'backend')).toBe(1);
    expect(printed.join('')).toMatch(/smoke check ready failed \(exit 1\):\n[\s\S]*-> 404/);
    expect(printed.join('')).toContain('0 promoted, 1 not (chat-backend)');
    expect(splitOnEdge()).toEqual({ blue: 100, green: 0 });
  });

  it('refuses bad input with the allowed values, never a stack trace', async () => {
    expect(await release('run', 'staging', 'nope')).toBe(1);
    expect(errors.join('')).toMatch(/^error: environment "staging": product "nope" does not run here; products: /);
    expect(await release('run', 'staging', 'chat', 'worker-x')).toBe(1);
    expect(errors.join('')).toMatch(/no service "worker-x" with a container; services: .*backend/);
    expect(await release('run', 'staging')).toBe(2);
    expect(errors.join('')).toContain('run needs <env> <product> [<service>]');
    expect(await release('rollback', 'qa', 'chat')).toBe(1);
    expect(errors.join('')).toMatch(/unknown environment "qa"; environments: staging, production/);
  });
});
