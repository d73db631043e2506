/**
 * Dependencies run one way: a system's description (environments/, examples/)
 * uses the library only through its entry point; the entry point exposes
 * stacks, which compose the resolved system (system/) and constructs;
 * constructs know nothing of systems or stacks. A new import against that
 * direction fails here, naming the file and the import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

/** Layer of a project file, by its top folder (or the file itself at the root). */
function layerOf(file: string): string {
  const path = relative(ROOT, file).replace(/\.ts$/, '');
  if (path === 'index') return 'entry';
  if (path === 'main') return 'app';
  return path.split('/')[0]!;
}

/** Which layers each layer may import; packages (no leading `.`) are always allowed. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  constructs: ['constructs', '.gen'],
  policy: ['policy', 'constructs'],
  system: ['system', 'policy', 'constructs'],
  stacks: ['stacks', 'system', 'policy', 'constructs', '.gen'],
  entry: ['stacks', 'system', 'policy', 'constructs'],
  environments: ['environments', 'entry'],
  examples: ['examples', 'entry'],
  app: ['entry', 'environments'],
};

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** Relative imports of a source text, resolved to project paths. */
export function relativeImports(file: string, source: string): string[] {
  return [...source.matchAll(IMPORT)].map((match) => resolve(dirname(file), match[1]!));
}

/** Every import of `files` that goes against the allowed direction, as `file -> import`. */
export function violations(files: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [file, source] of files) {
    const allowed = ALLOWED[layerOf(file)];
    if (allowed === undefined) continue;
    for (const target of relativeImports(file, source)) {
      if (!allowed.includes(layerOf(target))) {
        found.push(`${relative(ROOT, file)} -> ${relative(ROOT, target)}`);
      }
    }
  }
  return found;
}

/**
 * Import circles among project files, each as the files around it (`a -> b -> a`), type-only imports
 * included: a circle means neither file can be read, tested or moved without the other.
 */
export function importCycles(files: ReadonlyMap<string, string>): string[] {
  const edges = new Map<string, string[]>();
  for (const [file, source] of files) {
    const from = file.replace(/\.ts$/, '');
    const targets = relativeImports(file, source).map((target) => (files.has(`${target}.ts`) ? target : `${target}/index`));
    edges.set(from, targets.filter((target) => files.has(`${target}.ts`)));
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].map((name) => relative(ROOT, name)).join(' -> '));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

function sources(folder: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) sources(path).forEach((text, name) => files.set(name, text));
    else if (entry.name.endsWith('.ts')) files.set(path, readFileSync(path, 'utf8'));
  }
  return files;
}

describe('import direction', () => {
  const project = new Map<string, string>([
    ...['constructs', 'policy', 'system', 'stacks', 'environments', 'examples'].flatMap((folder) => [...sources(join(ROOT, folder))]),
    [join(ROOT, 'index.ts'), readFileSync(join(ROOT, 'index.ts'), 'utf8')],
    [join(ROOT, 'main.ts'), readFileSync(join(ROOT, 'main.ts'), 'utf8')],
  ]);

  it('reads the whole library', () => {
    expect([...project.keys()].filter((file) => layerOf(file) === 'constructs').length).toBeGreaterThan(30);
    expect(relativeImports(join(ROOT, 'stacks/data-stack.ts'), project.get(join(ROOT, 'stacks/data-stack.ts'))!)).toContain(join(ROOT, 'system/resolve'));
  });

  it('has no import against the direction', () => {
    expect(violations(project)).toEqual([]);
  });

  it('has no import circle', () => {
    expect(importCycles(project)).toEqual([]);
  });

  it('finds a circle, type-only imports included', () => {
    const circle = new Map([
      [join(ROOT, 'system/a.ts'), "import type { B } from './b';"],
      [join(ROOT, 'system/b.ts'), "import { c } from './c';"],
      [join(ROOT, 'system/c.ts'), "import { a } from './a';\nimport { HealthCheck } from '../constructs/core/health-check';"],
    ]);
    expect(importCycles(circle)).toEqual(['system/a -> system/b -> system/c -> system/a']);
  });

  it('catches a construct importing the system, a stack importing an example, and an example importing a stack', () => {
    const bad = new Map([
      [join(ROOT, 'constructs/docker/x.ts'), "import type { ServiceSpec } from '../../system/model';"],
      [join(ROOT, 'stacks/x.ts'), "import { nutri } from '../examples/nutri';"],
      [join(ROOT, 'examples/x.ts'), "import { ProductStack } from '../stacks/product-stack';\nimport { HealthCheck } from '../index';"],
    ]);
    expect(violations(bad)).toEqual([
      'constructs/docker/x.ts -> system/model',
      'stacks/x.ts -> examples/nutri',
      'examples/x.ts -> stacks/product-stack',
    ]);
  });
});
