/**
 * The drift issue: one open issue lists the stacks whose real infrastructure no longer matches
 * the code, updated by every scheduled drift run and closed by the first clean one
 * (.github/workflows/drift.yml).
 *
 * `terraform plan -detailed-exitcode` exits 0 when there is nothing to change, 2 when there
 * are changes (drift, or code not yet applied) and 1 on error.
 */

/** Title the workflow finds its issue by (with the `drift` label). */
export const DRIFT_ISSUE_TITLE = 'Infrastructure drift detected';

/** Hidden marker in the body, so only the workflow's own issue is updated. */
export const DRIFT_ISSUE_MARKER = '<!-- manacore-drift-issue -->';

/** Result of one stack's drift plan. */
export interface DriftResult {
  readonly stack: string;
  /** `-detailed-exitcode` of `terraform plan`, or undefined when the plan never ran. */
  readonly exitCode: number | undefined;
}

/** The issue body and whether an issue should be open. */
export interface DriftReport {
  /** True when any stack drifted or failed: the issue is opened or updated; false closes it. */
  readonly open: boolean;
  readonly drifted: readonly string[];
  readonly failed: readonly string[];
  readonly clean: readonly string[];
  readonly body: string;
}

/** Classifies the exit codes and writes the issue body. */
export function driftReport(results: readonly DriftResult[], runUrl?: string): DriftReport {
  const drifted = results.filter((result) => result.exitCode === 2).map((result) => result.stack);
  const clean = results.filter((result) => result.exitCode === 0).map((result) => result.stack);
  const failed = results.filter((result) => result.exitCode !== 0 && result.exitCode !== 2).map((result) => result.stack);
  const run = runUrl ? `[the drift run](${runUrl})` : 'the drift run';
  const list = (stacks: readonly string[]) => stacks.map((stack) => `- \`${stack}\``).join('\n');
  const body = [
    DRIFT_ISSUE_MARKER,
    `Checked ${results.length} stacks with \`terraform plan -detailed-exitcode\` in ${run}.`,
    drifted.length > 0 ? `\n**Drifted (${drifted.length})**: the plan wants to change them; apply the stack or fix the code.\n${list(drifted)}` : '',
    failed.length > 0 ? `\n**Could not be checked (${failed.length})**: the plan failed; see the run's log.\n${list(failed)}` : '',
    `\nClean: ${clean.length} of ${results.length}. This issue is updated by every drift run and closed by the first clean one.`,
  ]
    .filter(Boolean)
    .join('\n');
  return { open: drifted.length > 0 || failed.length > 0, drifted, failed, clean, body };
}
