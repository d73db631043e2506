/**
 * Parsing and validation of the `terraform show -json <planfile>` format.
 *
 * Only the parts the comment needs are kept. `variables`, `prior_state`, `planned_values` and
 * `configuration` are deliberately dropped here: they hold raw (also sensitive) values, and a
 * value that is never carried past the parser cannot end up in a comment. The one thing taken
 * from them is the set of sensitive strings, so the renderer can scrub those wherever they
 * turn up unmarked.
 */
import { isObject, type PathSegment } from './json';
import { collectSensitiveStrings } from './sensitive';

export type { PathSegment } from './json';

/**
 * What Terraform will do to one object, derived from `change.actions`.
 * `replace` covers both orders (`["delete","create"]` and `["create","delete"]`); `unknown`
 * is an action list this code does not know, shown loudly rather than rejected so that a
 * newer Terraform does not break the comment.
 */
export type ActionKind = 'create' | 'update' | 'replace' | 'delete' | 'read' | 'no-op' | 'forget' | 'unknown';

/** A `resource_changes[]` entry. */
export interface ResourceChange {
  readonly address: string;
  /** Set when a `moved` block renames the object. */
  readonly previousAddress?: string;
  readonly type: string;
  readonly name: string;
  readonly mode: 'managed' | 'data';
  /** Deposed object key, when the change is about a leftover of an earlier replacement. */
  readonly deposed?: string;
  readonly actions: readonly string[];
  readonly kind: ActionKind;
  /** Only for `replace`: which half runs first (create first means create_before_destroy). */
  readonly replaceOrder?: 'delete-first' | 'create-first';
  readonly importing: boolean;
  readonly before: unknown;
  readonly after: unknown;
  readonly afterUnknown: unknown;
  readonly beforeSensitive: unknown;
  readonly afterSensitive: unknown;
  readonly replacePaths: readonly (readonly PathSegment[])[];
  readonly actionReason?: string;
}

/** An `output_changes` entry. */
export interface OutputChange {
  readonly name: string;
  readonly actions: readonly string[];
  readonly kind: ActionKind;
  readonly before: unknown;
  readonly after: unknown;
  readonly afterUnknown: unknown;
  readonly beforeSensitive: unknown;
  readonly afterSensitive: unknown;
}

/** The validated, value-minimal view of one stack's plan. */
export interface ParsedPlan {
  readonly stack: string;
  readonly formatVersion: string;
  readonly terraformVersion?: string;
  readonly resourceChanges: readonly ResourceChange[];
  readonly outputChanges: readonly OutputChange[];
  /** Terraform's own `errored` flag: the plan is incomplete. */
  readonly errored: boolean;
  /**
   * Every string Terraform marks sensitive anywhere in the plan (resource and output values,
   * sensitive variables, sensitive planned outputs). Never printed: the renderer scrubs these
   * from everything it shows, as a second line of defence for values whose sensitivity mark
   * got lost on the way (e.g. copied into a non-sensitive attribute by a provider).
   */
  readonly sensitiveStrings: ReadonlySet<string>;
}

/** The only `format_version` major this code understands; minors only add fields. */
export const SUPPORTED_FORMAT_MAJOR = 1;

/** Raised for anything that is not a plan in a format this code understands. */
export class PlanFormatError extends Error {
  constructor(stack: string, detail: string) {
    super(`Plan for stack "${stack}": ${detail}`);
    this.name = 'PlanFormatError';
  }
}

/** Maps a `change.actions` list to its kind, following Terraform's plans.Action encoding. */
export function classifyActions(actions: readonly string[]): ActionKind {
  const key = actions.join(',');
  switch (key) {
    case 'create':
    case 'update':
    case 'delete':
    case 'read':
    case 'no-op':
    case 'forget':
      return key;
    case 'delete,create':
    case 'create,delete':
      return 'replace';
    default:
      return 'unknown';
  }
}

function optionalString(stack: string, where: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new PlanFormatError(stack, `${where} must be a string`);
  return value;
}

function requireString(stack: string, where: string, value: unknown): string {
  const result = optionalString(stack, where, value);
  if (result === undefined) throw new PlanFormatError(stack, `${where} is missing`);
  return result;
}

function parseActions(stack: string, where: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((a) => typeof a === 'string')) {
    throw new PlanFormatError(stack, `${where}.actions must be a non-empty list of strings`);
  }
  return value as string[];
}

function parseReplacePaths(stack: string, where: string, value: unknown): PathSegment[][] {
  if (value === undefined || value === null) return [];
  const valid =
    Array.isArray(value) &&
    value.every((path) => Array.isArray(path) && path.every((s) => typeof s === 'string' || typeof s === 'number'));
  if (!valid) throw new PlanFormatError(stack, `${where}.replace_paths must be a list of attribute paths`);
  return value as PathSegment[][];
}

function parseResourceChange(stack: string, index: number, raw: unknown): ResourceChange {
  const where = `resource_changes[${index}]`;
  if (!isObject(raw)) throw new PlanFormatError(stack, `${where} must be an object`);
  const address = requireString(stack, `${where}.address`, raw.address);
  const at = `${where} (${address})`;
  const mode = requireString(stack, `${at}.mode`, raw.mode);
  if (mode !== 'managed' && mode !== 'data') {
    throw new PlanFormatError(stack, `${at}.mode must be "managed" or "data", got "${mode}"`);
  }
  const change = raw.change;
  if (!isObject(change)) throw new PlanFormatError(stack, `${at}.change must be an object`);
  const actions = parseActions(stack, `${at}.change`, change.actions);
  const kind = classifyActions(actions);
  return {
    address,
    previousAddress: optionalString(stack, `${at}.previous_address`, raw.previous_address),
    type: requireString(stack, `${at}.type`, raw.type),
    name: requireString(stack, `${at}.name`, raw.name),
    mode,
    deposed: optionalString(stack, `${at}.deposed`, raw.deposed),
    actions,
    kind,
    replaceOrder: kind === 'replace' ? (actions[0] === 'delete' ? 'delete-first' : 'create-first') : undefined,
    importing: isObject(change.importing),
    before: change.before ?? null,
    after: change.after ?? null,
    afterUnknown: change.after_unknown ?? false,
    beforeSensitive: change.before_sensitive ?? false,
    afterSensitive: change.after_sensitive ?? false,
    replacePaths: parseReplacePaths(stack, at, change.replace_paths),
    actionReason: optionalString(stack, `${at}.action_reason`, raw.action_reason),
  };
}

function parseOutputChange(stack: string, name: string, raw: unknown): OutputChange {
  const where = `output_changes.${name}`;
  if (!isObject(raw)) throw new PlanFormatError(stack, `${where} must be an object`);
  const actions = parseActions(stack, where, raw.actions);
  return {
    name,
    actions,
    kind: classifyActions(actions),
    // Terraform omits `after` entirely when the new value is unknown.
    before: raw.before ?? null,
    after: raw.after ?? null,
    afterUnknown: raw.after_unknown ?? false,
    beforeSensitive: raw.before_sensitive ?? false,
    afterSensitive: raw.after_sensitive ?? false,
  };
}

/**
 * Validates a parsed `terraform show -json` document and returns the parts the comment needs.
 * Throws {@link PlanFormatError} naming the stack for anything unexpected, including a
 * `format_version` whose major is not {@link SUPPORTED_FORMAT_MAJOR} (a new major may change
 * the meaning of fields, so guessing would risk a wrong or leaking comment).
 */
export function parsePlan(stack: string, raw: unknown): ParsedPlan {
  if (!isObject(raw)) throw new PlanFormatError(stack, 'not a JSON object (expected `terraform show -json` output)');
  const formatVersion = requireString(stack, 'format_version', raw.format_version);
  const major = /^(\d+)\.\d+/.exec(formatVersion)?.[1];
  if (major === undefined || Number(major) !== SUPPORTED_FORMAT_MAJOR) {
    throw new PlanFormatError(
      stack,
      `unsupported format_version "${formatVersion}" (expected ${SUPPORTED_FORMAT_MAJOR}.x)`,
    );
  }
  // Both lists are omitted by Terraform when empty.
  const rawChanges = raw.resource_changes ?? [];
  if (!Array.isArray(rawChanges)) throw new PlanFormatError(stack, 'resource_changes must be a list');
  const rawOutputs = raw.output_changes ?? {};
  if (!isObject(rawOutputs)) throw new PlanFormatError(stack, 'output_changes must be an object');
  return {
    stack,
    formatVersion,
    terraformVersion: optionalString(stack, 'terraform_version', raw.terraform_version),
    resourceChanges: rawChanges.map((change, index) => parseResourceChange(stack, index, change)),
    outputChanges: Object.entries(rawOutputs).map(([name, change]) => parseOutputChange(stack, name, change)),
    errored: raw.errored === true,
    sensitiveStrings: collectSensitiveStrings(raw),
  };
}
