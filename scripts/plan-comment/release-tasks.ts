/**
 * Which release tasks a plan runs: every one-shot task container (labelled `task`, constructs/docker/release-task.ts)
 * the plan creates or replaces runs once, before the product's new containers start. Said in the comment as
 * "chat: runs migrate with main-abc1234", so a reviewer sees a schema migration coming.
 */
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

const runOf = (stack: string, labels: Record<string, string>): ReleaseTaskRun => ({
  stack,
  product: labels.product ?? '?',
  service: labels.service ?? '?',
  task: labels.task!,
  tag: labels['image.tag'] ?? '?',
});

/** The tasks each plan runs, in plan order. */
export function releaseTaskRuns(plans: readonly ParsedPlan[]): ReleaseTaskRun[] {
  return plans.flatMap((plan) =>
    plan.resourceChanges
      .filter((change) => change.type === 'docker_container' && change.actions.includes('create'))
      .map((change) => labelsOf(change.after))
      .filter((labels) => labels.task !== undefined)
      .map((labels) => runOf(plan.stack, labels)),
  );
}

/**
 * The tasks a synthesized stack declares (its `docker_container` resources labelled `task`), for the
 * deploy and diff commands, which print them before Terraform plans: a declared task runs exactly
 * when that plan creates its container, i.e. when the tag it carries is new to the environment.
 */
export function declaredReleaseTasks(stack: string, json: { readonly resource?: Record<string, Record<string, unknown>> }): ReleaseTaskRun[] {
  return Object.values(json.resource?.docker_container ?? {})
    .map((container) => labelsOf(container))
    .filter((labels) => labels.task !== undefined)
    .map((labels) => runOf(stack, labels));
}

/** The task name of a product's pre-migration backup (constructs/docker/pre-migration-backup.ts, PRE_MIGRATION_BACKUP_TASK). */
const PRE_MIGRATION_BACKUP = 'pre-migration-backup';

/** One line per product of a stack: "backs up <product>'s database, then runs <task> (<service>) with <tag>"; `show` quotes user text. */
export function describeRuns(runs: readonly ReleaseTaskRun[], show: (text: string) => string = code): string[] {
  const byProduct = new Map<string, ReleaseTaskRun[]>();
  for (const run of runs) byProduct.set(`${run.stack}\n${run.product}`, [...(byProduct.get(`${run.stack}\n${run.product}`) ?? []), run]);
  return [...byProduct.values()].map((group) => {
    const { stack, product } = group[0]!;
    const tasks = group.filter((run) => run.task !== PRE_MIGRATION_BACKUP).map((run) => `${show(run.task)} (${show(run.service)}) with ${show(run.tag)}`);
    const backup = group.some((run) => run.task === PRE_MIGRATION_BACKUP) ? `backs up ${show(product)}'s database, then ` : '';
    return `- ${show(stack)}: ${show(product)}: ${backup}runs ${tasks.length > 0 ? tasks.join(', ') : 'no task'}`;
  });
}

/** The comment's section: one line per product whose tasks run; empty when the plans run none. */
export function releaseTasksBlock(plans: readonly ParsedPlan[]): string {
  const runs = releaseTaskRuns(plans);
  if (runs.length === 0) return '';
  return [
    '### Release tasks',
    '',
    // Every label is user text (catalog names, tags): shown as code, never as markdown.
    ...describeRuns(runs),
    '',
    'Each runs to completion before any new container of its product starts; a failure stops the apply and replaces nothing (docs/deploying.md, "Release tasks").',
    ...(runs.some((run) => run.task === PRE_MIGRATION_BACKUP) ? ['The backup is the dump to restore if a migration goes wrong (docs/data-recovery.md, "Pre-migration backups").'] : []),
  ].join('\n');
}
