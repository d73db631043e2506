/**
 * cdktf records a full stack trace for every token it creates (a reference, a
 * nested block's accessor: about 2,500 per synth of this App) so that it can
 * print where a token came from if that token later fails to resolve.
 * Formatting those traces was a fifth of synth time, and almost all of them
 * are never read. AWS CDK stopped recording them unless debugging
 * (aws/aws-cdk#12180) and cdk-terrain made them optional (cdk-terrain#215);
 * cdktf 0.21 has no switch (hashicorp/terraform-cdk#3892), so this is one.
 *
 * It replaces the function cdktf's token classes call, in cdktf's own module:
 * nothing global (Error, stack trace limits) changes, and construct stack
 * traces stay governed by `App({ stackTraces })`.
 */
/** Set to `1` (or `true`) to record a creation stack trace for every token again, when chasing a token that does not resolve. */
export const TOKEN_STACK_TRACES_ENV = 'CDKTF_TOKEN_STACK_TRACES';

/** What cdktf prints where a creation stack would be: how to get the real one. */
export const TOKEN_STACK_TRACES_OFF: readonly string[] = Object.freeze([
  `(token creation stack traces are off for speed; run with ${TOKEN_STACK_TRACES_ENV}=1 to record them)`,
]);

type CaptureStackTrace = (below?: unknown) => string[];
interface StackTraceModule {
  captureStackTrace: CaptureStackTrace;
}

// A static require of the same file cdktf's tokens require, so Node (and the app's esbuild bundle) hand back the very
// module object they call through; a namespace import would be a read-only copy.
const stackTraceModule: StackTraceModule = require('cdktf/lib/tokens/private/stack-trace');
const recordStackTrace = stackTraceModule.captureStackTrace;
if (typeof recordStackTrace !== 'function') {
  throw new Error('cdktf/lib/tokens/private/stack-trace no longer exports captureStackTrace: re-check token-stack-traces.ts after a cdktf upgrade');
}
const skipStackTrace: CaptureStackTrace = () => TOKEN_STACK_TRACES_OFF as string[];

/**
 * Turns cdktf's token creation stack traces on or off for this process.
 * Returns whether they are now recorded.
 *
 * @param enabled record them; @default - on only when `CDKTF_TOKEN_STACK_TRACES` is `1` or `true`
 */
export function configureTokenStackTraces(enabled: boolean = ['1', 'true'].includes((process.env[TOKEN_STACK_TRACES_ENV] ?? '').toLowerCase())): boolean {
  stackTraceModule.captureStackTrace = enabled ? recordStackTrace : skipStackTrace;
  return enabled;
}
