/**
 * The mock provider serves schemas rebuilt from the pinned @cdktf/provider-* bindings
 * (tools/e2e/schema/generated, `npm run e2e:schemas`). Each file names the binding version it was rebuilt
 * from, which must be the installed one; `npm run e2e` also rebuilds every file and compares it byte for byte
 * (rebuilding cloudflare's 560 modules takes seconds, too slow to repeat here), see checkGeneratedSchemas.
 */
import * as fs from 'node:fs';
import { MOCKED_PROVIDERS, generateSchemaFile, generatedFrom, generatedSchemaPath, loadProviderSchema } from '../tools/e2e/schema/providers';

const bindingProviders = MOCKED_PROVIDERS.filter((p) => p.bindingPackage).map((p) => [p.name, p] as const);

test.each(bindingProviders)('%s: committed schema was rebuilt from the installed binding version', (_name, provider) => {
  const file = JSON.parse(fs.readFileSync(generatedSchemaPath(provider), 'utf8'));
  expect(file['//']).toBe(generatedFrom(provider));
});

test('a small provider\'s schema rebuilds byte for byte (generation is deterministic)', () => {
  const random = MOCKED_PROVIDERS.find((p) => p.name === 'random')!;
  expect(generateSchemaFile(random)).toBe(generateSchemaFile(random));
  expect(fs.readFileSync(generatedSchemaPath(random), 'utf8') === generateSchemaFile(random)).toBe(true);
});

test('block vs attribute, nesting, required and computed-only come through from the bindings', () => {
  const docker = loadProviderSchema(MOCKED_PROVIDERS.find((p) => p.name === 'docker')!);
  const container = docker.resource_schemas.docker_container.block;
  expect(container.attributes!.image).toEqual({ type: 'string', required: true });
  expect(container.attributes!.env).toEqual({ type: ['set', 'string'], optional: true, computed: true });
  expect(container.attributes!.exit_code).toEqual({ type: 'number', computed: true }); // computed-only getter
  expect(container.block_types!.healthcheck).toMatchObject({ nesting_mode: 'list', max_items: 1 });
  expect(container.block_types!.labels).toMatchObject({ nesting_mode: 'set' });
  expect(container.block_types!.labels.block.attributes!.label).toEqual({ type: 'string', required: true });
  const cloudflare = loadProviderSchema(MOCKED_PROVIDERS.find((p) => p.name === 'cloudflare')!);
  const ruleset = cloudflare.resource_schemas.cloudflare_ruleset.block;
  expect(ruleset.attributes!.rules.nested_type?.nesting_mode).toBe('list'); // v5: nested attributes, not blocks
  expect(cloudflare.resource_schemas.cloudflare_dns_record.block.attributes!.zone_id).toEqual({ type: 'string', required: true });
  const random = loadProviderSchema(MOCKED_PROVIDERS.find((p) => p.name === 'random')!);
  expect(random.resource_schemas.random_password.block.attributes!.result).toEqual({ type: 'string', computed: true });
});
