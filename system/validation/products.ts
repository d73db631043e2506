/** The catalog: products, their services, ports, links, resources and names. */
import { HealthCheck } from '../../constructs/core/health-check';
import { DATABASE_NAME, RESERVED_DATABASES } from '../../constructs/docker/postgres-container';
import { COLLECTOR_NAMES } from '../../constructs/monitoring/host-collectors';
import { SERVER_NAMES } from '../../constructs/monitoring/monitoring-server';
import { POSTGRES_EXPORTER_NAME } from '../../constructs/monitoring/postgres-exporter';
import { cachingProblems } from '../caching';
import { behaviourOf, SERVICE_KIND_BEHAVIOUR, SERVICE_KINDS } from '../kinds';
import { DATA_DEPENDENCIES, HOST_NETWORKS, REACHABILITIES, UPDATE_ORDERS, type LinkSpec, type ProductSpec, type ServiceSpec, type SystemSpec } from '../model';
import { isImageRef } from './images';
import { validateSecretFiles, validateServiceVariables } from './variables';
import { validateTasks } from './tasks';
import { validateSmokeChecks } from './releases';
import { validateServiceRedis } from './redis';
import { validateBuckets } from './buckets';
import { ENV_VAR, IMAGE_REF_ALLOWED, IssueLog, MAX_DNS_LABEL, NAME, PORT_NAME, Report, checkReplicas, checkRestart, checkWritablePaths, isPort, withArticle } from './shared';

/**
 * Names a product may not take: the platform stacks' (`staging-data`), the pipeline's stage names
 * (`--kinds credentials|products` selects by them), and the backup bucket's folder of pre-migration
 * dumps (`postgres/pre-migration/<product>/`), which a product's nightly dumps (`postgres/<product>/`) would share.
 */
export const RESERVED_PRODUCT_NAMES = ['network', 'edge', 'data', 'monitoring', 'bootstrap', 'credentials', 'products', 'pre-migration'] as const;

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

export function validateCatalog(system: SystemSpec, log: IssueLog): void {
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
        why: 'it would collide with a platform stack, a pipeline stage or the backup bucket\'s pre-migration folder',
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
    if (product.reachability !== undefined && !REACHABILITIES.includes(product.reachability)) {
      reportProduct({ field: 'reachability', value: product.reachability, allowed: REACHABILITIES });
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
      if (behaviourOf(service.kind)?.container && container.length > MAX_DNS_LABEL) {
        reportProduct({
          field: `services.${service.name}.name`,
          value: service.name,
          allowed: `a name that keeps "${product.name}-<service>" within ${MAX_DNS_LABEL} characters (at most ${MAX_DNS_LABEL - product.name.length - 1} here)`,
          why: `"${container}" (${container.length} characters) is the container's name on the host networks, a DNS label: Docker's resolver answers at most ${MAX_DNS_LABEL} characters`,
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
    validateBuckets(system, product, reportProduct, domains);
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
  for (const key of ['extraNetworks', 'networks'] as const) {
    for (const network of service[key] ?? []) {
      if (!HOST_NETWORKS.includes(network)) report({ field: field(key), value: network, allowed: HOST_NETWORKS });
    }
  }
  if (kind.routed && service.networks !== undefined && !service.networks.includes('frontend')) {
    report({
      field: field('networks'),
      value: service.networks,
      allowed: 'a list with "frontend"',
      why: `${withArticle(service.kind)} service is routed by the edge proxy, which reaches it on the frontend network only`,
    });
  }
  if (service.networks?.includes('frontend') && !kind.mayJoinFrontend) {
    report({ field: field('networks'), value: 'frontend', allowed: HOST_NETWORKS.filter((n) => n !== 'frontend'), why: `${withArticle(service.kind)} service must have no route from the edge proxy` });
  }
  if (service.caching !== undefined) {
    if (kind.subdomain === undefined) {
      report({ field: field('caching'), value: service.caching.mode, allowed: `nothing (${withArticle(service.kind)} service has no public name to cache)` });
    }
    for (const [name, value, allowed] of cachingProblems(service.caching)) report({ field: field(`caching.${name}`), value, allowed });
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
    for (const key of ['command', 'environment', 'plainVariables', 'secrets', 'secretFiles', 'uses', 'links', 'healthCheck', 'resources', 'image', 'imageRef', 'replicas', 'singleton', 'restart', 'ports', 'metrics', 'networks', 'writablePaths', 'readOnlyRootFilesystem', 'updateOrder', 'tasks', 'smoke'] as const) {
      if (service[key] !== undefined) {
        report({ field: field(key), value: service[key], allowed: `nothing (${withArticle(service.kind)} service has no container)` });
      }
    }
    return;
  }
  validateResources(service, report, field);
  validateTasks(service, report, field);
  validateSmokeChecks(service, service.healthCheck ?? kind.healthCheck, service.port ?? kind.port, report, field);
  checkWritablePaths(service.writablePaths, field('writablePaths'), report);
  if (service.readOnlyRootFilesystem !== undefined && typeof service.readOnlyRootFilesystem !== 'boolean') {
    report({ field: field('readOnlyRootFilesystem'), value: service.readOnlyRootFilesystem, allowed: ['true', 'false'] });
  }
  if (service.updateOrder !== undefined && !UPDATE_ORDERS.includes(service.updateOrder)) {
    report({ field: field('updateOrder'), value: service.updateOrder, allowed: UPDATE_ORDERS });
  } else if (service.singleton === true && service.updateOrder === 'start-first') {
    report({
      field: field('updateOrder'),
      value: service.updateOrder,
      allowed: `"stop-first" (the default of a singleton), or drop singleton`,
      why: 'start-first runs the new container beside the old one until it is healthy: a singleton would run twice on every release',
    });
  }
  if (kind.probesCommand && service.healthCheck === undefined && (service.command === undefined || service.command.length === 0)) {
    report({
      field: field('healthCheck'),
      value: undefined,
      allowed: 'HealthCheck.process(...) or HealthCheck.command(...), or a command whose process is checked',
      why: 'a worker has no HTTP route to probe',
    });
  }
  if (service.healthCheck !== undefined && !(service.healthCheck instanceof HealthCheck)) {
    report({
      field: field('healthCheck'),
      value: service.healthCheck,
      allowed: 'HealthCheck.http(path), HealthCheck.command([program, ...args]) (exec form, no shell), HealthCheck.shell(line), HealthCheck.process(command) or HealthCheck.none(reason)',
    });
  }
  const plainNames = Object.keys(service.environment ?? {});
  for (const name of [...plainNames, ...(service.secrets ?? []), ...Object.keys(service.links ?? {}), ...Object.keys(service.publicUrls ?? {})]) {
    if (!ENV_VAR.test(name)) {
      report({ field: field('environment'), value: name, allowed: 'UPPER_SNAKE_CASE variable names' });
    }
  }
  for (const name of service.plainVariables ?? []) {
    if (!plainNames.includes(name)) {
      report({ field: field('plainVariables'), value: name, allowed: plainNames.length > 0 ? plainNames : 'a name set in environment (there is none)', why: 'plainVariables names variables of environment that hold no secret' });
    }
  }
  for (const secret of service.secrets ?? []) {
    if (plainNames.includes(secret)) {
      report({ field: field('secrets'), value: secret, allowed: 'a name not also given a plain value in environment' });
    }
  }
  validateServiceVariables(system, service, report);
  validateSecretFiles(system, product, service, report);
  validateServiceRedis(product, service, report);
  for (const [envVar, link] of Object.entries(service.links ?? {})) {
    validateLink(system, product, service, envVar, typeof link === 'string' ? { target: link } : link, 'links', report);
  }
  if (service.image !== undefined && service.imageRef !== undefined) {
    report({ field: field('imageRef'), value: service.imageRef, allowed: 'either image (a repository under the registry owner) or imageRef, not both' });
  }
  if (service.imageRef !== undefined && !isImageRef(service.imageRef)) {
    report({ field: field('imageRef'), value: service.imageRef, allowed: IMAGE_REF_ALLOWED });
  }
  if (service.replicas !== undefined) checkReplicas(service.replicas, field('replicas'), report, service);
  if (service.singleton !== undefined && typeof service.singleton !== 'boolean') report({ field: field('singleton'), value: service.singleton, allowed: ['true', 'false'] });
  if (service.restart !== undefined) checkRestart(service.restart, field('restart'), report);
  for (const [envVar, target] of Object.entries(service.publicUrls ?? {})) {
    validateLink(system, product, service, envVar, { target }, 'publicUrls', report);
  }
}

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
  if (link.path !== undefined && (typeof link.path !== 'string' || !/^\/[A-Za-z0-9._~\/-]*$/.test(link.path))) {
    report({ field: `${field}.path`, value: link.path, allowed: 'an absolute URL path such as "/v1" (letters, digits, ".", "_", "~", "-", "/")' });
  } else if (link.path !== undefined && (link.form ?? 'url') !== 'url') {
    report({ field: `${field}.path`, value: link.path, allowed: `no path with form "${link.form}" (only a URL carries one)` });
  }
}
