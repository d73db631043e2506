/**
 * Hostnames of a stack's landing pages. Cloudflare caches landing pages at the edge (cache
 * rules, stacks/cloudflare-plan.ts); after a product stack is applied with a new landing image,
 * the workflow purges these hostnames so visitors get the new page (Cloudflare's
 * `POST /zones/{zone_id}/purge_cache` with `{"hosts": [...]}`).
 */
import { manacore } from '../../environments';
import type { SystemSpec } from '../../system/model';
import { resolveSystem } from '../../system/resolve';

/** Landing hostnames of `stack` (empty for platform stacks and products without a landing page). */
export function landingHostsOf(stack: string, system: SystemSpec = manacore): string[] {
  const products = resolveSystem(system).environments.flatMap((environment) => environment.products);
  const product = products.find((candidate) => candidate.stackName === stack);
  if (product === undefined) return [];
  return product.services.filter((service) => service.kind === 'landing' && service.domain !== undefined && service.proxied).map((service) => service.domain!);
}

/** The zone and landing hostnames to purge after `stack` is applied (see the file comment). */
export function landingPurgeOf(stack: string, system: SystemSpec = manacore): { zone: string; hosts: string[] } {
  return { zone: system.rootDomain, hosts: landingHostsOf(stack, system) };
}
