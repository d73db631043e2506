/**
 * Renders the single pull-request comment that shows the Terraform plan of every stack a
 * change touches. Pure: plans in, Markdown out, so it is tested without Terraform or GitHub.
 *
 * Layout, top to bottom: hidden marker, headline with totals, failed stacks, destroy/replace
 * warnings, "needs attention" notes, the per-stack table, then folded per-stack details.
 * Stacks appear in rollout order (see stack-order.ts): staging before production, and
 * network, edge, the products' credentials and data before the product stacks, which follow alphabetically.
 */
import { releaseTasksBlock } from './release-tasks';
import { releaseStepsBlock } from './release-steps';
import {
  attentionBlock,
  destructiveBlock,
  failedStacksBlock,
  headline,
  stackDetails,
  stackTable,
  workflowRunLink,
  code,
  type DetailLevel,
  type SectionContext,
  type StackSummary,
} from './markdown';
import { parsePlan, type ParsedPlan } from './plan-format';
import { compareStacks, sortStacks } from './stack-order';
import {
  addCounts,
  countPlan,
  destructiveChanges,
  hasChanges,
  STATEFUL_RESOURCE_TYPES,
  ZERO_COUNTS,
  type ChangeCounts,
} from './summary';

export { STATEFUL_RESOURCE_TYPES, STATEFUL_CONTAINER_PATTERN } from './summary';
export type { ChangeCounts } from './summary';

/** Hidden first line of the comment; the workflow finds its previous comment by it. */
export const PLAN_COMMENT_MARKER = '<!-- manacore-plan-comment -->';

/** GitHub rejects issue comments longer than this many characters. */
export const GITHUB_COMMENT_MAX_LENGTH = 65_536;

/** One stack's plan as parsed from `terraform show -json`. */
export interface StackPlan {
  readonly stack: string;
  /** The parsed JSON document; validated by the renderer. */
  readonly plan: unknown;
}

/** Options for {@link renderPlanComment}. */
export interface RenderOptions {
  /** Maximum body length; defaults to {@link GITHUB_COMMENT_MAX_LENGTH}. */
  readonly maxLength?: number;
  /** Stacks that should have been planned but have no plan (the plan job failed). */
  readonly failedStacks?: readonly string[];
  /** Redacted end of the log of a failed stack, by stack (see error-tail.ts). @default - none */
  readonly errorTails?: ReadonlyMap<string, string>;
  /** URL of the workflow run, linked wherever details are left out. */
  readonly runUrl?: string;
  /** Resource types called out as stateful; defaults to {@link STATEFUL_RESOURCE_TYPES}. */
  readonly statefulTypes?: readonly string[];
  /** Longest formatted attribute value before it is cut; default 300. */
  readonly maxValueLength?: number;
  /** Most attributes listed per resource; default 60. */
  readonly maxAttributesPerResource?: number;
  /** Sections shown after the stack table, never shortened (cost delta, topology; see operator-sections.ts). @default - none */
  readonly appendix?: readonly string[];
}

/** Totals across all stacks. */
export interface PlanTotals extends ChangeCounts {
  /** Stacks with a plan. */
  readonly stacks: number;
  /** Stacks whose plan has changes. */
  readonly stacksWithChanges: number;
  /** Stacks without a plan (see RenderOptions.failedStacks). */
  readonly failedStacks: number;
}

/** The rendered comment. */
export interface RenderedComment {
  readonly body: string;
  /** True when any stack would change (resources, imports, moves or outputs). */
  readonly hasChanges: boolean;
  readonly totals: PlanTotals;
}

function parseAll(plans: readonly StackPlan[]): ParsedPlan[] {
  const seen = new Set<string>();
  for (const { stack } of plans) {
    if (seen.has(stack)) throw new Error(`Two plans were given for stack "${stack}"`);
    seen.add(stack);
  }
  return plans.map(({ stack, plan }) => parsePlan(stack, plan)).sort((a, b) => compareStacks(a.stack, b.stack));
}

function joinSections(sections: readonly string[]): string {
  return sections.filter((section) => section !== '').join('\n\n') + '\n';
}

function footer(plans: readonly ParsedPlan[], ctx: SectionContext): string {
  const versions = [...new Set(plans.map((plan) => plan.terraformVersion).filter((v): v is string => v !== undefined))];
  const parts = [
    versions.length > 0 ? `Terraform ${versions.join(', ')}` : '',
    'sensitive values are masked',
    ctx.runUrl === undefined ? '' : `full logs in ${workflowRunLink(ctx)}`,
  ].filter(Boolean);
  return `<sub>${parts.join(' · ')}</sub>`;
}

function noChangesBody(plans: readonly ParsedPlan[], ctx: SectionContext, appendix: readonly string[]): string {
  const names = plans.map((plan) => code(plan.stack));
  const text =
    plans.length === 0
      ? '✅ **No changes.** This pull request does not change any synthesized stack.'
      : `✅ **No changes.** Terraform plans no changes for ${names.length > 20 ? `${names.length} stacks` : names.join(', ')}.`;
  return joinSections([PLAN_COMMENT_MARKER, '## Terraform plan', text, ...appendix, footer(plans, ctx)]);
}

/** Last resort when even the never-truncated parts are too long: cut and say so. */
function hardCut(body: string, maxLength: number, ctx: SectionContext): string {
  const note = `\n\n…comment cut to GitHub's size limit; see ${workflowRunLink(ctx)}.\n`;
  return (body.slice(0, Math.max(0, maxLength - note.length)) + note).slice(0, maxLength);
}

/**
 * Renders the plan comment for the given stacks. Throws PlanFormatError (naming the stack)
 * for a plan that is not valid `terraform show -json` output of format 1.x.
 *
 * To stay within `maxLength`, per-stack details are shortened first (largest stack first:
 * full diff, then resource list only, then one line); the headline, warnings and table are
 * kept. Only if those alone exceed the limit is the warning list shortened, with a note.
 */
export function renderPlanComment(plans: readonly StackPlan[], options: RenderOptions = {}): RenderedComment {
  const maxLength = options.maxLength ?? GITHUB_COMMENT_MAX_LENGTH;
  const statefulTypes = options.statefulTypes ?? STATEFUL_RESOURCE_TYPES;
  const parsed = parseAll(plans);
  const planned = new Set(parsed.map((plan) => plan.stack));
  const failed = sortStacks(new Set((options.failedStacks ?? []).filter((stack) => !planned.has(stack))));
  const destructive = destructiveChanges(parsed, statefulTypes);

  const summaries: StackSummary[] = parsed.map((plan) => ({
    plan,
    counts: countPlan(plan),
    stateful: destructive.some((item) => item.stack === plan.stack && item.stateful),
  }));
  const counts = summaries.reduce((sum, summary) => addCounts(sum, summary.counts), ZERO_COUNTS);
  const changedStacks = summaries.filter((summary) => hasChanges(summary.counts));
  const totals: PlanTotals = {
    ...counts,
    stacks: parsed.length,
    stacksWithChanges: changedStacks.length,
    failedStacks: failed.length,
  };
  const changes = hasChanges(counts);

  const ctx: SectionContext = {
    // Secrets from every stack are scrubbed everywhere: a secret shared between stacks may be
    // marked sensitive in one plan and not in another.
    secrets: new Set(parsed.flatMap((plan) => [...plan.sensitiveStrings])),
    maxValueLength: options.maxValueLength ?? 300,
    maxAttributesPerResource: options.maxAttributesPerResource ?? 60,
    runUrl: options.runUrl,
  };

  if (!changes && failed.length === 0) {
    const body = noChangesBody(parsed, ctx, options.appendix ?? []);
    return { body: body.length > maxLength ? hardCut(body, maxLength, ctx) : body, hasChanges: false, totals };
  }

  const head = (warningLimit: number): string[] => [
    PLAN_COMMENT_MARKER,
    '## Terraform plan',
    headline(counts, parsed.length),
    failedStacksBlock(failed, ctx, options.errorTails),
    destructiveBlock(destructive, ctx, warningLimit),
    releaseTasksBlock(parsed),
    releaseStepsBlock(parsed),
    attentionBlock(summaries),
    stackTable(summaries, failed),
    ...(options.appendix ?? []),
  ];

  // Rendered details per stack and level, cached because the fitting loop asks repeatedly.
  const levels = new Map<string, DetailLevel>(changedStacks.map((summary) => [summary.plan.stack, 'full']));
  const cache = new Map<string, string>();
  const details = (summary: StackSummary): string => {
    const level = levels.get(summary.plan.stack) ?? 'full';
    const key = `${level}\u0000${summary.plan.stack}`;
    let text = cache.get(key);
    if (text === undefined) {
      text = stackDetails(summary, level, ctx);
      cache.set(key, text);
    }
    return text;
  };
  const compose = (warningLimit: number): string =>
    joinSections([
      ...head(warningLimit),
      changedStacks.length > 0 ? '### Details' : '',
      ...changedStacks.map(details),
      footer(parsed, ctx),
    ]);

  let body = compose(destructive.length);
  while (body.length > maxLength) {
    // Shorten the largest remaining details by one level; one stack at a time keeps as much
    // detail as possible for the other stacks.
    const reducible = changedStacks.filter((summary) => levels.get(summary.plan.stack) !== 'omitted');
    if (reducible.length === 0) break;
    const largest = reducible.reduce((a, b) => (details(b).length > details(a).length ? b : a));
    levels.set(largest.plan.stack, levels.get(largest.plan.stack) === 'full' ? 'brief' : 'omitted');
    body = compose(destructive.length);
  }
  for (let limit = destructive.length; body.length > maxLength && limit > 0; ) {
    limit = Math.floor(limit / 2);
    body = compose(limit);
  }
  if (body.length > maxLength) body = hardCut(body, maxLength, ctx);
  return { body, hasChanges: changes, totals };
}
