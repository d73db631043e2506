/**
 * Every rule a system description must satisfy before any construct is built.
 * Each rule names environment, product, field, the bad value and what is
 * allowed; rules that encode provider knowledge say why.
 */
import { coversWholeInternet, isPrivateIpv4, ipv4Contains, isWholeInternet, parseCidr, type Cidr } from '../constructs/core/cidr';
import type { ConfigurationIssue } from '../constructs/core/configuration-error';
import { CLOUDFLARE_PLANS } from '../constructs/cloudflare/plans';
import { HETZNER_LOCATIONS, isHetznerLocation } from '../constructs/hetzner/locations';
import { HETZNER_SERVER_TYPES, RETIRED_SERVER_TYPES } from '../constructs/hetzner/server-types';
import { unknownKeys } from './known-keys';
import { LOAD_BALANCER_TYPES } from '../constructs/hetzner/edge-load-balancer';
import { BACKUP_PLAN, DEFAULT_CONNECTIONS_PER_PRODUCT, DEFAULT_HOST_GROUP, DEFAULT_PRIVATE_NETWORK, HOST_ADDRESS_OFFSET, REDIS_DEFAULTS } from './defaults';
import { maxCronIntervalMinutes } from '../constructs/core/cron';
import { DATABASE_NAME, POSTGRES_RESERVED_CONNECTIONS, RESERVED_DATABASES } from '../constructs/docker/postgres-container';
import { COLLECTOR_NAMES } from '../constructs/monitoring/host-collectors';
import { SERVER_NAMES } from '../constructs/monitoring/monitoring-server';
import { POSTGRES_EXPORTER_NAME } from '../constructs/monitoring/postgres-exporter';
import { behaviourOf, SERVICE_KIND_BEHAVIOUR } from './kinds';
import { MONITORING_DEFAULTS, resolveMonitoring, validateMonitoring } from './monitoring';
import {
  DATA_DEPENDENCIES,
  type DataDependency,
  HOST_NETWORKS,
  SERVICE_KINDS,
  type EnvironmentSpec,
  type HostSpec,
  type LinkSpec,
  type ProductDeployment,
  type ProductSpec,
  type ResourceSpec,
  type RestartPolicy,
  type ServiceSpec,
  type SystemSpec,
} from './model';

/** Stack names the platform itself uses; a product with one of these names would collide (`staging-data`). */
/** Platform stacks' names, and the pipeline's stage names (`--kinds credentials|products` selects by them). */
export const RESERVED_PRODUCT_NAMES = ['network', 'edge', 'data', 'monitoring', 'bootstrap', 'credentials', 'products'] as const;

/** Names of the containers the platform runs on a host; a service's container (`<product>-<service>`) may not take one. */
export const PLATFORM_CONTAINER_NAMES: readonly string[] = [
  'edge-proxy',
  'docker-socket-proxy',
  'postgres',
  'postgres-provisioner',
  POSTGRES_EXPORTER_NAME,
  'redis',
  'backup-job',
  ...Object.values(COLLECTOR_NAMES),
  ...Object.values(SERVER_NAMES),
];

/** Ends the name of a product's credentials stack (`<env>-<product>-credentials`); no product name may end in it. */
export const CREDENTIALS_STACK_SUFFIX = '-credentials';

const NAME = /^[a-z][a-z0-9-]*[a-z0-9]$/;
const ENV_VAR = /^[A-Z][A-Z0-9_]*$/;
/** Docker's tag grammar. */
export const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** Production tags must be immutable: a commit (`main-<sha>`) or a release (`v1.2.3`). */
export const PRODUCTION_TAG = /^(main-[0-9a-f]{7,40}|v\d+\.\d+\.\d+)$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PORT_NAME = /^[a-z][a-z0-9-]*$/;
/** Containers of one service; more belongs on an orchestrator. */
const MAX_REPLICAS = 20;
/** Docker's reference grammar, simplified: `[registry/]path[:tag][@sha256:<64 hex>]`, with a tag or a digest. */
const IMAGE_REF = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
const IMAGE_REF_ALLOWED = 'an image reference with a tag, a digest or both: "registry/repository:tag" or "repository@sha256:<64 hex digits>"';
const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+=*( .*)?$/;
const MAX_DNS_LABEL = 63;
/** An age X25519 recipient: "age1" and 58 bech32 characters. */
const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
const TERRAFORM_VARIABLE = /^[a-z][a-z0-9_]*$/;
/** A Hetzner network holds at most 100 servers. */
const MAX_SERVERS_PER_NETWORK = 100;
/** A spread placement group holds at most 10 servers. */
const MAX_SERVERS_PER_SPREAD_GROUP = 10;

/** "an api", "an internal", "a worker". */
function withArticle(word: string): string {
  return `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;
}

type Report = (issue: Omit<ConfigurationIssue, 'environment' | 'product'>) => void;

/** Issues collected under one environment/product context. */
class IssueLog {
  public readonly issues: ConfigurationIssue[] = [];

  public in(context: { environment?: string; product?: string }): Report {
    return (issue) => this.issues.push({ ...context, ...issue });
  }
}

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
  return log.issues;
}

function validateCatalog(system: SystemSpec, log: IssueLog): void {
  const report = log.in({});
  if (!NAME.test(system.name)) {
    report({ field: 'system.name', value: system.name, allowed: 'lowercase letters, digits and "-"' });
  }
  if (!/^([a-z0-9-]+\.)+[a-z]{2,}$/.test(system.rootDomain)) {
    report({ field: 'system.rootDomain', value: system.rootDomain, allowed: 'a lowercase DNS name such as "example.com"' });
  }
  const productNames = new Set<string>();
  const domains = new Map<string, string>();
  for (const product of system.products) {
    const reportProduct = log.in({ product: product.name });
    if (productNames.has(product.name)) {
      reportProduct({ field: 'name', value: product.name, allowed: 'a name used by one product only' });
    }
    productNames.add(product.name);
    if (!NAME.test(product.name)) {
      reportProduct({ field: 'name', value: product.name, allowed: 'lowercase letters, digits and "-", starting with a letter' });
    }
    if ((RESERVED_PRODUCT_NAMES as readonly string[]).includes(product.name)) {
      reportProduct({
        field: 'name',
        value: product.name,
        allowed: `any name except ${RESERVED_PRODUCT_NAMES.join(', ')}`,
        why: 'its stack name would collide with a platform stack',
      });
    }
    if (product.name.endsWith(CREDENTIALS_STACK_SUFFIX)) {
      reportProduct({
        field: 'name',
        value: product.name,
        allowed: `a name not ending in "${CREDENTIALS_STACK_SUFFIX}"`,
        why: `<env>-<product>${CREDENTIALS_STACK_SUFFIX} is the stack of a product's data credentials`,
      });
    }
    if (product.services.length === 0) {
      reportProduct({ field: 'services', value: [], allowed: 'at least one service' });
    }
    const databaseName = product.databaseName ?? product.name.replace(/-/g, '_');
    if (product.services.some((service) => (service.uses ?? []).includes('postgres')) && (!DATABASE_NAME.test(databaseName) || RESERVED_DATABASES.includes(databaseName))) {
      reportProduct({
        field: 'databaseName',
        value: databaseName,
        allowed: `lowercase letters, digits and "_" (at most 63), not ${RESERVED_DATABASES.join(', ')}`,
        why: 'it names the product\'s PostgreSQL database and login role',
      });
    }
    const serviceNames = new Set<string>();
    for (const service of product.services) {
      if (serviceNames.has(service.name)) {
        reportProduct({ field: `services.${service.name}`, value: service.name, allowed: 'service names unique within the product' });
      }
      serviceNames.add(service.name);
      const container = `${product.name}-${service.name}`;
      if (PLATFORM_CONTAINER_NAMES.includes(container)) {
        reportProduct({
          field: `services.${service.name}`,
          value: service.name,
          allowed: `a name that does not make its container "${container}"`,
          why: `a platform container on the same Docker daemon is named ${container}, and Docker refuses a second`,
        });
      }
      validateService(system, product, service, reportProduct);
      const label = serviceLabel(product, service);
      if (label !== undefined) {
        const owner = `${product.name}/${service.name}`;
        const previous = domains.get(label);
        if (previous !== undefined) {
          reportProduct({ field: `services.${service.name}.subdomain`, value: label, allowed: `a label not already used by ${previous}` });
        }
        domains.set(label, owner);
      }
    }
  }
}

/** First DNS label a service is published on, before the environment's prefix. */
export function serviceLabel(product: ProductSpec, service: ServiceSpec): string | undefined {
  const subdomain = behaviourOf(service.kind)?.subdomain;
  if (subdomain === undefined) return undefined;
  return service.subdomain ?? subdomain(product.name);
}

function validateService(system: SystemSpec, product: ProductSpec, service: ServiceSpec, report: Report): void {
  const field = (name: string) => `services.${service.name}.${name}`;
  if (!NAME.test(service.name)) {
    report({ field: field('name'), value: service.name, allowed: 'lowercase letters, digits and "-"' });
  }
  const kind = behaviourOf(service.kind);
  if (kind === undefined) {
    report({ field: field('kind'), value: service.kind, allowed: SERVICE_KINDS });
    return;
  }
  if (service.port !== undefined && (!Number.isInteger(service.port) || service.port < 1 || service.port > 65535)) {
    report({ field: field('port'), value: service.port, allowed: 'a whole number from 1 to 65535' });
  }
  if (kind.requiresPort && service.port === undefined) {
    report({ field: field('port'), value: undefined, allowed: `a port from 1 to 65535 (${withArticle(service.kind)} service must declare the port it listens on)` });
  }
  if (!kind.acceptsPort && service.port !== undefined) {
    report({ field: field('port'), value: service.port, allowed: `no port (a ${service.kind} service has no ingress)` });
  }
  if (service.hostPorts !== undefined && service.hostPorts.length > 0) {
    report({
      field: field('hostPorts'),
      value: service.hostPorts,
      allowed: 'none',
      why: 'only the edge proxy publishes host ports (80, 443); services are reached through it or by name on the host networks',
    });
  }
  if (service.subdomain !== undefined && kind.subdomain === undefined) {
    report({
      field: field('subdomain'),
      value: service.subdomain,
      allowed: `no subdomain (${withArticle(service.kind)} service is not routed by the edge proxy; use kind api, web or landing for a public domain)`,
    });
  }
  if (service.subdomain !== undefined && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(service.subdomain)) {
    report({
      field: field('subdomain'),
      value: service.subdomain,
      allowed: 'one DNS label: lowercase letters, digits and "-"',
      why: "Cloudflare's universal certificate covers one level below the root only",
    });
  }
  for (const network of service.extraNetworks ?? []) {
    if (!HOST_NETWORKS.includes(network)) {
      report({ field: field('extraNetworks'), value: network, allowed: HOST_NETWORKS });
    }
  }
  if (service.extraNetworks?.includes('frontend') && !kind.mayJoinFrontend) {
    report({
      field: field('extraNetworks'),
      value: 'frontend',
      allowed: HOST_NETWORKS.filter((n) => n !== 'frontend'),
      why: `${withArticle(service.kind)} service must have no route from the edge proxy`,
    });
  }
  const usable = [...DATA_DEPENDENCIES, ...(system.accessories ?? []).map((accessory) => accessory.name)];
  for (const dependency of service.uses ?? []) {
    if (!usable.includes(dependency)) {
      report({ field: field('uses'), value: dependency, allowed: usable });
    }
  }
  validatePorts(service, kind.acceptsPort, report, field);
  validateMetrics(service, kind.port, report, field);
  if (!kind.container) {
    for (const key of ['command', 'environment', 'secrets', 'uses', 'links', 'healthCheck', 'resources', 'image', 'imageRef', 'replicas', 'restart', 'ports', 'metrics'] as const) {
      if (service[key] !== undefined) {
        report({ field: field(key), value: service[key], allowed: `nothing (${withArticle(service.kind)} service has no container)` });
      }
    }
    return;
  }
  validateResources(service, report, field);
  if (kind.probesCommand && service.healthCheck === undefined && (service.command === undefined || service.command.length === 0)) {
    report({
      field: field('healthCheck'),
      value: undefined,
      allowed: 'HealthCheck.process(...) or HealthCheck.command(...), or a command whose process is checked',
      why: 'a worker has no HTTP route to probe',
    });
  }
  if (kind.httpProbeRequired && service.healthCheck && !service.healthCheck.isHttp) {
    report({
      field: field('healthCheck'),
      value: 'non-HTTP check',
      allowed: 'HealthCheck.http(path)',
      why: 'the edge proxy routes only to containers whose HTTP route answers',
    });
  }
  const plainNames = Object.keys(service.environment ?? {});
  for (const name of [...plainNames, ...(service.secrets ?? []), ...Object.keys(service.links ?? {}), ...Object.keys(service.publicUrls ?? {})]) {
    if (!ENV_VAR.test(name)) {
      report({ field: field('environment'), value: name, allowed: 'UPPER_SNAKE_CASE variable names' });
    }
  }
  for (const secret of service.secrets ?? []) {
    if (plainNames.includes(secret)) {
      report({ field: field('secrets'), value: secret, allowed: 'a name not also given a plain value in environment' });
    }
  }
  for (const [envVar, link] of Object.entries(service.links ?? {})) {
    validateLink(system, product, service, envVar, typeof link === 'string' ? { target: link } : link, 'links', report);
  }
  if (service.image !== undefined && service.imageRef !== undefined) {
    report({ field: field('imageRef'), value: service.imageRef, allowed: 'either image (a repository under the registry owner) or imageRef, not both' });
  }
  if (service.imageRef !== undefined && !isImageRef(service.imageRef)) {
    report({ field: field('imageRef'), value: service.imageRef, allowed: IMAGE_REF_ALLOWED });
  }
  if (service.replicas !== undefined) checkReplicas(service.replicas, field('replicas'), report);
  if (service.restart !== undefined) checkRestart(service.restart, field('restart'), report);
  for (const [envVar, target] of Object.entries(service.publicUrls ?? {})) {
    validateLink(system, product, service, envVar, { target }, 'publicUrls', report);
  }
}

/** A port number Docker accepts. */
const isPort = (port: unknown) => typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;

/** Named ports: names, numbers, no number twice in one container, and the health port among them. */
function validatePorts(service: ServiceSpec, acceptsPort: boolean, report: Report, field: (name: string) => string): void {
  const ports = service.ports ?? {};
  if (!acceptsPort && Object.keys(ports).length > 0) {
    report({ field: field('ports'), value: ports, allowed: `no ports (${withArticle(service.kind)} service has no container)` });
    return;
  }
  const seen = new Map<number, string>(service.port !== undefined ? [[service.port, 'port']] : []);
  for (const [name, port] of Object.entries(ports)) {
    if (!PORT_NAME.test(name)) report({ field: field(`ports.${name}`), value: name, allowed: 'a lowercase name: letters, digits and "-"' });
    if (!isPort(port)) {
      report({ field: field(`ports.${name}`), value: port, allowed: 'a whole number from 1 to 65535' });
    } else if (seen.has(port)) {
      report({ field: field(`ports.${name}`), value: port, allowed: `a port not already declared by ${seen.get(port)} (one container cannot listen twice on one port)` });
    } else {
      seen.set(port, `ports.${name}`);
    }
  }
  if (service.healthPort !== undefined && ports[service.healthPort] === undefined) {
    report({ field: field('healthPort'), value: service.healthPort, allowed: Object.keys(ports).length > 0 ? Object.keys(ports) : 'the name of a port in ports (none declared)' });
  }
}

/** Replicas: a whole number from 1 to MAX_REPLICAS. */
function checkReplicas(replicas: unknown, field: string, report: Report): void {
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    report({ field, value: replicas, allowed: `a whole number from 1 to ${MAX_REPLICAS}` });
  }
}

/** A restart policy Docker knows, with a sane retry limit. */
function checkRestart(restart: RestartPolicy, field: string, report: Report): void {
  if (restart === 'always' || restart === 'unless-stopped') return;
  const retries = typeof restart === 'object' && restart !== null ? restart.onFailure?.maxRetries : undefined;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 1 || retries > 100) {
    report({ field, value: restart, allowed: '"always", "unless-stopped", or { onFailure: { maxRetries: 1 to 100 } }' });
  }
}

/** The product and service a link target (`service` or `product/service`) names, if they exist. */
export function findLinkTarget(system: SystemSpec, from: ProductSpec, target: string): { product: ProductSpec; service: ServiceSpec } | undefined {
  const [productName, serviceName] = target.includes('/') ? target.split('/', 2) : [from.name, target];
  const product = system.products.find((p) => p.name === productName);
  const service = product?.services.find((s) => s.name === serviceName);
  return product && service ? { product, service } : undefined;
}

/** A metrics endpoint needs a port: its own, or the service's. */
function validateMetrics(service: ServiceSpec, kindPort: number | undefined, report: Report, field: (name: string) => string): void {
  const metrics = service.metrics;
  if (metrics === undefined || !behaviourOf(service.kind)?.container) return;
  if (metrics.path !== undefined && !/^\/[A-Za-z0-9._~\/-]*$/.test(metrics.path)) {
    report({ field: field('metrics.path'), value: metrics.path, allowed: 'an absolute URL path such as "/metrics"' });
  }
  if (metrics.port !== undefined && (!Number.isInteger(metrics.port) || metrics.port < 1 || metrics.port > 65535)) {
    report({ field: field('metrics.port'), value: metrics.port, allowed: 'a whole number from 1 to 65535' });
  }
  if (metrics.port === undefined && service.port === undefined && kindPort === undefined) {
    report({
      field: field('metrics.port'),
      value: undefined,
      allowed: `the port serving ${metrics.path ?? '/metrics'} (${withArticle(service.kind)} service has no port of its own to default to)`,
    });
  }
}

function validateResources(service: ServiceSpec, report: Report, field: (name: string) => string): void {
  const resources = { ...SERVICE_KIND_BEHAVIOUR[service.kind].resources, ...service.resources };
  for (const [key, value] of Object.entries(resources)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      report({ field: field(`resources.${key}`), value, allowed: 'a positive number' });
    }
  }
  if (resources.memoryLimitMiB !== undefined && resources.memoryReservationMiB !== undefined && resources.memoryLimitMiB < resources.memoryReservationMiB) {
    report({
      field: field('resources.memoryLimitMiB'),
      value: resources.memoryLimitMiB,
      allowed: `at least the memory reservation (${resources.memoryReservationMiB} MiB)`,
    });
  }
  if (resources.cpuLimit !== undefined && resources.cpuReservation !== undefined && resources.cpuLimit < resources.cpuReservation) {
    report({ field: field('resources.cpuLimit'), value: resources.cpuLimit, allowed: `at least the CPU reservation (${resources.cpuReservation})` });
  }
  if (resources.memoryLimitMiB !== undefined && resources.memoryLimitMiB < 6) {
    report({ field: field('resources.memoryLimitMiB'), value: resources.memoryLimitMiB, allowed: 'at least 6 MiB (Docker refuses less)' });
  }
}

function validateLink(
  system: SystemSpec,
  product: ProductSpec,
  service: ServiceSpec,
  envVar: string,
  link: LinkSpec,
  via: 'links' | 'publicUrls',
  report: Report,
): void {
  const field = `services.${service.name}.${via}.${envVar}`;
  const target = link.target;
  const found = findLinkTarget(system, product, target);
  const reachable = (s: ServiceSpec) => (via === 'publicUrls' ? behaviourOf(s.kind)?.routed === true : behaviourOf(s.kind)?.linkable === true);
  if (found === undefined || !reachable(found.service)) {
    const candidates = system.products.flatMap((p) => p.services.filter(reachable).map((s) => (p === product ? s.name : `${p.name}/${s.name}`)));
    report({ field, value: target, allowed: candidates });
    return;
  }
  if (link.port !== undefined && found.service.ports?.[link.port] === undefined) {
    report({ field: `${field}.port`, value: link.port, allowed: Object.keys(found.service.ports ?? {}).length > 0 ? Object.keys(found.service.ports!) : `a named port of ${target}, which declares none` });
  }
  if (link.form !== undefined && !['url', 'host', 'host-port'].includes(link.form)) {
    report({ field: `${field}.form`, value: link.form, allowed: ['url', 'host', 'host-port'] });
  }
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
  validateProtection(environment, report);
  validateCloudflare(environment, report);
  validateSnapshots(environment, report);
  validateDomainLabels(system, environment, log);
  validateReplicas(system, environment, log);
  validateLoadBalancer(environment, report);
  validateAccessoryDeployments(system, environment, log);
  validateLimitsFitHosts(system, environment, log);
  validateImmutableReferences(system, environment, log);
  validateEnvironmentMonitoring(system, environment, report);
}

/** Monitoring settings, Grafana's name against the services', and production's alert receivers. */
function validateEnvironmentMonitoring(system: SystemSpec, environment: EnvironmentSpec, report: Report): void {
  validateMonitoring(environment.monitoring, { hosts: environment.hosts.map((host) => host.name), plan: environment.cloudflare.plan }, report);
  const label = environment.monitoring?.subdomain ?? MONITORING_DEFAULTS.subdomain;
  for (const deployment of environment.products) {
    const product = system.products.find((p) => p.name === deployment.product);
    const clash = product?.services.find((service) => serviceLabel(product, service) === label);
    if (product && clash) {
      report({
        field: 'monitoring.subdomain',
        value: label,
        allowed: `a label not used by ${product.name}/${clash.name}`,
        why: "Grafana's public name would collide with the service's",
      });
    }
  }
  if (environment.production) {
    const resolved = resolveMonitoring(environment.monitoring, { firstHost: environment.hosts[0]?.name ?? '', domain: (l) => l, plan: environment.cloudflare.plan });
    for (const severity of resolved.unroutedSeverities) {
      report({
        field: 'monitoring.routes',
        value: resolved.routes,
        allowed: `a route for "${severity}" alerts to a receiver (${severity === 'critical' ? 'a PagerDuty routing key' : 'a Slack webhook'}) in monitoring.receivers`,
        why: 'production alerts that reach nobody are outages learned from customers',
      });
    }
  }
}

function validateHosts(environment: EnvironmentSpec, report: Report): void {
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

function validateNetworkRanges(environment: EnvironmentSpec, report: Report): void {
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

function validateAdminAccess(environment: EnvironmentSpec, report: Report): void {
  if (environment.adminSshCidrs.length === 0) {
    report({ field: 'adminSshCidrs', value: [], allowed: 'at least one CIDR, e.g. your office or VPN egress "203.0.113.7/32"' });
  }
  for (const text of environment.adminSshCidrs) {
    const cidr = parseCidr(text);
    if (cidr === undefined) {
      report({ field: 'adminSshCidrs', value: text, allowed: 'CIDR notation with zero host bits, e.g. "203.0.113.7/32" or "2001:db8::/48"' });
    } else if (isWholeInternet(cidr)) {
      report({ field: 'adminSshCidrs', value: text, allowed: 'a specific network, not the whole internet', why: 'SSH is open to administrators only' });
    }
  }
  const adminBlocks = environment.adminSshCidrs.map(parseCidr).filter((cidr): cidr is Cidr => cidr !== undefined && !isWholeInternet(cidr));
  if (adminBlocks.length > 1 && coversWholeInternet(adminBlocks)) {
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
  if (access?.mode === 'agent' && environment.hosts.length > 1) {
    report({
      field: 'dockerAccess.mode',
      value: 'agent',
      allowed: '"ssh", or one host per environment',
      why: 'the agent reaches only the daemon of the host it runs on',
    });
  }
}

function validateEdge(system: SystemSpec, environment: EnvironmentSpec, report: Report): void {
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

function validateProductDeployments(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  const hostNames = environment.hosts.map((h) => h.name);
  const seen = new Set<string>();
  for (const deployment of environment.products) {
    const report = log.in({ environment: environment.name, product: deployment.product });
    const product = system.products.find((p) => p.name === deployment.product);
    if (product === undefined) {
      report({ field: 'products', value: deployment.product, allowed: system.products.map((p) => p.name) });
      continue;
    }
    if (seen.has(deployment.product)) report({ field: 'products', value: deployment.product, allowed: 'each product listed once' });
    seen.add(deployment.product);
    if (deployment.host !== undefined && !hostNames.includes(deployment.host)) {
      report({ field: 'host', value: deployment.host, allowed: hostNames });
    }
    validatePlacement(environment, product, deployment, report);
    const serviceNames = product.services.map((s) => s.name);
    for (const service of Object.keys(deployment.imageTags ?? {})) {
      if (!serviceNames.includes(service)) report({ field: `imageTags.${service}`, value: service, allowed: serviceNames });
    }
    const tags: Array<[string, string]> = [['imageTag', deployment.imageTag], ...Object.entries(deployment.imageTags ?? {}).map(([s, t]): [string, string] => [`imageTags.${s}`, t])];
    for (const [field, tag] of tags) checkImageTag(environment, field, tag, report);
    for (const dependency of deployment.externalData ?? []) {
      if (!DATA_DEPENDENCIES.includes(dependency)) report({ field: 'externalData', value: dependency, allowed: DATA_DEPENDENCIES });
    }
  }
}

/** A Docker tag; in production an immutable one. */
function checkImageTag(environment: EnvironmentSpec, field: string, tag: string, report: Report): void {
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

function validateData(environment: EnvironmentSpec, report: Report): void {
  const hostNames = environment.hosts.map((h) => h.name);
  if (environment.data.host !== undefined && !hostNames.includes(environment.data.host)) {
    report({ field: 'data.host', value: environment.data.host, allowed: hostNames });
  }
  for (const name of DATA_DEPENDENCIES) {
    const spec = environment.data[name];
    if (spec.mode === 'container') {
      if (!Number.isInteger(spec.volumeSizeGiB) || spec.volumeSizeGiB < 10 || spec.volumeSizeGiB > 10240) {
        report({ field: `data.${name}.volumeSizeGiB`, value: spec.volumeSizeGiB, allowed: 'a whole number of GiB from 10 to 10240 (Hetzner volume limits)' });
      }
      if (spec.image !== undefined && !isImageRef(spec.image)) report({ field: `data.${name}.image`, value: spec.image, allowed: IMAGE_REF_ALLOWED });
      if (name === 'redis' && (spec.maxConnections !== undefined || spec.settings !== undefined)) {
        report({ field: `data.redis.${spec.maxConnections !== undefined ? 'maxConnections' : 'settings'}`, value: spec.maxConnections ?? spec.settings, allowed: 'nothing: maxConnections and settings are PostgreSQL server settings' });
      }
      if (spec.maxConnections !== undefined && (!Number.isInteger(spec.maxConnections) || spec.maxConnections < 10 || spec.maxConnections > 5000)) {
        report({ field: `data.${name}.maxConnections`, value: spec.maxConnections, allowed: 'a whole number from 10 to 5000' });
      }
      for (const [setting, value] of Object.entries(spec.settings ?? {})) {
        if (!/^[a-z][a-z0-9_.]*$/.test(setting) || /[\n\r'"]/.test(value) || setting === 'max_connections') {
          report({
            field: `data.${name}.settings.${setting}`,
            value,
            allowed: 'a PostgreSQL parameter name (lowercase, "_", ".") with a one-line value without quotes; max_connections has its own field',
          });
        }
      }
    } else if (spec.mode !== 'external') {
      report({ field: `data.${name}.mode`, value: (spec as { mode: unknown }).mode, allowed: ['container', 'external'] });
    }
  }
  const backupTag = environment.data.backupImageTag;
  const runsDataContainers = DATA_DEPENDENCIES.some((name) => environment.data[name].mode === 'container');
  if (backupTag !== undefined) {
    checkImageTag(environment, 'data.backupImageTag', backupTag, report);
  } else if (environment.production && runsDataContainers) {
    report({
      field: 'data.backupImageTag',
      value: undefined,
      allowed: 'the tag of the backup job image, e.g. "main-<sha>"',
      why: 'production data containers are dumped to the backup bucket every night',
    });
  }
  validateBackups(environment, report, backupTag !== undefined && runsDataContainers);
  const perProduct = environment.data.postgres.connectionsPerProduct;
  if (perProduct !== undefined && (!Number.isInteger(perProduct) || perProduct < 1 || perProduct > 500)) {
    report({ field: 'data.postgres.connectionsPerProduct', value: perProduct, allowed: 'a whole number from 1 to 500' });
  }
  const redis = environment.data.redis;
  if (redis.mode === 'container') {
    const maxMemory = redis.maxMemoryMiB ?? REDIS_DEFAULTS.maxMemoryMiB;
    const limit = redis.resources?.memoryLimitMiB ?? REDIS_DEFAULTS.resources.memoryLimitMiB;
    if (maxMemory >= limit) {
      report({
        field: 'data.redis.maxMemoryMiB',
        value: maxMemory,
        allowed: `less than the Redis container's memory limit (${limit} MiB)`,
        why: 'Redis needs headroom above maxmemory for buffers and the AOF rewrite, or the kernel kills it',
      });
    }
  }
}

/** Schedules and retention, the encryption key and the heartbeat of the dump job. */
function validateBackups(environment: EnvironmentSpec, report: Report, hasJob: boolean): void {
  const data = environment.data;
  for (const [name, plan] of Object.entries(data.backupPlan ?? {})) {
    if (!(DATA_DEPENDENCIES as readonly string[]).includes(name)) {
      report({ field: `data.backupPlan.${name}`, value: name, allowed: [...DATA_DEPENDENCIES] });
      continue;
    }
    const cron = plan?.cron ?? BACKUP_PLAN[name as DataDependency].cron;
    let intervalMinutes: number | undefined;
    try {
      intervalMinutes = maxCronIntervalMinutes(cron);
    } catch (error) {
      report({ field: `data.backupPlan.${name}.cron`, value: cron, allowed: 'a five-field cron expression (UTC) with *, numbers, ranges, lists and /steps, e.g. "0 3 * * *"', why: (error as Error).message });
      continue;
    }
    const keepForDays = plan?.keepForDays ?? BACKUP_PLAN[name as DataDependency].keepFor.toDays();
    const minimumDays = Math.ceil((2 * intervalMinutes) / 1440);
    if (!Number.isInteger(keepForDays) || keepForDays < minimumDays) {
      report({
        field: `data.backupPlan.${name}.keepForDays`,
        value: keepForDays,
        allowed: `a whole number of days, at least ${minimumDays} (twice the longest gap of ${formatMinutes(intervalMinutes)} between runs of "${cron}")`,
        why: 'a retention shorter than the schedule leaves moments with no dump at all, and one failed run loses the last good one',
      });
    }
  }
  const key = data.backupEncryptionKey;
  if (typeof key === 'string') {
    if (/^AGE-SECRET-KEY-/i.test(key)) {
      report({ field: 'data.backupEncryptionKey', value: '(an age private key, not shown)', allowed: 'the public key (age1...) only', why: 'the private key never enters the project; the operators keep it offline for restores' });
    } else if (!AGE_RECIPIENT.test(key)) {
      report({ field: 'data.backupEncryptionKey', value: key, allowed: 'an age public key ("age1" and 58 bech32 characters, from age-keygen -y) or { variable: "<terraform variable>" }' });
    }
  } else if (key !== undefined && !TERRAFORM_VARIABLE.test(key.variable)) {
    report({ field: 'data.backupEncryptionKey.variable', value: key.variable, allowed: 'a Terraform variable name: lowercase letters, digits and "_"' });
  } else if (key === undefined && environment.production && hasJob) {
    report({
      field: 'data.backupEncryptionKey',
      value: undefined,
      allowed: 'an age public key ("age1...") or { variable: "<terraform variable>" } holding one',
      why: 'production dumps leave the host for the bucket and must be encrypted; the private key stays with the operators',
    });
  }
  const heartbeat = data.backupHeartbeatUrl;
  if (typeof heartbeat === 'string') {
    report({
      field: 'data.backupHeartbeatUrl',
      value: /:\/\//.test(heartbeat) ? '(a plain URL, not shown)' : heartbeat,
      allowed: '{ secret: "<sensitive terraform variable>" }',
      why: 'the heartbeat URL is a credential of the monitor (anyone holding it can fake a good backup); it must not be a plain value in the code or the plan',
    });
  } else if (heartbeat !== undefined && !TERRAFORM_VARIABLE.test(heartbeat.secret)) {
    report({ field: 'data.backupHeartbeatUrl.secret', value: heartbeat.secret, allowed: 'a Terraform variable name: lowercase letters, digits and "_"' });
  } else if (heartbeat === undefined && environment.production && hasJob) {
    report({
      field: 'data.backupHeartbeatUrl',
      value: undefined,
      allowed: '{ secret: "<sensitive terraform variable>" } holding a dead-man\'s-switch URL (healthchecks.io, Better Stack, ...)',
      why: 'without it, dumps that stop are noticed only when a restore is needed',
    });
  }
}

/** `max_connections`, when set, must hold every product's connection limit plus the reserved ones. */
function validatePostgresConnections(system: SystemSpec, environment: EnvironmentSpec, report: Report): void {
  const postgres = environment.data.postgres;
  if (postgres.mode !== 'container' || postgres.maxConnections === undefined) return;
  const users = environment.products.filter((deployment) => {
    const product = system.products.find((p) => p.name === deployment.product);
    return !deployment.externalData?.includes('postgres') && (product?.services ?? []).some((service) => service.uses?.includes('postgres'));
  }).length;
  const perProduct = postgres.connectionsPerProduct ?? DEFAULT_CONNECTIONS_PER_PRODUCT;
  const needed = users * perProduct + POSTGRES_RESERVED_CONNECTIONS;
  if (postgres.maxConnections < needed) {
    report({
      field: 'data.postgres.maxConnections',
      value: postgres.maxConnections,
      allowed: `at least ${needed}: ${users} product database(s) x ${perProduct} connections (data.postgres.connectionsPerProduct) + ${POSTGRES_RESERVED_CONNECTIONS} reserved, or leave it unset to get exactly that`,
      why: 'each product role may hold its connection limit; the server must admit them all plus the superuser, the dump job and the provisioner',
    });
  }
}

function formatMinutes(minutes: number): string {
  return minutes % 1440 === 0 ? `${minutes / 1440} day(s)` : minutes % 60 === 0 ? `${minutes / 60} hour(s)` : `${minutes} minute(s)`;
}

function validateProtection(environment: EnvironmentSpec, report: Report): void {
  if (!environment.production) return;
  if (!environment.protection) {
    report({ field: 'protection', value: false, allowed: 'true in production', why: 'servers, volumes and buckets must survive a mistaken destroy' });
  }
  if (!environment.backups) {
    report({ field: 'backups', value: false, allowed: 'true in production' });
  }
  const github = environment.github ?? {};
  if ((github.reviewerTeams ?? []).length + (github.reviewerUsers ?? []).length === 0) {
    report({ field: 'github.reviewerTeams', value: [], allowed: 'at least one reviewer team or user in production', why: 'production deploys require approval' });
  }
}

function validateCloudflare(environment: EnvironmentSpec, report: Report): void {
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

function validateSnapshots(environment: EnvironmentSpec, report: Report): void {
  const hostNames = environment.hosts.map((h) => h.name);
  const names = new Set<string>();
  for (const snapshot of environment.snapshots ?? []) {
    if (names.has(snapshot.name) || !NAME.test(snapshot.name)) {
      report({ field: `snapshots.${snapshot.name}`, value: snapshot.name, allowed: 'unique lowercase names' });
    }
    names.add(snapshot.name);
    if (!hostNames.includes(snapshot.host)) report({ field: `snapshots.${snapshot.name}.host`, value: snapshot.host, allowed: hostNames });
    if (snapshot.reason.trim() === '') report({ field: `snapshots.${snapshot.name}.reason`, value: snapshot.reason, allowed: 'a short reason' });
  }
}

function validateDomainLabels(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
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

/**
 * Where a product runs: one host, or spread over a group of two or more.
 * With two or more app hosts, a service with two or more replicas must run
 * on at least two of them, or the loss of one host still takes it down.
 */
function validatePlacement(environment: EnvironmentSpec, product: ProductSpec, deployment: ProductDeployment, report: Report): void {
  const groupOf = (host: HostSpec) => host.group ?? DEFAULT_HOST_GROUP;
  const groups = [...new Set(environment.hosts.map(groupOf))];
  if (deployment.group !== undefined) {
    const members = environment.hosts.filter((host) => groupOf(host) === deployment.group);
    if (deployment.host !== undefined) {
      report({ field: 'group', value: deployment.group, allowed: 'either host (one host) or group (spread), not both' });
    } else if (members.length === 0) {
      report({ field: 'group', value: deployment.group, allowed: groups });
    } else if (members.length === 1) {
      report({
        field: 'group',
        value: deployment.group,
        allowed: `a group of two or more hosts (group "${deployment.group}" has only ${members[0]!.name}), or host: "${members[0]!.name}"`,
        why: 'spreading over one host protects nothing',
      });
    }
    return;
  }
  const appHosts = environment.hosts.filter((host) => groupOf(host) === DEFAULT_HOST_GROUP);
  if (appHosts.length < 2) return;
  for (const service of product.services) {
    const replicas = deployment.replicas?.[service.name] ?? service.replicas ?? 1;
    if (replicas >= 2) {
      report({
        field: 'group',
        value: undefined,
        allowed: `group: "${DEFAULT_HOST_GROUP}" (spread over ${appHosts.map((host) => host.name).join(', ')})`,
        why: `service ${service.name} has ${replicas} replicas and the environment has ${appHosts.length} app hosts: on one host, losing it loses every replica`,
      });
      return;
    }
  }
}

function validateLoadBalancer(environment: EnvironmentSpec, report: Report): void {
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

/** A reference Docker can pull, pinned by tag, digest or both. */
function isImageRef(ref: string): boolean {
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

function validateImmutableReferences(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
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

function validateReplicas(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  for (const deployment of environment.products) {
    const product = system.products.find((p) => p.name === deployment.product);
    if (product === undefined) continue;
    const report = log.in({ environment: environment.name, product: deployment.product });
    const containers = product.services.filter((service) => behaviourOf(service.kind)?.container).map((service) => service.name);
    for (const [service, replicas] of Object.entries(deployment.replicas ?? {})) {
      if (!containers.includes(service)) report({ field: `replicas.${service}`, value: service, allowed: containers });
      else checkReplicas(replicas, `replicas.${service}`, report);
    }
  }
}

/** Names a template may use in an accessory's `connection`. */
const CONNECTION_PLACEHOLDER = /\{([^}]*)\}/g;

function validateAccessories(system: SystemSpec, report: Report): void {
  const names = new Set<string>();
  for (const accessory of system.accessories ?? []) {
    const field = (name: string) => `accessories.${accessory.name}.${name}`;
    if (!NAME.test(accessory.name) || (DATA_DEPENDENCIES as readonly string[]).includes(accessory.name) || names.has(accessory.name)) {
      report({ field: field('name'), value: accessory.name, allowed: 'a unique lowercase name (letters, digits and "-") other than postgres and redis' });
    } else if (PLATFORM_CONTAINER_NAMES.includes(accessory.name)) {
      // Its container is named after it, on a host's daemon that runs the platform's containers too.
      report({ field: field('name'), value: accessory.name, allowed: `a name other than the platform's containers: ${PLATFORM_CONTAINER_NAMES.join(', ')}` });
    }
    names.add(accessory.name);
    if (!isImageRef(accessory.imageRef)) report({ field: field('imageRef'), value: accessory.imageRef, allowed: IMAGE_REF_ALLOWED });
    const ports = Object.entries(accessory.ports ?? {});
    if (ports.length === 0) report({ field: field('ports'), value: accessory.ports, allowed: 'at least one named port, e.g. { api: 9000 }' });
    for (const [name, port] of ports) {
      if (!PORT_NAME.test(name) || !isPort(port)) report({ field: field(`ports.${name}`), value: port, allowed: 'a lowercase name and a whole number from 1 to 65535' });
    }
    const volumeNames = new Set<string>();
    for (const volume of accessory.volumes ?? []) {
      if (!NAME.test(volume.name) || volumeNames.has(volume.name)) report({ field: field(`volumes.${volume.name}.name`), value: volume.name, allowed: 'unique lowercase names' });
      volumeNames.add(volume.name);
      if (!/^\/[A-Za-z0-9._/-]*$/.test(volume.mountPath) || volume.mountPath === '/') {
        report({ field: field(`volumes.${volume.name}.mountPath`), value: volume.mountPath, allowed: 'an absolute path inside the container other than "/"' });
      }
      checkVolumeSize(volume.sizeGiB, field(`volumes.${volume.name}.sizeGiB`), report);
    }
    for (const [name, template] of Object.entries(accessory.connection ?? {})) {
      if (!ENV_VAR.test(name)) report({ field: field(`connection.${name}`), value: name, allowed: 'UPPER_SNAKE_CASE variable names' });
      for (const [, placeholder] of template.matchAll(CONNECTION_PLACEHOLDER)) {
        const port = /^port:(.+)$/.exec(placeholder!)?.[1];
        if (placeholder !== 'host' && (port === undefined || accessory.ports?.[port] === undefined)) {
          report({ field: field(`connection.${name}`), value: `{${placeholder}}`, allowed: ['{host}', ...Object.keys(accessory.ports ?? {}).map((p) => `{port:${p}}`)] });
        }
      }
    }
    for (const name of [...Object.keys(accessory.environment ?? {}), ...(accessory.secrets ?? [])]) {
      if (!ENV_VAR.test(name)) report({ field: field('environment'), value: name, allowed: 'UPPER_SNAKE_CASE variable names' });
    }
    if (accessory.restart !== undefined) checkRestart(accessory.restart, field('restart'), report);
  }
}

function checkVolumeSize(size: unknown, field: string, report: Report): void {
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 10 || size > 10240) {
    report({ field, value: size, allowed: 'a whole number of GiB from 10 to 10240 (Hetzner volume limits)' });
  }
}

function validateAccessoryDeployments(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  const report = log.in({ environment: environment.name });
  const known = (system.accessories ?? []).map((accessory) => accessory.name);
  const hostNames = environment.hosts.map((host) => host.name);
  const deployed = new Set<string>();
  for (const deployment of environment.accessories ?? []) {
    const accessory = system.accessories?.find((a) => a.name === deployment.name);
    if (accessory === undefined || deployed.has(deployment.name)) {
      report({ field: 'accessories', value: deployment.name, allowed: known.length > 0 ? known.filter((name) => !deployed.has(name)) : 'an accessory of the system (it declares none)' });
      continue;
    }
    deployed.add(deployment.name);
    if (deployment.host !== undefined && !hostNames.includes(deployment.host)) report({ field: `accessories.${deployment.name}.host`, value: deployment.host, allowed: hostNames });
    const volumes = (accessory.volumes ?? []).map((volume) => volume.name);
    for (const [volume, size] of Object.entries(deployment.volumeSizesGiB ?? {})) {
      if (!volumes.includes(volume)) report({ field: `accessories.${deployment.name}.volumeSizesGiB.${volume}`, value: volume, allowed: volumes });
      else checkVolumeSize(size, `accessories.${deployment.name}.volumeSizesGiB.${volume}`, report);
    }
  }
  for (const deployment of environment.products) {
    const product = system.products.find((p) => p.name === deployment.product);
    for (const service of product?.services ?? []) {
      for (const name of service.uses ?? []) {
        if (known.includes(name) && !deployed.has(name)) {
          log.in({ environment: environment.name, product: deployment.product })({
            field: `services.${service.name}.uses`,
            value: name,
            allowed: `an accessory this environment runs (add { name: "${name}" } to its accessories)`,
          });
        }
      }
    }
  }
}

/**
 * A container's limits must fit the server it runs on: Docker refuses a CPU
 * limit above the host's CPUs, and a memory limit above its RAM can never
 * be honoured.
 */
function validateLimitsFitHosts(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  const facts = new Map(environment.hosts.map((host) => [host.name, HETZNER_SERVER_TYPES[host.serverType]]));
  const firstHost = environment.hosts[0]?.name;
  const check = (where: { product?: string }, field: string, host: string | undefined, limits: Partial<ResourceSpec>) => {
    const server = host === undefined ? undefined : facts.get(host);
    if (server === undefined) return;
    const report = log.in({ environment: environment.name, ...where });
    if (limits.cpuLimit !== undefined && limits.cpuLimit > server.vcpus) {
      report({ field: `${field}.cpuLimit`, value: limits.cpuLimit, allowed: `at most ${server.vcpus} (the vCPUs of host "${host}")` });
    }
    if (limits.memoryLimitMiB !== undefined && limits.memoryLimitMiB > server.memoryGiB * 1024) {
      report({ field: `${field}.memoryLimitMiB`, value: limits.memoryLimitMiB, allowed: `at most ${server.memoryGiB * 1024} (the memory of host "${host}", MiB)` });
    }
  };
  for (const deployment of environment.products) {
    const product = system.products.find((p) => p.name === deployment.product);
    for (const service of product?.services ?? []) {
      if (service.resources !== undefined) check({ product: deployment.product }, `services.${service.name}.resources`, deployment.host ?? firstHost, service.resources);
    }
  }
  const dataHost = environment.data.host ?? firstHost;
  for (const name of DATA_DEPENDENCIES) {
    const settings = environment.data[name];
    if (settings.mode === 'container' && settings.resources !== undefined) check({}, `data.${name}.resources`, dataHost, settings.resources);
  }
  for (const deployment of environment.accessories ?? []) {
    const accessory = system.accessories?.find((a) => a.name === deployment.name);
    if (accessory === undefined) continue;
    check({}, `accessories.${deployment.name}.resources`, deployment.host ?? dataHost, { ...accessory.resources, ...deployment.resources });
  }
}
