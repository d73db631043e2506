/**
 * Ordering of `<env>-<kind>` stack names.
 *
 * One order is used everywhere (comment, changed-stacks output, apply workflow) so that a
 * reviewer reads stacks in the order they will be applied: staging before production, and
 * within an environment the platform stacks in dependency order before the product stacks.
 */

// The stages themselves live with the stacks (stacks/deploy-order.ts), which check at synth that no stack reads a later stage.
import { DEPLOY_STAGES, PLATFORM_STACK_KINDS, stageOf } from '../../stacks/deploy-order';
export { CREDENTIALS_KIND_SUFFIX, DEPLOY_STAGES, PLATFORM_STACK_KINDS, stageOf, type DeployStage } from '../../stacks/deploy-order';

/** Environments in rollout order: staging proves a change before production gets it. */
export const ENVIRONMENT_ORDER: readonly string[] = ['staging', 'production'];

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
