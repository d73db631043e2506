/**
 * Which stacks does a change touch? Compares two `cdktf synth` output trees (base and head)
 * stack by stack, after removing what cdktf writes that is not infrastructure.
 *
 * What cdktf 0.21 writes into `stacks/<name>/cdk.tf.json` besides Terraform config
 * (node_modules/cdktf/lib/terraform-stack.js and terraform-resource.js):
 * - root `"//": { metadata: { version, stackName, backend, cloud?, overrides? }, outputs: {...} }`
 *   — the cdktf version and bookkeeping; a cdktf upgrade alone must not plan every stack;
 * - `"//": { metadata: { path, uniqueId, stackTrace? } }` inside every resource, data source
 *   and module — construct paths move when code is refactored without changing a resource.
 * Terraform itself ignores `//` keys in JSON config (they are comments), so dropping every
 * `//` key at any depth removes exactly what Terraform never sees.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { canonicalJson, isObject } from './json';
import { SAFE_STACK_NAME, sortStacks } from './stack-order';

/** Stack names by how they differ between base and head, each list in rollout order. */
export interface StackChanges {
  /** In both trees with different normalized config. */
  readonly changed: string[];
  /** Only in head. */
  readonly added: string[];
  /** Only in base. */
  readonly removed: string[];
}

/** The file cdktf writes per stack in JSON mode. */
export const SYNTH_FILE = 'cdk.tf.json';

/** Removes every `//` (comment/metadata) key at any depth; returns a new value. */
export function normalizeSynthesizedStack(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeSynthesizedStack);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== '//')
      .map(([key, item]) => [key, normalizeSynthesizedStack(item)]),
  );
}

/**
 * Finds the synthesized stacks of a `cdktf.out` directory: name -> path of `cdk.tf.json`.
 * Uses `manifest.json` when present, because it lists exactly what the last synth produced
 * (a stack directory left behind by an older synth is not in it); otherwise scans `stacks/`.
 * A directory without either is an empty tree (a base commit from before any stack existed).
 */
export function listSynthesizedStacks(outDir: string): Map<string, string> {
  if (!fs.existsSync(outDir) || !fs.statSync(outDir).isDirectory()) {
    throw new Error(`Not a cdktf output directory: ${outDir} (run \`cdktf synth\` first)`);
  }
  const stacks = new Map<string, string>();
  const manifestPath = path.join(outDir, 'manifest.json');
  if (fs.existsSync(manifestPath)) {
    const manifest: unknown = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    const entries = isObject(manifest) && isObject(manifest.stacks) ? Object.entries(manifest.stacks) : [];
    for (const [name, entry] of entries) {
      const file = isObject(entry) && typeof entry.synthesizedStackPath === 'string' ? entry.synthesizedStackPath : undefined;
      if (file === undefined || !file.endsWith(SYNTH_FILE)) {
        throw new Error(`${manifestPath}: stack "${name}" has no ${SYNTH_FILE} (HCL output is not supported)`);
      }
      stacks.set(checkName(name, manifestPath), path.join(outDir, file));
    }
    return stacks;
  }
  const stacksDir = path.join(outDir, 'stacks');
  if (!fs.existsSync(stacksDir)) return stacks;
  for (const name of fs.readdirSync(stacksDir)) {
    const file = path.join(stacksDir, name, SYNTH_FILE);
    if (fs.existsSync(file)) stacks.set(checkName(name, stacksDir), file);
  }
  return stacks;
}

function checkName(name: string, source: string): string {
  if (!SAFE_STACK_NAME.test(name)) throw new Error(`${source}: unsupported stack name "${name}" (allowed: ${SAFE_STACK_NAME})`);
  return name;
}

function normalizedFile(file: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read synthesized stack ${file}: ${(error as Error).message}`);
  }
  return canonicalJson(normalizeSynthesizedStack(parsed));
}

/**
 * Compares two `cdktf.out` trees (`<dir>/stacks/<name>/cdk.tf.json`). A stack is changed when
 * its config differs after dropping cdktf metadata (`//` keys) and ignoring key order.
 */
export function changedStacks(baseDir: string, headDir: string): StackChanges {
  const base = listSynthesizedStacks(baseDir);
  const head = listSynthesizedStacks(headDir);
  const changed: string[] = [];
  const added: string[] = [];
  for (const [name, headFile] of head) {
    const baseFile = base.get(name);
    if (baseFile === undefined) added.push(name);
    else if (normalizedFile(baseFile) !== normalizedFile(headFile)) changed.push(name);
  }
  const removed = [...base.keys()].filter((name) => !head.has(name));
  return { changed: sortStacks(changed), added: sortStacks(added), removed: sortStacks(removed) };
}
