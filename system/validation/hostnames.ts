/**
 * Names and ports only one owner may hold. Every environment publishes
 * under the one zone, so a production service named `staging-app-chat` and
 * staging's `app-chat` are the same hostname. And a host port belongs to one container: an accessory published on
 * a host's private address may not take the edge proxy's 80 and 443 (bound
 * on every address) or sshd's 22. Each clash names both owners.
 */
import { MONITORING_DEFAULTS } from '../monitoring';
import type { EnvironmentSpec, SystemSpec } from '../model';
import { serviceLabel } from './products';
import type { IssueLog } from './shared';

/** One public hostname and who holds it. */
interface HostnameClaim {
  readonly hostname: string;
  readonly environment: string;
  /** `product/service` or `monitoring (Grafana)`. */
  readonly owner: string;
  /** The field that sets it, under the environment or the product. */
  readonly field: string;
  readonly product?: string;
  /** The environment's domain prefix. */
  readonly prefix: string;
}

function claimsOf(system: SystemSpec, environment: EnvironmentSpec): HostnameClaim[] {
  const prefix = environment.domainPrefix ?? '';
  const name = (label: string) => `${prefix}${label}.${system.rootDomain}`;
  const claims: HostnameClaim[] = [];
  for (const deployment of environment.products) {
    const product = system.products.find((p) => p.name === deployment.product);
    for (const service of product?.services ?? []) {
      const label = serviceLabel(product!, service);
      if (label === undefined) continue;
      claims.push({ hostname: name(label), environment: environment.name, owner: `${product!.name}/${service.name}`, field: `services.${service.name}.subdomain`, product: product!.name, prefix });
    }
  }
  claims.push({ hostname: name(environment.monitoring?.subdomain ?? MONITORING_DEFAULTS.subdomain), environment: environment.name, owner: 'monitoring (Grafana)', field: 'monitoring.subdomain', prefix });
  return claims;
}

const describe = (claim: HostnameClaim) => `${claim.owner} in environment "${claim.environment}"`;

/** Two environments on one hostname of the shared zone. */
export function validateHostnames(system: SystemSpec, log: IssueLog): void {
  const holders = new Map<string, HostnameClaim>();
  for (const claim of system.environments.flatMap((environment) => claimsOf(system, environment))) {
    const first = holders.get(claim.hostname);
    if (first === undefined) {
      holders.set(claim.hostname, claim);
      continue;
    }
    // Within one environment the catalog's labels and Grafana's are checked already, and two environments with one
    // prefix are refused as a whole (cloudflare-plan.ts); what is left is a name one prefix makes out of another's.
    if (first.prefix === claim.prefix) continue;
    log.in({ environment: claim.environment, product: claim.product })({
      field: claim.field,
      value: claim.hostname,
      allowed: `a hostname not held by ${describe(first)} (${first.field}); change one of the two`,
      why: `${describe(claim)} and ${describe(first)} would both answer ${claim.hostname}: every environment shares the zone ${system.rootDomain}, so one DNS record and route would silently replace the other`,
    });
  }
}

/** Host ports taken on every host by the platform: a container published on a private address may not take them. */
export const HOST_PORT_OWNERS: Readonly<Record<number, string>> = { 22: 'sshd (administrator SSH)', 80: 'the edge proxy (HTTP, bound on every address)', 443: 'the edge proxy (HTTPS, bound on every address)' };

/** Accessories publish their ports on their host's private address when the environment has several hosts. */
export function validateAccessoryHostPorts(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  if (environment.hosts.length < 2) return;
  for (const deployment of environment.accessories ?? []) {
    const accessory = system.accessories?.find((candidate) => candidate.name === deployment.name);
    for (const [name, port] of Object.entries(accessory?.ports ?? {})) {
      const owner = HOST_PORT_OWNERS[port];
      if (owner === undefined) continue;
      log.in({ environment: environment.name })({
        field: `accessories.${accessory!.name}.ports.${name}`,
        value: port,
        allowed: `a port other than ${Object.keys(HOST_PORT_OWNERS).join(', ')}: ${port} belongs to ${owner} on host "${deployment.host ?? environment.data.host ?? environment.hosts[0]!.name}"`,
        why: `with several hosts ${accessory!.name} publishes its ports on its host's private address, where ${owner} already holds ${port}`,
      });
    }
  }
}
