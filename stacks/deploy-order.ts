/**
 * The one order in which the stacks of an environment are deployed. Every
 * stack belongs to a stage; a stack reads outputs only from stacks of earlier
 * stages (SystemStack checks it at synth), so deploying stage by stage, the
 * stacks of one stage together, is always a valid order. The deploy wrapper,
 * `graph`, the plan comment, changed-stacks, the apply workflow and the e2e
 * harness all order by these stages (scripts/plan-comment/stack-order.ts).
 *
 * The order is not in cdktf's manifest on purpose: cdktf refuses to deploy a
 * stack alone when the manifest lists dependencies ("dependencies are not
 * included in the stacks to run"), and `cdktf deploy production-chat` must
 * work as typed. A stack whose upstream is missing stops inside Terraform
 * instead, naming what to deploy first (StackOutputs in system-stack.ts).
 */

/**
 * Platform stack kinds in dependency order: edge (docker networks, the proxy) needs the network, and
 * data (databases, volumes) needs both and every product's credentials stack (DEPLOY_STAGES).
 */
export const PLATFORM_STACK_KINDS: readonly string[] = ['network', 'edge', 'data'];

/** Ends the kind of a product's credentials stack (`chat-credentials`); the data stack reads them all. */
export const CREDENTIALS_KIND_SUFFIX = '-credentials';

/**
 * The deploy stages, in order; the stacks of one stage do not read each other and may deploy together.
 * A product's credentials stack has a stage of its own before data, whose servers take their passwords.
 */
export const DEPLOY_STAGES = ['network', 'edge', 'credentials', 'data', 'products'] as const;
export type DeployStage = (typeof DEPLOY_STAGES)[number];

/** The stage a stack kind (the stack name without `<env>-`) is deployed in: its own for the platform kinds and credentials, `products` for the rest (monitoring too). */
export function stageOf(kind: string): DeployStage {
  if (kind.endsWith(CREDENTIALS_KIND_SUFFIX)) return 'credentials';
  return (PLATFORM_STACK_KINDS as readonly string[]).includes(kind) ? (kind as DeployStage) : 'products';
}

/** Position of a stage in DEPLOY_STAGES (0 = network). */
export function stageIndex(stage: DeployStage): number {
  return DEPLOY_STAGES.indexOf(stage);
}

/**
 * Stacks grouped into their stages, in deploy order, empty stages left out; within a stage by name.
 * `stageOfStack` gives a stack's stage (from its kind: the name without the environment prefix).
 */
export function groupByStage(stacks: Iterable<string>, stageOfStack: (stack: string) => DeployStage): string[][] {
  const groups = DEPLOY_STAGES.map(() => [] as string[]);
  for (const stack of stacks) groups[stageIndex(stageOfStack(stack))].push(stack);
  return groups.filter((group) => group.length > 0).map((group) => group.sort());
}
