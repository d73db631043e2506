/**
 * The mock provider's behaviour, independent of gRPC: validation, planning, apply and data source reads
 * against one provider schema. Deterministic: a computed value is derived from the resource type, the
 * attribute path and the planned configuration, so two runs of the same config yield the same state.
 */
import { createHash } from 'node:crypto';
import type { ProviderSchema, SchemaAttribute, SchemaBlock, SchemaType } from '../schema/from-bindings';
import { DATA_SOURCE_VALUES, FORCE_NEW } from './curated';
import { DynamicValue, UNKNOWN, Unknown, type Value, blockType, sameValue, stableJson, typed } from './values';

/** A diagnostic for Terraform: summary, detail and the attribute path it concerns. */
export interface Problem {
  readonly summary: string;
  readonly detail: string;
  readonly path?: readonly string[];
}

type ObjectValue = { [key: string]: Value };

function isObject(value: Value): value is ObjectValue {
  return value !== null && typeof value === 'object' && !(value instanceof Unknown) && !(value instanceof DynamicValue) && !Array.isArray(value);
}

/** Finds attributes Terraform would hand the provider a value for although only the provider may set them. */
export function computedOnlyProblems(block: SchemaBlock, config: Value, path: string[] = []): Problem[] {
  if (!isObject(config)) return [];
  const problems: Problem[] = [];
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
    const value = config[name] ?? null;
    if (value === null) continue;
    if (attribute.computed && !attribute.optional && !attribute.required) {
      // Terraform core accepts any value for a computed-only attribute and leaves the check to the provider:
      // terraform-plugin-framework reports it with this summary, SDKv2 with "<name>: this field cannot be set".
      problems.push({
        summary: 'Invalid Configuration for Read-Only Attribute',
        detail: `Cannot set value for "${[...path, name].join('.')}": the provider marks it read-only (computed). Remove the configuration line setting the value.`,
        path: [...path, name],
      });
    } else if (attribute.nested_type) {
      for (const element of elements(value, attribute.nested_type.nesting_mode)) {
        problems.push(...computedOnlyProblems({ attributes: attribute.nested_type.attributes }, element, [...path, name]));
      }
    }
  }
  for (const [name, nested] of Object.entries(block.block_types ?? {})) {
    for (const element of elements(config[name] ?? null, nested.nesting_mode)) {
      problems.push(...computedOnlyProblems(nested.block, element, [...path, name]));
    }
  }
  return problems;
}

function elements(value: Value, nesting: string): Value[] {
  if (value === null || value instanceof Unknown) return [];
  if (nesting === 'single') return [value];
  if (Array.isArray(value)) return value;
  if (isObject(value)) return Object.values(value);
  return [];
}

/**
 * Plans a resource change the way a provider SDK does without custom diff logic: Terraform's proposed new
 * state already carries the prior values of computed attributes, so an update keeps them; on create every
 * computed attribute the configuration leaves null becomes unknown (decided at apply).
 */
export function planResource(block: SchemaBlock, proposed: Value, prior: Value): Value {
  if (proposed === null) return null; // destroy
  return prior === null ? unknownComputed(block, proposed) : keepPriorComputed(block, proposed, prior);
}

/**
 * On update, computed values the configuration leaves null keep their prior value. Terraform's proposed state
 * does this itself except inside sets, where it cannot tell which prior element a new one continues; an SDKv2
 * provider matches elements by their configured values, and so does this.
 */
function keepPriorComputed(block: SchemaBlock, proposed: Value, prior: Value): Value {
  if (!isObject(proposed) || !isObject(prior)) return proposed;
  const result: ObjectValue = { ...proposed };
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
    const current = proposed[name] ?? null;
    const before = prior[name] ?? null;
    if (current === null && attribute.computed) result[name] = before;
    else if (attribute.nested_type) result[name] = mergeNested({ attributes: attribute.nested_type.attributes }, attribute.nested_type.nesting_mode, current, before);
  }
  for (const [name, nested] of Object.entries(block.block_types ?? {})) {
    result[name] = mergeNested(nested.block, nested.nesting_mode, proposed[name] ?? null, prior[name] ?? null);
  }
  return result;
}

function mergeNested(block: SchemaBlock, nesting: string, proposed: Value, prior: Value): Value {
  if (proposed === null || prior === null || proposed instanceof Unknown || prior instanceof Unknown) return proposed;
  if (nesting === 'single') return keepPriorComputed(block, proposed, prior);
  if (nesting === 'map' && isObject(proposed) && isObject(prior)) {
    return Object.fromEntries(Object.entries(proposed).map(([k, v]) => [k, keepPriorComputed(block, v, prior[k] ?? null)]));
  }
  if (!Array.isArray(proposed) || !Array.isArray(prior)) return proposed;
  if (nesting === 'list') return proposed.map((element, i) => keepPriorComputed(block, element, prior[i] ?? null));
  const unused = [...prior];
  return proposed.map((element) => {
    const index = unused.findIndex((candidate) => configuredValuesMatch(element, candidate));
    if (index < 0) return element;
    const [match] = unused.splice(index, 1);
    return keepPriorComputed(block, element, match);
  });
}

/** Every value set in `element` equals the candidate's (unset ones may differ: the provider filled them). */
function configuredValuesMatch(element: Value, candidate: Value): boolean {
  if (!isObject(element) || !isObject(candidate)) return sameValue(element, candidate);
  return Object.entries(element).every(([k, v]) => v === null || sameValue(v, candidate[k] ?? null));
}

function unknownComputed(block: SchemaBlock, value: Value): Value {
  if (!isObject(value)) return value;
  const result: ObjectValue = { ...value };
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
    const current = value[name] ?? null;
    if (current === null && attribute.computed) result[name] = UNKNOWN;
    else if (attribute.nested_type && current !== null) result[name] = mapElements(current, attribute.nested_type.nesting_mode, (e) => unknownComputed({ attributes: attribute.nested_type!.attributes }, e));
  }
  for (const [name, nested] of Object.entries(block.block_types ?? {})) {
    const current = value[name] ?? null;
    if (current !== null) result[name] = mapElements(current, nested.nesting_mode, (e) => unknownComputed(nested.block, e));
  }
  return result;
}

function mapElements(value: Value, nesting: string, fn: (element: Value) => Value): Value {
  if (value === null || value instanceof Unknown) return value;
  if (nesting === 'single') return fn(value);
  if (Array.isArray(value)) return value.map(fn);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fn(v)]));
  return value;
}

/** The attributes (top-level names) whose planned change forces replacement, from the curated table. */
export function requiresReplace(typeName: string, block: SchemaBlock, prior: Value, planned: Value): string[] {
  if (!isObject(prior) || !isObject(planned)) return [];
  const table = FORCE_NEW[typeName] ?? [];
  const names = table.includes('*')
    ? [...Object.entries(block.attributes ?? {}).filter(([, a]) => a.required || a.optional).map(([n]) => n), ...Object.keys(block.block_types ?? {})]
    : table;
  return names.filter((name) => name in planned && !sameValue(prior[name] ?? null, planned[name] ?? null)).sort();
}

/** Replaces every unknown in a planned value with a deterministic fake of its type. */
export function resolveUnknowns(value: Value, type: SchemaType, seed: string, path: string): Value {
  if (value instanceof Unknown) return fake(type, seed, path);
  if (value === null) return null;
  if (value instanceof DynamicValue) return value;
  if (typeof type === 'string') return value;
  const [kind, argument] = type;
  if ((kind === 'list' || kind === 'set') && Array.isArray(value)) {
    return value.map((element, i) => resolveUnknowns(element, argument as SchemaType, seed, `${path}[${i}]`));
  }
  if (kind === 'map' && isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveUnknowns(v, argument as SchemaType, seed, `${path}.${k}`)]));
  }
  if (kind === 'object' && isObject(value)) {
    const attrs = argument as Record<string, SchemaType>;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveUnknowns(v, attrs[k], seed, path ? `${path}.${k}` : k)]));
  }
  return value;
}

function digest(seed: string, path: string): string {
  return createHash('sha256').update(`${seed}\0${path}`).digest('hex');
}

/**
 * A fake for a computed value. Identifiers are digit strings because several providers take another
 * resource's string `id` as a number (hcloud `network_id`, `server_id`); addresses come from the documentation
 * ranges (RFC 5737, RFC 3849) so nothing fake can be mistaken for a real host.
 */
export function fake(type: SchemaType, seed: string, path: string): Value {
  const hex = digest(seed, path);
  const leaf = path.split('.').pop() ?? path;
  const small = parseInt(hex.slice(0, 6), 16);
  if (type === 'string') {
    if (/ipv6_network/.test(leaf)) return '2001:db8::/64';
    if (/ipv6/.test(leaf)) return `2001:db8::${(small % 65535).toString(16)}`;
    if (/ip_address|ipv4|^ip$/.test(leaf)) return `203.0.113.${(small % 253) + 1}`;
    if (leaf === 'id' || leaf.endsWith('_id')) return String(1_000_000 + (small % 9_000_000));
    return `mock-${leaf}-${hex.slice(0, 10)}`;
  }
  if (type === 'number') return 1_000_000 + (small % 9_000_000);
  if (type === 'bool') return false;
  if (type === 'dynamic') return null;
  const [kind] = type;
  if (kind === 'list' || kind === 'set' || kind === 'tuple') return [];
  if (kind === 'map') return {};
  return null; // an object nobody configured: absent
}

/** Completes a data source read: configured values stay, computed ones come from the curated table or fakes. */
export function readDataSource(typeName: string, block: SchemaBlock, config: Value): Value {
  const curated = DATA_SOURCE_VALUES[typeName] ?? {};
  const type = blockType(block);
  const withCurated: Value = isObject(config)
    ? Object.fromEntries(Object.entries(config).map(([k, v]) => [k, v === null && k in curated ? typed(curated[k], attributeTypeOf(block, k), true) : v]))
    : config;
  const seed = `${typeName}\0${stableJson(withCurated)}`;
  return resolveUnknowns(unknownComputed(block, withCurated), type, seed, '');
}

function attributeTypeOf(block: SchemaBlock, name: string): SchemaType {
  const attribute: SchemaAttribute | undefined = block.attributes?.[name];
  if (!attribute?.type) throw new Error(`curated data source value for ${name}, which is not a plain attribute`);
  return attribute.type;
}

/** Looks up a resource or data source schema, with a clear error when Terraform asks for one we do not serve. */
export function schemaFor(schema: ProviderSchema, kind: 'resource' | 'data', typeName: string): SchemaBlock {
  const table = kind === 'resource' ? schema.resource_schemas : schema.data_source_schemas;
  const found = table[typeName];
  if (!found) throw new Error(`the mock has no ${kind === 'resource' ? 'resource' : 'data source'} schema for ${typeName}`);
  return found.block;
}

/**
 * Without a Docker daemon behind the mock, a one-shot container (`attach`) has run and exited 0: its computed
 * `exit_code` (and, with `logs`, `container_logs`) are what the provider reads from a successful run
 * (resource_docker_container_funcs.go at v3.6.2), not fakes, which a postcondition on the exit code would refuse.
 * With a daemon (docker-engine.ts) the real exit code and output replace them.
 */
export function oneShotOutcome(typeName: string, config: Value, applied: Value): Value {
  if (typeName !== 'docker_container' || !isObject(config) || config.attach !== true || !isObject(applied)) return applied;
  return { ...applied, exit_code: 0, ...(config.logs === true ? { container_logs: '' } : {}) };
}
