import { Id } from '@cdktf/provider-random/lib/id';
import { Secret } from '@cdktf/provider-docker/lib/secret';
import { Fn, Token, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { randomProviderOf } from '../core/random-provider';

/** Where Swarm mounts a secret in each task: a file, never an environment variable (SwarmKit; Docker docs "Manage sensitive data with Docker secrets"). */
export const SWARM_SECRETS_DIRECTORY = '/run/secrets';

/**
 * Longest base of a secret's name: Swarm takes at most 64 characters (SwarmKit manager/controlapi/common.go,
 * validateConfigOrSecretAnnotations), and `-<revision>` (9) follows.
 */
export const MAX_SWARM_SECRET_BASE_NAME = 64 - 9;

export interface SwarmSecretProps {
  /** Base of the secret's name in the swarm (a revision suffix is added). */
  readonly name: string;
  /** The value: a token of a sensitive variable, another stack's sensitive output or a generated password; never a literal. */
  readonly value: string;
  /** Provider of the swarm's manager. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
}

/**
 * A Swarm secret (`docker_secret`). Its data and name are immutable
 * (`ForceNew` in kreuzwerker/terraform-provider-docker v3.6.2
 * internal/provider/resource_docker_secret.go) and a secret a service uses
 * cannot be removed, so a new value gets a new name: a `random_id` keyed on
 * the value (kept in state, shown as sensitive in plans) supplies the
 * revision, and the new secret is created before the old one is destroyed,
 * after the services moved to it. No hash of the value is ever in a name.
 */
export class SwarmSecret extends Construct {
  public readonly secret: Secret;

  public constructor(scope: Construct, id: string, props: SwarmSecretProps) {
    super(scope, id);
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(props.name) || props.name.length > MAX_SWARM_SECRET_BASE_NAME) {
      throw new Error(`SwarmSecret ${id}: name must be 1-${MAX_SWARM_SECRET_BASE_NAME} letters, digits, "_", "." or "-", starting with a letter or digit (Swarm names; a revision suffix follows); got "${props.name}"`);
    }
    if (!Token.isUnresolved(props.value)) {
      throw new Error(`SwarmSecret ${id}: the value is a literal; it must come from a sensitive variable, another stack's sensitive output or a generated password`);
    }
    randomProviderOf(this);
    const revision = new Id(this, 'revision', { byteLength: 4, keepers: { value: props.value } });
    revision.overrideLogicalId(`${id}-revision`);
    this.secret = new Secret(this, 'secret', {
      name: `${props.name}-${revision.hex}`,
      data: Fn.base64encode(props.value),
      lifecycle: { createBeforeDestroy: true },
      provider: props.provider,
    });
    this.secret.overrideLogicalId(id);
  }
}
