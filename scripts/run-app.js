#!/usr/bin/env node
/**
 * The cdktf app command (`cdktf.json`). Bundles main.ts and everything it
 * imports into one file with esbuild and runs it: one file loads far faster
 * than hundreds of modules through a TypeScript loader (0.65 s instead of
 * 1.15 s for the whole App). The bundle is cached and rebuilt when any input
 * changes (scripts/bundle-cache.js).
 */
'use strict';
const path = require('node:path');
const { bundlesOf } = require('./bundle-cache');

// MANACORE_APP_ENTRY: another entry point (tests run small apps through this same runner); default main.ts.
const entry = process.env.MANACORE_APP_ENTRY || 'main.ts';
// The real app also gets the cost report, run after synth (main.ts stays library and system only).
const [bundle, afterSynth] = entry === 'main.ts' ? bundlesOf(entry, 'scripts/cost/after-synth.ts') : bundlesOf(entry);

try {
  require(bundle);
  // The App writes to CDKTF_OUTDIR when the cdktf CLI sets it, else to cdktf.out (cdktf App).
  if (afterSynth) require(afterSynth).reportCost(path.resolve(process.env.CDKTF_OUTDIR || 'cdktf.out'));
} catch (error) {
  process.exitCode = 1;
  process.stderr.write(`${describeFailure(error)}\n`);
}

/**
 * A configuration error is the user's input, not a bug: print its list of problems once, with no
 * stack trace into the bundle and no dump of the error object (Node's default for an uncaught
 * error). Anything else is printed as its message, with the trace only on request.
 */
function describeFailure(error) {
  if (error instanceof Error && error.name === 'ConfigurationError' && Array.isArray(error.issues)) return error.message;
  if (process.env.MANACORE_STACK_TRACES === '1') return (error && error.stack) || String(error);
  const message = error instanceof Error ? `${error.name === 'Error' ? 'Error' : error.name}: ${error.message}` : String(error);
  return `${message}\n(set MANACORE_STACK_TRACES=1 to print the stack trace)`;
}
