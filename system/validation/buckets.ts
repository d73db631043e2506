/** R2 buckets of services: names, variable prefixes, public names. */
import { behaviourOf } from '../kinds';
import type { ProductSpec, SystemSpec } from '../model';
import { NAME, Report } from './shared';

/** Cloudflare's limit on an R2 bucket name. */
const MAX_BUCKET_NAME = 63;

/** A variable prefix: UPPER_SNAKE ending in "_" (`S3_`, `MEDIA_`). */
const VARIABLE_PREFIX = /^[A-Z][A-Z0-9_]*_$/;

/**
 * Each bucket of the product's services: a unique lowercase name whose
 * full bucket name fits R2's limit in every environment, a variable prefix
 * used once per service, and only on a kind that runs a container. Public
 * names join `domains` (label to owner) so they collide with no service's.
 */
export function validateBuckets(system: SystemSpec, product: ProductSpec, report: Report, domains: Map<string, string>): void {
  const names = new Set<string>();
  const longestEnvironment = Math.max(0, ...system.environments.map((environment) => environment.name.length));
  for (const service of product.services) {
    const prefixes = new Set<string>();
    for (const bucket of service.buckets ?? []) {
      const field = (name: string) => `services.${service.name}.buckets.${bucket.name}.${name}`;
      const fullLength = system.name.length + longestEnvironment + product.name.length + bucket.name.length + 3;
      if (!NAME.test(bucket.name) || names.has(bucket.name)) {
        report({ field: field('name'), value: bucket.name, allowed: 'lowercase letters, digits and "-", unique within the product' });
      } else if (fullLength > MAX_BUCKET_NAME) {
        report({
          field: field('name'),
          value: bucket.name,
          allowed: `a name that keeps "${system.name}-<environment>-${product.name}-<name>" within ${MAX_BUCKET_NAME} characters`,
          why: 'R2 bucket names are at most 63 characters',
        });
      }
      names.add(bucket.name);
      const prefix = bucket.variablePrefix ?? 'S3_';
      if (!VARIABLE_PREFIX.test(prefix) || prefixes.has(prefix)) {
        report({ field: field('variablePrefix'), value: prefix, allowed: 'UPPER_SNAKE_CASE ending in "_" (S3_, MEDIA_), one per bucket of the service: set it when a service has several buckets' });
      }
      prefixes.add(prefix);
      if (!behaviourOf(service.kind)?.container) {
        report({ field: `services.${service.name}.buckets`, value: service.kind, allowed: 'a kind that runs a container (api, web, landing, internal, worker)', why: 'the bucket\'s credentials go into the container\'s environment' });
      }
      if (bucket.publicSubdomain !== undefined) {
        const owner = `${product.name}/${service.name} bucket ${bucket.name}`;
        if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(bucket.publicSubdomain)) {
          report({ field: field('publicSubdomain'), value: bucket.publicSubdomain, allowed: 'one DNS label: lowercase letters, digits and "-"' });
        } else if (domains.has(bucket.publicSubdomain)) {
          report({ field: field('publicSubdomain'), value: bucket.publicSubdomain, allowed: `a label not already used by ${domains.get(bucket.publicSubdomain)}` });
        }
        domains.set(bucket.publicSubdomain, owner);
      }
    }
  }
}
