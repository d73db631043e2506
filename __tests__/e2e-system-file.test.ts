/** `npm run e2e -- --system-file <path>` runs the offline Terraform checks on the systems a user's own file exports. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nutri } from '../examples/nutri';
import { systemsFromFile } from '../tools/e2e/system-file';

describe('systems from a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-system-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the system a file exports, as the harness runs it', () => {
    expect(systemsFromFile(join(__dirname, '..', 'examples', 'nutri.ts'))).toEqual([nutri]);
  });

  it("reads a user's own file outside the repository, built on the package's types", () => {
    const file = join(dir, 'shop.ts');
    writeFileSync(
      file,
      [
        `import { nutri } from ${JSON.stringify(join(__dirname, '..', 'examples', 'nutri'))};`,
        `import type { SystemSpec } from ${JSON.stringify(join(__dirname, '..', 'index'))};`,
        "export const shop: SystemSpec = { ...nutri, name: 'shop' };",
        'export const unrelated = 42;',
      ].join('\n'),
    );
    expect(systemsFromFile(file).map((system) => system.name)).toEqual(['shop']);
  });

  it('says what the file exports when it exports no system, and refuses two systems of one name', () => {
    const none = join(dir, 'none.ts');
    writeFileSync(none, 'export const answer = 42;\n');
    expect(() => systemsFromFile(none)).toThrow(/none\.ts exports no system \(an object with name, products and environments, as SystemSpec\); it exports: answer/);
    const twice = join(dir, 'twice.ts');
    writeFileSync(twice, `import { nutri } from ${JSON.stringify(join(__dirname, '..', 'examples', 'nutri'))};\nexport const a = { ...nutri };\nexport const b = { ...nutri };\n`);
    expect(() => systemsFromFile(twice)).toThrow(/exports two systems named "nutri"/);
  });
});
