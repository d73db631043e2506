import { Password } from '@cdktf/provider-random/lib/password';
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

/**
 * A generated password (a token, sensitive) of letters and digits only, since it may sit in a URL or in SQL
 * unescaped; its Terraform address is `random_password.<logicalId>`, kept stable whoever creates it.
 */
export function generatedPassword(scope: Construct, logicalId: string): string {
  randomProviderOf(scope);
  const password = new Password(scope, logicalId, { length: 32, special: false });
  password.overrideLogicalId(logicalId);
  return password.result;
}
