import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';

/** The id of the stack-wide random provider. */
const ID = 'random';

/**
 * The random provider of the stack holding `scope`, created on first use:
 * generated passwords and revision ids live in state, never in code, and
 * several constructs of one stack share the one (configuration-free) provider.
 */
export function randomProviderOf(scope: Construct): RandomProvider {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild(ID);
  if (existing instanceof RandomProvider) return existing;
  return new RandomProvider(stack, ID, {});
}
