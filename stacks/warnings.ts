/**
 * How the app reports things that do not fail synth. The cdktf CLI logs every line an app writes
 * to stderr as `[ERROR]` (@cdktf/commons util.js: exec() passes stderr chunks to
 * processLoggerError) and prints stdout lines as they are, so under the CLI a warning goes to
 * stdout; run directly (`npm run synth`), it goes to stderr like any other diagnostic.
 */
/** The warnings this process has printed. */
const printed = new Set<string>();

export function printWarning(message: string, env: NodeJS.ProcessEnv = process.env, streams = { stdout: process.stdout, stderr: process.stderr }): void {
  // Once per run: an App that resolves the system more than once (variants, a bootstrap stack) repeats nothing.
  if (printed.has(message)) return;
  printed.add(message);
  // The CLI sets CDKTF_CONTEXT_JSON for the app it runs (@cdktf/cli-core synth-stack.js).
  const underCdktfCli = env.CDKTF_CONTEXT_JSON !== undefined;
  (underCdktfCli ? streams.stdout : streams.stderr).write(`Warning: ${message}\n`);
}
