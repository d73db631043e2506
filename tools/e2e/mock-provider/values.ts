/**
 * Terraform values on the wire, for the mock provider. The encoding follows
 * docs/plugin-protocol/object-wire-format.md of hashicorp/terraform v1.11.4: a block is a msgpack map with every
 * attribute and nested block present (null as nil), sets and lists are arrays, `dynamic` is a two-element array
 * [JSON type as bytes, value], and an unknown value is msgpack extension 0 (or 12, a refined unknown, whose
 * payload we ignore) at any depth.
 */
import { ExtensionCodec, decode, encode } from '@msgpack/msgpack';
import type { SchemaAttribute, SchemaBlock, SchemaType } from '../schema/from-bindings';

/** A value not known until apply. */
export class Unknown {
  static readonly instance = new Unknown();
  private constructor() {}
}
export const UNKNOWN = Unknown.instance;

/** A decoded value: null, unknown, primitives, arrays (list/set/tuple), plain objects (map/object), or dynamic. */
export type Value = null | Unknown | string | number | boolean | Value[] | { [key: string]: Value } | DynamicValue;

/** A value of type `dynamic`: the JSON type and the value. */
export class DynamicValue {
  constructor(
    readonly typeJson: Uint8Array,
    readonly value: Value,
  ) {}
}

const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: 0,
  encode: (input: unknown) => (input instanceof Unknown ? new Uint8Array(0) : null),
  decode: () => UNKNOWN,
});
extensionCodec.register({ type: 12, encode: () => null, decode: () => UNKNOWN });

/** Decodes msgpack without a type: dynamic values stay as their raw [type, value] array until `typed` reads them. */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  return decode(bytes, { extensionCodec, useBigInt64: false });
}

export function encodeMsgpack(value: unknown): Uint8Array {
  return encode(toWire(value), { extensionCodec, ignoreUndefined: false });
}

function toWire(value: unknown): unknown {
  if (value instanceof DynamicValue) return [value.typeJson, toWire(value.value)];
  if (value instanceof Unknown || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(toWire);
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toWire(v)]));
}

/** The object type of a block: one attribute per attribute and per nested block type. */
export function blockType(block: SchemaBlock): SchemaType {
  const attrs: Record<string, SchemaType> = {};
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) attrs[name] = attributeType(attribute);
  for (const [name, nested] of Object.entries(block.block_types ?? {})) {
    const inner = blockType(nested.block);
    attrs[name] = nested.nesting_mode === 'single' ? inner : [nested.nesting_mode, inner];
  }
  return ['object', attrs];
}

export function attributeType(attribute: SchemaAttribute): SchemaType {
  if (attribute.type !== undefined) return attribute.type;
  const nested = attribute.nested_type!;
  const inner = blockType({ attributes: nested.attributes });
  return nested.nesting_mode === 'single' ? inner : [nested.nesting_mode, inner];
}

/** Gives a raw decoded value (msgpack, or JSON state) its type's shape: objects get every attribute, dynamics are wrapped. */
export function typed(raw: unknown, type: SchemaType, fromJson = false): Value {
  if (raw === null || raw === undefined) return null;
  if (raw instanceof Unknown) return UNKNOWN;
  if (type === 'dynamic') {
    if (!fromJson && Array.isArray(raw) && raw.length === 2 && raw[0] instanceof Uint8Array) {
      const inner = JSON.parse(Buffer.from(raw[0]).toString('utf8')) as SchemaType;
      return new DynamicValue(raw[0], typed(raw[1], inner, fromJson));
    }
    // JSON (state written by Terraform, UpgradeResourceState): {"value": ..., "type": <JSON type>}, per the
    // JSON rules of object-wire-format.md.
    if (fromJson && raw && typeof raw === 'object' && !Array.isArray(raw) && 'type' in raw && 'value' in raw && Object.keys(raw).length === 2) {
      const inner = (raw as { type: SchemaType }).type;
      return new DynamicValue(Buffer.from(JSON.stringify(inner)), typed((raw as { value: unknown }).value, inner, true));
    }
    const inferred = inferType(raw);
    return new DynamicValue(Buffer.from(JSON.stringify(inferred)), typed(raw, inferred, fromJson));
  }
  if (typeof type === 'string') {
    if (type === 'number' && typeof raw === 'string') return Number(raw);
    return raw as Value;
  }
  const [kind, argument] = type;
  if (kind === 'list' || kind === 'set') return (raw as unknown[]).map((element) => typed(element, argument as SchemaType, fromJson));
  if (kind === 'map') {
    return Object.fromEntries(Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k, typed(v, argument as SchemaType, fromJson)]));
  }
  if (kind === 'object') {
    const source = raw as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(argument as Record<string, SchemaType>).map(([name, attrType]) => [name, typed(source[name], attrType, fromJson)]),
    );
  }
  if (kind === 'tuple') return (raw as unknown[]).map((element, i) => typed(element, (argument as unknown as SchemaType[])[i], fromJson));
  throw new Error(`unsupported type ${JSON.stringify(type)}`);
}

/** The type JSON state holds for a `dynamic` value written without its type (best effort). */
function inferType(raw: unknown): SchemaType {
  if (typeof raw === 'string') return 'string';
  if (typeof raw === 'number') return 'number';
  if (typeof raw === 'boolean') return 'bool';
  if (Array.isArray(raw)) return ['tuple', raw.map(inferType)] as unknown as SchemaType;
  if (raw && typeof raw === 'object') {
    return ['object', Object.fromEntries(Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k, inferType(v)]))];
  }
  return 'string';
}

export function isKnownDeep(value: Value): boolean {
  if (value instanceof Unknown) return false;
  if (value instanceof DynamicValue) return isKnownDeep(value.value);
  if (Array.isArray(value)) return value.every(isKnownDeep);
  if (value && typeof value === 'object') return Object.values(value).every(isKnownDeep);
  return true;
}

/** Structural equality; an unknown equals nothing (a change that may be one). */
export function sameValue(a: Value, b: Value): boolean {
  if (a instanceof Unknown || b instanceof Unknown) return false;
  if (a instanceof DynamicValue || b instanceof DynamicValue) {
    return a instanceof DynamicValue && b instanceof DynamicValue && sameValue(a.value, b.value);
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((element, i) => sameValue(element, b[i]));
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => sameValue((a as Record<string, Value>)[key] ?? null, (b as Record<string, Value>)[key] ?? null));
}

/** A JSON rendering for hashing and messages (unknowns as a marker). */
export function stableJson(value: Value): string {
  if (value instanceof Unknown) return '"<unknown>"';
  if (value instanceof DynamicValue) return stableJson(value.value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, Value>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
