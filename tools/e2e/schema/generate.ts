/**
 * `npm run e2e:schemas`: rebuilds tools/e2e/schema/generated/<provider>.schema.json from the pinned
 * @cdktf/provider-* bindings (see from-bindings.ts). `--check` fails when a committed file differs
 * (run by __tests__/e2e-schemas.test.ts), so an upgraded binding cannot leave the mock serving an old schema.
 */
import * as fs from 'node:fs';
import { GENERATED_SCHEMA_DIR, MOCKED_PROVIDERS, generateSchemaFile, generatedSchemaPath } from './providers';

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  fs.mkdirSync(GENERATED_SCHEMA_DIR, { recursive: true });
  let stale = 0;
  for (const provider of MOCKED_PROVIDERS) {
    if (!provider.bindingPackage) continue;
    const started = Date.now();
    const text = generateSchemaFile(provider);
    const file = generatedSchemaPath(provider);
    if (check) {
      const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      if (current !== text) {
        stale += 1;
        process.stderr.write(`${file} is out of date with ${provider.bindingPackage}: run npm run e2e:schemas\n`);
      }
    } else {
      fs.writeFileSync(file, text);
    }
    process.stdout.write(`${provider.name}: ${(text.length / 1024).toFixed(0)} KiB in ${Date.now() - started} ms\n`);
  }
  return stale === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
