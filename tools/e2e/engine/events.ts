/**
 * What the engine itself recorded while Terraform acted on it: the daemon's container events (Engine API
 * GET /events: create, start, "health_status: healthy", kill with its signal, die with its exit code, destroy;
 * each with its time in nanoseconds and the container's labels). Two readings of them:
 * - a rollout: a start-first service's old container is stopped only after its new one is healthy (create before
 *   destroy with `wait`), a stop-first one's old container has exited before its new one starts (no overlap);
 * - a stop: SIGTERM first, exit 0 without a SIGKILL, and a stand-in app that drains for a while after SIGTERM is
 *   let finish (so the engine waited destroy_grace_seconds, not its own 10 s default).
 */
import type { EngineClient } from './api';

/** One container event as the analyses read it. */
export interface ContainerEvent {
  readonly action: string;
  readonly id: string;
  /** Milliseconds since the epoch, from the event's timeNano. */
  readonly at: number;
  /** The actor's attributes: name, image, the container's labels, and signal (kill) or exitCode (die). */
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * Starts following the daemon's container events; `stop` returns those seen so far. Followed live, not asked for
 * afterwards: the daemon keeps only its last 256 events, and every health probe adds three (exec_create, exec_start,
 * exec_die), so a minute of a system's probes overflows it.
 */
export async function watchContainerEvents(client: EngineClient): Promise<{ stop: () => Promise<ContainerEvent[]> }> {
  const filters = encodeURIComponent(JSON.stringify({ type: ['container'], event: ['create', 'start', 'health_status', 'kill', 'die', 'destroy'] }));
  const stream = await client.follow(`/events?filters=${filters}`);
  return {
    stop: async () =>
      (await stream.stop()).map((e) => ({ action: e.Action ?? e.status, id: e.id, at: Number(BigInt(e.timeNano) / 1000n) / 1000, attributes: e.Actor?.Attributes ?? {} })),
  };
}

const firstAt = (events: readonly ContainerEvent[], id: string, action: string) => events.find((e) => e.id === id && e.action === action)?.at;
const secondsText = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A container of the redeployed stack, as synthesized. */
export interface RolloutService {
  /** The `service` label's value (the containers' names carry a revision that changes with the image). */
  readonly service: string;
  /** The `product` label's value (services of two products may share a name). */
  readonly product: string;
  /** lifecycle.create_before_destroy: start-first; else stop-first. */
  readonly startFirst: boolean;
  /** `wait`: the provider returns only once the new container is healthy. */
  readonly waitsHealthy: boolean;
}

/** The rollout of each service in the events: problems, and a line per service saying what happened when. */
export function rolloutFindings(events: readonly ContainerEvent[], services: readonly RolloutService[], where: string): { problems: string[]; lines: string[] } {
  const problems: string[] = [];
  const lines: string[] = [];
  for (const { service, product, startFirst, waitsHealthy } of services) {
    // A release task carries its service's labels too (and a `task` label): it is not the service's container.
    const own = events.filter((e) => e.attributes.service === service && e.attributes.product === product && e.attributes.task === undefined);
    const created = own.find((e) => e.action === 'create')?.id;
    const destroyed = own.find((e) => e.action === 'destroy')?.id;
    if (!created || !destroyed || created === destroyed) {
      problems.push(`${where} ${service}: not replaced on the engine by the redeploy (created ${created ?? 'none'}, destroyed ${destroyed ?? 'none'})`);
      continue;
    }
    const oldStop = firstAt(own, destroyed, 'kill') ?? firstAt(own, destroyed, 'die');
    const oldDie = firstAt(own, destroyed, 'die');
    const newStart = firstAt(own, created, 'start');
    if (oldStop === undefined || oldDie === undefined || newStart === undefined) {
      problems.push(`${where} ${service}: the engine recorded no ${oldStop === undefined ? 'stop of the old' : newStart === undefined ? 'start of the new' : 'exit of the old'} container`);
      continue;
    }
    if (startFirst) {
      const ready = waitsHealthy ? firstAt(own, created, 'health_status: healthy') : newStart;
      if (ready === undefined) {
        problems.push(`${where} ${service}: start-first, but the new container never turned healthy on the engine`);
      } else if (oldStop < ready) {
        problems.push(`${where} ${service}: start-first, but the old container was stopped ${secondsText(ready - oldStop)} before the new one was ${waitsHealthy ? 'healthy' : 'started'}`);
      } else {
        lines.push(`${service} start-first: new ${waitsHealthy ? 'healthy' : 'started'} ${secondsText(ready - newStart)} after its start, old served until ${secondsText(oldStop - ready)} after that`);
      }
    } else if (newStart < oldDie) {
      problems.push(`${where} ${service}: stop-first, but the new container started ${secondsText(oldDie - newStart)} before the old one exited (both ran at once)`);
    } else {
      lines.push(`${service} stop-first: old exited, new started ${secondsText(newStart - oldDie)} later (no overlap)`);
    }
  }
  return { problems, lines };
}

/** How one stopped container was meant to stop. */
export interface StopExpectation {
  /** destroy_grace_seconds as synthesized. */
  readonly graceSeconds: number;
  /** The stand-in app's drain after SIGTERM (0 for a real program, which exits when it is done). */
  readonly drainSeconds: number;
}

/** Every container the events show being stopped: SIGTERM first, exit 0, no SIGKILL, and the drain let finish. */
export function stopFindings(events: readonly ContainerEvent[], expectation: (name: string) => StopExpectation | undefined, where: string): { problems: string[]; stopped: number; longestMs: number } {
  const problems: string[] = [];
  let stopped = 0;
  let longestMs = 0;
  const killed = [...new Set(events.filter((e) => e.action === 'kill').map((e) => e.id))];
  for (const id of killed) {
    const own = events.filter((e) => e.id === id);
    const name = own[0].attributes.name;
    const expected = expectation(name);
    if (!expected) continue; // not one of the stack's containers
    const kills = own.filter((e) => e.action === 'kill');
    const die = own.find((e) => e.action === 'die');
    stopped += 1;
    if (kills[0].attributes.signal !== '15') problems.push(`${where} ${name}: stopped with signal ${kills[0].attributes.signal} first, not SIGTERM (15)`);
    if (!die) {
      problems.push(`${where} ${name}: signalled but the engine recorded no exit`);
      continue;
    }
    const tookMs = die.at - kills[0].at;
    longestMs = Math.max(longestMs, tookMs);
    const forced = kills.find((k) => k.attributes.signal === '9');
    if (forced) problems.push(`${where} ${name}: SIGKILLed ${secondsText(forced.at - kills[0].at)} after SIGTERM (destroy_grace_seconds ${expected.graceSeconds}), exit ${die.attributes.exitCode}`);
    // 143: ended by the SIGTERM itself (a program without a handler), still a stop by SIGTERM; the stand-in app must exit 0.
    else if (die.attributes.exitCode !== '0' && !(expected.drainSeconds === 0 && die.attributes.exitCode === '143')) problems.push(`${where} ${name}: exited ${die.attributes.exitCode} after SIGTERM, not 0`);
    // 0.5 s of slack for the event timestamps; the drain is at most the grace less 3 s (standins.ts).
    if (expected.drainSeconds > 0 && tookMs < expected.drainSeconds * 1000 - 500) {
      problems.push(`${where} ${name}: exited ${secondsText(tookMs)} after SIGTERM, but the stand-in drains ${expected.drainSeconds} s: the engine did not wait`);
    }
    if (tookMs > (expected.graceSeconds + 3) * 1000) problems.push(`${where} ${name}: took ${secondsText(tookMs)} to stop, longer than destroy_grace_seconds ${expected.graceSeconds}`);
  }
  return { problems, stopped, longestMs };
}
