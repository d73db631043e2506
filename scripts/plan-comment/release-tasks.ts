/**
 * Which release tasks a plan runs: every one-shot task container (labelled `task`, constructs/docker/release-task.ts)
 * the plan creates or replaces runs once, before the product's new containers start. Said in the comment as
 * "chat: runs migrate with main-abc1234", so a reviewer sees a schema migration coming.
 */
import { RELEASE_LABELS } from '../../constructs/docker/traffic-split';
import { code } from './markdown';
import type { ParsedPlan } from './plan-format';

/** One task a plan will run. */
export interface ReleaseTaskRun {
  readonly stack: string;
  readonly product: string;
  readonly service: string;
  readonly task: string;
  readonly tag: string;
}

const labelsOf = (value: unknown): Record<string, string> => {
  const labels = (value as { labels?: unknown } | null)?.labels;
  return Array.isArray(labels) ? Object.fromEntries(labels.map((entry: { label: string; value: string }) => [entry.label, entry.value])) : {};
};

/** The tasks each plan runs, in plan order. */
export function releaseTaskRuns(plans: readonly ParsedPlan[]): ReleaseTaskRun[] {
  return plans.flatMap((plan) =>
    plan.resourceChanges
      .filter((change) => change.type === 'docker_container' && change.actions.includes('create'))
      .map((change) => ({ change, labels: labelsOf(change.after) }))
      // Smoke check runners are release steps (release-steps.ts), not tasks.
      .filter(({ labels }) => labels.task !== undefined && labels[RELEASE_LABELS.step] === undefined)
      .map(({ labels }) => ({ stack: plan.stack, product: labels.product ?? '?', service: labels.service ?? '?', task: labels.task!, tag: labels['image.tag'] ?? '?' })),
  );
}

/** The comment's section: one line per task run; empty when the plans run none. */
export function releaseTasksBlock(plans: readonly ParsedPlan[]): string {
  const runs = releaseTaskRuns(plans);
  if (runs.length === 0) return '';
  return [
    '### Release tasks',
    '',
    // Every label is user text (catalog names, tags): shown as code, never as markdown.
    ...runs.map((run) => `- ${code(run.stack)}: ${code(run.product)}: runs ${code(run.task)} (${code(run.service)}) with ${code(run.tag)}`),
    '',
    'Each runs to completion before any new container of its product starts; a failure stops the apply and replaces nothing (docs/deploying.md, "Release tasks").',
  ].join('\n');
}
