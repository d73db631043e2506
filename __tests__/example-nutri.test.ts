/**
 * The Nutri system of seed 003, built from the same catalog types as
 * Manacore: proof that the library is generic (no Manacore-specific code path).
 */
import { resolveSystem, type ResolvedEnvironment } from '../system/resolve';
import { nutri } from '../examples/nutri';
import { SynthesizedSystem, dataSources, onlyResource, resourceList, hostFirewall } from './helpers/synth';

let app: SynthesizedSystem;
let production: ResolvedEnvironment;

beforeAll(() => {
  app = new SynthesizedSystem(nutri);
  production = resolveSystem(nutri).environments[0]!;
});

describe('the Nutri example', () => {
  it('synthesizes a network, a data and a product stack for production', () => {
    expect(app.stackNames).toEqual(expect.arrayContaining(['production-network', 'production-data', 'production-nutri']));
    expect(app.stackNames.every((name) => name.startsWith('production-'))).toBe(true);
  });

  it('runs on one cx32 host in Germany, protected and backed up', () => {
    const server = onlyResource(app.synth('production-network'), 'hcloud_server');
    expect(server).toMatchObject({
      name: 'nutri-production-app-1',
      server_type: 'cx32',
      location: 'fsn1',
      delete_protection: true,
      rebuild_protection: true,
      backups: true,
    });
  });

  it('opens SSH to its own admin CIDR and HTTP(S) to everyone', () => {
    const rules = hostFirewall(app.synth('production-network')).rule.map((rule: any) => [rule.port, rule.source_ips]);
    expect(rules).toEqual([
      ['22', ['198.51.100.20/32']],
      ['80', ['0.0.0.0/0', '::/0']],
      ['443', ['0.0.0.0/0', '::/0']],
    ]);
  });

  it('creates no Postgres or Redis volume, because both are external', () => {
    const data = app.synth('production-data');
    expect(resourceList(data, 'hcloud_volume')).toEqual([]);
    expect(resourceList(data, 'hcloud_volume_attachment')).toEqual([]);
    expect(production.products[0]!.data).toEqual({ postgres: 'external', redis: 'external' });
    expect(production.containerDataUsers).toEqual({ postgres: [], redis: [] });
  });

  it('publishes the API on api.nutri.app and keeps the ML service off every public domain', () => {
    const [api, ml] = production.products[0]!.services;
    expect(api).toMatchObject({ id: 'nutri-api', domain: 'api.nutri.app', routed: true, port: 3000 });
    expect(ml).toMatchObject({ id: 'nutri-ml', kind: 'internal', routed: false, port: 8000 });
    expect(ml!.domain).toBeUndefined();
    // No shared network: only its product's own, which every container of the product joins.
    expect(ml!.networks).toEqual([]);
  });

  it('hands the API the ML service\'s in-host URL and its secret by name only', () => {
    const api = production.products[0]!.services[0]!;
    expect(api.environment.ML_SERVICE_URL).toBe('http://ml:8000');
    expect(api.secrets).toEqual(['JWT_SECRET', 'DIRECT_URL']);
    expect(api.image?.ref).toBe('ghcr.io/nutri/nutri-api:main-3f9c2a1');
  });

  it('keeps the seed\'s resource limits: API 1 CPU / 1536 MiB, ML 2 CPU / 4096 MiB', () => {
    const [api, ml] = production.products[0]!.services;
    expect(api!.resources).toMatchObject({ cpuLimit: 1, memoryLimitMiB: 1536 });
    expect(ml!.resources).toMatchObject({ cpuLimit: 2, memoryLimitMiB: 4096 });
  });

  it('reads the host addresses from the network stack\'s state', () => {
    expect(dataSources(app.synth('production-nutri'), 'terraform_remote_state')['outputs-production-network']).toMatchObject({
      backend: 'local',
      config: { path: '../../../terraform.production-network.tfstate' },
    });
  });
});
