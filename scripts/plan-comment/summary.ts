/** Counting changes the way the Terraform CLI does, and spotting the dangerous ones. */
import type { ParsedPlan, ResourceChange } from './plan-format';
import { compareStacks } from './stack-order';

/** Change counts for one stack or for all of them. */
export interface ChangeCounts {
  /** CLI "to add": creates plus both replace forms. */
  readonly add: number;
  /** CLI "to change": in-place updates. */
  readonly change: number;
  /** CLI "to destroy": deletes plus both replace forms. */
  readonly destroy: number;
  /** CLI "to import": objects adopted by an `import` block (counted on top of their action). */
  readonly import: number;
  /** Pure creates (no replacement). */
  readonly create: number;
  /** In-place updates. */
  readonly update: number;
  /** Replacements in either order. */
  readonly replace: number;
  /** Pure deletes. */
  readonly delete: number;
  /** Objects dropped from state without being destroyed (`removed` with `destroy = false`). */
  readonly forget: number;
  /** Objects renamed by a `moved` block. */
  readonly moved: number;
  /** Resource changes with an action list this code does not know. */
  readonly unrecognised: number;
  /** Root outputs whose value changes. */
  readonly outputs: number;
}

/** All counts zero. */
export const ZERO_COUNTS: ChangeCounts = {
  add: 0,
  change: 0,
  destroy: 0,
  import: 0,
  create: 0,
  update: 0,
  replace: 0,
  delete: 0,
  forget: 0,
  moved: 0,
  unrecognised: 0,
  outputs: 0,
};

type MutableCounts = { -readonly [K in keyof ChangeCounts]: number };

/**
 * True when applying would do anything: any resource action other than no-op/read, an import,
 * a move, or an output change (Terraform applies output-only plans too). Reads alone are not
 * changes, just as the CLI prints "No changes" for them.
 */
export function hasChanges(counts: ChangeCounts): boolean {
  return (
    counts.add + counts.change + counts.destroy + counts.import + counts.forget + counts.moved + counts.unrecognised + counts.outputs >
    0
  );
}

/** Adds two sets of counts. */
export function addCounts(a: ChangeCounts, b: ChangeCounts): ChangeCounts {
  const sum = { ...a } as MutableCounts;
  for (const key of Object.keys(sum) as (keyof ChangeCounts)[]) sum[key] += b[key];
  return sum;
}

/** True when a resource change is shown and counted at all (not a plain no-op or read). */
export function isReportable(change: ResourceChange): boolean {
  if (change.kind === 'read') return false;
  if (change.kind === 'no-op') return change.importing || change.previousAddress !== undefined;
  return true;
}

/** Counts one stack's plan with the CLI's rules (see `ChangeCounts`). */
export function countPlan(plan: ParsedPlan): ChangeCounts {
  const counts = { ...ZERO_COUNTS } as MutableCounts;
  for (const change of plan.resourceChanges) {
    // The CLI ignores data sources entirely in its summary line.
    if (change.mode !== 'managed') continue;
    if (change.importing) counts.import += 1;
    if (change.previousAddress !== undefined && change.previousAddress !== change.address) counts.moved += 1;
    switch (change.kind) {
      case 'create':
        counts.add += 1;
        counts.create += 1;
        break;
      case 'update':
        counts.change += 1;
        counts.update += 1;
        break;
      case 'replace':
        counts.add += 1;
        counts.destroy += 1;
        counts.replace += 1;
        break;
      case 'delete':
        counts.destroy += 1;
        counts.delete += 1;
        break;
      case 'forget':
        counts.forget += 1;
        break;
      case 'unknown':
        counts.unrecognised += 1;
        break;
      case 'read':
      case 'no-op':
        break;
    }
  }
  counts.outputs = plan.outputChanges.filter((output) => output.kind !== 'no-op').length;
  return counts;
}

/**
 * Resource types whose replacement or deletion loses data or identity that cannot be
 * recreated (disks, servers with local state, object storage, generated secrets, public IPs
 * that DNS and allow-lists point at). They get an extra alarm in the comment.
 */
export const STATEFUL_RESOURCE_TYPES: readonly string[] = [
  'hcloud_volume',
  'hcloud_server',
  'hcloud_primary_ip',
  'hcloud_floating_ip',
  'docker_volume',
  'cloudflare_r2_bucket',
  'random_password',
];

/** docker_container resources whose name or image matches this hold data (databases, caches). */
export const STATEFUL_CONTAINER_PATTERN = /postgres|redis/i;

function stringAttribute(value: unknown, key: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return '';
  const attribute = (value as Record<string, unknown>)[key];
  return typeof attribute === 'string' ? attribute : '';
}

/** True when losing this resource loses data (see `STATEFUL_RESOURCE_TYPES`). */
export function isStateful(change: ResourceChange, statefulTypes: readonly string[] = STATEFUL_RESOURCE_TYPES): boolean {
  if (statefulTypes.includes(change.type)) return true;
  if (change.type !== 'docker_container') return false;
  // The values are only matched, never shown, so reading them here cannot leak anything.
  const names = [change.name, ...[change.before, change.after].flatMap((v) => [stringAttribute(v, 'name'), stringAttribute(v, 'image')])];
  return names.some((name) => STATEFUL_CONTAINER_PATTERN.test(name));
}

/** A replace or delete that the comment calls out at the top. */
export interface DestructiveChange {
  readonly stack: string;
  readonly change: ResourceChange;
  readonly stateful: boolean;
}

/**
 * All replacements and deletions of managed resources, stateful ones first, then in stack
 * rollout order and plan order, so the worst news is the first line a reviewer reads.
 */
export function destructiveChanges(
  plans: readonly ParsedPlan[],
  statefulTypes: readonly string[] = STATEFUL_RESOURCE_TYPES,
): DestructiveChange[] {
  const found = plans.flatMap((plan) =>
    plan.resourceChanges
      .filter((change) => change.mode === 'managed' && (change.kind === 'replace' || change.kind === 'delete'))
      .map((change) => ({ stack: plan.stack, change, stateful: isStateful(change, statefulTypes) })),
  );
  // Array.prototype.sort is stable, so plan order survives within a stack.
  return found.sort((a, b) => Number(b.stateful) - Number(a.stateful) || compareStacks(a.stack, b.stack));
}

const REASONS: Readonly<Record<string, string>> = {
  replace_because_tainted: 'the object is tainted',
  replace_because_cannot_update: 'cannot be updated in place',
  replace_by_request: 'replacement was requested (-replace)',
  replace_by_triggers: 'replace_triggered_by changed',
  delete_because_no_resource_config: 'removed from the configuration',
  delete_because_no_module: 'its module was removed',
  delete_because_wrong_repetition: 'count/for_each was switched',
  delete_because_count_index: 'count no longer includes this index',
  delete_because_each_key: 'for_each no longer includes this key',
  delete_because_no_move_target: 'the moved target does not exist',
};

/** Human wording for Terraform's `action_reason`; unknown reasons are shown as they are. */
export function describeReason(reason: string | undefined): string | undefined {
  return reason === undefined ? undefined : (REASONS[reason] ?? reason);
}
