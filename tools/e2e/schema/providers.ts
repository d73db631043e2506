/**
 * The providers the mock serves: where each schema comes from and the version Terraform is told it has.
 * Versions match the `required_providers` the bindings emit (package.json pins the bindings).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { schemaFromBindings, type ProviderSchema } from './from-bindings';

export interface MockedProvider {
  /** Local name, as in `required_providers` (hcloud, cloudflare, ...). */
  readonly name: string;
  /** Registry source address (hostname/namespace/type). */
  readonly address: string;
  /** Exact version the synthesized stacks require. */
  readonly version: string;
  /** Binding package the schema is rebuilt from; absent for hcloud (vendored schema). */
  readonly bindingPackage?: string;
  /** Nested objects are nested attributes, not blocks (plugin-framework providers generated from OpenAPI). */
  readonly nestedAsAttributes?: boolean;
}

/** The repository; set by the mock's launcher when it runs from a bundle outside the tree. */
export const REPO_ROOT = process.env.E2E_REPO_ROOT ?? path.resolve(__dirname, '..', '..', '..');
export const GENERATED_SCHEMA_DIR = path.join(REPO_ROOT, 'tools', 'e2e', 'schema', 'generated');
export const HCLOUD_SCHEMA = path.join(REPO_ROOT, '__tests__', 'fixtures', 'provider-schemas', 'hcloud.schema.json');

export const MOCKED_PROVIDERS: readonly MockedProvider[] = [
  { name: 'hcloud', address: 'registry.terraform.io/hetznercloud/hcloud', version: '1.68.0' },
  // cloudflare v5 is built on terraform-plugin-framework from OpenAPI: its objects are nested attributes.
  { name: 'cloudflare', address: 'registry.terraform.io/cloudflare/cloudflare', version: '5.14.0', bindingPackage: '@cdktf/provider-cloudflare', nestedAsAttributes: true },
  { name: 'github', address: 'registry.terraform.io/integrations/github', version: '6.9.0', bindingPackage: '@cdktf/provider-github' },
  { name: 'docker', address: 'registry.terraform.io/kreuzwerker/docker', version: '3.6.2', bindingPackage: '@cdktf/provider-docker' },
  { name: 'random', address: 'registry.terraform.io/hashicorp/random', version: '3.7.2', bindingPackage: '@cdktf/provider-random' },
  { name: 'tfe', address: 'registry.terraform.io/hashicorp/tfe', version: '0.71.0', bindingPackage: '@cdktf/provider-tfe' },
];

/** `terraform providers schema -json` shape. */
export interface SchemaFile {
  /** Which binding package and version the file was rebuilt from (checked by __tests__/e2e-schemas.test.ts). */
  readonly '//'?: string;
  readonly format_version: string;
  readonly provider_schemas: Record<string, ProviderSchema>;
}

export function generatedSchemaPath(provider: MockedProvider): string {
  return path.join(GENERATED_SCHEMA_DIR, `${provider.name}.schema.json`);
}

/** Rebuilds one provider's schema file contents from its binding package (deterministic: sorted keys, no dates). */
export function generateSchemaFile(provider: MockedProvider): string {
  if (!provider.bindingPackage) throw new Error(`${provider.name} has a vendored schema, nothing to generate`);
  const packageDir = path.dirname(require.resolve(`${provider.bindingPackage}/package.json`, { paths: [REPO_ROOT] }));
  const schema = schemaFromBindings({ packageDir, nestedAsAttributes: provider.nestedAsAttributes ?? false });
  const file: SchemaFile = {
    '//': generatedFrom(provider),
    format_version: '1.0',
    provider_schemas: { [provider.address]: schema },
  };
  return `${JSON.stringify(file)}\n`;
}

/** "@cdktf/provider-docker@12.0.3": the installed binding package a schema is rebuilt from. */
export function generatedFrom(provider: MockedProvider): string {
  const manifest = require.resolve(`${provider.bindingPackage}/package.json`, { paths: [REPO_ROOT] });
  const { name, version } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name: string; version: string };
  return `rebuilt by npm run e2e:schemas from ${name}@${version}`;
}

/** Reads the schema Terraform is served for a provider. */
export function loadProviderSchema(provider: MockedProvider): ProviderSchema {
  const file = provider.bindingPackage ? generatedSchemaPath(provider) : HCLOUD_SCHEMA;
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as SchemaFile;
  const schema = parsed.provider_schemas[provider.address];
  if (!schema) throw new Error(`${file} has no schema for ${provider.address}`);
  return schema;
}
