/**
 * The integration lane's global setup: its TypeScript into jest's transform cache (warm-transforms.js), then the app's and every command line's bundles (scripts/bundle-cache.js), built
 * once before the files start. Many of them run a command line (ops, release, deploy, graph) or the app; on a fresh
 * clone each found the cache empty and several built it at once, each esbuild run taking both cores for a second.
 * Nothing is built when the cache is current. Jest runs a project's global setup only when a file of it runs.
 */
'use strict';
const { bundled, commandEntryPoints } = require('../../scripts/bundle-cache');
const warmTransforms = require('./warm-transforms');

module.exports = async (globalConfig, projectConfig) => {
  await warmTransforms(globalConfig, projectConfig);
  try {
    bundled('commands', commandEntryPoints(), 'silent');
  } catch {
    // A command that does not build (a syntax error in its sources) fails the files that run it, each naming its own
    // error (scripts/run-cli.js builds them alone then), not the whole lane here.
  }
};
