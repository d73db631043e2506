/**
 * Sensitivity and unknown-ness marks.
 *
 * Terraform describes which parts of a value are sensitive (`before_sensitive`,
 * `after_sensitive`) or unknown until apply (`after_unknown`) with a "mask" that mirrors the
 * value: objects and lists of marks, `true` for a marked subtree, `false`/absent for unmarked.
 * The raw value itself is still written in full, so every printed value must go through here.
 */
import { isObject, type JsonObject, type PathSegment } from './json';

/** Shown instead of a sensitive value. */
export const SENSITIVE_LABEL = '(sensitive)';

/** Shown instead of a value Terraform only learns during apply. */
export const UNKNOWN_LABEL = '(known after apply)';

/**
 * Shorter sensitive strings are not scrubbed from displayed text: a 1-3 character secret would
 * blank out unrelated text all over the comment, while the marks still mask it where it sits.
 */
export const MIN_SCRUB_LENGTH = 4;

/** The mask for one child of a masked value; a marked parent marks every child. */
export function childMask(mask: unknown, segment: PathSegment): unknown {
  if (mask === true) return true;
  if (typeof segment === 'number' && Array.isArray(mask)) return mask[segment];
  if (typeof segment === 'string' && isObject(mask)) return mask[segment];
  return undefined;
}

/** True if the mask marks anything at or below this point. */
export function containsMark(mask: unknown): boolean {
  if (mask === true) return true;
  if (Array.isArray(mask)) return mask.some(containsMark);
  if (isObject(mask)) return Object.values(mask).some(containsMark);
  return false;
}

/** Adds every string leaf of `value` that sits under a `true` in one of `masks`. */
function addMarkedStrings(value: unknown, masks: readonly unknown[], into: Set<string>): void {
  if (masks.some((mask) => mask === true)) {
    addAllStrings(value, into);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => addMarkedStrings(item, masks.map((m) => childMask(m, i)), into));
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) addMarkedStrings(item, masks.map((m) => childMask(m, key)), into);
  }
}

function addAllStrings(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    if (value.length >= MIN_SCRUB_LENGTH) into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) addAllStrings(item, into);
  } else if (isObject(value)) {
    for (const item of Object.values(value)) addAllStrings(item, into);
  }
}

function objectAt(root: unknown, ...path: string[]): JsonObject {
  let node = root;
  for (const key of path) node = isObject(node) ? node[key] : undefined;
  return isObject(node) ? node : {};
}

/**
 * Collects every sensitive string in a raw `terraform show -json` plan, from all the places
 * Terraform writes them in clear text: resource and output changes, sensitive root variables
 * (value and default), and sensitive outputs in `planned_values` and `prior_state`.
 */
export function collectSensitiveStrings(plan: unknown): Set<string> {
  const found = new Set<string>();
  const changes = isObject(plan) && Array.isArray(plan.resource_changes) ? plan.resource_changes : [];
  const outputChanges = Object.values(objectAt(plan, 'output_changes'));
  for (const entry of [...changes.map((c) => (isObject(c) ? c.change : undefined)), ...outputChanges]) {
    if (!isObject(entry)) continue;
    // Either side's mark counts for both values: a value that becomes (or stops being)
    // sensitive is still a secret on the other side.
    const masks = [entry.before_sensitive, entry.after_sensitive];
    addMarkedStrings(entry.before, masks, found);
    addMarkedStrings(entry.after, masks, found);
  }
  const declared = objectAt(plan, 'configuration', 'root_module', 'variables');
  const values = objectAt(plan, 'variables');
  for (const [name, declaration] of Object.entries(declared)) {
    if (!isObject(declaration) || declaration.sensitive !== true) continue;
    addAllStrings(declaration.default, found);
    addAllStrings(objectAt(values, name).value, found);
  }
  for (const outputs of [objectAt(plan, 'planned_values', 'outputs'), objectAt(plan, 'prior_state', 'values', 'outputs')]) {
    for (const output of Object.values(outputs)) {
      if (isObject(output) && output.sensitive === true) addAllStrings(output.value, found);
    }
  }
  return found;
}

/**
 * Replaces every occurrence of a known sensitive string (raw or JSON-escaped) in `text`.
 * Longest first, so a secret that contains a shorter secret is removed whole.
 */
export function scrubSecrets(text: string, secrets: ReadonlySet<string>): string {
  if (secrets.size === 0) return text;
  let result = text;
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  for (const secret of ordered) {
    const escaped = JSON.stringify(secret).slice(1, -1);
    for (const form of escaped === secret ? [secret] : [secret, escaped]) {
      if (result.includes(form)) result = result.split(form).join(SENSITIVE_LABEL);
    }
  }
  return result;
}
