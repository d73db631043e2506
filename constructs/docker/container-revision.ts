import { createHash } from 'node:crypto';
import { Id } from '@cdktf/provider-random/lib/id';
import { Fn, Token } from 'cdktf';
import type { Construct } from 'constructs';
import { randomProviderOf } from '../core/random-provider';

/** Bytes of the random revision suffix of a container name. */
const REVISION_BYTES = 4;

/** What a container is made of, for its revision. */
export interface ContainerRevisionProps {
  /** Image reference the container runs. */
  readonly image: string;
  /** Everything about the container known at synth time (plain values; a token here is an error). */
  readonly settings: unknown;
  /** Values only Terraform knows (secret values, network names of other stacks), hashed by Terraform. */
  readonly references: readonly string[];
  /**
   * Values only Terraform knows that are not secret and may be text around a
   * reference (`https://${account}.r2...`): kept as they are, one keeper each,
   * since cdktf cannot put such text inside a function call (it warns that the
   * output may be incorrect). @default - none
   */
  readonly values?: Readonly<Record<string, string>>;
  /** The container it names is replaced create-before-destroy (start-first). @default true */
  readonly createBeforeDestroy?: boolean;
}

/**
 * A random id (`random_id.<logicalId>`, construct id `revision` in `scope`)
 * regenerated whenever anything about a container changes. Containers
 * replaced create-before-destroy carry it in their names, so the new one
 * never collides with the old one it replaces.
 */
export function containerRevision(scope: Construct, logicalId: string, props: ContainerRevisionProps): Id {
  randomProviderOf(scope);
  const revision = new Id(scope, 'revision', {
    byteLength: REVISION_BYTES,
    keepers: {
      image: props.image,
      settings: digest(props.settings),
      references: Fn.sha256(Fn.join('\n', [...props.references])),
      ...Object.fromEntries(Object.entries(props.values ?? {}).map(([name, value]) => [`value_${name}`, value])),
    },
    lifecycle: { createBeforeDestroy: props.createBeforeDestroy ?? true },
  });
  revision.overrideLogicalId(logicalId);
  return revision;
}

/** A stable digest of plain values; tokens would make it change from synth to synth, so they are refused. */
function digest(value: unknown): string {
  const json = JSON.stringify(value);
  if (Token.isUnresolved(json)) throw new Error(`container revision: settings hashed at synth time contain a token: ${json}`);
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}
