/**
 * Issue 25: adding a product or a service is one edit to environments/. The edit
 * docs/adding-a-product.md describes (and `npm run check:add-product` makes before running the
 * whole suite) is applied here to a copy of the real environments/ files, which are then loaded
 * and synthesized: a test that fails when the walk-through or the check script stops fitting the
 * files, or when a new product without a recorded tag no longer synthesizes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NEVER_RELEASED_TAG } from '../environments/tags';
import { addProductAndService } from '../scripts/check-add-product';
import { placeholderRefusal, placeholderUses } from '../scripts/release/release';
import type { SystemSpec } from '../system/model';
import { resolveSystem } from '../system/resolve';
import { databasesOf } from './helpers/spec';
import { SynthesizedSystem } from './helpers/synth';

const ROOT = path.resolve(__dirname, '..');

/**
 * The system of a copy of environments/ with the walk-through's edit, in the given environments.
 * The copy's `../index` is a file re-exporting the real library's entry point.
 */
function editedSystem(environments: readonly string[]): SystemSpec {
  const copy = fs.mkdtempSync(path.join(ROOT, '.environments-edited-'));
  try {
    fs.cpSync(path.join(ROOT, 'environments'), path.join(copy, 'environments'), { recursive: true });
    fs.writeFileSync(path.join(copy, 'index.ts'), "export * from '../index';\n");
    // Names of its own, so the test passes in a tree where `npm run check:add-product` added ledger.
    addProductAndService(copy, environments, { product: 'journal', service: 'sweeper' });
    return (require(path.join(copy, 'environments')) as typeof import('../environments')).manacore;
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
}

describe('a product added to both environments, and a service added to a product, without a recorded tag', () => {
  let system: SystemSpec;
  let app: SynthesizedSystem;
  beforeAll(() => {
    system = editedSystem(['staging', 'production']);
    app = new SynthesizedSystem(system);
  });

  it('synthesizes: the product gets its stacks, database and route in each environment', () => {
    for (const environment of ['staging', 'production']) {
      expect(app.stackNames).toEqual(expect.arrayContaining([`${environment}-journal`, `${environment}-journal-credentials`]));
      expect(databasesOf(system, environment)).toContain('journal');
      const journal = resolveSystem(system).environments.find((e) => e.name === environment)!.products.find((p) => p.name === 'journal')!;
      expect(journal.services.map((service) => [service.name, service.routed])).toEqual([['web', true]]);
    }
    const auth = system.products.find((product) => product.name === 'mana-core-auth')!;
    expect(auth.services.map((service) => `${service.name}:${service.kind}`)).toEqual(expect.arrayContaining(['backend:api', 'sweeper:worker']));
    expect(JSON.stringify(app.synth('staging-mana-core-auth'))).toContain('mana-core-auth-sweeper');
  });

  it('runs the never-released placeholder until a tag is recorded, and production refuses to apply it', () => {
    for (const environment of system.environments) expect(environment.products.find((p) => p.product === 'journal')?.imageTag).toBe(NEVER_RELEASED_TAG);
    const uses = placeholderUses({ name: 'production-journal', dependencies: [], workingDirectory: '', json: app.synth('production-journal') } as unknown as Parameters<typeof placeholderUses>[0]);
    expect(uses.map((use) => `${use.product}/${use.service}`)).toContain('journal/web');
    expect(placeholderRefusal('production', uses)).toMatch(/^refusing to apply placeholder image tags to production/);
  });
});

describe('a product added to staging only', () => {
  it('synthesizes its stacks in staging and none in production', () => {
    const app = new SynthesizedSystem(editedSystem(['staging']));
    expect(app.stackNames).toContain('staging-journal');
    expect(app.stackNames.filter((name) => name.startsWith('production-journal'))).toEqual([]);
  });
});
