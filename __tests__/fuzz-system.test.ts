/**
 * Property-based tests: random valid systems synthesize and keep the
 * library's promises; random single mutations from a list of known-bad ones
 * are rejected with a ConfigurationError before any stack exists.
 * Seeds are fixed: a failure reproduces with the same command.
 */
import { TerraformStack, Testing } from 'cdktf';
import fc from 'fast-check';
import { ConfigurationError } from '../constructs/core/configuration-error';
import type { EnvironmentSpec, SystemSpec } from '../system/model';
import { resolveSystem } from '../system/resolve';
import { createSystemStacks } from '../stacks/system-stacks';
import { validSystem } from './helpers/arbitraries';
import { deepCopy, type WritableEnvironment, type WritableSystem } from './helpers/spec';
import { SynthesizedSystem, dataSources, pathsOfKey, resourceList } from './helpers/synth';

const ANYWHERE = ['0.0.0.0/0', '::/0'];

/** Checks every stack of one environment against what its spec promises. */
function expectEnvironmentKeepsPromises(app: SynthesizedSystem, spec: EnvironmentSpec): void {
  const network = app.synth(`${spec.name}-network`);
  const data = app.synth(`${spec.name}-data`);

  const rules = resourceList(network, 'hcloud_firewall').filter((firewall) => firewall.labels?.role !== 'deploy-path').flatMap((firewall) => firewall.rule);
  // Routed services on more than one host sit behind a load balancer, which reaches them over the private network.
  const balanced = resourceList(network, 'hcloud_load_balancer').length > 0;
  const expected = [
    { port: '22', sources: [...spec.adminSshCidrs] },
    ...(balanced ? [] : [{ port: '80', sources: ANYWHERE }, { port: '443', sources: ANYWHERE }]),
  ];
  expect(rules.map((rule: any) => ({ port: rule.port, sources: rule.source_ips }))).toEqual(expected);
  expect(rules.every((rule: any) => rule.direction === 'in' && rule.protocol === 'tcp')).toBe(true);

  const servers = resourceList(network, 'hcloud_server');
  expect(servers).toHaveLength(spec.hosts.length);
  expect(resourceList(network, 'hcloud_placement_group')).toHaveLength(spec.hosts.length > 1 ? 1 : 0);
  if (balanced) expect(resourceList(network, 'hcloud_load_balancer_target').length).toBeGreaterThanOrEqual(2);
  expect(resourceList(network, 'hcloud_rdns')).toHaveLength(2 * spec.hosts.length);
  expect(servers.every((server) => server.location === spec.location)).toBe(true);

  const volumes = resourceList(data, 'hcloud_volume');
  const containerData = (['postgres', 'redis'] as const).filter((service) => spec.data[service].mode === 'container');
  expect(volumes).toHaveLength(containerData.length);
  expect(resourceList(data, 'hcloud_volume_attachment').every((attachment) => attachment.automount === true)).toBe(true);
  expect(resourceList(data, 'hcloud_snapshot')).toHaveLength(spec.snapshots?.length ?? 0);

  if (spec.production) {
    for (const server of servers) {
      expect(server).toMatchObject({ delete_protection: true, rebuild_protection: true, backups: true, lifecycle: { ignore_changes: ['user_data', 'image', 'ssh_keys'] } });
    }
    for (const volume of volumes) expect(volume).toMatchObject({ delete_protection: true, lifecycle: { prevent_destroy: true } });
  }

  const products = app.environment(spec.name).products;
  expect([...products.keys()]).toEqual(spec.products.map((deployment) => deployment.product));
  for (const product of products.keys()) {
    expect(dataSources(app.synth(`${spec.name}-${product}`), 'terraform_remote_state')[`outputs-${spec.name}-network`]).toMatchObject({
      backend: 'local',
      config: { path: `../../../terraform.${spec.name}-network.tfstate` },
    });
  }
}

describe('random valid systems', () => {
  it('resolve, synthesize every stack, and keep the firewall and production promises', () => {
    fc.assert(
      fc.property(validSystem, (system) => {
        const app = new SynthesizedSystem(system);
        for (const name of app.stackNames) {
          const json = app.synth(name);
          expect(pathsOfKey(json, 'datacenter')).toEqual([]);
        }
        for (const environment of system.environments) expectEnvironmentKeepsPromises(app, environment);
      }),
      { seed: 20261122, numRuns: 20 },
    );
  });

  it('synthesize the same JSON twice', () => {
    fc.assert(
      fc.property(validSystem, (system) => {
        const once = new SynthesizedSystem(system);
        const twice = new SynthesizedSystem(system);
        for (const name of once.stackNames) expect(twice.synth(name)).toEqual(once.synth(name));
      }),
      { seed: 7, numRuns: 3 },
    );
  });
});

/** A change that makes any valid system invalid, and the field the error must name. */
interface BadMutation {
  readonly name: string;
  readonly field: RegExp;
  /** `pick` chooses among candidates (environment, host, product) so every run mutates a different place. */
  readonly apply: (system: WritableSystem, pick: number) => void;
}

const environmentAt = (system: WritableSystem, pick: number): WritableEnvironment => system.environments[pick % system.environments.length]!;
const productAt = (system: WritableSystem, pick: number) => system.products[pick % system.products.length]!;

const BAD_MUTATIONS: readonly BadMutation[] = [
  { name: 'unknown location', field: /^location$/, apply: (s, p) => (environmentAt(s, p).location = 'fra1' as 'fsn1') },
  { name: 'retired server type', field: /^hosts\.app-\d\.serverType$/, apply: (s, p) => (environmentAt(s, p).hosts[0]!.serverType = 'ccx32') },
  { name: 'unknown server type', field: /^hosts\.app-\d\.serverType$/, apply: (s, p) => (environmentAt(s, p).hosts[0]!.serverType = 'm5.large') },
  { name: 'SSH from the internet', field: /^adminSshCidrs$/, apply: (s, p) => environmentAt(s, p).adminSshCidrs.push(p % 2 === 0 ? '0.0.0.0/0' : '::/0') },
  { name: 'no admin CIDRs', field: /^adminSshCidrs$/, apply: (s, p) => (environmentAt(s, p).adminSshCidrs = []) },
  { name: 'admin CIDR with host bits', field: /^adminSshCidrs$/, apply: (s, p) => environmentAt(s, p).adminSshCidrs.push('198.51.100.7/24') },
  { name: 'duplicate host', field: /^hosts\.app-1$/, apply: (s, p) => environmentAt(s, p).hosts.push({ name: 'app-1', serverType: 'ccx43' }) },
  { name: 'no hosts', field: /^hosts$/, apply: (s, p) => (environmentAt(s, p).hosts = []) },
  { name: 'unknown product deployed', field: /^products$/, apply: (s, p) => environmentAt(s, p).products.push({ product: 'no-such-product', imageTag: 'v1.0.0' }) },
  { name: 'product on an unknown host', field: /^host$/, apply: (s, p) => environmentAt(s, p).products.push({ product: productAt(s, p).name, imageTag: 'v1.0.0', host: 'nowhere' }) },
  { name: 'product defined twice', field: /^name$/, apply: (s, p) => s.products.push(deepCopy(productAt(s, p))) },
  { name: 'reserved product name', field: /^name$/, apply: (s, p) => s.products.push({ name: ['network', 'edge', 'data'][p % 3]!, services: [{ name: 'landing', kind: 'landing', subdomain: 'reserved-site' }] }) },
  { name: 'port out of range', field: /^services\.extra\.port$/, apply: (s, p) => productAt(s, p).services.push({ name: 'extra', kind: 'internal', port: p % 2 === 0 ? 0 : 65536 }) },
  { name: 'mobile service with a port', field: /^services\.extra\.port$/, apply: (s, p) => productAt(s, p).services.push({ name: 'extra', kind: 'mobile', port: 9999 }) },
  { name: 'published host port', field: /^services\.extra\.hostPorts$/, apply: (s, p) => productAt(s, p).services.push({ name: 'extra', kind: 'worker', command: ['run'], hostPorts: [8080] }) },
  { name: 'internal service on the frontend', field: /^services\.extra\.extraNetworks$/, apply: (s, p) => productAt(s, p).services.push({ name: 'extra', kind: 'internal', port: 1, extraNetworks: ['frontend'] }) },
  {
    name: 'memory limit below reservation',
    field: /^services\.extra\.resources\.memoryLimitMiB$/,
    apply: (s, p) => productAt(s, p).services.push({ name: 'extra', kind: 'worker', command: ['run'], resources: { memoryLimitMiB: 64, memoryReservationMiB: 128 } }),
  },
  { name: 'two-label subdomain', field: /^services\.extra\.subdomain$/, apply: (s, p) => productAt(s, p).services.push({ name: 'extra', kind: 'web', subdomain: 'www.extra' }) },
  { name: 'link to nowhere', field: /^services\.extra\.links\.TARGET_URL$/, apply: (s, p) => productAt(s, p).services.push({ name: 'extra', kind: 'worker', command: ['run'], links: { TARGET_URL: 'nowhere' } }) },
  { name: 'bad environment name', field: /^name$/, apply: (s, p) => (environmentAt(s, p).name = 'Prod_1') },
  { name: 'bad ACME e-mail', field: /^acmeEmail$/, apply: (s, p) => (environmentAt(s, p).acmeEmail = 'ops at example.com') },
  { name: 'public private network', field: /^privateNetwork\.ipRange$/, apply: (s, p) => (environmentAt(s, p).privateNetwork = { ipRange: '8.8.0.0/16', subnetRange: '8.8.1.0/24' }) },
  { name: 'subnet outside the range', field: /^privateNetwork\.subnetRange$/, apply: (s, p) => (environmentAt(s, p).privateNetwork = { ipRange: '10.0.0.0/16', subnetRange: '10.1.0.0/24' }) },
  { name: 'volume too small', field: /^data\.postgres\.volumeSizeGiB$/, apply: (s, p) => (environmentAt(s, p).data.postgres = { mode: 'container', volumeSizeGiB: 9 }) },
  { name: 'volume too large', field: /^data\.postgres\.volumeSizeGiB$/, apply: (s, p) => (environmentAt(s, p).data.postgres = { mode: 'container', volumeSizeGiB: 10241 }) },
  { name: 'Redis maxmemory over its limit', field: /^data\.redis\.maxMemoryMiB$/, apply: (s, p) => (environmentAt(s, p).data.redis = { mode: 'container', volumeSizeGiB: 10, maxMemoryMiB: 4096 }) },
  { name: 'snapshot of an unknown host', field: /^snapshots\.bad\.host$/, apply: (s, p) => (environmentAt(s, p).snapshots = [{ name: 'bad', host: 'nowhere', reason: 'test' }]) },
  { name: 'private key as public key', field: /^sshKeys\..+\.publicKey$/, apply: (s, p) => (environmentAt(s, p).sshKeys[0]!.publicKey = '-----BEGIN OPENSSH PRIVATE KEY-----') },
  { name: 'Docker API over TCP', field: /^dockerAccess\.mode$/, apply: (s, p) => (environmentAt(s, p).dockerAccess = { mode: 'tls' } as unknown as EnvironmentSpec['dockerAccess']) },
  { name: 'agent without Terraform Cloud', field: /^dockerAccess\.mode$/, apply: (s, p) => (environmentAt(s, p).dockerAccess = { mode: 'agent' }) },
  { name: 'unknown ACME directory', field: /^certificates\.directory$/, apply: (s, p) => (environmentAt(s, p).certificates = { directory: 'test' as 'staging' }) },
  { name: 'apex served by nothing deployed', field: /^apexService$/, apply: (s, p) => (environmentAt(s, p).apexService = 'nothing/landing') },
  { name: 'unknown Cloudflare plan', field: /^cloudflare\.plan$/, apply: (s, p) => (environmentAt(s, p).cloudflare = { plan: 'gold' as 'pro' }) },
  {
    name: 'production without protection',
    field: /^protection$/,
    apply: (s, p) => Object.assign(environmentAt(s, p), { production: true, protection: false, backups: true, github: { reviewerUsers: ['lead'] } }),
  },
  {
    name: 'production without reviewers',
    field: /^github\.reviewerTeams$/,
    apply: (s, p) => Object.assign(environmentAt(s, p), { production: true, protection: true, backups: true, github: {} }),
  },
  { name: 'SSH from half the internet', field: /^adminSshCidrs$/, apply: (s, p) => environmentAt(s, p).adminSshCidrs.push(p % 2 === 0 ? '0.0.0.0/1' : '2000::/3') },
  {
    name: 'production approvals switched off',
    field: /^github\.requireApproval$/,
    apply: (s, p) => Object.assign(environmentAt(s, p), { production: true, protection: true, backups: true, github: { reviewerTeams: ['platform'], requireApproval: false } }),
  },
  {
    name: 'a variable from two sources',
    field: /^services\.extra\.uses$/,
    apply: (s, p) => productAt(s, p).services.push({ name: 'extra', kind: 'worker', command: ['run'], uses: ['postgres'], secrets: ['DATABASE_URL'] }),
  },
  { name: 'two replicas of a singleton', field: /^services\.extra\.replicas$/, apply: (s, p) => productAt(s, p).services.push({ name: 'extra', kind: 'worker', command: ['run'], singleton: true, replicas: 2 }) },
  {
    name: 'a waiver of everything',
    field: /^invariantExemptions\[0\]\.resource$/,
    apply: (s, p) => (environmentAt(s, p).invariantExemptions = [{ rule: 'hardened-container', stack: `${environmentAt(s, p).name}-network`, resource: '*', reason: 'no reason to check' }]),
  },
  { name: 'a container name longer than a DNS label', field: /^services\.x+\.name$/, apply: (s, p) => productAt(s, p).services.push({ name: 'x'.repeat(64), kind: 'worker', command: ['run'] }) },
  {
    name: '"latest" in production',
    field: /^imageTag$/,
    apply: (s, p) => {
      const environment = Object.assign(environmentAt(s, p), { production: true, protection: true, backups: true, github: { reviewerTeams: ['platform'] } });
      const product = productAt(s, p).name;
      environment.products = [...environment.products.filter((deployment) => deployment.product !== product), { product, imageTag: 'latest' }];
    },
  },
];

describe('random bad mutations of valid systems', () => {
  it('covers every known-bad mutation', () => {
    expect(BAD_MUTATIONS.length).toBeGreaterThanOrEqual(30);
  });

  it('are rejected with a ConfigurationError naming the field, and no stack is created', () => {
    fc.assert(
      fc.property(validSystem, fc.constantFrom(...BAD_MUTATIONS), fc.nat(), (valid, mutation, pick) => {
        const bad = deepCopy(valid);
        mutation.apply(bad, pick);
        let error: unknown;
        try {
          resolveSystem(bad as SystemSpec);
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(ConfigurationError);
        const fields = (error as ConfigurationError).issues.map((issue) => issue.field);
        expect(fields.some((field) => mutation.field.test(field))).toBe(true);

        const app = Testing.app();
        expect(() => createSystemStacks(app, bad as SystemSpec, { onWarning: () => undefined })).toThrow(ConfigurationError);
        expect(app.node.children.filter((child) => child instanceof TerraformStack)).toEqual([]);
      }),
      { seed: 4242, numRuns: 300 },
    );
  });
});
