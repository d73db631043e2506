/**
 * How a new version of a service is released (docs/releasing.md, issue 35):
 * smoke checks against the new version before it gets traffic, a canary
 * share of the edge's traffic watched for a while, and a rollback window in
 * which the previous version stays on the host. Seed 000 ("Deployment
 * Steps") gives the defaults: 10% for 10 minutes, one hour of rollback
 * window; staging runs the smoke checks always and the canary only when
 * asked, so every merge exercises the mechanism without waiting on it.
 */
import type { HttpProbeClient } from '../constructs/core/health-check';
import { RELEASE_LABELS, RELEASE_SLOTS, type ReleaseSlot } from '../constructs/docker/traffic-split';

/** One smoke check of a service, by name in its `smoke` (`home`, `login-page`): an HTTP request or a command. */
export interface SmokeCheckSpec {
  /**
   * An HTTP GET against the new version's own container (its address on the
   * product network, not through the edge proxy).
   * @default - none: `command` is the check
   */
  readonly http?: SmokeHttpSpec;
  /**
   * A one-shot command run with the release's image (as a release task,
   * system/tasks.ts), with the new version's address in SMOKE_TARGET_URL;
   * exit 0 passes.
   * @default - none: `http` is the check
   */
  readonly command?: readonly string[];
  /** Seconds the check may take before it counts as failed. @default 30 */
  readonly timeoutSeconds?: number;
}

/** The request of an HTTP smoke check and what its answer must be. */
export interface SmokeHttpSpec {
  /** Path requested (`/api/health/deep`, `/login`). */
  readonly path: string;
  /** Status code the answer must have. @default 200 */
  readonly status?: number;
  /** Text the answer's body must contain (a plain substring, not a pattern). @default - any body */
  readonly bodyContains?: string;
  /** Named port (in the service's `ports`) requested instead of the main one. @default - the main `port` */
  readonly port?: string;
}

/** A canary share of an environment's releases. */
export interface CanarySpec {
  /** Percent of the service's edge traffic the new version receives while it is watched (1 to 50). @default 10 */
  readonly sharePercent?: number;
  /** Minutes the canary is watched before it is promoted (1 to 60). @default 10 */
  readonly watchMinutes?: number;
  /**
   * How much higher the canary's 5xx ratio may be than the old version's, in
   * percentage points, before it is rolled back.
   * @default 1
   */
  readonly maxErrorRatioIncreasePoints?: number;
  /** How many times the old version's p95 latency the canary's may reach before it is rolled back. @default 1.5 */
  readonly maxLatencyRatio?: number;
}

/** How an environment releases new versions. */
export interface ReleasePolicySpec {
  /**
   * Send a share of the traffic to the new version and watch it before
   * promoting it; `false` switches all traffic once the smoke checks passed.
   * @default - production: 10% for 10 minutes; other environments: false
   */
  readonly canary?: CanarySpec | false;
  /**
   * Minutes after a promotion during which the previous version stays on the
   * host (stopped, its image kept), so a rollback is a switch, not a pull.
   * @default 60
   */
  readonly rollbackWindowMinutes?: number;
}

export const DEFAULT_SMOKE_TIMEOUT_SECONDS = 30;
export const MAX_SMOKE_TIMEOUT_SECONDS = 300;
export const DEFAULT_CANARY: Required<CanarySpec> = { sharePercent: 10, watchMinutes: 10, maxErrorRatioIncreasePoints: 1, maxLatencyRatio: 1.5 };
export const DEFAULT_ROLLBACK_WINDOW_MINUTES = 60;
/** Bounds the validation enforces, one place for the numbers and their reasons. */
export const CANARY_SHARE_RANGE = { min: 1, max: 50 } as const;
export const CANARY_WATCH_MINUTES_RANGE = { min: 1, max: 60 } as const;
export const ROLLBACK_WINDOW_MINUTES_RANGE = { min: 5, max: 7 * 24 * 60 } as const;

/** A smoke check resolved for one service: what the runner requests or runs. */
export type ResolvedSmokeCheck =
  | { readonly name: string; readonly kind: 'http'; readonly path: string; readonly port: number; readonly status: number; readonly bodyContains?: string; readonly timeoutSeconds: number; readonly client: HttpProbeClient }
  | { readonly name: string; readonly kind: 'command'; readonly command: readonly string[]; readonly timeoutSeconds: number };

/** An environment's release steps, with every default filled in. */
export interface ResolvedReleasePolicy {
  /** undefined: no canary, traffic switches once the smoke checks passed. */
  readonly canary?: Required<CanarySpec>;
  readonly rollbackWindowMinutes: number;
}

/** The release steps of an environment: the seed's for production, smoke-only elsewhere, overridden field by field. */
export function resolveReleasePolicy(environment: { readonly production: boolean; readonly releases?: ReleasePolicySpec }): ResolvedReleasePolicy {
  const spec = environment.releases ?? {};
  const canary = spec.canary === false || (spec.canary === undefined && !environment.production) ? undefined : { ...DEFAULT_CANARY, ...spec.canary };
  return { canary, rollbackWindowMinutes: spec.rollbackWindowMinutes ?? DEFAULT_ROLLBACK_WINDOW_MINUTES };
}

/**
 * The smoke checks of one service in the order its description lists them.
 * `ports` are its named ports, `port` its main one; `client` is the HTTP
 * client its health check proved the image has (wget, curl or node).
 */
export function resolveSmokeChecks(
  service: { readonly smoke?: Readonly<Record<string, SmokeCheckSpec>> },
  port: number | undefined,
  ports: Readonly<Record<string, number>>,
  client: HttpProbeClient,
  escape: (text: string) => string,
): ResolvedSmokeCheck[] {
  return Object.entries(service.smoke ?? {}).map(([name, check]) => {
    const timeoutSeconds = check.timeoutSeconds ?? DEFAULT_SMOKE_TIMEOUT_SECONDS;
    if (check.http === undefined) return { name, kind: 'command', command: (check.command ?? []).map(escape), timeoutSeconds };
    const { path, status, bodyContains } = check.http;
    const resolvedPort = check.http.port === undefined ? port! : ports[check.http.port]!;
    return { name, kind: 'http', path, port: resolvedPort, status: status ?? 200, bodyContains, timeoutSeconds, client };
  });
}

/** The release-step labels of a service's containers under `policy`, with its smoke checks. */
export function releaseStepLabels(policy: ResolvedReleasePolicy, smoke: readonly { readonly name: string }[]): Record<string, string> {
  return {
    [RELEASE_LABELS.smoke]: smoke.map((check) => check.name).join(',') || 'none',
    [RELEASE_LABELS.canary]: policy.canary === undefined ? 'none' : `${policy.canary.sharePercent}% for ${policy.canary.watchMinutes} min`,
    [RELEASE_LABELS.window]: String(policy.rollbackWindowMinutes),
  };
}

/**
 * Whether a service's versions are released through slots (blue and green containers behind the
 * edge's split): a routed service that declares `smoke` (an empty `smoke: {}` opts in for the
 * canary alone), on plain containers. Swarm environments keep Swarm's rolling update for now
 * (docs/releasing.md); every other service keeps its one set of containers, swapped by the apply.
 */
export function releasedThroughSlots(service: { readonly smoke?: unknown }, kind: { readonly routed: boolean; readonly container: boolean }, engine: 'containers' | 'swarm'): boolean {
  return service.smoke !== undefined && kind.routed && kind.container && engine === 'containers';
}

/** A service's slots resolved for an environment: the slot serving, each slot's tag, and whether the pre-slot container still runs. */
export interface ResolvedSlots {
  readonly live: ReleaseSlot;
  /** Tag of each slot that has containers. */
  readonly tags: Readonly<Partial<Record<ReleaseSlot, string>>>;
  /**
   * No slots recorded yet (the service is moving to slots): its pre-slot containers stay, with
   * their construct ids and labels, and keep serving until the tags file records the slots.
   */
  readonly moving: boolean;
}

/** The slots of a service released through them: as the tags file records them, else `tag` in blue beside the pre-slot container. */
export function resolveSlots(recorded: { readonly live: ReleaseSlot; readonly blue?: string; readonly green?: string } | undefined, tag: string): ResolvedSlots {
  if (recorded === undefined) return { live: 'blue', tags: { blue: tag }, moving: true };
  const tags = Object.fromEntries(RELEASE_SLOTS.filter((slot) => recorded[slot] !== undefined).map((slot) => [slot, recorded[slot]!]));
  return { live: recorded.live, tags, moving: false };
}
