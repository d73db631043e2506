/**
 * Every rule a system description must satisfy before any construct is built.
 * Each rule names environment, product, field, the bad value and what is
 * allowed; rules that encode provider knowledge say why. One file per part
 * of the description a rule checks: the catalog's products, the network,
 * deployments, images, data, accessories, production's protection, monitoring.
 */
import type { ConfigurationIssue } from '../../constructs/core/configuration-error';
import { HETZNER_LOCATIONS, isHetznerLocation } from '../../constructs/hetzner/locations';
import { type EnvironmentSpec, type SystemSpec } from '../model';
import { validateAccessories, validateAccessoryDeployments } from './accessories';
import { validateData, validatePostgresConnections, validateSnapshots } from './data';
import { validateLimitsFitHosts, validateProductDeployments, validateReplicas } from './deployments';
import { validateImmutableReferences } from './images';
import { validateAccessoryHostPorts, validateHostnames } from './hostnames';
import { validateEnvironmentMonitoring } from './monitoring';
import { validateAdminAccess, validateCloudflare, validateDomainLabels, validateEdge, validateHosts, validateLoadBalancer, validateNetworkRanges, validateResourceNames } from './network';
import { validateExemptions } from './exemptions';
import { validateProtection } from './production';
import { validateReleasePolicy } from './releases';
import { validateRedisEviction } from './redis';
import { validateCatalog } from './products';
import { EMAIL, IssueLog } from './shared';
import { unknownKeys } from '../known-keys';

export { CREDENTIALS_STACK_SUFFIX, findLinkTarget, PLATFORM_CONTAINER_NAMES, RESERVED_PRODUCT_NAMES, serviceLabel } from './products';
export { DOCKER_TAG, PRODUCTION_TAG } from './shared';

export function validateSystem(system: SystemSpec): ConfigurationIssue[] {
  const log = new IssueLog();
  log.issues.push(...unknownKeys(system));
  validateCatalog(system, log);
  validateAccessories(system, log.in({}));
  const seenEnvironments = new Set<string>();
  for (const environment of system.environments) {
    if (seenEnvironments.has(environment.name)) {
      log.in({ environment: environment.name })({ field: 'name', value: environment.name, allowed: 'a name used by one environment only' });
    }
    seenEnvironments.add(environment.name);
    validateEnvironment(system, environment, log);
  }
  validateHostnames(system, log);
  return log.issues;
}

function validateEnvironment(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  const report = log.in({ environment: environment.name });
  if (!/^[a-z][a-z0-9]*$/.test(environment.name)) {
    report({ field: 'name', value: environment.name, allowed: 'lowercase letters and digits, starting with a letter' });
  }
  if (!isHetznerLocation(environment.location)) {
    report({ field: 'location', value: environment.location, allowed: Object.keys(HETZNER_LOCATIONS) });
  }
  const prefix = environment.domainPrefix ?? '';
  if (prefix !== '' && !/^[a-z0-9][a-z0-9-]*-$/.test(prefix)) {
    report({ field: 'domainPrefix', value: prefix, allowed: 'empty, or lowercase letters/digits ending in "-" (e.g. "staging-")' });
  }
  const scale = environment.reservationScale ?? 1;
  if (!(typeof scale === 'number' && scale > 0 && scale <= 1)) {
    report({ field: 'reservationScale', value: scale, allowed: 'a number greater than 0 and at most 1' });
  }
  if (!EMAIL.test(environment.acmeEmail)) {
    report({ field: 'acmeEmail', value: environment.acmeEmail, allowed: 'an e-mail address for the Let\'s Encrypt account' });
  }
  validateHosts(environment, report);
  validateNetworkRanges(environment, report);
  validateAdminAccess(environment, report);
  validateEdge(system, environment, report);
  validateProductDeployments(system, environment, log);
  validateData(environment, report);
  validatePostgresConnections(system, environment, report);
  validateRedisEviction(system, environment, log);
  validateProtection(environment, report);
  validateCloudflare(environment, report);
  validateSnapshots(environment, report);
  validateDomainLabels(system, environment, log);
  validateReplicas(system, environment, log);
  validateLoadBalancer(environment, report);
  validateAccessoryDeployments(system, environment, log);
  validateAccessoryHostPorts(system, environment, log);
  validateLimitsFitHosts(system, environment, log);
  validateImmutableReferences(system, environment, log);
  validateEnvironmentMonitoring(system, environment, report);
  validateResourceNames(system, environment, log);
  validateExemptions(system, environment, report);
  validateReleasePolicy(environment, report);
}
