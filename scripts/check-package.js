#!/usr/bin/env node
/**
 * Proves the emitted package works as another system would use it: every
 * example under examples/ is bundled with its `../index` import pointed at
 * the built `dist/index.js` (nothing else of the project's sources), then
 * synthesized into a temporary folder; and type-checked, strict, against the
 * built `dist/index.d.ts` alone, so a type a description needs that the entry
 * point does not export fails here. Run after `npm run build`.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'index.js');
if (!fs.existsSync(entry)) {
  console.error('dist/index.js is missing: run `npm run build` first');
  process.exit(1);
}
const library = require(entry);
const examples = fs.readdirSync(path.join(root, 'examples')).filter((name) => name.endsWith('.ts'));
let failures = 0;
for (const name of examples) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'example-'));
  // The bundle sits in <tmp>/examples/, so its `../index` is <tmp>/index.js, which re-exports the build.
  fs.mkdirSync(path.join(out, 'examples'));
  fs.writeFileSync(path.join(out, 'index.js'), `module.exports = require(${JSON.stringify(entry)});\n`);
  const bundle = path.join(out, 'examples', 'example.js');
  require('esbuild').buildSync({
    entryPoints: [path.join(root, 'examples', name)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: bundle,
    logLevel: 'error',
    // The example's only way into the library is the entry point: served from the build, not the sources.
    external: ['../index'],
  });
  // Types: the example next to an `index.d.ts` that is the built declarations, nothing else of the sources.
  const imports = [...fs.readFileSync(path.join(root, 'examples', name), 'utf8').matchAll(/\bfrom\s+['"]([^'"]+)['"]/g)].map((match) => match[1]);
  const foreign = imports.filter((specifier) => specifier !== '../index');
  fs.writeFileSync(path.join(out, 'index.d.ts'), `export * from ${JSON.stringify(path.join(root, 'dist', 'index'))};\n`);
  fs.copyFileSync(path.join(root, 'examples', name), path.join(out, 'examples', name));
  const ts = require('typescript');
  const program = ts.createProgram([path.join(out, 'examples', name)], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0 || foreign.length > 0) {
    failures++;
    const host = { getCanonicalFileName: (file) => file, getCurrentDirectory: () => out, getNewLine: () => '\n' };
    console.log(`FAILED: examples/${name} does not compile against dist/index.d.ts alone${foreign.length > 0 ? ` (imports ${foreign.join(', ')})` : ''}`);
    if (diagnostics.length > 0) console.log(ts.formatDiagnostics(diagnostics, host));
  } else {
    console.log(`ok: examples/${name} compiles against dist/index.d.ts, importing only the package`);
  }
  const exported = Object.values(require(bundle)).filter((value) => value && typeof value === 'object' && Array.isArray(value.environments));
  for (const system of exported) {
    const outdir = path.join(out, 'cdktf.out');
    library.synthesizeSystem(system, { outdir, onWarning: () => undefined });
    const stacks = fs.readdirSync(path.join(outdir, 'stacks'));
    // network, edge, data and monitoring, one stack per product, and a credentials stack per product using a data container.
    const expected = library
      .resolveSystem(system)
      .environments.reduce((count, environment) => count + 4 + environment.products.length + environment.products.filter((product) => product.credentialsStackName).length, 0);
    const ok = stacks.length === expected;
    if (!ok) failures++;
    console.log(`${ok ? 'ok' : 'FAILED'}: examples/${name} (${system.name}) synthesized ${stacks.length} stacks from dist/, expected ${expected}`);
  }
  if (exported.length === 0) {
    failures++;
    console.log(`FAILED: examples/${name} exports no system`);
  }
  fs.rmSync(out, { recursive: true, force: true });
}
process.exit(failures === 0 ? 0 : 1);
