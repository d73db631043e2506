import { TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';

/** Terraform variable names: what `TF_VAR_<name>` can set. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The sensitive string variable `name` of the stack holding `scope`, created
 * on first use. Several constructs of one stack (a container's environment, a
 * GitHub secret) may need the same value, and Terraform knows it by one name,
 * set with `TF_VAR_<name>` or a Terraform Cloud workspace variable. It never
 * has a default: a secret has no sensible one, and a default would be a literal.
 */
export function sensitiveVariable(scope: Construct, name: string, description: string): TerraformVariable {
  if (!VARIABLE_NAME.test(name)) {
    throw new Error(`sensitiveVariable: "${name}" is not a Terraform variable name (letters, digits and "_", not starting with a digit)`);
  }
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild(name);
  if (existing instanceof TerraformVariable) {
    if (existing.sensitive !== true) {
      throw new Error(`sensitiveVariable: stack ${stack.node.id} already has a non-sensitive variable "${name}"; a secret needs its own name`);
    }
    return existing;
  }
  if (existing !== undefined) {
    throw new Error(`sensitiveVariable: "${name}" already names another construct in stack ${stack.node.id}`);
  }
  return new TerraformVariable(stack, name, { type: 'string', sensitive: true, nullable: false, description });
}
