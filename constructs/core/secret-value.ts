import type { TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { sensitiveVariable } from './sensitive-variable';

/**
 * A secret that can only come from a sensitive Terraform variable, so it is
 * never a literal in code and appears in synthesized JSON only as
 * `${var.<name>}` (its value arrives through `TF_VAR_<name>` or a Terraform
 * Cloud workspace variable).
 */
export class SecretValue {
  /** Wraps an existing variable; it must be sensitive and have no default. */
  public static fromVariable(variable: TerraformVariable): SecretValue {
    if (variable.sensitive !== true) {
      throw new Error(`Variable "${variable.node.id}" holds a secret but is not sensitive; create it with sensitive: true so Terraform masks it in plans and logs`);
    }
    if (variable.default !== undefined) {
      throw new Error(`Sensitive variable "${variable.node.id}" has a default value; a default puts the secret into the code. Remove it and supply TF_VAR_${variable.node.id}`);
    }
    return new SecretValue(variable);
  }

  /**
   * The stack's sensitive string variable `name` (see `sensitiveVariable`):
   * created on first use, shared by every other reader in the stack.
   */
  public static variable(scope: Construct, name: string, description: string): SecretValue {
    return SecretValue.fromVariable(sensitiveVariable(scope, name, description));
  }

  private reference?: string;

  private constructor(public readonly variable: TerraformVariable) {}

  /** The variable's name (`TF_VAR_<name>` supplies it). */
  public get variableName(): string {
    return this.variable.node.id;
  }

  /** The value as a Terraform reference (`${var.<name>}`). */
  public get value(): string {
    this.reference ??= this.variable.stringValue;
    return this.reference;
  }
}
