/**
 * Attribute-level diffs and value formatting for the comment, with masking built in: there is
 * no way to format a value here without passing the sensitivity marks that belong to it.
 */
import { deepEqual, isObject, type PathSegment } from './json';
import { childMask, containsMark, scrubSecrets, SENSITIVE_LABEL, UNKNOWN_LABEL } from './sensitive';

/** What a formatted value may show. */
export interface FormatContext {
  /** Known sensitive strings, scrubbed from everything shown (see ParsedPlan.sensitiveStrings). */
  readonly secrets: ReadonlySet<string>;
  /** Longer formatted values are cut, so one big user_data blob cannot flood the comment. */
  readonly maxValueLength: number;
}

/** One changed attribute; a missing side means the attribute is added or removed. */
export interface AttributeChange {
  readonly path: readonly PathSegment[];
  readonly before?: string;
  readonly after?: string;
}

/** A before/after pair with its marks, as found in a resource or output change. */
export interface MaskedChange {
  readonly before: unknown;
  readonly after: unknown;
  readonly beforeSensitive: unknown;
  readonly afterSensitive: unknown;
  readonly afterUnknown: unknown;
}

interface Side {
  readonly present: boolean;
  readonly value: unknown;
}

const ABSENT: Side = { present: false, value: undefined };

/** Null counts as absent, as in Terraform's own rendering: `null -> "x"` reads as an addition. */
function side(value: unknown): Side {
  return value === null || value === undefined ? ABSENT : { present: true, value };
}

function childSide(parent: Side, segment: PathSegment): Side {
  const value = parent.value;
  if (typeof segment === 'number' && Array.isArray(value)) return side(value[segment]);
  if (typeof segment === 'string' && isObject(value) && Object.hasOwn(value, segment)) return side(value[segment]);
  return ABSENT;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `labels.env`, `rule[0].port`, `labels["app.kubernetes.io/name"]`. */
export function formatPath(path: readonly PathSegment[], secrets: ReadonlySet<string> = new Set()): string {
  if (path.length === 0) return '(whole value)';
  const text = path
    .map((segment, i) => {
      if (typeof segment === 'number') return `[${segment}]`;
      if (IDENTIFIER.test(segment)) return i === 0 ? segment : `.${segment}`;
      return `[${JSON.stringify(segment)}]`;
    })
    .join('');
  return scrubSecrets(text, secrets);
}

function render(value: unknown, masks: readonly unknown[], unknown: unknown, ctx: FormatContext): string {
  if (masks.some((mask) => mask === true)) return SENSITIVE_LABEL;
  if (unknown === true) return UNKNOWN_LABEL;
  if (Array.isArray(value) || (value === undefined && Array.isArray(unknown))) {
    const items = Array.isArray(value) ? value : [];
    const length = Math.max(items.length, Array.isArray(unknown) ? unknown.length : 0);
    const parts = Array.from({ length }, (_, i) =>
      render(items[i], masks.map((m) => childMask(m, i)), childMask(unknown, i), ctx),
    );
    return `[${parts.join(', ')}]`;
  }
  if (isObject(value)) {
    // Unknown attributes are omitted from `after`, so their keys come from the unknown mask.
    const keys = new Set([...Object.keys(value), ...(isObject(unknown) ? Object.keys(unknown) : [])]);
    const parts = [...keys]
      .sort()
      .filter((key) => value[key] !== undefined || childMask(unknown, key) === true)
      .map((key) => {
        const shown = render(value[key], masks.map((m) => childMask(m, key)), childMask(unknown, key), ctx);
        return `${IDENTIFIER.test(key) ? key : JSON.stringify(key)} = ${shown}`;
      });
    return parts.length === 0 ? '{}' : `{ ${parts.join(', ')} }`;
  }
  if (typeof value === 'string') return JSON.stringify(scrubSecrets(value, ctx.secrets));
  return value === undefined ? 'null' : JSON.stringify(value);
}

/**
 * Formats one value for display: sensitive parts (per any of `masks`) as `(sensitive)`,
 * unknown parts as `(known after apply)`, known secrets scrubbed, long results cut.
 */
export function formatValue(value: unknown, masks: readonly unknown[], unknown: unknown, ctx: FormatContext): string {
  const text = render(value, masks, unknown, ctx);
  if (text.length <= ctx.maxValueLength) return text;
  return `${text.slice(0, ctx.maxValueLength)}… (${text.length - ctx.maxValueLength} more characters)`;
}

/** A non-empty list of plain values, compared as a whole (an empty list fits either kind). */
function isScalarList(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 && value.every((item) => item === null || typeof item !== 'object');
}

type Shape = 'object' | 'list' | 'scalar-list' | 'leaf' | 'absent';

function shapeOf(s: Side, unknownMask: unknown): Shape {
  if (!s.present) return isObject(unknownMask) ? 'object' : 'absent';
  if (isScalarList(s.value)) return 'scalar-list';
  if (Array.isArray(s.value)) return 'list';
  return isObject(s.value) ? 'object' : 'leaf';
}

function childKeys(before: Side, after: Side, unknown: unknown, shape: 'object' | 'list'): PathSegment[] {
  if (shape === 'list') {
    const length = (s: Side): number => (Array.isArray(s.value) ? s.value.length : 0);
    const unknownLength = Array.isArray(unknown) ? unknown.length : 0;
    return Array.from({ length: Math.max(length(before), length(after), unknownLength) }, (_, i) => i);
  }
  const keys = (value: unknown): string[] => (isObject(value) ? Object.keys(value) : []);
  return [...new Set([...keys(before.value), ...keys(after.value), ...keys(unknown)])].sort();
}

function walk(
  path: readonly PathSegment[],
  before: Side,
  after: Side,
  masks: readonly unknown[],
  unknown: unknown,
  ctx: FormatContext,
  out: AttributeChange[],
): void {
  const afterPresent = after.present || unknown === true;
  if (!before.present && !afterPresent) return;

  if (masks.some((mask) => mask === true)) {
    // Comparing the raw values only decides whether to list the attribute; neither is shown.
    const changed = before.present !== afterPresent || unknown === true || !deepEqual(before.value, after.value);
    if (changed) {
      out.push({ path, before: before.present ? SENSITIVE_LABEL : undefined, after: afterPresent ? SENSITIVE_LABEL : undefined });
    }
    return;
  }
  if (unknown === true) {
    out.push({ path, before: before.present ? formatValue(before.value, masks, undefined, ctx) : undefined, after: UNKNOWN_LABEL });
    return;
  }

  const beforeShape = shapeOf(before, undefined);
  const afterShape = shapeOf(after, unknown);
  const container = (shape: Shape): shape is 'object' | 'list' => shape === 'object' || shape === 'list';
  const recurseAs =
    beforeShape === afterShape && container(beforeShape)
      ? beforeShape
      : beforeShape === 'absent' && container(afterShape)
        ? afterShape
        : afterShape === 'absent' && container(beforeShape)
          ? beforeShape
          : undefined;
  if (recurseAs !== undefined) {
    for (const key of childKeys(before, after, unknown, recurseAs)) {
      walk(
        [...path, key],
        childSide(before, key),
        childSide(after, key),
        masks.map((m) => childMask(m, key)),
        childMask(unknown, key),
        ctx,
        out,
      );
    }
    return;
  }

  if (before.present && after.present && deepEqual(before.value, after.value) && !containsMark(unknown)) return;
  out.push({
    path,
    before: before.present ? formatValue(before.value, masks, undefined, ctx) : undefined,
    after: afterPresent ? formatValue(after.value, masks, unknown, ctx) : undefined,
  });
}

/**
 * Lists the attributes that differ between `before` and `after`, down to the leaves
 * (`labels.env`, `rule[0].port`); lists of plain values are compared as a whole. For a create
 * every non-null attribute is listed, for a delete every non-null old attribute.
 * `basePath` prefixes every path (an output's name, for example).
 */
export function diffAttributes(
  change: MaskedChange,
  ctx: FormatContext,
  basePath: readonly PathSegment[] = [],
): AttributeChange[] {
  const out: AttributeChange[] = [];
  walk(
    basePath,
    side(change.before),
    side(change.after),
    [change.beforeSensitive, change.afterSensitive],
    change.afterUnknown,
    ctx,
    out,
  );
  return out;
}
