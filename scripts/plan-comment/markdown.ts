/**
 * The Markdown pieces of the plan comment. Each function renders one section; `render.ts`
 * decides which of them fit. Every value shown goes through `values.ts`, which masks it.
 */
import type { OutputChange, ParsedPlan, ResourceChange } from './plan-format';
import { describeReason, isReportable, type ChangeCounts, type DestructiveChange } from './summary';
import { diffAttributes, formatPath, type AttributeChange, type FormatContext } from './values';
import { scrubSecrets } from './sensitive';

/** How much of a stack's details to show; lowered stack by stack to fit the size limit. */
export type DetailLevel = 'full' | 'brief' | 'omitted';

/** A stack's plan with its counts, as the sections need them. */
export interface StackSummary {
  readonly plan: ParsedPlan;
  readonly counts: ChangeCounts;
  readonly stateful: boolean;
}

/** Knobs shared by the sections. */
export interface SectionContext extends FormatContext {
  /** Link target for "see the workflow run"; plain text when absent. */
  readonly runUrl?: string;
  /** A resource with more changed attributes shows only this many. */
  readonly maxAttributesPerResource: number;
}

/** Length of the longest run of backticks in the text (reduce, not spread: texts can be long). */
function longestBacktickRun(text: string): number {
  return (text.match(/`+/g) ?? []).reduce((max, run) => Math.max(max, run.length), 0);
}

/** Inline code that survives backticks inside the text. */
export function code(text: string): string {
  const longest = longestBacktickRun(text);
  const fence = '`'.repeat(longest + 1);
  return longest === 0 ? `${fence}${text}${fence}` : `${fence} ${text} ${fence}`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A fenced block whose fence is longer than any backtick run in the content. */
function fenced(language: string, lines: readonly string[]): string {
  const content = lines.join('\n');
  const longest = longestBacktickRun(content);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${language}\n${content}\n${fence}`;
}

/** "see the workflow run", linked when the run URL is known. */
export function workflowRunLink(ctx: Pick<SectionContext, 'runUrl'>): string {
  return ctx.runUrl === undefined ? 'the workflow run' : `[the workflow run](${ctx.runUrl})`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The CLI's summary sentence, e.g. "1 to import, 3 to add, 1 to change, 2 to destroy". */
export function planSentence(counts: ChangeCounts): string {
  const parts = [`${counts.add} to add`, `${counts.change} to change`, `${counts.destroy} to destroy`];
  if (counts.import > 0) parts.unshift(`${counts.import} to import`);
  return parts.join(', ');
}

/** The bold headline with totals across all stacks. */
export function headline(totals: ChangeCounts, stackCount: number): string {
  const extras = [
    totals.outputs > 0 ? plural(totals.outputs, 'output change') : '',
    totals.forget > 0 ? `${totals.forget} to forget` : '',
    totals.moved > 0 ? `${totals.moved} moved` : '',
  ].filter(Boolean);
  const suffix = extras.length > 0 ? ` (${extras.join(', ')})` : '';
  return `**Plan: ${planSentence(totals)} across ${plural(stackCount, 'stack')}**${suffix}`;
}

function alert(kind: 'CAUTION' | 'WARNING', lines: readonly string[]): string {
  return [`> [!${kind}]`, ...lines.map((line) => `> ${line}`)].join('\n');
}

/** The loud block for stacks whose plan is missing, so a failure never reads as "no changes". */
export function failedStacksBlock(failed: readonly string[], ctx: SectionContext, errorTails: ReadonlyMap<string, string> = new Map()): string {
  if (failed.length === 0) return '';
  const block = alert('CAUTION', [
    `**❌ No plan for ${plural(failed.length, 'stack')}: ${failed.map(code).join(', ')}.**`,
    `The plan failed or was not produced; see ${workflowRunLink(ctx)}. Changes in these stacks are not shown below.`,
  ]);
  // The redacted end of each failed stack's log (scripts/plan-comment/error-tail.ts), so the
  // reason is in the comment and not only in a log that needs a click and a login.
  const tails = failed
    .filter((stack) => (errorTails.get(stack) ?? '').trim() !== '')
    .map((stack) => [`<details><summary>Error output of ${code(stack)} (last lines, redacted)</summary>`, '', fenced('text', [scrubSecrets(errorTails.get(stack)!, ctx.secrets)]), '', '</details>'].join('\n'));
  return [block, ...tails].join('\n\n');
}

function replacePathsText(change: ResourceChange): string {
  if (change.replacePaths.length === 0) return '';
  return `; forced by ${change.replacePaths.map((path) => code(formatPath(path))).join(', ')}`;
}

function actionPhrase(change: ResourceChange): string {
  switch (change.kind) {
    case 'create':
      return 'create';
    case 'update':
      return 'update in place';
    case 'replace':
      return change.replaceOrder === 'create-first' ? 'replace (create new, then destroy old)' : `replace (destroy, then create)${stopFirstGap(change)}`;
    case 'delete':
      return 'destroy';
    case 'forget':
      return 'remove from state, keep the real object';
    case 'read':
      return 'read';
    case 'no-op':
      return 'no change';
    case 'unknown':
      return `unrecognised actions [${change.actions.join(', ')}]`;
  }
}

/**
 * A container replaced stop-first (a singleton) leaves a gap: the old one
 * stops (up to its grace period), then the new one starts and is waited
 * for until healthy (up to its wait timeout). Both figures are the plan's own.
 */
function stopFirstGap(change: ResourceChange): string {
  if (change.type !== 'docker_container') return '';
  const seconds = (value: unknown, key: string) => {
    const field = (value as Record<string, unknown> | null | undefined)?.[key];
    return typeof field === 'number' ? field : undefined;
  };
  const grace = seconds(change.before, 'destroy_grace_seconds');
  const wait = (change.after as Record<string, unknown> | null | undefined)?.wait === true ? seconds(change.after, 'wait_timeout') : undefined;
  // Without the plan's figures (a container from before grace periods) "destroy, then create" says it already.
  if (grace === undefined) return '';
  const start = wait !== undefined ? `the new one's start until healthy (up to ${wait} s), at most ${grace + wait} s` : 'the new one starts';
  return `; a gap with no container: the old one's stop (up to ${grace} s), then ${start}`;
}

function displayAddress(change: ResourceChange): string {
  return change.deposed === undefined ? change.address : `${change.address} (deposed object ${change.deposed})`;
}

/**
 * The warning block listing every replacement and deletion, stateful ones marked. `limit`
 * caps the list only when the comment would otherwise not fit at all.
 */
export function destructiveBlock(items: readonly DestructiveChange[], ctx: SectionContext, limit = items.length): string {
  if (items.length === 0) return '';
  const stateful = items.filter((item) => item.stateful).length;
  const title =
    `**⚠️ ${plural(items.length, 'resource')} will be destroyed or replaced` +
    (stateful > 0 ? ` — ${stateful} of them hold data 🚨` : '') +
    '**';
  const lines = items.slice(0, limit).map(({ stack, change, stateful: isData }) => {
    const reason = describeReason(change.actionReason);
    const why = (reason === undefined ? '' : `: ${reason}`) + replacePathsText(change);
    const alarm = isData ? '🚨 **STATEFUL** ' : '';
    return `- ${alarm}${code(stack)} · ${code(displayAddress(change))} — **${actionPhrase(change)}**${why}`;
  });
  if (limit < items.length) {
    lines.push(`- …and ${items.length - limit} more; see ${workflowRunLink(ctx)}`);
  }
  return alert('CAUTION', [title, '', ...lines]);
}

/** Forgotten objects and unrecognised actions: not destructive, but worth a look. */
export function attentionBlock(stacks: readonly StackSummary[]): string {
  const lines = stacks.flatMap(({ plan }) =>
    plan.resourceChanges
      .filter((change) => change.kind === 'forget' || change.kind === 'unknown')
      .map((change) => `- ${code(plan.stack)} · ${code(displayAddress(change))} — ${actionPhrase(change)}`),
  );
  const errored = stacks.filter(({ plan }) => plan.errored).map(({ plan }) => code(plan.stack));
  if (errored.length > 0) lines.unshift(`- Terraform reported the plan as errored (incomplete) for ${errored.join(', ')}`);
  return lines.length === 0 ? '' : alert('WARNING', ['**Needs attention**', '', ...lines]);
}

function statusIcon(summary: StackSummary): string {
  const { counts } = summary;
  if (counts.replace + counts.delete > 0) return summary.stateful ? '🚨' : '⚠️';
  return counts.add + counts.change + counts.import + counts.forget + counts.moved + counts.unrecognised + counts.outputs > 0
    ? '📝'
    : '✅';
}

/** The per-stack table of create/update/replace/delete counts; failed stacks included. */
export function stackTable(stacks: readonly StackSummary[], failed: readonly string[]): string {
  const rows = stacks.map((summary) => {
    const c = summary.counts;
    return `| ${statusIcon(summary)} | ${code(summary.plan.stack)} | ${c.create} | ${c.update} | ${c.replace} | ${c.delete} | ${c.outputs} |`;
  });
  const failedRows = failed.map((stack) => `| ❌ | ${code(stack)} | – | – | – | – | – |`);
  return [
    '| | Stack | Create | Update | Replace | Delete | Outputs |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    ...failedRows,
  ].join('\n');
}

function resourceHeading(change: ResourceChange): string {
  const verb = change.importing && change.kind === 'no-op' ? 'import' : actionPhrase(change);
  const extras = [
    change.importing && change.kind !== 'no-op' ? 'import' : '',
    change.previousAddress !== undefined && change.previousAddress !== change.address ? `moved from ${change.previousAddress}` : '',
  ].filter(Boolean);
  const reason = change.kind === 'replace' || change.kind === 'delete' ? describeReason(change.actionReason) : undefined;
  return `# ${displayAddress(change)}: ${verb}${extras.length > 0 ? ` (${extras.join(', ')})` : ''}${reason === undefined ? '' : ` — ${reason}`}`;
}

function forcesReplacement(path: readonly (string | number)[], change: ResourceChange): boolean {
  return change.replacePaths.some((forced) => {
    const shorter = Math.min(forced.length, path.length);
    for (let i = 0; i < shorter; i += 1) if (String(forced[i]) !== String(path[i])) return false;
    return true;
  });
}

function attributeLine(attribute: AttributeChange, ctx: SectionContext, forced: boolean): string {
  const path = formatPath(attribute.path, ctx.secrets);
  const note = forced ? '   # forces replacement' : '';
  if (attribute.before === undefined) return `+ ${path} = ${attribute.after ?? ''}${note}`;
  if (attribute.after === undefined) return `- ${path} = ${attribute.before}${note}`;
  return `! ${path} = ${attribute.before} -> ${attribute.after}${note}`;
}

function resourceLines(change: ResourceChange, ctx: SectionContext): string[] {
  const attributes = change.kind === 'forget' ? [] : diffAttributes(change, ctx);
  const shown = attributes
    .slice(0, ctx.maxAttributesPerResource)
    .map((attribute) => attributeLine(attribute, ctx, forcesReplacement(attribute.path, change)));
  if (attributes.length > shown.length) shown.push(`  # …and ${attributes.length - shown.length} more attributes`);
  return [resourceHeading(change), ...shown];
}

function outputLines(outputs: readonly OutputChange[], ctx: SectionContext): string[] {
  return outputs
    .filter((output) => output.kind !== 'no-op')
    .flatMap((output) => diffAttributes(output, ctx, [output.name]).map((attribute) => attributeLine(attribute, ctx, false)));
}

function stackSummaryLine(summary: StackSummary): string {
  const extras = [
    summary.counts.outputs > 0 ? plural(summary.counts.outputs, 'output change') : '',
    summary.plan.errored ? '⚠️ plan errored' : '',
  ].filter(Boolean);
  return `${escapeHtml(planSentence(summary.counts))}${extras.length > 0 ? ` · ${extras.join(' · ')}` : ''}`;
}

/**
 * One stack's folded details. `full` lists every changed attribute, `brief` only the resources
 * and their actions, `omitted` a single line; the shorter forms say where the rest is.
 */
export function stackDetails(summary: StackSummary, level: DetailLevel, ctx: SectionContext): string {
  const { plan } = summary;
  const truncated = `✂️ details truncated, see ${workflowRunLink(ctx)} (GitHub limits a comment's size).`;
  if (level === 'omitted') return `- ${code(plan.stack)}: ${stackSummaryLine(summary)}. ${truncated}`;
  const resources = plan.resourceChanges.filter(isReportable);
  const parts: string[] = [];
  if (resources.length > 0) {
    const lines =
      level === 'full'
        ? resources.flatMap((change, i) => (i === 0 ? [] : ['']).concat(resourceLines(change, ctx)))
        : resources.map(resourceHeading);
    parts.push(fenced('diff', lines));
  }
  if (level === 'full') {
    const outputs = outputLines(plan.outputChanges, ctx);
    if (outputs.length > 0) parts.push('**Outputs**', fenced('diff', outputs));
  } else {
    parts.push(truncated);
  }
  const summaryLine = `<code>${escapeHtml(plan.stack)}</code> — ${stackSummaryLine(summary)}`;
  return [`<details><summary>${summaryLine}</summary>`, '', ...parts.flatMap((part) => [part, '']), '</details>'].join('\n');
}
