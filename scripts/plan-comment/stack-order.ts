/**
 * Ordering of `<env>-<kind>` stack names.
 *
 * One order is used everywhere (comment, changed-stacks output, apply workflow) so that a
 * reviewer reads stacks in the order they will be applied: staging before production, and
 * within an environment the platform stacks in dependency order before the product stacks.
 */

/** Environments in rollout order: staging proves a change before production gets it. */
export const ENVIRONMENT_ORDER: readonly string[] = ['staging', 'production'];

/**
 * Platform stack kinds in dependency order: edge (DNS, load balancers) needs the network, and
 * data (databases, volumes) needs both and every product's credentials stack (DEPLOY_STAGES).
 */
export const PLATFORM_STACK_KINDS: readonly string[] = ['network', 'edge', 'data'];

/** Ends the kind of a product's credentials stack (`chat-credentials`); the data stack reads them all. */
export const CREDENTIALS_KIND_SUFFIX = '-credentials';

/**
 * The apply stages, in order; the stacks of one stage are applied in parallel. A product's
 * credentials stack has a stage of its own before data, whose servers take their passwords.
 */
export const DEPLOY_STAGES = ['network', 'edge', 'credentials', 'data', 'products'] as const;
export type DeployStage = (typeof DEPLOY_STAGES)[number];

/** The stage a stack kind is applied in: its own for the platform kinds and credentials, `products` for the rest (monitoring too). */
export function stageOf(kind: string): DeployStage {
  if (kind.endsWith(CREDENTIALS_KIND_SUFFIX)) return 'credentials';
  return (PLATFORM_STACK_KINDS as readonly string[]).includes(kind) ? (kind as DeployStage) : 'products';
}

/**
 * Stack names this tooling accepts. They end up in file paths, artifact names and workflow
 * matrices, so anything that could act as a path separator or shell syntax is refused early.
 */
export const SAFE_STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** The two halves of a stack name such as `staging-network` or `production-chat`. */
export interface StackName {
  /** Environment, the part before the first dash (`staging`). */
  readonly env: string;
  /** Stack kind, the rest (`network`, `chat`); empty when the name has no dash. */
  readonly kind: string;
}

/** Splits `<env>-<kind>` at the first dash, so product names may contain dashes themselves. */
export function parseStackName(name: string): StackName {
  const dash = name.indexOf('-');
  return dash < 0 ? { env: name, kind: '' } : { env: name.slice(0, dash), kind: name.slice(dash + 1) };
}

/** True for the shared platform stacks (network, edge, data) of any environment; a product's credentials stack is not one. */
export function isPlatformStack(name: string): boolean {
  return PLATFORM_STACK_KINDS.includes(parseStackName(name).kind);
}

/** Known entries first in the given order, unknown ones after them. */
function rank(order: readonly string[], value: string): number {
  const index = order.indexOf(value);
  return index < 0 ? order.length : index;
}

/**
 * Compares stack names for rollout order: environment (staging, production, then others
 * alphabetically), then stage (network, edge, credentials, data, products), then kind alphabetically.
 */
export function compareStacks(a: string, b: string): number {
  const left = parseStackName(a);
  const right = parseStackName(b);
  return (
    rank(ENVIRONMENT_ORDER, left.env) - rank(ENVIRONMENT_ORDER, right.env) ||
    left.env.localeCompare(right.env, 'en') ||
    rank(DEPLOY_STAGES, stageOf(left.kind)) - rank(DEPLOY_STAGES, stageOf(right.kind)) ||
    left.kind.localeCompare(right.kind, 'en') ||
    // Same env and kind can only differ in spelling; keep the result total and deterministic.
    (a < b ? -1 : a > b ? 1 : 0)
  );
}

/** Returns the names sorted in rollout order (a new array). */
export function sortStacks(names: Iterable<string>): string[] {
  return [...names].sort(compareStacks);
}
