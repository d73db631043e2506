/**
 * The Hetzner constructs' own guards: rules the provider schema cannot
 * express (exactly one reverse-DNS target), and inputs they refuse early.
 */
import { TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../.gen/providers/hcloud/provider';
import { CloudInit } from '../constructs/hetzner/cloud-init';
import { DataVolume } from '../constructs/hetzner/data-volume';
import { HetznerHost, type HetznerHostProps } from '../constructs/hetzner/hetzner-host';
import { ReverseDns } from '../constructs/hetzner/reverse-dns';
import { onlyResource, resolveIn, synthStack } from './helpers/synth';

function stack(): TerraformStack {
  const scope = new TerraformStack(Testing.app(), 'unit');
  new HcloudProvider(scope, 'hcloud', {});
  return scope;
}

describe('ReverseDns', () => {
  it('sets exactly the one target it is given', () => {
    const scope = stack();
    new ReverseDns(scope, 'ptr', { target: { serverId: 42 }, ipAddress: '198.51.100.1', dnsPtr: 'app-1.example.com' });
    expect(onlyResource(synthStack(scope), 'hcloud_rdns')).toEqual({ server_id: 42, ip_address: '198.51.100.1', dns_ptr: 'app-1.example.com' });
  });

  it('refuses two targets', () => {
    const target = { serverId: 42, primaryIpId: 7 } as unknown as { serverId: number };
    expect(() => new ReverseDns(stack(), 'ptr', { target, ipAddress: '198.51.100.1', dnsPtr: 'x.example.com' })).toThrow(
      'ReverseDns unit/ptr: give exactly one of primaryIpId, serverId, floatingIpId, loadBalancerId; got serverId, primaryIpId',
    );
  });

  it('refuses no target', () => {
    const target = {} as { serverId: number };
    expect(() => new ReverseDns(stack(), 'ptr', { target, ipAddress: '198.51.100.1', dnsPtr: 'x.example.com' })).toThrow(/got none$/);
  });
});

describe('CloudInit', () => {
  it('refuses root as the deploy user', () => {
    expect(() => new CloudInit({ deployUser: 'root', authorizedKeys: ['ssh-ed25519 AAAA x'] })).toThrow('deployUser must be a non-root Unix user name; got "root"');
  });

  it('refuses to lock everyone out with no authorized key', () => {
    expect(() => new CloudInit({ authorizedKeys: [] })).toThrow('at least one authorized key is needed, password login is disabled');
  });

  it('renders a #cloud-config document that is JSON after the header', () => {
    const init = new CloudInit({ deployUser: 'ops', authorizedKeys: ['ssh-ed25519 AAAA ops@host'], swapGiB: 2 });
    const rendered = init.render();
    expect(rendered.split('\n')[0]).toBe('#cloud-config');
    expect(JSON.parse(rendered.slice('#cloud-config\n'.length))).toEqual(init.toObject());
    expect(init.toObject()).toMatchObject({ swap: { size: '2G' }, users: [{ name: 'ops', ssh_authorized_keys: ['ssh-ed25519 AAAA ops@host'] }] });
  });
});

describe('HetznerHost', () => {
  const HOST: HetznerHostProps = {
    serverName: 'x',
    serverType: 'cx22',
    location: 'fsn1',
    sshKeyIds: [],
    firewallIds: [],
    privateNetwork: { subnetId: '1-10.0.1.0/24', ip: '10.0.1.10' },
    userData: '#cloud-config\n{}',
    fqdn: 'x.example.com',
  };

  it('refuses an unknown server type', () => {
    expect(
      () =>
        new HetznerHost(stack(), 'host-x', { ...HOST, serverType: 'ccx32' }),
    ).toThrow(/HetznerHost x: unknown server type "ccx32"; known: cx22, /);
  });

  it('joins by subnet id when given one, with no network dependency', () => {
    const scope = stack();
    new HetznerHost(scope, 'host-x', { ...HOST, protection: false });
    const server = onlyResource(synthStack(scope), 'hcloud_server');
    expect(server.network).toEqual([{ subnet_id: '1-10.0.1.0/24', ip: '10.0.1.10' }]);
    expect(server.depends_on).toBeUndefined();
  });
});

describe('DataVolume', () => {
  it('refuses sizes Hetzner does not offer', () => {
    for (const sizeGiB of [5, 10241, 12.5]) {
      expect(() => new DataVolume(stack(), 'v', { name: 'v', sizeGiB, location: 'fsn1', serverId: '1' })).toThrow(
        `DataVolume v: sizeGiB must be a whole number from 10 to 10240; got ${sizeGiB}`,
      );
    }
  });

  it('is protected unless told otherwise, and mounts under /mnt/HC_Volume_<id>', () => {
    const scope = stack();
    const volume = new DataVolume(scope, 'pg-volume', { name: 'pg', sizeGiB: 10, location: 'fsn1', serverId: '1' });
    const json = synthStack(scope);
    expect(onlyResource(json, 'hcloud_volume')).toMatchObject({ delete_protection: true, lifecycle: { prevent_destroy: true } });
    expect(resolveIn(scope, volume.mountPath)).toBe('/mnt/HC_Volume_${hcloud_volume.pg-volume.id}');
  });
});
