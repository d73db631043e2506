/**
 * Each project's global setup first transforms the project's TypeScript into jest's transform cache, once, in this
 * process. With an empty cache (a fresh clone, a new machine) every worker transformed the same few hundred modules
 * with swc for its first files, five workers at once: a cold run took 10 s more CPU than a warm one. A file whose
 * cached transform is current is only read and hashed. The options are a CommonJS require's (jest-runtime's
 * defaultTransformOptions, no coverage): the cache key depends on them, the file's content and path, and the
 * project's configuration, so the workers find these entries.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createScriptTransformer } = require('@jest/transform');

/** Where the TypeScript lives: tsconfig.json's include, a pattern of everything under a directory read as that directory. */
function sourcesOf(rootDir) {
  const { include } = JSON.parse(fs.readFileSync(path.join(rootDir, 'tsconfig.json'), 'utf8'));
  return include.map((pattern) => path.join(rootDir, pattern.replace(/\/\*\*\/\*$/, '')));
}

function typescriptFiles(entry) {
  const stat = fs.statSync(entry, { throwIfNoEntry: false });
  if (stat === undefined) return [];
  if (!stat.isDirectory()) return entry.endsWith('.ts') && !entry.endsWith('.d.ts') ? [entry] : [];
  return fs.readdirSync(entry).flatMap((name) => (name === 'node_modules' ? [] : typescriptFiles(path.join(entry, name))));
}

module.exports = async function warmTransforms(globalConfig, projectConfig) {
  // Without a cache (--no-cache) nothing would be read back; with coverage the workers' keys differ.
  if (!projectConfig.cache || globalConfig.collectCoverage) return;
  const transformer = await createScriptTransformer(projectConfig);
  const options = {
    isInternalModule: false,
    // jest-runtime's esmIsAvailable: only with --experimental-vm-modules.
    supportsDynamicImport: typeof require('node:vm').SourceTextModule === 'function',
    supportsExportNamespaceFrom: false,
    supportsStaticESM: false,
    supportsTopLevelAwait: false,
    collectCoverage: false,
    collectCoverageFrom: [],
    coverageProvider: globalConfig.coverageProvider,
  };
  // A test file is this project's when it is under one of its roots and no ignore pattern matches it.
  const ignored = projectConfig.testPathIgnorePatterns.map((pattern) => new RegExp(pattern));
  const ours = (file) => !file.endsWith('.test.ts') || (projectConfig.roots.some((root) => file.startsWith(root + path.sep)) && !ignored.some((pattern) => pattern.test(file)));
  for (const file of sourcesOf(projectConfig.rootDir).flatMap(typescriptFiles)) {
    if (ours(file)) transformer.transform(file, options);
  }
};
