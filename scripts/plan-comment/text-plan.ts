/**
 * Speculative plans from Terraform Cloud, shown in the plan comment.
 *
 * With Terraform Cloud, pull requests run `terraform plan` without `-out`: a speculative plan,
 * which HCP Terraform "can not apply" (developer.hashicorp.com/terraform/cloud-docs/run/cli and
 * run/modes-and-options), so a pull request never leaves an appliable run in a workspace. Its
 * only output is the text log Terraform streams, with sensitive values already shown as
 * `(sensitive value)`; this module reads the summary line and shows the log folded.
 */
import { redactSecretsInText } from './error-tail';

// ANSI colour sequences, in case a log was written without -no-color.
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/** What a text plan says it will do; undefined counts mean the log has no summary line. */
export interface TextPlanSummary {
  readonly add?: number;
  readonly change?: number;
  readonly destroy?: number;
  /** True for "No changes." */
  readonly noChanges: boolean;
}

/** Reads Terraform's "Plan: 1 to add, 2 to change, 0 to destroy." or "No changes." line. */
export function summarizeTextPlan(log: string): TextPlanSummary {
  const text = log.replace(ANSI, '');
  const plan = /Plan: (?:\d+ to import, )?(\d+) to add, (\d+) to change, (\d+) to destroy/.exec(text);
  if (plan) return { add: Number(plan[1]), change: Number(plan[2]), destroy: Number(plan[3]), noChanges: false };
  return { noChanges: /\bNo changes\./.test(text) };
}

/** True unless the log says there is nothing to change: an unreadable log counts as a change. */
export function textPlanHasChanges(summary: TextPlanSummary): boolean {
  return !summary.noChanges;
}

/** The comment section for the speculative plans, at most `maxChars` long. */
export function textPlansSection(plans: ReadonlyMap<string, string>, maxChars: number): string {
  if (plans.size === 0) return '';
  const rows = [...plans].map(([stack, log]) => {
    const summary = summarizeTextPlan(log);
    const said = summary.noChanges ? 'no changes' : summary.add === undefined ? 'see the log' : `+${summary.add} ~${summary.change} -${summary.destroy}`;
    return { stack, said, log: redactSecretsInText(log.replace(ANSI, '')).split('\n').slice(-150).join('\n') };
  });
  const table = ['| stack | speculative plan |', '| --- | --- |', ...rows.map((row) => `| \`${row.stack}\` | ${row.said} |`)].join('\n');
  let body = `### Speculative plans in Terraform Cloud\n\n${table}`;
  for (const row of rows) {
    const fence = '`'.repeat(Math.max(3, ...(row.log.match(/`+/g) ?? []).map((run) => run.length + 1)));
    const details = `\n\n<details><summary>${row.stack}</summary>\n\n${fence}text\n${row.log}\n${fence}\n\n</details>`;
    if (body.length + details.length > maxChars) break;
    body += details;
  }
  return body.length > maxChars ? body.slice(0, maxChars) : body;
}
