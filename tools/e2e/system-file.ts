/**
 * `npm run e2e -- --system-file path/to/system.ts`: the systems a user's own file exports, found the way
 * scripts/check-package.js finds the examples' (an exported object with `products` and `environments`), so
 * the offline Terraform checks run on any system, not only the ones this repository ships.
 */
import * as path from 'node:path';
import type { SystemSpec } from '../../index';

/** A value shaped like a system description (validation judges the rest at synth). */
function isSystem(value: unknown): value is SystemSpec {
  const candidate = value as Partial<SystemSpec> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.name === 'string' && Array.isArray(candidate.products) && Array.isArray(candidate.environments);
}

/** Every system the module at `file` exports (relative to the working directory); fails naming the file when it exports none or two of one name. */
export function systemsFromFile(file: string): SystemSpec[] {
  const resolved = path.resolve(file);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the file is chosen at run time; tsx compiles a .ts one on require.
  const module = require(resolved) as Record<string, unknown>;
  const systems = [...new Set(Object.values(module).filter(isSystem))];
  if (systems.length === 0) {
    throw new Error(`e2e: ${file} exports no system (an object with name, products and environments, as SystemSpec); it exports: ${Object.keys(module).join(', ') || '(nothing)'}`);
  }
  const names = systems.map((system) => system.name);
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice !== undefined) throw new Error(`e2e: ${file} exports two systems named "${twice}"; each runs in .e2e/<name>/`);
  return systems;
}
