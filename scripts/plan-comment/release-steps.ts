/**
 * Which services a plan releases through the release steps (docs/releasing.md): every service container created
 * in a release slot (label `release.slot`) is a new version that gets smoke checks, maybe a canary share, and a
 * rollback window. Said as "chat/backend main-abc1234 into green: smoke checks ready, login; canary 10% for 10 min;
 * rollback window 60 min", so a reviewer sees which services will canary.
 */
import { RELEASE_LABELS } from '../../constructs/docker/traffic-split';
import { code } from './markdown';
import type { ParsedPlan } from './plan-format';

/** One new version a plan puts into a slot. */
export interface SlotRelease {
  readonly stack: string;
  readonly product: string;
  readonly service: string;
  readonly tag: string;
  readonly slot: string;
  readonly smoke: readonly string[];
  /** `10% for 10 min`, or undefined without a canary. */
  readonly canary?: string;
  readonly windowMinutes: string;
}

const labelsOf = (value: unknown): Record<string, string> => {
  const labels = (value as { labels?: unknown } | null)?.labels;
  return Array.isArray(labels) ? Object.fromEntries(labels.map((entry: { label: string; value: string }) => [entry.label, entry.value])) : {};
};

/** The slotted service containers each plan creates, one per service (replicas share a release). */
export function slotReleases(plans: readonly ParsedPlan[]): SlotRelease[] {
  const releases = new Map<string, SlotRelease>();
  for (const plan of plans) {
    for (const change of plan.resourceChanges) {
      if (change.type !== 'docker_container' || !change.actions.includes('create')) continue;
      const labels = labelsOf(change.after);
      const slot = labels[RELEASE_LABELS.slot];
      if (slot === undefined || labels.task !== undefined) continue;
      const release: SlotRelease = {
        stack: plan.stack,
        product: labels.product ?? '?',
        service: labels.service ?? '?',
        tag: labels['image.tag'] ?? '?',
        slot,
        smoke: (labels[RELEASE_LABELS.smoke] ?? 'none') === 'none' ? [] : labels[RELEASE_LABELS.smoke]!.split(','),
        canary: (labels[RELEASE_LABELS.canary] ?? 'none') === 'none' ? undefined : labels[RELEASE_LABELS.canary],
        windowMinutes: labels[RELEASE_LABELS.window] ?? '?',
      };
      releases.set(`${plan.stack}/${release.product}/${release.service}`, release);
    }
  }
  return [...releases.values()];
}

/** The comment's section: one line per released service; empty when the plans release none through slots. */
export function releaseStepsBlock(plans: readonly ParsedPlan[]): string {
  const releases = slotReleases(plans);
  if (releases.length === 0) return '';
  const canaries = releases.filter((release) => release.canary !== undefined);
  return [
    '### Release steps',
    '',
    // Labels are user text (catalog names, tags): shown as code.
    ...releases.map(
      (release) =>
        `- ${code(release.stack)}: ${code(`${release.product}/${release.service}`)} ${code(release.tag)} into ${release.slot}: ` +
        `${release.smoke.length > 0 ? `smoke checks ${release.smoke.map(code).join(', ')}` : 'no smoke checks'}; ` +
        `${release.canary === undefined ? 'no canary (all traffic once the checks pass)' : `canary ${release.canary}`}; rollback window ${release.windowMinutes} min`,
    ),
    '',
    `${canaries.length} of ${releases.length} service(s) canary. The release command runs the steps after the apply (docs/releasing.md).`,
  ].join('\n');
}
