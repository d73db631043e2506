/**
 * `npm run bench`: how fast is synth, measured rather than promised.
 *
 * 1. The app command alone for the whole App (what `cdktf.json` runs), with
 *    its bundle cached and rebuilt.
 * 2. `cdktf synth` end to end (CLI start-up included).
 * 3. The naive baseline of the cdktf project template: the same main.ts under
 *    type-checking ts-node.
 * 4. Growth: synth time from 1 to 13 Manacore products and a synthetic
 *    50-product catalog, in one warm process, as ms per added product.
 *
 * Wall time is the median of `--runs` runs (default 3); peak memory is the
 * largest maximum resident set size GNU time reports over those runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdktf';
import { configureTokenStackTraces } from '../constructs/core/token-stack-traces';
import { manacore } from '../environments';
import type { ProductSpec, SystemSpec } from '../system/model';
import { DOCKER_DEFAULT_POOL_NETWORKS, PLATFORM_NETWORKS_PER_HOST } from '../system/reachability';
import { createSystemStacks } from '../stacks/system-stacks';

const TARGETS = { appSeconds: 1, appMiB: 300, speedupOverNaive: 5, msPerProduct: 10 };
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
/** In-process synths take tenths of a second; more of them steady the medians the growth slope is fitted to. */
const growthRuns = Math.max(runs, 7);
const GNU_TIME = '/usr/bin/time';

interface Measurement {
  readonly label: string;
  readonly seconds: number;
  readonly peakMiB?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Runs a command `runs` times in a fresh output directory; wall time and peak RSS. */
function measureCommand(label: string, command: string[]): Measurement {
  const seconds: number[] = [];
  let peakKiB = 0;
  for (let run = 0; run < runs; run++) {
    const outdir = mkdtempSync(join(tmpdir(), 'bench-'));
    const withTime = existsSync(GNU_TIME) ? [GNU_TIME, '-f', '__PEAK_KIB__=%M', ...command] : command;
    const started = process.hrtime.bigint();
    const result = spawnSync(withTime[0]!, withTime.slice(1), {
      encoding: 'utf8',
      env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: 'true', CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });
    seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
    rmSync(outdir, { recursive: true, force: true });
    if (result.status !== 0) {
      throw new Error(`${label} failed (exit ${result.status}):\n${result.stderr.slice(-2000)}`);
    }
    const peak = /__PEAK_KIB__=(\d+)/.exec(result.stderr);
    if (peak) peakKiB = Math.max(peakKiB, Number(peak[1]));
  }
  return { label, seconds: median(seconds), peakMiB: peakKiB > 0 ? Math.round(peakKiB / 1024) : undefined };
}

/** Synth of one system in this (warm) process, median of `growthRuns`. */
function synthSeconds(system: SystemSpec): number {
  const times: number[] = [];
  for (let run = 0; run < growthRuns; run++) {
    const outdir = mkdtempSync(join(tmpdir(), 'bench-growth-'));
    const started = process.hrtime.bigint();
    const app = new App({ outdir, stackTraces: false });
    createSystemStacks(app, system, { onWarning: () => undefined });
    app.synth();
    times.push(Number(process.hrtime.bigint() - started) / 1e9);
    rmSync(outdir, { recursive: true, force: true });
  }
  return median(times);
}

/** Manacore with its first `count` products (the auth product first, so links resolve). */
export function manacoreWith(count: number): SystemSpec {
  const names = new Set(manacore.products.slice(0, count).map((p) => p.name));
  return {
    ...manacore,
    environments: manacore.environments.map((e) => ({
      ...e,
      products: e.products.filter((d) => names.has(d.product)),
      // The apex points at a product's landing page; without that product there is no apex.
      apexService: e.apexService !== undefined && names.has(e.apexService.split('/')[0]) ? e.apexService : undefined,
    })),
  };
}

/** A synthetic catalog of `count` full products (api, web, landing, mobile) on one large production host. */
export function syntheticSystem(count: number): SystemSpec {
  const products: ProductSpec[] = Array.from({ length: count }, (_, i) => ({
    name: `product-${String(i + 1).padStart(2, '0')}`,
    services: [
      { name: 'backend', kind: 'api', port: 4000 + i, uses: ['postgres', 'redis'] },
      { name: 'web', kind: 'web' },
      { name: 'landing', kind: 'landing' },
      { name: 'mobile', kind: 'mobile' },
    ],
  }));
  const production = manacore.environments.find((e) => e.name === 'production')!;
  // A Docker daemon holds 31 networks (system/reachability.ts), 5 of them the platform's: one per product, 26 products a host.
  const perHost = DOCKER_DEFAULT_POOL_NETWORKS - PLATFORM_NETWORKS_PER_HOST;
  const hostOf = (index: number) => `app-${Math.floor(index / perHost) + 1}`;
  return {
    ...manacore,
    products,
    environments: [
      {
        ...production,
        // Each host a group of its own: on a swarm (several hosts) a product placed by host stands for its group.
        hosts: Array.from({ length: Math.ceil(count / perHost) }, (_, index) => ({ name: hostOf(index * perHost), serverType: 'ccx63', group: hostOf(index * perHost) })),
        cloudflare: { ...production.cloudflare, caching: 'cache-rules' },
        products: products.map((p, index) => ({ product: p.name, imageTag: 'main-0000000', host: hostOf(index) })),
        apexService: `${products[0]!.name}/landing`,
      },
    ],
  };
}

const verdict = (met: boolean) => (met ? 'met' : 'MISSED');

/** Least-squares slope of y over x. */
function slope(points: ReadonlyArray<[number, number]>): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return num / den;
}

function main(): void {
  // Measure synth like the bundled app runs it: without tsx's source-mapped stack traces.
  process.setSourceMapsEnabled(false);
  // ...and with token stack traces as main.ts sets them.
  configureTokenStackTraces();
  const node = process.execPath;
  // Exactly what `cdktf synth` runs. Warm: the bundle is cached; cold: it is rebuilt first.
  const appCommand = (JSON.parse(readFileSync('cdktf.json', 'utf8')) as { app: string }).app.split(' ');
  measureCommand('warm-up', appCommand);
  const app = measureCommand(`app command (${appCommand.join(' ')})`, appCommand);
  const cold = measureCommand('app command, bundle rebuilt', ['sh', '-c', `rm -rf node_modules/.cache/manacore-app && ${appCommand.join(' ')}`]);
  const naive = measureCommand('naive baseline (type-checking ts-node main.ts)', [node, 'node_modules/ts-node/dist/bin.js', 'main.ts']);
  const cli = measureCommand('npx cdktf synth (CLI + app)', [node, 'node_modules/cdktf-cli/bundle/bin/cdktf', 'synth']);

  // Warm up module loading so growth measures synth work, not imports.
  synthSeconds(manacoreWith(1));
  const growth: Array<[number, number]> = [1, 4, 7, 10, 13].map((count) => [count, synthSeconds(manacoreWith(count)) * 1000]);
  const synthetic50 = synthSeconds(syntheticSystem(50)) * 1000;
  const synthetic1 = synthSeconds(syntheticSystem(1)) * 1000;
  const perProduct = slope(growth);
  const perSyntheticProduct = (synthetic50 - synthetic1) / 49;

  const row = (m: Measurement) => `| ${m.label} | ${m.seconds.toFixed(2)} s | ${m.peakMiB === undefined ? 'n/a' : `${m.peakMiB} MiB`} |`;
  const lines = [
    `Benchmark (${runs} runs each, median wall time; peak RSS from GNU time)`,
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average at the end ${loadavg()[0]!.toFixed(1)}`,
    '',
    '| what | wall | peak memory |',
    '| --- | --- | --- |',
    row(app),
    row(cold),
    row(cli),
    row(naive),
    '',
    `Speed-up of the app command over the naive baseline: ${(naive.seconds / app.seconds).toFixed(1)}x`,
    '',
    `Synth growth (warm process, median of ${growthRuns}; both environments, all their stacks):`,
    ...growth.map(([count, ms]) => `  ${String(count).padStart(2)} products: ${ms.toFixed(0)} ms`),
    `  => ${perProduct.toFixed(1)} ms per added product (least squares), ${(perProduct / 2).toFixed(1)} ms per product and environment`,
    `  synthetic catalog, one environment: 1 product ${synthetic1.toFixed(0)} ms, 50 products ${synthetic50.toFixed(0)} ms => ${perSyntheticProduct.toFixed(1)} ms per added product`,
    '',
    'Targets:',
    `  app command < ${TARGETS.appSeconds} s: ${verdict(app.seconds < TARGETS.appSeconds)}`,
    `  app command <= ${TARGETS.appMiB} MiB: ${app.peakMiB === undefined ? 'not measured' : verdict(app.peakMiB <= TARGETS.appMiB)}`,
    `  >= ${TARGETS.speedupOverNaive}x faster than naive: ${verdict(naive.seconds / app.seconds >= TARGETS.speedupOverNaive)}`,
    `  <= ${TARGETS.msPerProduct} ms per added product, one environment (synthetic catalog): ${verdict(perSyntheticProduct <= TARGETS.msPerProduct)}`,
    `  <= ${TARGETS.msPerProduct} ms per added product and environment (Manacore): ${verdict(perProduct / 2 <= TARGETS.msPerProduct)}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (require.main === module) main();
