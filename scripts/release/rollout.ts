/**
 * The release steps on a host (docs/releasing.md), after Terraform created
 * the new version in the slot that does not serve: new version up (Docker
 * health), smoke checks against its own containers, the canary share (the
 * edge's weighted split) and its watch, then promote or roll back; and the
 * rollback window, in which the previous version's containers stay stopped
 * on the host with their image, so `release rollback` is a start and a
 * switch of the split, not a pull.
 *
 * Everything the steps do to the host goes through ReleaseHost (the engine
 * and the edge's split files), everything they measure at the edge through
 * MetricsSource (Prometheus), so the same steps run against a host's daemon
 * and against the integration tests' own dockerd.
 */
import { allTo, canaryWeights, otherSlot, parseSplitConfiguration, splitConfiguration, type ReleaseSlot, type TrafficWeights } from '../../constructs/docker/traffic-split';
import type { ResolvedReleasePolicy } from '../../system/releases';
import { OperatorError } from '../lib/tools';
import { judgeCanary, progressBar, signalSummary, type VersionSignals } from './canary-watch';

/** One container of a version, as the engine reports it. */
export interface VersionContainer {
  readonly name: string;
  readonly running: boolean;
  /** Docker health: `healthy`, `unhealthy`, `starting`, or `none` without a check. */
  readonly health: string;
  readonly restarts: number;
  /** Its `image.tag` label: the version it runs. @default - unknown */
  readonly tag?: string;
}

/** What the rollback window remembers about a service (kept beside its split file). */
export interface ReleaseRecord {
  /** The slot serving. */
  readonly live: ReleaseSlot;
  /** The image tag of each slot, as released. */
  readonly tags: Partial<Record<ReleaseSlot, string>>;
  /** When the previous version's containers are removed (ISO time); undefined: there is none to keep. */
  readonly windowEndsAt?: string;
  /**
   * When a release step last changed what serves or what is kept (promote, rollback, close-window; ISO time).
   * `release record-slots` copies it into the tags file, so a tags file that missed a change is recognised
   * (steps.ts slotsDrift). @default - written before this field existed
   */
  readonly changedAt?: string;
}

/** The host's engine and edge, as the release steps use them. */
export interface ReleaseHost {
  /** Containers of one version (labels `service` and `release.slot`), running or not. */
  containers(service: string, slot: ReleaseSlot): Promise<VersionContainer[]>;
  start(container: string): Promise<void>;
  /** Stops the container (SIGTERM, then its grace), keeping it and its image. */
  stop(container: string): Promise<void>;
  /** Removes the container (its image stays for the engine's own pruning). */
  remove(container: string): Promise<void>;
  /** Runs a smoke check's one-shot container to its end: exit code and output. */
  runSmokeCheck(check: SmokeRun): Promise<{ readonly exitCode: number; readonly output: string }>;
  readFile(name: string): Promise<string | undefined>;
  /** Writes a file of the edge's file provider directory, atomically (the proxy reloads on the rename). */
  writeFile(name: string, text: string): Promise<void>;
}

/** The edge's numbers of one version, from Prometheus (canary-watch.ts queries). */
export interface MetricsSource {
  versionSignals(service: string, slot: ReleaseSlot, rangeSeconds: number): Promise<VersionSignals>;
}

/** One smoke check to run: its name and the one-shot container the host creates for it. */
export interface SmokeRun {
  readonly name: string;
  /** Whatever the host needs to create the container (an Engine API body for the test host, a Terraform address for Terraform). */
  readonly container: unknown;
}

/** Timing of the steps, so tests can shorten them. */
export interface WatchTiming {
  /** Seconds between two readings of the signals. @default 15 */
  readonly pollSeconds?: number;
  /** Seconds the new version may take to turn healthy. @default 300 */
  readonly healthySeconds?: number;
}

export interface ReleaseRequest {
  /** `<product>-<service>`, the Traefik service and the containers' `service` label. */
  readonly service: string;
  /** The slot Terraform put the new version in. */
  readonly slot: ReleaseSlot;
  readonly tag: string;
  readonly smoke: readonly SmokeRun[];
  readonly policy: ResolvedReleasePolicy;
  readonly timing?: WatchTiming;
}

export type ReleaseOutcome =
  | { readonly result: 'promoted'; readonly windowEndsAt: string }
  | { readonly result: 'smoke-failed'; readonly check: string; readonly output: string }
  | { readonly result: 'rolled-back'; readonly reason: string }
  | { readonly result: 'not-healthy'; readonly reason: string };

/** Where the steps print and what time it is; replaced in tests. */
export interface StepOutput {
  readonly line: (text: string) => void;
  readonly now: () => Date;
}

const splitFile = (service: string) => `split-${service}.yaml`;
const recordFile = (service: string) => `release-${service}.json`;
const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Prints `==> step` and, when it ends, its time. */
async function step<T>(out: StepOutput, name: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  out.line(`==> ${name}`);
  const result = await run();
  out.line(`    ${name}: done in ${seconds(Date.now() - started)}`);
  return result;
}

export async function readRecord(host: ReleaseHost, service: string): Promise<ReleaseRecord | undefined> {
  const text = await host.readFile(recordFile(service));
  return text === undefined ? undefined : (JSON.parse(text) as ReleaseRecord);
}

/** The split the edge runs now, read back from its file. */
export async function currentSplit(host: ReleaseHost, service: string): Promise<TrafficWeights | undefined> {
  const text = await host.readFile(splitFile(service));
  return text === undefined ? undefined : parseSplitConfiguration(service, text);
}

async function setSplit(host: ReleaseHost, service: string, weights: TrafficWeights): Promise<void> {
  await host.writeFile(splitFile(service), splitConfiguration(service, weights));
}

async function removeVersion(host: ReleaseHost, service: string, slot: ReleaseSlot): Promise<void> {
  for (const container of await host.containers(service, slot)) await host.remove(container.name);
}

async function untilHealthy(host: ReleaseHost, service: string, slot: ReleaseSlot, limitSeconds: number): Promise<string | undefined> {
  const deadline = Date.now() + limitSeconds * 1000;
  for (;;) {
    const containers = await host.containers(service, slot);
    if (containers.length > 0 && containers.every((c) => c.running && (c.health === 'healthy' || c.health === 'none'))) return undefined;
    const unhealthy = containers.find((c) => !c.running || c.health === 'unhealthy');
    if (unhealthy !== undefined) return `${unhealthy.name} is ${unhealthy.running ? unhealthy.health : 'not running'}`;
    if (Date.now() > deadline) return `not healthy within ${limitSeconds} s (${containers.map((c) => `${c.name}: ${c.health}`).join(', ') || 'no container'})`;
    await sleep(0.5);
  }
}

/**
 * Releases the version in `request.slot`: healthy, smoke-checked, canaried
 * and watched (when the policy has a canary), then promoted with the other
 * slot kept stopped for the rollback window. Any failure leaves the other
 * slot serving all traffic and removes the new version.
 */
export async function releaseVersion(host: ReleaseHost, metrics: MetricsSource, request: ReleaseRequest, out: StepOutput): Promise<ReleaseOutcome> {
  const { service, slot, policy } = request;
  const old = otherSlot(slot);
  const poll = request.timing?.pollSeconds ?? 15;
  const record = (await readRecord(host, service)) ?? { live: old, tags: {} };
  if (record.live === slot) throw new OperatorError(`${service}: slot ${slot} serves already; the new version goes into the other one`);
  const healthy = await step(out, `new version ${request.tag} up (${slot})`, () => untilHealthy(host, service, slot, request.timing?.healthySeconds ?? 300));
  if (healthy !== undefined) {
    await removeVersion(host, service, slot);
    out.line(`    failed: ${healthy}; the new version was removed, ${old} keeps serving`);
    return { result: 'not-healthy', reason: healthy };
  }
  for (const check of request.smoke) {
    const result = await step(out, `smoke check ${check.name}`, () => host.runSmokeCheck(check));
    if (result.exitCode !== 0) {
      await removeVersion(host, service, slot);
      out.line(`    smoke check ${check.name} failed (exit ${result.exitCode}):\n${result.output.trimEnd().replace(/^/gm, '      ')}`);
      out.line(`    the new version was removed; ${old} keeps serving all traffic`);
      return { result: 'smoke-failed', check: check.name, output: result.output };
    }
  }
  if (policy.canary !== undefined) {
    const canary = policy.canary;
    await step(out, `canary share ${canary.sharePercent}% to ${slot}`, () => setSplit(host, service, canaryWeights(slot, canary.sharePercent)));
    const watchSeconds = canary.watchMinutes * 60;
    const verdict = await step(out, `watch for ${canary.watchMinutes} min`, async () => {
      const started = Date.now();
      for (;;) {
        const elapsed = (Date.now() - started) / 1000;
        const containers = await host.containers(service, slot);
        const signals = {
          canary: await metrics.versionSignals(service, slot, elapsed),
          stable: await metrics.versionSignals(service, old, elapsed),
          canaryRestarts: containers.reduce((sum, c) => sum + c.restarts, 0),
          canaryHealth: containers.map((c) => (c.running ? c.health : 'exited')),
        };
        const judged = judgeCanary(signals, canary);
        out.line(`    ${progressBar(elapsed, watchSeconds)} ${signalSummary(signals)}`);
        if (!judged.healthy || elapsed >= watchSeconds) return judged;
        await sleep(Math.min(poll, watchSeconds - elapsed));
      }
    });
    if (!verdict.healthy) {
      await step(out, `roll back to ${old}`, async () => {
        await setSplit(host, service, allTo(old));
        await removeVersion(host, service, slot);
      });
      out.line(`    rolled back: ${verdict.reason}`);
      return { result: 'rolled-back', reason: verdict.reason };
    }
  }
  const windowEndsAt = new Date(out.now().getTime() + policy.rollbackWindowMinutes * 60_000).toISOString();
  await step(out, `promote ${slot} to 100%`, async () => {
    await setSplit(host, service, allTo(slot));
    // The old version stops but stays, image and container, for the rollback window.
    for (const container of await host.containers(service, old)) if (container.running) await host.stop(container.name);
    await host.writeFile(recordFile(service), JSON.stringify({ live: slot, tags: { ...record.tags, [slot]: request.tag }, windowEndsAt, changedAt: out.now().toISOString() } satisfies ReleaseRecord));
  });
  out.line(`    rollback window until ${windowEndsAt}: \`release rollback\` switches back to ${old} (${record.tags[old] ?? 'previous'}) without a pull`);
  return { result: 'promoted', windowEndsAt };
}

export type RollbackOutcome =
  | { readonly path: 'window'; readonly to: ReleaseSlot; readonly seconds: number; /** Until the edge's split named the kept version. */ readonly switchedSeconds: number }
  /** After the window: the previous tag must be released again (Terraform pulls it); `tag` is what to record. */
  | { readonly path: 'redeploy'; readonly tag?: string };

/**
 * Switches a service back to its previous version: inside the window, by
 * starting the kept containers and moving the split (no pull); after it,
 * says which tag to release again, since its containers are gone.
 */
export async function rollbackVersion(host: ReleaseHost, service: string, out: StepOutput, timing: WatchTiming = {}): Promise<RollbackOutcome> {
  const record = await readRecord(host, service);
  if (record === undefined) throw new OperatorError(`${service}: no release recorded on this host, nothing to roll back to`);
  const previous = otherSlot(record.live);
  const kept = await host.containers(service, previous);
  const inWindow = record.windowEndsAt !== undefined && out.now() < new Date(record.windowEndsAt) && kept.length > 0;
  if (!inWindow) {
    out.line(`==> rollback of ${service}: after the rollback window (${record.windowEndsAt ?? 'none'}), the previous version ${record.tags[previous] ?? '(unknown)'} is no longer on the host: release it again (its image is pulled)`);
    return { path: 'redeploy', tag: record.tags[previous] };
  }
  const started = Date.now();
  let switched = 0;
  await step(out, `rollback of ${service} inside the window: start ${previous} (${record.tags[previous] ?? 'previous'}), no pull`, async () => {
    for (const container of kept) if (!container.running) await host.start(container.name);
    const problem = await untilHealthy(host, service, previous, timing.healthySeconds ?? 120);
    if (problem !== undefined) throw new OperatorError(`${service}: the kept version did not turn healthy (${problem}); ${record.live} keeps serving`);
    await setSplit(host, service, allTo(previous));
    switched = Date.now();
    for (const container of await host.containers(service, record.live)) if (container.running) await host.stop(container.name);
    await host.writeFile(recordFile(service), JSON.stringify({ ...record, live: previous, changedAt: out.now().toISOString() } satisfies ReleaseRecord));
  });
  out.line(`    traffic back on ${previous} after ${seconds(switched - started)}`);
  return { path: 'window', to: previous, seconds: (Date.now() - started) / 1000, switchedSeconds: (switched - started) / 1000 };
}

/** After the window: removes the version that does not serve. Returns what it removed. */
export async function closeWindow(host: ReleaseHost, service: string, out: StepOutput): Promise<string[]> {
  const record = await readRecord(host, service);
  if (record?.windowEndsAt === undefined || out.now() < new Date(record.windowEndsAt)) return [];
  const previous = otherSlot(record.live);
  // The kept version is stopped; a running container in that slot is a new version a release is taking through
  // the steps right now (an apply put it there after the window ended), which is not this command's to remove.
  const removed = (await host.containers(service, previous)).filter((c) => !c.running).map((c) => c.name);
  for (const name of removed) await host.remove(name);
  // The removed version's tag stays recorded: a rollback after the window names it as the tag to re-deploy.
  await host.writeFile(recordFile(service), JSON.stringify({ live: record.live, tags: record.tags, changedAt: removed.length > 0 ? out.now().toISOString() : record.changedAt } satisfies ReleaseRecord));
  out.line(`==> rollback window of ${service} closed: removed ${removed.join(', ') || 'nothing'}`);
  return removed;
}

/**
 * One line of what a service's edge does now and how long its rollback window lasts, as ops shows it:
 * `chat-backend: green 100% (v4), blue 0% (v1, kept stopped); rollback window until 2026-12-07T13:00:00.000Z (30 min left)`.
 */
export function trafficState(service: string, split: TrafficWeights | undefined, record: ReleaseRecord | undefined, now: Date, kept: readonly VersionContainer[] = []): string {
  if (split === undefined) return `${service}: no traffic split on the edge (not released through slots yet)`;
  const slots = (Object.keys(split) as ReleaseSlot[]).sort((a, b) => split[b] - split[a]);
  const describe = (slot: ReleaseSlot) => {
    const tag = record?.tags[slot];
    const stopped = split[slot] === 0 && kept.length > 0 && kept.every((c) => !c.running) ? ', kept stopped' : '';
    return `${slot} ${split[slot]}%${tag === undefined ? '' : ` (${tag}${stopped})`}`;
  };
  const end = record?.windowEndsAt === undefined ? undefined : new Date(record.windowEndsAt);
  const window =
    end === undefined ? 'no rollback window' : end > now ? `rollback window until ${record!.windowEndsAt} (${Math.ceil((end.getTime() - now.getTime()) / 60_000)} min left)` : `rollback window closed at ${record!.windowEndsAt}`;
  return `${service}: ${slots.map(describe).join(', ')}; ${window}`;
}
