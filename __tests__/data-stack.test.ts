/**
 * `<env>-data`: Hetzner volumes for PostgreSQL and Redis attached to the data
 * host (read from the network stack's state), their protection, and snapshots.
 */
import { manacore } from '../environments';
import { environmentOf, keepOnly, variant } from './helpers/spec';
import { SynthesizedSystem, dataSources, resourceList, resources, type TerraformJson } from './helpers/synth';

const serverIdFromState = (environment: string, host: string) =>
  `\${data.terraform_remote_state.outputs-${environment}-network.outputs.host_${host.replace(/-/g, '_')}_server_id}`;

let staging: TerraformJson;
let production: TerraformJson;

beforeAll(() => {
  const app = new SynthesizedSystem(manacore);
  staging = app.synth('staging-data');
  production = app.synth('production-data');
});

describe.each([
  { environment: 'staging', location: 'fsn1', postgresGiB: 20, redisGiB: 10 },
  { environment: 'production', location: 'nbg1', postgresGiB: 100, redisGiB: 10 },
])('$environment-data', ({ environment, location, postgresGiB, redisGiB }) => {
  const data = () => (environment === 'staging' ? staging : production);

  it('declares the pinned hcloud provider', () => {
    expect(data().terraform.required_providers?.hcloud).toEqual({ source: 'hetznercloud/hcloud', version: '1.68.0' });
  });

  it('creates an ext4 volume for PostgreSQL and one for Redis in the environment\'s location', () => {
    const volumes = resources(data(), 'hcloud_volume');
    expect(Object.keys(volumes).sort()).toEqual(['postgres-volume', 'redis-volume']);
    expect(volumes['postgres-volume']).toMatchObject({ name: `manacore-${environment}-postgres`, size: postgresGiB, format: 'ext4', location });
    expect(volumes['redis-volume']).toMatchObject({ name: `manacore-${environment}-redis`, size: redisGiB, format: 'ext4', location });
    expect(volumes['postgres-volume'].labels).toEqual({ system: 'manacore', env: environment, role: 'data', service: 'postgres', 'managed-by': 'cdktf' });
  });

  it('attaches and automounts each volume on the data host, whose id comes from the network stack\'s state', () => {
    const attachments = resources(data(), 'hcloud_volume_attachment');
    expect(attachments).toEqual({
      'postgres-volume-attachment': { volume_id: '${hcloud_volume.postgres-volume.id}', server_id: serverIdFromState(environment, 'app-1'), automount: true },
      'redis-volume-attachment': { volume_id: '${hcloud_volume.redis-volume.id}', server_id: serverIdFromState(environment, 'app-1'), automount: true },
    });
    expect(dataSources(data(), 'terraform_remote_state')[`outputs-${environment}-network`]).toMatchObject({
      backend: 'local',
      config: { path: `../../../terraform.${environment}-network.tfstate` },
    });
  });

  it('takes no snapshot unless the environment declares one', () => {
    expect(resourceList(data(), 'hcloud_snapshot')).toEqual([]);
  });
});

describe('protection', () => {
  it('protects production volumes with delete protection and prevent_destroy', () => {
    for (const volume of resourceList(production, 'hcloud_volume')) {
      expect(volume.delete_protection).toBe(true);
      expect(volume.lifecycle).toEqual({ prevent_destroy: true });
    }
  });

  it('leaves staging volumes destroyable', () => {
    for (const volume of resourceList(staging, 'hcloud_volume')) {
      expect(volume.delete_protection).toBe(false);
      expect(volume.lifecycle?.prevent_destroy ?? false).toBe(false);
    }
  });
});

describe('data on a second host, with snapshots', () => {
  let data: TerraformJson;
  beforeAll(() => {
    const system = variant(manacore, (copy) => {
      keepOnly(copy, ['staging'], []);
      const staging = environmentOf(copy, 'staging');
      staging.hosts.push({ name: 'db-1', serverType: 'ccx23' });
      staging.data.host = 'db-1';
      staging.snapshots = [
        { name: 'before-pg17', host: 'db-1', reason: 'before the PostgreSQL 17 upgrade' },
        { name: 'before-ubuntu-26', host: 'app-1', reason: 'before the Ubuntu 26.04 upgrade' },
      ];
    });
    data = new SynthesizedSystem(system).synth('staging-data');
  });

  it('attaches the volumes to the data host', () => {
    expect(resourceList(data, 'hcloud_volume_attachment').map((attachment) => attachment.server_id)).toEqual([
      serverIdFromState('staging', 'db-1'),
      serverIdFromState('staging', 'db-1'),
    ]);
  });

  it('snapshots each declared host with its reason and labels', () => {
    const snapshots = resourceList(data, 'hcloud_snapshot');
    expect(snapshots).toEqual([
      {
        server_id: serverIdFromState('staging', 'db-1'),
        description: 'before the PostgreSQL 17 upgrade',
        labels: { system: 'manacore', env: 'staging', role: 'snapshot', 'managed-by': 'cdktf', host: 'db-1', snapshot: 'snapshot-before-pg17' },
      },
      {
        server_id: serverIdFromState('staging', 'app-1'),
        description: 'before the Ubuntu 26.04 upgrade',
        labels: { system: 'manacore', env: 'staging', role: 'snapshot', 'managed-by': 'cdktf', host: 'app-1', snapshot: 'snapshot-before-ubuntu-26' },
      },
    ]);
  });
});

describe('external data services', () => {
  it('creates no volume for a data service run outside Hetzner', () => {
    const system = variant(manacore, (copy) => {
      keepOnly(copy, ['staging'], []);
      environmentOf(copy, 'staging').data.postgres = { mode: 'external', provider: 'supabase' };
    });
    const data = new SynthesizedSystem(system).synth('staging-data');
    expect(Object.keys(resources(data, 'hcloud_volume'))).toEqual(['redis-volume']);
    expect(Object.keys(resources(data, 'hcloud_volume_attachment'))).toEqual(['redis-volume-attachment']);
  });
});
