/**
 * Redaction of a `terraform show -json` plan before it leaves the job that made it.
 *
 * Terraform writes sensitive values in clear text into the plan JSON, and workflow artifacts
 * can be downloaded by anyone with read access to the repository. The plan job therefore
 * uploads only this redacted copy: same format (so the renderer treats it exactly like the
 * original), but sensitive values replaced, known secrets scrubbed from all other strings, and
 * the value-carrying sections the comment never uses dropped.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { canonicalJson, isObject, type JsonObject } from './json';
import { parsePlan } from './plan-format';
import { childMask, scrubSecrets, SENSITIVE_LABEL } from './sensitive';

/** Top-level plan keys kept; everything else (variables, prior_state, ...) is dropped. */
const KEPT_KEYS = ['format_version', 'terraform_version', 'timestamp', 'applyable', 'complete', 'errored'];

interface RedactContext {
  readonly secrets: ReadonlySet<string>;
  /** Random per call and never stored: placeholders keep "equal or not" and nothing else. */
  readonly key: Buffer;
}

function placeholder(value: unknown, ctx: RedactContext): string {
  // Equal secrets get equal placeholders, so "did this sensitive attribute change?" still
  // has the right answer after redaction.
  const digest = createHmac('sha256', ctx.key).update(canonicalJson(value)).digest('hex').slice(0, 12);
  return `${SENSITIVE_LABEL.slice(0, -1)} ${digest})`;
}

function redactValue(value: unknown, masks: readonly unknown[], ctx: RedactContext): unknown {
  if (masks.some((mask) => mask === true)) return value === null || value === undefined ? value : placeholder(value, ctx);
  if (typeof value === 'string') return scrubSecrets(value, ctx.secrets);
  if (Array.isArray(value)) return value.map((item, i) => redactValue(item, masks.map((m) => childMask(m, i)), ctx));
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, redactValue(item, masks.map((m) => childMask(m, key)), ctx)]),
    );
  }
  return value;
}

function redactChange(change: unknown, ctx: RedactContext): unknown {
  if (!isObject(change)) return change;
  const masks = [change.before_sensitive, change.after_sensitive];
  const result: JsonObject = { ...change };
  if ('before' in change) result.before = redactValue(change.before, masks, ctx);
  if ('after' in change) result.after = redactValue(change.after, masks, ctx);
  // `importing.id` can be anything the config put there; keep only that it is an import.
  if (isObject(change.importing)) result.importing = {};
  return result;
}

/**
 * Returns a copy of a raw plan that is safe to store: validated (throws PlanFormatError like
 * the renderer), sensitive values replaced by opaque placeholders, known secrets scrubbed, and
 * only the keys the renderer reads kept.
 */
export function redactPlan(stack: string, raw: unknown): JsonObject {
  const parsed = parsePlan(stack, raw);
  const plan = raw as JsonObject; // parsePlan has checked it is an object
  const ctx: RedactContext = { secrets: parsed.sensitiveStrings, key: randomBytes(32) };
  const result: JsonObject = {};
  for (const key of KEPT_KEYS) if (key in plan) result[key] = plan[key];
  if (Array.isArray(plan.resource_changes)) {
    result.resource_changes = plan.resource_changes.map((entry: unknown) =>
      isObject(entry) ? { ...entry, change: redactChange(entry.change, ctx) } : entry,
    );
  }
  if (isObject(plan.output_changes)) {
    result.output_changes = Object.fromEntries(
      Object.entries(plan.output_changes).map(([name, change]) => [name, redactChange(change, ctx)]),
    );
  }
  return result;
}
