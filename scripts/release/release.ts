/**
 * The release flow's decisions (issue 19), kept free of I/O so tests can call them directly:
 *
 * - record:   an application's new image tag becomes staging's tag for that product (or service)
 * - promote:  production gets exactly the tags staging last applied (refs/applied/staging-<product>)
 * - refuse:   a production product stack whose containers would run a placeholder tag
 *
 * "Applied" means healthy: a service container with a health check is created with the Docker
 * provider's `wait = true` (constructs/docker/hardened-container.ts, `waitForHealthy`), so
 * `terraform apply` fails unless it became healthy, and only a successful apply moves
 * refs/applied/<stack> (.github/workflows/deploy-stage.yml, record job).
 */
import * as path from 'node:path';
import { ConfigurationError, type ConfigurationIssue } from '../../constructs/core/configuration-error';
import { labelsOf, resourcesOf, type SynthesizedStack } from '../lib/synthesized';
import { effectiveTag, isPlaceholderTag, parseTagsFile, withTag, type TagsContext, type TagsFile } from '../ops/tags-file';

/** `product` or `product/service`, checked against the catalog and the environment's tags file. */
export interface ReleaseTarget {
  readonly product: string;
  /** One service only. @default - every service of the product */
  readonly service?: string;
}

/** Parses `product[/service]`, naming the environment, field, value and allowed values on error. */
export function parseTarget(context: TagsContext, text: string | undefined, field = 'product'): ReleaseTarget {
  const allowedProducts = context.products.map((product) => product.name);
  const [product = '', service, ...extra] = (text ?? '').split('/');
  const spec = context.products.find((candidate) => candidate.name === product);
  if (spec === undefined || extra.length > 0) {
    throw new ConfigurationError([{ environment: context.environment, field, value: text ?? '', allowed: allowedProducts.map((name) => `${name}[/<service>]`) }]);
  }
  if (service === undefined || service === '') return { product };
  const services = spec.services.map((candidate) => candidate.name);
  if (!services.includes(service)) throw new ConfigurationError([{ environment: context.environment, product, field: 'service', value: service, allowed: services }]);
  return { product, service };
}

function label(target: ReleaseTarget): string {
  return target.service === undefined ? target.product : `${target.product}/${target.service}`;
}

/** The stack a product's release applies: `<env>-<product>`, and nothing else. */
export function productStack(environment: string, product: string): string {
  return `${environment}-${product}`;
}

/**
 * Records an application's new tag in staging's tags file. The product must be one the
 * environment runs (its PRODUCTS list; a new product is not in the file until its first release);
 * the tag must be a Docker tag and not a placeholder.
 */
export function recordRelease(file: TagsFile, context: TagsContext, target: ReleaseTarget, tag: string): TagsFile {
  const runs = context.runs ?? Object.keys(file.products);
  if (!runs.includes(target.product)) {
    throw new ConfigurationError([{ environment: context.environment, product: target.product, field: 'product', value: target.product, allowed: [...runs], why: 'the environment does not run it: add it to the environment\'s PRODUCTS list first' }]);
  }
  if (isPlaceholderTag(tag)) {
    throw new ConfigurationError([{ environment: context.environment, product: target.product, field: target.service === undefined ? 'imageTag' : `imageTags.${target.service}`, value: tag, allowed: 'a tag an application build pushed (main-<commit sha>)', why: 'all zeros is the placeholder of a product never released' }]);
  }
  return withTag(file, context, target.product, target.service, tag);
}

/** What staging last applied for a product: the commit of refs/applied/staging-<product>. */
export interface StagingApplied {
  /** The commit recorded in refs/applied/<stack>, or undefined when the stack was never applied. */
  readonly commit?: string;
  /** environments/tags/staging.json at that commit (text), or undefined when it did not exist there. */
  readonly stagingTagsText?: string;
}

/**
 * The production tags file with `target` set to exactly what staging ran when its stack was last
 * applied. With `expectedTag`, refuses unless that is the tag staging ran. Refuses a product or
 * service staging never applied, a placeholder, and a mutable tag (production's tag rule).
 */
export function promote(
  production: TagsFile,
  productionContext: TagsContext,
  stagingContext: TagsContext,
  target: ReleaseTarget,
  applied: StagingApplied,
  expectedTag?: string,
): { file: TagsFile; tag: string; from: string } {
  const stack = productStack(stagingContext.environment, target.product);
  const field = target.service === undefined ? 'imageTag' : `imageTags.${target.service}`;
  const issue = (value: unknown, allowed: ConfigurationIssue['allowed'], why: string): ConfigurationError =>
    new ConfigurationError([{ environment: productionContext.environment, product: target.product, field, value, allowed, why }]);
  if (applied.commit === undefined || applied.stagingTagsText === undefined) {
    // Without --tag there is no value to show: say so rather than echo the product name as a tag.
    throw issue(expectedTag ?? null, 'a tag staging applied', `staging never applied ${stack} (no refs/applied/${stack}, or no tags file at its commit), so there is nothing tested to promote${expectedTag === undefined ? `; no --tag was given for ${label(target)}` : ''}`);
  }
  const staging = parseTagsFile(applied.stagingTagsText, { ...stagingContext, production: false });
  const tag = effectiveTag(staging.products[target.product], target.service);
  if (tag === undefined) throw issue(expectedTag ?? null, Object.keys(staging.products).map((product) => `a tag of ${product}`), `staging recorded no tag for ${label(target)} at ${applied.commit.slice(0, 10)} (never released there)`);
  if (expectedTag !== undefined && expectedTag !== tag) {
    throw issue(expectedTag, [tag], `staging never ran ${expectedTag} as its last applied ${stack} (refs/applied/${stack} is ${applied.commit.slice(0, 10)}, which runs ${tag})`);
  }
  if (isPlaceholderTag(tag)) throw issue(tag, 'a released tag', `staging's ${label(target)} still runs the placeholder; release it to staging first`);
  let file: TagsFile;
  if (target.service !== undefined) {
    file = withTag(production, productionContext, target.product, target.service, tag);
  } else {
    // The whole product as staging ran it: its tag and every per-service override.
    file = withTag(production, productionContext, target.product, undefined, tag);
    for (const [service, serviceTag] of Object.entries(staging.products[target.product]?.imageTags ?? {})) {
      if (isPlaceholderTag(serviceTag)) throw new ConfigurationError([{ environment: productionContext.environment, product: target.product, field: `imageTags.${service}`, value: serviceTag, allowed: 'a released tag', why: 'staging still runs the placeholder for this service' }]);
      file = withTag(file, productionContext, target.product, service, serviceTag);
    }
  }
  return { file, tag, from: applied.commit };
}

/** A service container of a product stack that would run a placeholder tag. */
export interface PlaceholderUse {
  readonly stack: string;
  readonly product: string;
  readonly service: string;
  readonly tag: string;
}

/** Service containers of a synthesized stack whose image tag is a placeholder (their labels say which). */
export function placeholderUses(stack: SynthesizedStack): PlaceholderUse[] {
  return resourcesOf(stack, 'docker_container')
    .map(([, block]) => labelsOf(block))
    .filter((labels) => labels.role === 'service' && isPlaceholderTag(labels['image.tag'] ?? ''))
    .map((labels) => ({ stack: stack.name, product: labels.product ?? '?', service: labels.service ?? '?', tag: labels['image.tag']! }));
}

/** The refusal for production stacks that would run placeholders, or undefined when there is none. */
export function placeholderRefusal(environment: string, uses: readonly PlaceholderUse[]): string | undefined {
  if (uses.length === 0) return undefined;
  const lines = uses.map((use) => `  environment "${environment}", product "${use.product}", service "${use.service}": image tag ${use.tag} (${use.stack})`);
  return [
    `refusing to apply placeholder image tags to ${environment}: nothing was released for these yet`,
    ...lines,
    `Promote a tag staging ran instead (docs/deploying.md): the promote workflow, or \`npm run release -- promote <product>\`; ${path.posix.join('environments', 'tags', `${environment}.json`)} is written by it.`,
  ].join('\n');
}
