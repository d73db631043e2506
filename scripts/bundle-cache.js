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
 * What identifies one version of a file without reading it: inode, size, modification and change time. Content
 * cannot change without the change time moving (the kernel sets it on every write, and no tool can set it back), and
 * a checkout or a copy makes a new inode; so an unchanged identity means unchanged content, and any other file is
 * read and digested. Undefined for a file changed less than a second before `since` (file times are only as fine as
 * the kernel's clock tick): it may have changed while esbuild read it, so its digest decides.
 */
function identityOf(file, since = Infinity) {
  const stat = fs.statSync(path.join(root, file), { bigint: true });
  if (Number(stat.ctimeNs / 1_000_000n) > since - 1000) return undefined;
  return `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
}

/** Whether every recorded input still has its recorded content (its identity, or else its digest). */
function inputsUnchanged(recorded) {
  return Object.entries(recorded.inputs).every(([file, { digest, identity }]) => {
    try {
      return (identity !== undefined && identityOf(file) === identity) || digestOf(file) === digest;
    } catch {
      return false;
    }
  });
}

/** Writes `text` to `file` in one step for concurrent readers: another process sees the old file or the new one. */
function replaceFile(file, text) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, file);
}

/**
 * The bundles of `entryPoints` (output name -> source path relative to the root) in the cache directory `name`, built
 * unless the recorded inputs are unchanged and were built by this Node version; returns output name -> bundle path.
 * `logLevel` is esbuild's for the build's messages.
 */
function bundled(name, entryPoints, logLevel = 'warning') {
  const dir = path.join(cacheDir, name);
  const inputsFile = path.join(dir, 'inputs.json');
  const outputs = Object.fromEntries(Object.keys(entryPoints).map((output) => [output, path.join(dir, `${output}.js`)]));
  const current = (() => {
    try {
      const recorded = JSON.parse(fs.readFileSync(inputsFile, 'utf8'));
      const sameEntries = JSON.stringify(recorded.entryPoints) === JSON.stringify(entryPoints);
      return sameEntries && recorded.node === process.version && Object.values(outputs).every((file) => fs.existsSync(file)) && inputsUnchanged(recorded);
    } catch {
      return false;
    }
  })();
  if (!current) {
    // Built beside the cache, then moved in file by file: a process running a bundle meanwhile reads a whole one.
    fs.mkdirSync(dir, { recursive: true });
    const staging = fs.mkdtempSync(path.join(cacheDir, `.${name}-`));
    try {
      const esbuild = require('esbuild');
      const started = Date.now();
      const result = esbuild.buildSync({ absWorkingDir: root, entryPoints, bundle: true, platform: 'node', format: 'cjs', target: 'node20', outdir: staging, metafile: true, logLevel });
      if (logLevel === 'silent' && result.warnings.length > 0) process.stderr.write(esbuild.formatMessagesSync(result.warnings, { kind: 'warning' }).join(''));
      for (const [output, file] of Object.entries(outputs)) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.renameSync(path.join(staging, `${output}.js`), file);
      }
      const inputs = Object.fromEntries(Object.keys(result.metafile.inputs).map((file) => [file, { digest: digestOf(file), identity: identityOf(file, started) }]));
      replaceFile(inputsFile, JSON.stringify({ node: process.version, entryPoints, inputs }));
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  return outputs;
}

/**
 * What `npm run` starts: the app (main.ts, and the cost report run after its synth) and every command line that
 * package.json runs through run-cli.js, by output name (the source path without `.ts`). They are built together: most
 * of their sources are shared, and esbuild reads each once per build (a fresh clone's first command builds all seven
 * for 1.0 s of CPU; a build per entry cost 0.43 s each).
 */
function commandEntryPoints() {
  const scripts = Object.values(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts ?? {});
  const clis = [...new Set(scripts.flatMap((command) => [...command.matchAll(/\bscripts\/run-cli\.js\s+(\S+\.ts)\b/g)].map((match) => match[1])))].sort();
  return { main: 'main.ts', 'scripts/cost/after-synth': 'scripts/cost/after-synth.ts', ...Object.fromEntries(clis.map((entry) => [entry.replace(/\.ts$/, ''), entry])) };
}

/**
 * The bundles of `sources` (paths relative to the root, or absolute), in their order: from the shared build of every
 * command (commandEntryPoints) when all are commands, else from a cache directory of their own. When the shared build
 * fails (say, a syntax error in one command's sources), they are built alone: another command's mistake does not stop
 * them, and their own are reported as theirs.
 */
function bundlesOf(...sources) {
  const relative = sources.map((source) => path.relative(root, path.resolve(root, source)));
  const commands = commandEntryPoints();
  const commandOf = new Map(Object.entries(commands).map(([output, source]) => [source, output]));
  if (relative.every((source) => commandOf.has(source))) {
    try {
      const outputs = bundled('commands', commands, 'silent');
      return relative.map((source) => outputs[commandOf.get(source)]);
    } catch {
      // Built alone below, which reports the error when it is theirs.
    }
  }
  const name = `entry-${crypto.createHash('sha256').update(relative.join('\n')).digest('hex').slice(0, 12)}`;
  const outputs = bundled(name, Object.fromEntries(relative.map((source, index) => [`entry-${index}`, source])));
  return relative.map((_, index) => outputs[`entry-${index}`]);
}

module.exports = { bundled, bundlesOf, commandEntryPoints, root };
