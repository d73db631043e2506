/** Image tags and references: Docker's grammar everywhere, immutable references in production. */
import { DATA_DEPENDENCIES, type EnvironmentSpec, type SystemSpec } from '../model';
import { DOCKER_TAG, IMAGE_REF, IssueLog, PRODUCTION_TAG, Report } from './shared';

/** A Docker tag; in production an immutable one. */
export function checkImageTag(environment: EnvironmentSpec, field: string, tag: string, report: Report): void {
  if (!DOCKER_TAG.test(tag)) {
    report({ field, value: tag, allowed: 'a Docker tag: letters, digits, "_", "." and "-", at most 128 characters' });
  } else if (environment.production && !PRODUCTION_TAG.test(tag) && immutablePattern(environment)?.test(tag) !== true) {
    report({
      field,
      value: tag,
      allowed: 'an immutable tag: "main-<7 to 40 hex digits>" or "v<major>.<minor>.<patch>"',
      why: 'production never runs "latest" or another moving tag: a restart could change the code',
    });
  }
}

/** A reference Docker can pull, pinned by tag, digest or both. */
export function isImageRef(ref: string): boolean {
  const name = ref.split('@')[0]!;
  return IMAGE_REF.test(ref) && (ref.includes('@') || name.lastIndexOf(':') > name.lastIndexOf('/'));
}

/** Production runs only references that cannot move: a digest, or a tag of an immutable scheme. */
function isImmutable(environment: EnvironmentSpec, ref: string): boolean {
  if (ref.includes('@sha256:')) return true;
  const name = ref.split('@')[0]!;
  const tag = name.slice(name.lastIndexOf(':') + 1);
  return PRODUCTION_TAG.test(tag) || immutablePattern(environment)?.test(tag) === true;
}

function immutablePattern(environment: EnvironmentSpec): RegExp | undefined {
  if (environment.immutableTags === undefined) return undefined;
  try {
    return new RegExp(environment.immutableTags);
  } catch {
    return undefined;
  }
}

const IMMUTABLE_ALLOWED = 'a digest ("repository@sha256:<64 hex digits>", recommended for third-party images), a tag "main-<sha>" or "v<major>.<minor>.<patch>", or a tag matching the environment\'s immutableTags';

export function validateImmutableReferences(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  if (environment.immutableTags !== undefined) {
    const pattern = immutablePattern(environment);
    if (pattern === undefined || pattern.test('latest') || pattern.test('main') || pattern.test('stable')) {
      log.in({ environment: environment.name })({
        field: 'immutableTags',
        value: environment.immutableTags,
        allowed: 'a valid regular expression that matches no moving tag ("latest", "main", "stable")',
      });
    }
  }
  if (!environment.production) return;
  const why = 'production never runs a moving reference: a restart could change the code';
  for (const deployment of environment.products) {
    const product = system.products.find((p) => p.name === deployment.product);
    for (const service of product?.services ?? []) {
      if (service.imageRef !== undefined && isImageRef(service.imageRef) && !isImmutable(environment, service.imageRef)) {
        log.in({ environment: environment.name, product: deployment.product })({ field: `services.${service.name}.imageRef`, value: service.imageRef, allowed: IMMUTABLE_ALLOWED, why });
      }
    }
  }
  for (const name of DATA_DEPENDENCIES) {
    const settings = environment.data[name];
    if (settings.mode === 'container' && settings.image !== undefined && isImageRef(settings.image) && !isImmutable(environment, settings.image)) {
      log.in({ environment: environment.name })({ field: `data.${name}.image`, value: settings.image, allowed: IMMUTABLE_ALLOWED, why });
    }
  }
  for (const deployment of environment.accessories ?? []) {
    const accessory = system.accessories?.find((a) => a.name === deployment.name);
    if (accessory !== undefined && isImageRef(accessory.imageRef) && !isImmutable(environment, accessory.imageRef)) {
      log.in({ environment: environment.name })({ field: `accessories.${accessory.name}.imageRef`, value: accessory.imageRef, allowed: IMMUTABLE_ALLOWED, why });
    }
  }
}
