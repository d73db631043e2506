/**
 * Variants of a valid system for tests: a deep, writable copy and accessors
 * that find an environment, product or service by name (and fail loudly when
 * a test names one that does not exist, rather than mutating nothing).
 */
import type { EnvironmentSpec, ProductSpec, ServiceSpec, SystemSpec } from '../../system/model';

/** `readonly` removed at every level, so a test can mutate its copy. */
export type Writable<T> = T extends (...args: any[]) => unknown
  ? T
  : T extends readonly (infer U)[]
    ? Writable<U>[]
    : T extends object
      ? { -readonly [K in keyof T]: Writable<T[K]> }
      : T;

export type WritableSystem = Writable<SystemSpec>;
export type WritableEnvironment = Writable<EnvironmentSpec>;
export type WritableProduct = Writable<ProductSpec>;
export type WritableService = Writable<ServiceSpec>;

/**
 * Copies plain objects and arrays; keeps class instances (HealthCheck,
 * Duration) as they are, since they are immutable and carry behaviour.
 */
export function deepCopy<T>(value: T): Writable<T> {
  if (Array.isArray(value)) return value.map((item) => deepCopy(item)) as Writable<T>;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, deepCopy(child)])) as Writable<T>;
  }
  return value as Writable<T>;
}

/** A mutated copy of `system`; the original is never touched. */
export function variant(system: SystemSpec, mutate: (copy: WritableSystem) => void): SystemSpec {
  const copy = deepCopy(system);
  mutate(copy);
  return copy as SystemSpec;
}

export function environmentOf(system: WritableSystem, name: string): WritableEnvironment {
  const found = system.environments.find((environment) => environment.name === name);
  if (found === undefined) throw new Error(`test setup: no environment "${name}"`);
  return found;
}

export function productOf(system: WritableSystem, name: string): WritableProduct {
  const found = system.products.find((product) => product.name === name);
  if (found === undefined) throw new Error(`test setup: no product "${name}"`);
  return found;
}

export function serviceOf(system: WritableSystem, product: string, name: string): WritableService {
  const found = productOf(system, product).services.find((service) => service.name === name);
  if (found === undefined) throw new Error(`test setup: no service "${product}/${name}"`);
  return found;
}

/**
 * Drops every service's smoke checks: a swarm runs no release steps and refuses them (docs/releasing.md,
 * "On a swarm"), so a test that turns a catalog environment into a swarm takes them out first.
 */
export function withoutSmokeChecks(system: WritableSystem): void {
  for (const product of system.products) for (const service of product.services) delete service.smoke;
}

/**
 * Keeps only the named environments and, in them, only the named products:
 * a smaller App (fewer stacks to build) for a test that looks at a few stacks.
 */
export function keepOnly(system: WritableSystem, environments: readonly string[], products: readonly string[]): void {
  system.environments = system.environments.filter((environment) => environments.includes(environment.name));
  for (const environment of system.environments) {
    environment.products = environment.products.filter((deployment) => products.includes(deployment.product));
    // The apex goes with the product serving it.
    if (environment.apexService !== undefined && !products.includes(environment.apexService.split('/')[0]!)) environment.apexService = undefined;
  }
}

/**
 * The PostgreSQL database names of an environment's products that use the data service (one per
 * product, `-` as `_`), sorted: what tests of the live catalog expect instead of a list that a new
 * product would make stale.
 */
export function databasesOf(system: SystemSpec, environment: string): string[] {
  const spec = system.environments.find((candidate) => candidate.name === environment);
  if (spec === undefined) throw new Error(`no environment "${environment}"`);
  return spec.products
    .map((deployment) => system.products.find((product) => product.name === deployment.product)!)
    .filter((product) => product.services.some((service) => (service.uses ?? []).includes('postgres')))
    .map((product) => product.name.replace(/-/g, '_'))
    .sort();
}
