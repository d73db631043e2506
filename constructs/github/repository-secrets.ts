import { ActionsSecret } from '@cdktf/provider-github/lib/actions-secret';
import { Construct } from 'constructs';
import type { SecretValue } from '../core/secret-value';
import { assertActionsName } from './actions-names';

export interface RepositorySecretsProps {
  /** Repository name (the provider's `owner` is the account). */
  readonly repository: string;
  /** Secret name to value; values can only be sensitive variables. */
  readonly secrets: Readonly<Record<string, SecretValue>>;
}

/**
 * Repository-level Actions secrets, visible to every workflow job. A
 * repository has one secret per name, so exactly one stack may own each:
 * two stacks setting the same name would overwrite each other on every apply.
 */
export class RepositorySecrets extends Construct {
  public readonly secrets: readonly ActionsSecret[];

  public constructor(scope: Construct, id: string, props: RepositorySecretsProps) {
    super(scope, id);
    this.secrets = Object.entries(props.secrets).map(([name, value]) => {
      assertActionsName(`RepositorySecrets ${id}`, 'secret', name);
      return new ActionsSecret(this, name, {
        repository: props.repository,
        secretName: name,
        plaintextValue: value.value,
      });
    });
  }
}
