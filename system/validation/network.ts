/** Hosts, private network ranges, admin access, the edge and the names that become DNS labels. */
import { coversWholeInternet, isPrivateIpv4, ipv4Contains, isWholeInternet, parseCidr, type Cidr } from '../../constructs/core/cidr';
import { CLOUDFLARE_PLANS } from '../../constructs/cloudflare/plans';
import { HETZNER_SERVER_TYPES, RETIRED_SERVER_TYPES } from '../../constructs/hetzner/server-types';
import { LOAD_BALANCER_TYPES } from '../../constructs/hetzner/edge-load-balancer';
import { BACKUP_BUCKET_SUFFIX, DEFAULT_PRIVATE_NETWORK, HOST_ADDRESS_OFFSET } from '../defaults';
import { behaviourOf } from '../kinds';
import { DATA_DEPENDENCIES, type EnvironmentSpec, type SystemSpec } from '../model';
import { serviceLabel } from './products';
import { IssueLog, MAX_DNS_LABEL, MAX_SERVERS_PER_NETWORK, MAX_SERVERS_PER_SPREAD_GROUP, NAME, Report, SSH_PUBLIC_KEY } from './shared';

export function validateHosts(environment: EnvironmentSpec, report: Report): void {
  if (environment.hosts.length === 0) {
    report({ field: 'hosts', value: [], allowed: 'at least one host' });
  }
  if (environment.hosts.length > MAX_SERVERS_PER_SPREAD_GROUP) {
    report({
      field: 'hosts',
      value: environment.hosts.length,
      allowed: `at most ${MAX_SERVERS_PER_SPREAD_GROUP} hosts`,
      why: 'the hosts share one spread placement group, and Hetzner places at most 10 servers in one',
    });
  }
  if (environment.hosts.length > MAX_SERVERS_PER_NETWORK) {
    report({ field: 'hosts', value: environment.hosts.length, allowed: `at most ${MAX_SERVERS_PER_NETWORK} hosts`, why: 'a Hetzner network holds at most 100 servers' });
  }
  const engine = environment.engine as string | undefined;
  if (engine !== undefined && engine !== 'containers' && engine !== 'swarm') {
    report({ field: 'engine', value: engine, allowed: ['containers', 'swarm'] });
  } else if (engine === 'containers' && environment.hosts.length > 1) {
    report({
      field: 'engine',
      value: engine,
      allowed: `"swarm" with ${environment.hosts.length} hosts ("containers" runs one host only)`,
      why: 'across hosts Docker Swarm places the replicas, reschedules those of a lost host and gives one Docker endpoint; plain containers would leave that to hand-made placement (docs/scaling.md)',
    });
  }
  const names = new Set<string>();
  for (const host of environment.hosts) {
    if (host.group !== undefined && !/^[a-z][a-z0-9-]*$/.test(host.group)) {
      report({ field: `hosts.${host.name}.group`, value: host.group, allowed: 'a lowercase name: letters, digits and "-"' });
    }
    if (names.has(host.name)) report({ field: `hosts.${host.name}`, value: host.name, allowed: 'host names unique within the environment' });
    names.add(host.name);
    if (!NAME.test(host.name)) report({ field: `hosts.${host.name}.name`, value: host.name, allowed: 'lowercase letters, digits and "-"' });
    const label = (environment.domainPrefix ?? '') + host.name;
    if (label.length > MAX_DNS_LABEL) {
      report({ field: `hosts.${host.name}.name`, value: host.name, allowed: `a name whose DNS label "${label}" has at most ${MAX_DNS_LABEL} characters`, why: 'it is the reverse DNS name of the host' });
    }
    if (HETZNER_SERVER_TYPES[host.serverType] === undefined) {
      const replacement = RETIRED_SERVER_TYPES[host.serverType];
      report({
        field: `hosts.${host.name}.serverType`,
        value: host.serverType,
        allowed: replacement ? `"${replacement}" (Hetzner retired "${host.serverType}"; "${replacement}" is the same class)` : Object.keys(HETZNER_SERVER_TYPES),
      });
    }
  }
}

export function validateNetworkRanges(environment: EnvironmentSpec, report: Report): void {
  const ranges = environment.privateNetwork ?? DEFAULT_PRIVATE_NETWORK;
  const ipRange = parseCidr(ranges.ipRange);
  const subnet = parseCidr(ranges.subnetRange);
  if (ipRange === undefined || ipRange.family !== 4 || !isPrivateIpv4(ipRange) || ipRange.prefix > 24) {
    report({
      field: 'privateNetwork.ipRange',
      value: ranges.ipRange,
      allowed: 'a private IPv4 block of /24 or larger inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16',
    });
    return;
  }
  if (subnet === undefined || subnet.family !== 4 || !ipv4Contains(ipRange, subnet)) {
    report({ field: 'privateNetwork.subnetRange', value: ranges.subnetRange, allowed: `an IPv4 block inside ${ranges.ipRange}` });
  } else if (2 ** (32 - subnet.prefix) - 2 < HOST_ADDRESS_OFFSET + environment.hosts.length) {
    report({
      field: 'privateNetwork.subnetRange',
      value: ranges.subnetRange,
      allowed: `a block with room for ${environment.hosts.length} host(s) from .${HOST_ADDRESS_OFFSET} on (a /27 or larger fits 20)`,
    });
  }
}

/**
 * The widest block an allow list that opens a port may hold, per family. An
 * administrator's office or VPN egress is a handful of addresses; a /16 is
 * already 65,536 (a whole campus or a provider's pool), and /48 is one site
 * in IPv6 (the assignment RIPE-690 and RFC 6177 recommend per customer site).
 * Anything wider is other people's networks: `0.0.0.0/1` is half of IPv4,
 * `2000::/3` all of global IPv6.
 */
export const WIDEST_ALLOWED_PREFIX = { 4: 16, 6: 48 } as const;
const ALLOW_LIST_ALLOWED = `a network no wider than /${WIDEST_ALLOWED_PREFIX[4]} in IPv4 or /${WIDEST_ALLOWED_PREFIX[6]} in IPv6: your office or VPN egress, e.g. "203.0.113.7/32" or "2001:db8:10::/48"`;

export function validateAdminAccess(environment: EnvironmentSpec, report: Report): void {
  if (environment.adminSshCidrs.length === 0) {
    report({ field: 'adminSshCidrs', value: [], allowed: 'at least one CIDR, e.g. your office or VPN egress "203.0.113.7/32"' });
  }
  for (const text of environment.adminSshCidrs) {
    const cidr = parseCidr(text);
    if (cidr === undefined) {
      report({ field: 'adminSshCidrs', value: text, allowed: 'CIDR notation with zero host bits, e.g. "203.0.113.7/32" or "2001:db8::/48"' });
    } else if (isWholeInternet(cidr)) {
      report({ field: 'adminSshCidrs', value: text, allowed: 'a specific network, not the whole internet', why: 'SSH is open to administrators only' });
    } else if (cidr.prefix < WIDEST_ALLOWED_PREFIX[cidr.family]) {
      report({ field: 'adminSshCidrs', value: text, allowed: ALLOW_LIST_ALLOWED, why: `a /${cidr.prefix} opens SSH to ${cidr.family === 4 ? `${(2 ** (32 - cidr.prefix)).toLocaleString('en-US')} addresses` : 'far more than one site'}` });
    }
  }
  // Blocks too wide on their own are reported above; the union can still cover everything with many narrow ones.
  const adminBlocks = environment.adminSshCidrs.map(parseCidr).filter((cidr): cidr is Cidr => cidr !== undefined && !isWholeInternet(cidr));
  const tooWide = adminBlocks.some((cidr) => cidr.prefix < WIDEST_ALLOWED_PREFIX[cidr.family]);
  if (!tooWide && adminBlocks.length > 1 && coversWholeInternet(adminBlocks)) {
    report({
      field: 'adminSshCidrs',
      value: environment.adminSshCidrs,
      allowed: 'specific networks that together do not cover the whole internet',
      why: 'blocks such as 0.0.0.0/1 and 128.0.0.0/1 open SSH to everyone as surely as 0.0.0.0/0',
    });
  }
  if (environment.sshKeys.length === 0) {
    report({ field: 'sshKeys', value: [], allowed: 'at least one administrator public key', why: 'password login is disabled' });
  }
  const keyNames = new Set<string>();
  for (const key of environment.sshKeys) {
    if (keyNames.has(key.name) || !/^[a-z][a-z0-9_]*$/.test(key.name)) {
      report({ field: `sshKeys.${key.name}`, value: key.name, allowed: 'unique lowercase names (letters, digits, "_")' });
    }
    keyNames.add(key.name);
    if (key.publicKey !== undefined && !SSH_PUBLIC_KEY.test(key.publicKey)) {
      report({
        field: `sshKeys.${key.name}.publicKey`,
        value: key.publicKey.slice(0, 24) + (key.publicKey.length > 24 ? '...' : ''),
        allowed: 'an OpenSSH public key ("ssh-ed25519 AAAA..."); never a private key',
      });
    }
  }
  const access = environment.dockerAccess as { mode?: unknown } | undefined;
  if (access !== undefined && access.mode !== 'ssh' && access.mode !== 'agent') {
    report({
      field: 'dockerAccess.mode',
      value: access.mode as string,
      allowed: ['ssh', 'agent'],
      why: 'the Docker API is never opened to the network: "tls" carried the daemon key in user_data and opened 2376',
    });
  }
}

export function validateEdge(system: SystemSpec, environment: EnvironmentSpec, report: Report): void {
  const directory = environment.certificates?.directory;
  if (directory !== undefined && directory !== 'production' && directory !== 'staging') {
    report({ field: 'certificates.directory', value: directory, allowed: ['production', 'staging'] });
  }
  if (environment.ipv6 !== undefined && typeof environment.ipv6 !== 'boolean') {
    report({ field: 'ipv6', value: String(environment.ipv6), allowed: [true, false].map(String) });
  }
  const apex = environment.apexService;
  if (apex === undefined) return;
  if ((environment.domainPrefix ?? '') !== '') {
    report({
      field: 'apexService',
      value: apex,
      allowed: 'unset here: only the environment without a domainPrefix serves the apex',
      why: `a zone has one apex, and "${environment.name}" prefixes its names with "${environment.domainPrefix}"`,
    });
    return;
  }
  const [productName, serviceName] = apex.split('/');
  const deployed = environment.products.some((deployment) => deployment.product === productName);
  const service = system.products.find((product) => product.name === productName)?.services.find((candidate) => candidate.name === serviceName);
  if (!deployed || service === undefined || (service.kind !== 'web' && service.kind !== 'landing')) {
    const candidates = system.products
      .filter((product) => environment.products.some((deployment) => deployment.product === product.name))
      .flatMap((product) => product.services.filter((s) => s.kind === 'web' || s.kind === 'landing').map((s) => `${product.name}/${s.name}`));
    report({ field: 'apexService', value: apex, allowed: candidates.length > 0 ? candidates : 'a web or landing service of a product deployed here' });
  }
}

export function validateCloudflare(environment: EnvironmentSpec, report: Report): void {
  if (!CLOUDFLARE_PLANS.includes(environment.cloudflare.plan)) {
    report({ field: 'cloudflare.plan', value: environment.cloudflare.plan, allowed: CLOUDFLARE_PLANS });
  }
  const caching = environment.cloudflare.caching ?? 'page-rules';
  if (caching !== 'page-rules' && caching !== 'cache-rules') {
    report({ field: 'cloudflare.caching', value: caching, allowed: ['page-rules', 'cache-rules'] });
  }
  const minutes = environment.github?.waitTimerMinutes;
  if (minutes !== undefined && (!Number.isInteger(minutes) || minutes < 0 || minutes > 43200)) {
    report({ field: 'github.waitTimerMinutes', value: minutes, allowed: 'a whole number of minutes from 0 to 43200 (30 days, GitHub\'s limit)' });
  }
}

export function validateDomainLabels(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  const prefix = environment.domainPrefix ?? '';
  for (const deployment of environment.products) {
    const product = system.products.find((p) => p.name === deployment.product);
    for (const service of product?.services ?? []) {
      const label = serviceLabel(product!, service);
      if (label !== undefined && (prefix + label).length > MAX_DNS_LABEL) {
        log.in({ environment: environment.name, product: deployment.product })({
          field: `services.${service.name}.subdomain`,
          value: prefix + label,
          allowed: `a DNS label of at most ${MAX_DNS_LABEL} characters (this one has ${(prefix + label).length})`,
        });
      }
    }
  }
}

export function validateLoadBalancer(environment: EnvironmentSpec, report: Report): void {
  const type = environment.loadBalancer?.type;
  if (type === undefined) return;
  const limits = LOAD_BALANCER_TYPES[type];
  if (limits === undefined) {
    report({ field: 'loadBalancer.type', value: type, allowed: Object.keys(LOAD_BALANCER_TYPES) });
    return;
  }
  if (environment.hosts.length > limits.targets) {
    report({ field: 'loadBalancer.type', value: type, allowed: `a type carrying ${environment.hosts.length} targets (${type} carries ${limits.targets})` });
  }
}

/**
 * Names of cloud resources are `<system>-<env>-<name>`, and the providers
 * cap them: R2 bucket names at 63 characters (Cloudflare's bucket naming
 * rules, guarded again by constructs/cloudflare/r2-bucket.ts), Hetzner
 * server names at one hostname label (RFC 1123, 63). The message names the
 * field to shorten, not the derived name only.
 */
export function validateResourceNames(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  const name = (suffix: string) => `${system.name}-${environment.name}-${suffix}`;
  const report = log.in({ environment: environment.name });
  const room = (suffix: string) => MAX_DNS_LABEL - `-${environment.name}-${suffix}`.length;
  if (DATA_DEPENDENCIES.some((dependency) => environment.data[dependency].mode === 'container') && name(BACKUP_BUCKET_SUFFIX).length > MAX_DNS_LABEL) {
    report({
      field: 'system.name',
      value: system.name,
      allowed: `a system name of at most ${room(BACKUP_BUCKET_SUFFIX)} characters`,
      why: `it begins the R2 backup bucket "${name(BACKUP_BUCKET_SUFFIX)}" (${name(BACKUP_BUCKET_SUFFIX).length} characters), and R2 bucket names have at most ${MAX_DNS_LABEL}`,
    });
    // The system name must shrink first; the names derived from it are checked again then.
    return;
  }
  for (const host of environment.hosts) {
    // A name too long for its reverse DNS label is reported once, by validateHosts.
    if (name(host.name).length > MAX_DNS_LABEL && (environment.domainPrefix ?? '').length + host.name.length <= MAX_DNS_LABEL) {
      report({
        field: `hosts.${host.name}.name`,
        value: host.name,
        allowed: `a host name of at most ${room(host.name) + host.name.length} characters, or a shorter system.name`,
        why: `the Hetzner server is named "${name(host.name)}" (${name(host.name).length} characters), and a server name is one hostname label of at most ${MAX_DNS_LABEL}`,
      });
    }
  }
  for (const deployment of environment.products) {
    const product = system.products.find((candidate) => candidate.name === deployment.product);
    for (const service of product?.services ?? []) {
      const bucket = name(`${product!.name}-${service.name}`);
      if (behaviourOf(service.kind)?.otaBucket && bucket.length > MAX_DNS_LABEL) {
        log.in({ environment: environment.name, product: product!.name })({
          field: `services.${service.name}.name`,
          value: service.name,
          allowed: `a shorter service, product or system name: "<system>-<env>-<product>-<service>" within ${MAX_DNS_LABEL} characters`,
          why: `it names the R2 bucket "${bucket}" (${bucket.length} characters), and R2 bucket names have at most ${MAX_DNS_LABEL}`,
        });
      }
    }
  }
}
