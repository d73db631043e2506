/**
 * The image tags each environment runs come from `environments/tags/<env>.json` (issue 19): the
 * release, promotion and rollback commands write that file, the environment definitions read it
 * here. Which products an environment runs stays in its PRODUCTS list; the file only says which
 * tag. A listed product without a tag runs NEVER_RELEASED_TAG until `npm run release -- record`
 * writes one; a tag for a product or service the environment does not run is a ConfigurationError
 * (tag syntax, and production's immutable-only rule, are checked with the rest of the input in
 * system/validation/).
 */
import { ConfigurationError, type ConfigurationIssue, type ProductDeployment, type ProductSpec } from '../index';

/**
 * The tag of a product that was never released: valid syntax (even for production's immutable-tag
 * rule), so the stacks synthesize, but no image was ever pushed under it, so production refuses to
 * apply it (scripts/release/release.ts `check-placeholders`, `npm run deploy`).
 */
export const NEVER_RELEASED_TAG = 'main-0000000';

/** One environment's tags file as read from disk (shape checked here, not trusted). */
interface TagsFileShape {
  readonly environment?: unknown;
  readonly products?: Record<string, { readonly imageTag?: unknown; readonly imageTags?: Record<string, unknown>; readonly slots?: unknown } | undefined>;
}

/**
 * The deployments of `products` (in that order) with the tags of `tagsFile`.
 *
 * @param environment name of the environment, checked against the file's `environment`
 * @param products the products the environment runs (its explicit list)
 * @param tagsFile the parsed content of `environments/tags/<environment>.json`
 * @param catalog the system's products, for the services a per-service tag may name
 */
export function deploymentsFromTags(environment: string, products: readonly string[], tagsFile: unknown, catalog: readonly ProductSpec[]): ProductDeployment[] {
  const file = tagsFile as TagsFileShape | null;
  const where = `environments/tags/${environment}.json`;
  if (file === null || typeof file !== 'object' || typeof file.products !== 'object' || file.products === null) {
    throw new ConfigurationError([{ environment, field: where, value: file, allowed: '{"environment": "<name>", "products": {"<product>": {"imageTag": "<tag>"}}}' }]);
  }
  const issues: ConfigurationIssue[] = [];
  if (file.environment !== environment) issues.push({ environment, field: `${where}: environment`, value: file.environment, allowed: [environment] });
  for (const product of Object.keys(file.products)) {
    if (!products.includes(product)) {
      issues.push({ environment, product, field: `${where}: products`, value: product, allowed: [...products], why: 'the environment does not run this product: add it to its PRODUCTS list first' });
    }
  }
  const deployments: ProductDeployment[] = [];
  for (const product of products) {
    const tags = file.products[product];
    if (tags === undefined) {
      // Listed but never released: synthesizes (staging can be planned), refused by every production apply.
      deployments.push({ product, imageTag: NEVER_RELEASED_TAG });
      continue;
    }
    if (typeof tags.imageTag !== 'string') {
      issues.push({ environment, product, field: `${where}: products.${product}.imageTag`, value: tags?.imageTag, allowed: 'an image tag (the product is in the environment\'s PRODUCTS list)' });
      continue;
    }
    const services = catalog.find((spec) => spec.name === product)?.services.map((service) => service.name) ?? [];
    const overrides: Record<string, string> = {};
    for (const [service, tag] of Object.entries(tags.imageTags ?? {})) {
      if (!services.includes(service)) issues.push({ environment, product, field: `${where}: products.${product}.imageTags`, value: service, allowed: services });
      else if (typeof tag !== 'string') issues.push({ environment, product, field: `${where}: products.${product}.imageTags.${service}`, value: tag, allowed: 'an image tag' });
      else overrides[service] = tag;
    }
    if (tags.slots !== undefined && (typeof tags.slots !== 'object' || tags.slots === null)) {
      issues.push({ environment, product, field: `${where}: products.${product}.slots`, value: tags.slots, allowed: '{"<service>": {"live": "blue" | "green", "blue": "<tag>", "green": "<tag>"}}' });
      continue;
    }
    // The slots' content is checked with the rest of the environment (system/validation/deployments.ts).
    const slots = tags.slots === undefined ? {} : { slots: tags.slots as ProductDeployment['slots'] };
    deployments.push({ product, imageTag: tags.imageTag, ...(Object.keys(overrides).length > 0 ? { imageTags: overrides } : {}), ...slots });
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
  return deployments;
}
