/**
 * Builds a system's App once and reads its stacks as parsed Terraform JSON.
 * Synth results are cached per stack, so a test file pays for each stack once.
 */
import { App, DefaultTokenResolver, StringConcat, TerraformStack, Testing, Tokenization } from 'cdktf';
import { invokeAspects } from 'cdktf/lib/synthesize/synthesizer';
import type { SystemSpec } from '../../system/model';
import { createSystemStacks, type EnvironmentStacks, type SystemStacksOptions } from '../../stacks/system-stacks';

/** A Terraform JSON block: resource type -> logical id -> attributes. Loose on purpose: tests read it like JSON. */
export type Blocks = Record<string, Record<string, any>>;

/** One synthesized stack, as Terraform reads it. */
export interface TerraformJson {
  readonly terraform: { readonly backend?: Record<string, any>; readonly cloud?: any; readonly required_providers?: Record<string, any> };
  readonly resource?: Blocks;
  readonly data?: Blocks;
  readonly output?: Record<string, any>;
  readonly variable?: Record<string, any>;
  readonly provider?: Record<string, any[]>;
  readonly [key: string]: unknown;
}

/** The App of one system, with its stacks by name and a cached synth of each. */
export class SynthesizedSystem {
  public readonly app: App;
  public readonly environments: readonly EnvironmentStacks[];
  private readonly cache = new Map<string, TerraformJson>();

  public constructor(system: SystemSpec, options: SystemStacksOptions = {}) {
    this.app = Testing.app();
    // Warnings (a host near full) are the capacity tests' business, not noise in every test run.
    this.environments = createSystemStacks(this.app, system, { onWarning: () => undefined, ...options });
  }

  /** Every stack of the App, in creation order. */
  public get stacks(): TerraformStack[] {
    return this.app.node.children.filter((child): child is TerraformStack => child instanceof TerraformStack);
  }

  public get stackNames(): string[] {
    return this.stacks.map((stack) => stack.node.id);
  }

  /** The stacks of one environment. */
  public environment(name: string): EnvironmentStacks {
    const found = this.environments.find((stacks) => stacks.environment.name === name);
    if (found === undefined) throw new Error(`no environment "${name}"; have ${this.environments.map((e) => e.environment.name).join(', ')}`);
    return found;
  }

  /** The parsed Terraform JSON of the stack named `name` (`production-network`). */
  public synth(name: string): TerraformJson {
    let json = this.cache.get(name);
    if (json === undefined) {
      const stack = this.stacks.find((candidate) => candidate.node.id === name);
      if (stack === undefined) throw new Error(`no stack "${name}"; have ${this.stackNames.join(', ')}`);
      json = synthStack(stack);
      this.cache.set(name, json);
    }
    return json;
  }
}

/**
 * Synthesizes one stack to parsed Terraform JSON: exactly what `JSON.parse(Testing.synth(stack))` returns
 * (synth-stability.test.ts compares the two over every stack), without its text. Testing.synth (cdktf
 * lib/testing/index.js) invokes the aspects, copies the stack's JSON with each object's keys sorted (one spread
 * per key, quadratic in an object's size) and cdktf's `//` metadata dropped, and writes it with
 * json-stable-stringify, which sorts the keys again (by code unit) and follows JSON.stringify for the values.
 */
export function synthStack(stack: TerraformStack): TerraformJson {
  invokeAspects(stack);
  return asParsedJson(stack.toTerraform()) as TerraformJson;
}

/**
 * What JSON.parse makes of resolved Terraform JSON written by Testing.synth: keys sorted by code unit (JSON.parse
 * then puts integer keys first, as assigning them here does), `//` left out, `undefined` and symbols left out of
 * objects and `null` in arrays, a non-finite number `null` and -0 `0`. An object's own enumerable properties are
 * copied whatever its class (Testing.synth copies them with Object.entries before writing). Resolving has refused
 * functions and cannot leave a `__proto__` key, so neither is looked for.
 */
function asParsedJson(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value + 0 : null;
    case 'object':
      break;
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    default:
      return undefined;
  }
  if (value === null) return null;
  if (Array.isArray(value)) return Array.from(value, (item) => asParsedJson(item) ?? null);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    if (key === '//') continue;
    const parsed = asParsedJson((value as Record<string, unknown>)[key]);
    if (parsed !== undefined) copy[key] = parsed;
  }
  return copy;
}

/** A token (or an object holding tokens) as it appears in `stack`'s Terraform JSON: `${data.x.y}`. */
export function resolveIn(stack: TerraformStack, value: unknown): unknown {
  return Tokenization.resolve(value, { scope: stack, preparing: false, resolver: new DefaultTokenResolver(new StringConcat()) });
}

/** Resources of one type by logical id (empty when the stack has none). */
export function resources(json: TerraformJson, type: string): Record<string, any> {
  return json.resource?.[type] ?? {};
}

/** Resources of one type, in the order synth wrote them. */
export function resourceList(json: TerraformJson, type: string): any[] {
  return Object.values(resources(json, type));
}

/** The one resource of a type; fails when there are none or several. */
export function onlyResource(json: TerraformJson, type: string): any {
  const list = resourceList(json, type);
  if (list.length !== 1) throw new Error(`expected exactly one ${type}, found ${list.length}`);
  return list[0];
}

/** The hosts' policy firewall: the one hcloud_firewall that is not the pipeline's empty deploy-path door. */
export function hostFirewall(json: TerraformJson): any {
  const list = resourceList(json, 'hcloud_firewall').filter((firewall) => firewall.labels?.role !== 'deploy-path');
  if (list.length !== 1) throw new Error(`expected exactly one host firewall, found ${list.length}`);
  return list[0];
}

/** Data sources of one type by logical id. */
export function dataSources(json: TerraformJson, type: string): Record<string, any> {
  return json.data?.[type] ?? {};
}

/** Every key path in a JSON value whose last segment is `key` (to prove an attribute appears nowhere). */
export function pathsOfKey(value: unknown, key: string, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => pathsOfKey(item, key, `${path}[${index}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([name, child]) => [...(name === key ? [`${path}.${name}`] : []), ...pathsOfKey(child, key, `${path}.${name}`)]);
}
