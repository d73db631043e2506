/**
 * TypeScript entry points bundled with esbuild into one file each, cached in node_modules/.cache/manacore-app/<name>/
 * and rebuilt when any input changes (by content): one file loads far faster than hundreds of modules through a
 * TypeScript loader. Types are checked by `tsc` in `npm test`, not here. Used by scripts/run-app.js (the cdktf app)
 * and scripts/run-cli.js (the command lines).
 */
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cacheDir = path.join(root, 'node_modules', '.cache', 'manacore-app');

/** A digest of one input's content: modification times lie after a checkout, a copy or a clock change. */
function digestOf(file) {
  return crypto.createHash('sha1').update(fs.readFileSync(path.join(root, file))).digest('hex');
}

/**
 * The bundles of `entryPoints` (output name -> source path relative to the root) in the cache directory `name`, built
 * unless the recorded inputs are unchanged and were built by this Node version; returns output name -> bundle path.
 */
function bundled(name, entryPoints) {
  const dir = path.join(cacheDir, name);
  const inputsFile = path.join(dir, 'inputs.json');
  const outputs = Object.fromEntries(Object.keys(entryPoints).map((output) => [output, path.join(dir, `${output}.js`)]));
  const current = (() => {
    try {
      const recorded = JSON.parse(fs.readFileSync(inputsFile, 'utf8'));
      return Object.values(outputs).every((file) => fs.existsSync(file)) && recorded.node === process.version && Object.entries(recorded.inputs).every(([file, digest]) => digestOf(file) === digest);
    } catch {
      return false;
    }
  })();
  if (!current) {
    const result = require('esbuild').buildSync({
      absWorkingDir: root,
      entryPoints,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outdir: dir,
      metafile: true,
      logLevel: 'warning',
    });
    const inputs = Object.fromEntries(Object.keys(result.metafile.inputs).map((file) => [file, digestOf(file)]));
    fs.writeFileSync(inputsFile, JSON.stringify({ node: process.version, inputs }));
  }
  return outputs;
}

/** The cache directory name of an entry other than the app's: unique per source path. */
function bundleNameOf(prefix, entry) {
  return `${prefix}-${crypto.createHash('sha256').update(path.resolve(root, entry)).digest('hex').slice(0, 12)}`;
}

module.exports = { bundled, bundleNameOf, root };
