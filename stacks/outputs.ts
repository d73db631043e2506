/**
 * The contract between stacks: every output one stack publishes for others
 * to read, by name. Producers `publish` under these names, consumers read
 * them with `outputsOf(...).getString(...)`, and a rename is a change of
 * contract visible here. Output names are Terraform identifiers (`_`, not `-`).
 */
import type { HostNetwork } from '../constructs/docker/host-networks';
import type { DataDependency } from '../system/model';

const identifier = (name: string) => name.replace(/-/g, '_');

/** `<env>-network`: one attribute of one host (`host_app_1_ipv4`). */
export function hostOutputName(host: string, attribute: 'server_id' | 'ipv4' | 'ipv6' | 'private_ip'): string {
  return `host_${identifier(host)}_${attribute}`;
}

/** `<env>-network`: the systemd unit admitting the ports published on a host's private address (`host_data_1_private_services_unit`). */
export function privateServicesUnitOutputName(host: string): string {
  return `host_${identifier(host)}_private_services_unit`;
}

/** `<env>-network`: the Cloudflare zone id, so product stacks do not each look the zone up. */
export const ZONE_ID_OUTPUT = 'cloudflare_zone_id';

/** `<env>-network`, sensitive: the Cloudflare API token the edge proxies answer DNS-01 challenges with (DNS edit on the zone only). */
export const ACME_DNS_TOKEN_OUTPUT = 'acme_dns_token';

/** `<env>-network`: an address of the environment's load balancer, where public names point when there is one. */
export function loadBalancerOutputName(attribute: 'ipv4' | 'ipv6' | 'private_ip'): string {
  return `load_balancer_${attribute}`;
}

/** `<env>-edge`: the name of one Docker network of one host (`host_app_1_docker_network_data`). */
export function dockerNetworkOutputName(host: string, network: HostNetwork): string {
  return `host_${identifier(host)}_docker_network_${network}`;
}

/** `<env>-edge`: the name of an accessory's own Docker network on its host (`accessory_search_docker_network`). */
export function accessoryNetworkOutputName(accessory: string): string {
  return `accessory_${identifier(accessory)}_docker_network`;
}

/** `<env>-<product>-credentials`, sensitive: the password of the product's role on a data service (`postgres_password`), which the data stack sets. */
export function dataPasswordOutputName(dependency: DataDependency): string {
  return `${dependency}_password`;
}

/** `<env>-<product>-credentials`, sensitive: the product's connection string for a data service (`database_url`, `redis_url`). */
export function dataUrlOutputName(dependency: DataDependency): string {
  return dependency === 'postgres' ? 'database_url' : 'redis_url';
}

/** `<env>-<product>-credentials`, sensitive: a secret an accessory shares with the product's services (`shared_search_meili_master_key`). */
export function sharedSecretOutputName(accessory: string, secret: string): string {
  return `shared_${identifier(accessory)}_${secret.toLowerCase()}`;
}

