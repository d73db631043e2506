/**
 * fast-check generators of valid systems: random products (service kinds,
 * ports unique per host, resources, links) and environments (locations,
 * server types, CIDRs, tags, data services), every draw accepted by
 * `resolveSystem`. Draws are small and index-based so failures shrink well.
 */
import fc from 'fast-check';
import { HealthCheck } from '../../constructs/core/health-check';
import { HETZNER_LOCATIONS, type HetznerLocation } from '../../constructs/hetzner/locations';
import type {
  CloudflareSettings,
  DataDependency,
  DataServiceSpec,
  DockerAccess,
  EnvironmentSpec,
  ProductDeployment,
  ProductSpec,
  ResourceSpec,
  ServiceKind,
  ServiceSpec,
  SystemSpec,
} from '../../system/model';
import { RESERVED_PRODUCT_NAMES } from '../../system/validation';
import { WIDEST_ALLOWED_PREFIX } from '../../system/validation/network';

/** One service name per kind, so default subdomains never clash inside a product. */
const SERVICE_NAME: Readonly<Record<ServiceKind, string>> = { api: 'backend', web: 'web', landing: 'landing', internal: 'ml', worker: 'scheduler', mobile: 'mobile' };
const KINDS = Object.keys(SERVICE_NAME) as ServiceKind[];
const PORTED_KINDS: readonly ServiceKind[] = ['api', 'internal'];
const MAX_PRODUCTS = 4;

/**
 * Hosts big enough for every draw (16+ vCPUs, 32+ GiB): capacity planning has
 * its own tests; here a draw must never be over-committed by accident.
 */
const ROOMY_SERVER_TYPES = ['ccx43', 'ccx53', 'ccx63', 'cx52', 'cpx51', 'cax41'];

/** Lowercase, no dash: `<name>`, `app-<name>`, `api-<name>` and `ota-<name>` never collide across products. */
const productName = fc.stringMatching(/^[a-z][a-z0-9]{1,8}$/).filter((name) => !(RESERVED_PRODUCT_NAMES as readonly string[]).includes(name));

const resources: fc.Arbitrary<Partial<ResourceSpec>> = fc
  .record({
    cpuReservation: fc.constantFrom(0.05, 0.1, 0.25),
    cpuHeadroom: fc.constantFrom(0, 0.25, 1),
    memoryReservationMiB: fc.integer({ min: 16, max: 256 }),
    memoryHeadroomMiB: fc.integer({ min: 0, max: 1024 }),
  })
  .map(({ cpuReservation, cpuHeadroom, memoryReservationMiB, memoryHeadroomMiB }) => ({
    cpuReservation,
    cpuLimit: cpuReservation + cpuHeadroom,
    memoryReservationMiB,
    memoryLimitMiB: memoryReservationMiB + memoryHeadroomMiB,
  }));

/** What varies per service of a product draft. */
const serviceDraft = fc.record({
  resources: fc.option(resources, { nil: undefined }),
  uses: fc.subarray<DataDependency>(['postgres', 'redis']),
  explicitPort: fc.boolean(),
  httpCheck: fc.boolean(),
});

const productDraft = fc.record({
  name: productName,
  kinds: fc.subarray(KINDS, { minLength: 1 }),
  services: fc.array(serviceDraft, { minLength: KINDS.length, maxLength: KINDS.length }),
  wireLinks: fc.boolean(),
});

type ProductDraft = typeof productDraft extends fc.Arbitrary<infer T> ? T : never;

function buildProduct(draft: ProductDraft, nextPort: () => number): ProductSpec {
  const has = (kind: ServiceKind) => draft.kinds.includes(kind);
  const services = draft.kinds.map((kind, index): ServiceSpec => {
    const options = draft.services[index]!;
    const container = kind !== 'mobile';
    const needsPort = PORTED_KINDS.includes(kind) || ((kind === 'web' || kind === 'landing') && options.explicitPort);
    const links: Record<string, string> = {};
    const publicUrls: Record<string, string> = {};
    if (draft.wireLinks && has('internal') && (kind === 'api' || kind === 'worker' || kind === 'web')) links.ML_SERVICE_URL = SERVICE_NAME.internal;
    if (draft.wireLinks && has('api') && kind === 'web') publicUrls.PUBLIC_BACKEND_URL = SERVICE_NAME.api;
    return {
      name: SERVICE_NAME[kind],
      kind,
      port: needsPort ? nextPort() : undefined,
      command: kind === 'worker' ? ['node', 'dist/scheduler.js'] : undefined,
      healthCheck: kind === 'api' && options.httpCheck ? HealthCheck.http('/api/health') : undefined,
      resources: container ? options.resources : undefined,
      uses: container && options.uses.length > 0 ? options.uses : undefined,
      links: Object.keys(links).length > 0 ? links : undefined,
      publicUrls: Object.keys(publicUrls).length > 0 ? publicUrls : undefined,
      // A web service calling an internal one must join the backend network.
      extraNetworks: kind === 'web' && links.ML_SERVICE_URL !== undefined ? ['backend'] : undefined,
    };
  });
  return { name: draft.name, services };
}

/** An IPv4 block with its host bits cleared, no wider than an allow list may hold (/16). */
export const ipv4Cidr = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: WIDEST_ALLOWED_PREFIX[4], max: 32 })).map(([address, prefix]) => {
  const size = 2 ** (32 - prefix);
  return `${formatIpv4(Math.floor(address / size) * size)}/${prefix}`;
});

const ipv6Cidr = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(48, 56, 64)).map(([group, prefix]) => `2001:db8:${group.toString(16)}::/${prefix}`);

function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** An RFC 1918 network of /8 to /24 and a subnet inside it of at most /24 (room for the host offsets). */
const privateNetwork = fc
  .record({
    base: fc.constantFrom({ network: 10 * 2 ** 24, prefix: 8 }, { network: (172 * 256 + 16) * 2 ** 16, prefix: 12 }, { network: (192 * 256 + 168) * 2 ** 16, prefix: 16 }),
    rangeExtra: fc.integer({ min: 0, max: 16 }),
    subnetExtra: fc.integer({ min: 0, max: 16 }),
    rangeIndex: fc.nat(),
    subnetIndex: fc.nat(),
  })
  .map(({ base, rangeExtra, subnetExtra, rangeIndex, subnetIndex }) => {
    const rangePrefix = Math.min(24, base.prefix + rangeExtra);
    const subnetPrefix = Math.min(24, rangePrefix + subnetExtra);
    const range = base.network + (rangeIndex % 2 ** (rangePrefix - base.prefix)) * 2 ** (32 - rangePrefix);
    const subnet = range + (subnetIndex % 2 ** (subnetPrefix - rangePrefix)) * 2 ** (32 - subnetPrefix);
    return { ipRange: `${formatIpv4(range)}/${rangePrefix}`, subnetRange: `${formatIpv4(subnet)}/${subnetPrefix}` };
  });

const postgres: fc.Arbitrary<DataServiceSpec> = fc.oneof(
  fc.record({ mode: fc.constant('container' as const), volumeSizeGiB: fc.integer({ min: 10, max: 10240 }) }),
  fc.record({ mode: fc.constant('external' as const), provider: fc.constantFrom('supabase', 'neon') }),
);

const redis: fc.Arbitrary<EnvironmentSpec['data']['redis']> = fc.oneof(
  fc.record({ mode: fc.constant('container' as const), volumeSizeGiB: fc.integer({ min: 10, max: 100 }), maxMemoryMiB: fc.integer({ min: 16, max: 383 }) }),
  fc.record({ mode: fc.constant('external' as const), provider: fc.constant('upstash') }),
);

/** Systems here use the local backend, where SSH from an administrator's machine is the one way in. */
const dockerAccess: fc.Arbitrary<DockerAccess> = fc.constant({ mode: 'ssh' as const });

const publicKey = fc.stringMatching(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}( [a-z]{1,8}@[a-z]{1,8})?$/);

const environmentDraft = fc.record({
  name: fc.constantFrom('staging', 'production', 'preview', 'qa'),
  production: fc.boolean(),
  location: fc.constantFrom(...(Object.keys(HETZNER_LOCATIONS) as HetznerLocation[])),
  hosts: fc.array(fc.record({ serverType: fc.constantFrom(...ROOMY_SERVER_TYPES), image: fc.option(fc.constantFrom('ubuntu-24.04', 'ubuntu-22.04', 'debian-12'), { nil: undefined }) }), {
    minLength: 1,
    maxLength: 3,
  }),
  deployments: fc.array(
    fc.record({
      product: fc.nat(),
      host: fc.option(fc.nat(), { nil: undefined }),
      tag: fc.oneof(fc.constant('latest'), fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,30}$/)),
      productionTag: fc.oneof(fc.stringMatching(/^main-[0-9a-f]{7,40}$/), fc.tuple(fc.nat(20), fc.nat(20), fc.nat(20)).map((v) => `v${v.join('.')}`)),
      pinFirstService: fc.boolean(),
    }),
    { maxLength: MAX_PRODUCTS + 1 },
  ),
  adminSshCidrs: fc.array(fc.oneof(ipv4Cidr, ipv6Cidr), { minLength: 1, maxLength: 3 }),
  sshKeys: fc.uniqueArray(fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/), publicKey: fc.option(publicKey, { nil: undefined }) }), {
    minLength: 1,
    maxLength: 2,
    selector: (key) => key.name,
  }),
  protection: fc.boolean(),
  backups: fc.boolean(),
  reservationScale: fc.option(fc.constantFrom(0.25, 0.5, 1), { nil: undefined }),
  privateNetwork: fc.option(privateNetwork, { nil: undefined }),
  postgres,
  redis,
  dataHost: fc.option(fc.nat(), { nil: undefined }),
  snapshotHosts: fc.array(fc.nat(), { maxLength: 2 }),
  dockerAccess: fc.option(dockerAccess, { nil: undefined }),
  ipv6: fc.option(fc.boolean(), { nil: undefined }),
  certificateDirectory: fc.option(fc.constantFrom('production' as const, 'staging' as const), { nil: undefined }),
  dockerHubLogin: fc.option(fc.boolean(), { nil: undefined }),
});

type EnvironmentDraft = typeof environmentDraft extends fc.Arbitrary<infer T> ? T : never;

/**
 * One Cloudflare setting for every environment, since they share the zone:
 * page rules only on plans whose quota holds every draw (2 environments x 4
 * products x 3 rules); cache rules fit every plan.
 */
const cloudflare: fc.Arbitrary<CloudflareSettings> = fc.oneof(
  fc.record({ plan: fc.constantFrom('business' as const, 'enterprise' as const), caching: fc.constant('page-rules' as const) }),
  fc.record({ plan: fc.constantFrom('free' as const, 'pro' as const, 'business' as const, 'enterprise' as const), caching: fc.constant('cache-rules' as const) }),
);

function buildEnvironment(draft: EnvironmentDraft, products: readonly ProductSpec[], settings: CloudflareSettings): EnvironmentSpec {
  // Several hosts are a swarm, where a product placed by host stands for its host's group: each host a group of its own.
  const hosts = draft.hosts.map((host, index) => ({ name: `app-${index + 1}`, serverType: host.serverType, image: host.image, group: index === 0 ? undefined : `pool-${index + 1}` }));
  const pick = <T>(items: readonly T[], index: number) => items[index % items.length]!;
  const deployed = new Map<string, ProductDeployment>();
  for (const deployment of draft.deployments) {
    const product = pick(products, deployment.product);
    if (deployed.has(product.name)) continue;
    const tag = draft.production ? deployment.productionTag : deployment.tag;
    deployed.set(product.name, {
      product: product.name,
      imageTag: tag,
      imageTags: deployment.pinFirstService ? { [product.services[0]!.name]: tag } : undefined,
      host: deployment.host === undefined ? undefined : pick(hosts, deployment.host).name,
    });
  }
  return {
    name: draft.name,
    production: draft.production,
    // Environments share the zone: only one may go without a prefix, or both would claim the same names.
    domainPrefix: draft.name === 'production' ? '' : `${draft.name}-`,
    location: draft.location,
    hosts,
    products: [...deployed.values()],
    adminSshCidrs: draft.adminSshCidrs,
    sshKeys: draft.sshKeys,
    // Production's rules leave no choice; elsewhere anything goes.
    protection: draft.production || draft.protection,
    backups: draft.production || draft.backups,
    github: draft.production ? { reviewerTeams: ['platform'] } : {},
    reservationScale: draft.reservationScale,
    privateNetwork: draft.privateNetwork,
    data: {
      postgres: draft.postgres,
      redis: draft.redis,
      host: draft.dataHost === undefined ? undefined : pick(hosts, draft.dataHost).name,
      backupImageTag: draft.production ? 'main-0123abc' : undefined,
      // Production's dump job needs an encryption key and a heartbeat (issue 15).
      backupEncryptionKey: draft.production ? { variable: 'backup_age_recipient' } : undefined,
      backupHeartbeatUrl: draft.production ? { secret: 'backup_heartbeat_url' } : undefined,
    },
    snapshots: draft.snapshotHosts.map((host, index) => ({ name: `snap-${index + 1}`, host: pick(hosts, host).name, reason: 'before a risky change' })),
    cloudflare: settings,
    acmeEmail: 'ops@example.com',
    dockerAccess: draft.dockerAccess,
    // A swarm (several hosts) may lack the load balancer that would take IPv6; its default is then off, and true refused.
    ipv6: hosts.length > 1 && draft.ipv6 === true ? undefined : draft.ipv6,
    certificates: draft.certificateDirectory === undefined ? undefined : { directory: draft.certificateDirectory },
    dockerHubLogin: draft.dockerHubLogin,
    // Production must route its alerts somewhere.
    monitoring: draft.production ? { receivers: [{ name: 'oncall', kind: 'pagerduty' }, { name: 'team', kind: 'slack' }] } : undefined,
  };
}

/** A random system that `resolveSystem` must accept. */
export const validSystem: fc.Arbitrary<SystemSpec> = fc
  .record({
    products: fc.uniqueArray(productDraft, { minLength: 1, maxLength: MAX_PRODUCTS, selector: (draft) => draft.name }),
    // Unique across the system, so unique on every host whatever the placement.
    ports: fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { minLength: MAX_PRODUCTS * KINDS.length, maxLength: MAX_PRODUCTS * KINDS.length }),
    environments: fc.uniqueArray(environmentDraft, { minLength: 1, maxLength: 2, selector: (draft) => draft.name }),
    cloudflare,
  })
  .map(({ products: drafts, ports, environments, cloudflare: settings }): SystemSpec => {
    let next = 0;
    const products = drafts.map((draft) => buildProduct(draft, () => ports[next++]!));
    return {
      name: 'fuzz',
      rootDomain: 'fuzz.example',
      registry: { host: 'ghcr.io', owner: 'fuzz' },
      repository: { owner: 'fuzz', name: 'infra' },
      products,
      environments: environments.map((draft) => buildEnvironment(draft, products, settings)),
    };
  });
