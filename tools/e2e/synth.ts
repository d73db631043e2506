/**
 * Synthesizes a system into a directory, optionally with one product's image tag changed, the way `main.ts`
 * does (synthesizeSystem), so the harness can re-synthesize without editing files.
 */
import { synthesizeSystem, type SystemSpec } from '../../index';

/** A tag change for one product in one environment. */
export interface TagChange {
  readonly environment: string;
  readonly product: string;
  readonly imageTag: string;
}

/** The system with one product's `imageTag` replaced; fails naming the environment and product when absent. */
export function withImageTag(system: SystemSpec, change: TagChange): SystemSpec {
  const environment = system.environments.find((env) => env.name === change.environment);
  if (!environment) {
    throw new Error(`e2e: no environment "${change.environment}" in ${system.name}; environments: ${system.environments.map((e) => e.name).join(', ')}`);
  }
  if (!environment.products.some((entry) => entry.product === change.product)) {
    throw new Error(`e2e: environment ${change.environment} runs no product "${change.product}"; products: ${environment.products.map((p) => p.product).join(', ')}`);
  }
  return {
    ...system,
    environments: system.environments.map((env) =>
      env !== environment
        ? env
        : { ...env, products: env.products.map((entry) => (entry.product === change.product ? { ...entry, imageTag: change.imageTag } : entry)) },
    ),
  };
}

/** Synthesizes every stack of `system` into `outdir` (cdktf.out layout: manifest.json, stacks/<name>/cdk.tf.json). */
export function synthesize(system: SystemSpec, outdir: string, terraformCloudOrganization?: string): void {
  synthesizeSystem(system, { outdir, terraformCloudOrganization });
}

/** The system with one service's own health check left out, so its kind's default probe is synthesized instead. */
export function withDefaultProbe(system: SystemSpec, product: string, service: string): SystemSpec {
  const spec = system.products.find((p) => p.name === product);
  if (!spec?.services.some((s) => s.name === service)) throw new Error(`e2e: ${system.name} has no service ${product}.${service}`);
  return {
    ...system,
    products: system.products.map((p) => (p !== spec ? p : { ...p, services: p.services.map((s) => (s.name === service ? { ...s, healthCheck: undefined } : s)) })),
  };
}
