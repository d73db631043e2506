/**
 * `SystemStack` skips cdktf's preparing pass (see `SystemStack.prepareStack`),
 * the pass in which cdktf turns a reference to another stack's resource into a
 * generated output and remote-state read. Without it, such a reference would
 * resolve to the bare address: a resource of the same name in the wrong stack
 * (staging-chat and production-chat share every address), or none at all.
 *
 * This guard makes it a synth error instead. It asks the reference itself
 * where it was made (cdktf records the stack a reference comes from), so it is
 * exact whatever the names, and costs one comparison per reference.
 */
import { TerraformStack, type IResolveContext } from 'cdktf';

/** The parts of cdktf's (unexported) `Reference` token this guard reads. */
interface CdktfReference {
  readonly identifier: string;
  readonly originStack?: TerraformStack;
  readonly crossStackIdentifier: Record<string, string>;
  resolve(context: IResolveContext): string;
}

/** Thrown while resolving a stack that reads another stack's resource without going through its outputs. */
export class CrossStackReferenceError extends Error {
  public constructor(public readonly stack: string, public readonly origin: string, public readonly identifier: string) {
    super(
      `Stack ${stack} references ${identifier} of stack ${origin} directly. Stacks share values only through named outputs: ` +
        `publish it in ${origin} (SystemStack.publish) and read it in ${stack} with outputsOf(${origin}).getString(...)`,
    );
    this.name = 'CrossStackReferenceError';
  }
}

/** Stacks that skip the preparing pass; only their references are checked. */
const unprepared = new WeakSet<TerraformStack>();
let installed = false;

/**
 * Checks every reference resolved in `stack` for a foreign origin. Installs the
 * check on cdktf's `Reference` once per process; stacks not registered here
 * (prepared by cdktf as usual) are unaffected.
 */
export function guardCrossStackReferences(stack: TerraformStack): void {
  unprepared.add(stack);
  if (installed) return;
  installed = true;
  // A static require of cdktf's own module, like token-stack-traces.ts: `Reference` is not exported, but `ref` makes one.
  const tfExpression: { ref(identifier: string): CdktfReference } = require('cdktf/lib/tfExpression');
  const referencePrototype = Object.getPrototypeOf(tfExpression.ref('cross-stack-guard')) as CdktfReference;
  const resolveReference = referencePrototype.resolve;
  if (typeof resolveReference !== 'function') {
    throw new Error('cdktf/lib/tfExpression references no longer resolve through a prototype method: re-check cross-stack-guard.ts after a cdktf upgrade');
  }
  referencePrototype.resolve = function (this: CdktfReference, context: IResolveContext): string {
    const origin = this.originStack;
    if (origin !== undefined && !context.preparing) {
      const resolving = TerraformStack.of(context.scope);
      if (origin !== resolving && unprepared.has(resolving) && this.crossStackIdentifier[resolving.toString()] === undefined) {
        throw new CrossStackReferenceError(resolving.node.id, origin.node.id, this.identifier);
      }
    }
    return resolveReference.call(this, context);
  };
}
