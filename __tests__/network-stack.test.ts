/**
 * `<env>-network`: private network, firewall, SSH keys and hosts with their
 * cloud-init, primary IPs and reverse DNS, read from the synthesized JSON.
 */
import { manacore } from '../environments';
import { environmentOf, keepOnly, variant } from './helpers/spec';
import { SynthesizedSystem, onlyResource, resourceList, resources, type TerraformJson, hostFirewall } from './helpers/synth';
import { TFC_AGENT_IMAGE } from '../stacks/network-stack';

const ADMIN_CIDRS = ['203.0.113.10/32', '2001:db8:10::/48'];
const ANYWHERE = ['0.0.0.0/0', '::/0'];

/** Staging with a second host that runs chat: placement group, second address. */
const twoHosts = variant(manacore, (system) => {
  keepOnly(system, ['staging'], ['mana-core-auth', 'chat']);
  const staging = environmentOf(system, 'staging');
  staging.hosts.push({ name: 'app-2', serverType: 'ccx23', group: 'chat' });
  staging.products.find((deployment) => deployment.product === 'chat')!.host = 'app-2';
});

/** The cloud-config document a server boots with. */
function cloudConfig(server: any): any {
  const userData: string = server.user_data;
  expect(userData.startsWith('#cloud-config\n')).toBe(true);
  return JSON.parse(userData.slice('#cloud-config\n'.length));
}

let app: SynthesizedSystem;
let staging: TerraformJson;
let production: TerraformJson;

beforeAll(() => {
  app = new SynthesizedSystem(manacore);
  staging = app.synth('staging-network');
  production = app.synth('production-network');
});

describe.each(['staging', 'production'])('%s-network', (environment) => {
  const network = () => (environment === 'staging' ? staging : production);
  const ranges = environment === 'staging' ? { ip: '10.10.0.0/16', subnet: '10.10.1.0/24', host: '10.10.1.10' } : { ip: '10.20.0.0/16', subnet: '10.20.1.0/24', host: '10.20.1.10' };
  const location = environment === 'staging' ? 'fsn1' : 'nbg1';

  it('declares the pinned hcloud provider', () => {
    expect(network().terraform.required_providers?.hcloud).toEqual({ source: 'hetznercloud/hcloud', version: '1.68.0' });
  });

  it('creates one private network with one cloud subnet in the location\'s zone', () => {
    const net = onlyResource(network(), 'hcloud_network');
    const subnet = onlyResource(network(), 'hcloud_network_subnet');
    expect(net.name).toBe(`manacore-${environment}`);
    expect(net.ip_range).toBe(ranges.ip);
    expect(subnet).toMatchObject({ ip_range: ranges.subnet, network_zone: 'eu-central', type: 'cloud' });
    expect(subnet.network_id).toMatch(/^\$\{hcloud_network\.[^.]+\.id\}$/);
  });

  it('admits exactly 22 from the admin CIDRs and 80/443 from anywhere, nothing else', () => {
    const firewall = hostFirewall(network());
    const rules = firewall.rule.map((rule: any) => ({ direction: rule.direction, protocol: rule.protocol, port: rule.port, sources: rule.source_ips }));
    expect(rules).toEqual([
      { direction: 'in', protocol: 'tcp', port: '22', sources: ADMIN_CIDRS },
      { direction: 'in', protocol: 'tcp', port: '80', sources: ANYWHERE },
      { direction: 'in', protocol: 'tcp', port: '443', sources: ANYWHERE },
    ]);
    expect(firewall.rule.every((rule: any) => rule.destination_ips === undefined)).toBe(true);
  });

  it('takes administrator keys from a variable and never holds a private key', () => {
    const key = onlyResource(network(), 'hcloud_ssh_key');
    expect(key.public_key).toBe('${var.ssh_public_key_platform_admin}');
    const variable = network().variable?.ssh_public_key_platform_admin;
    expect(variable).toMatchObject({ type: 'string' });
    expect(variable.default).toBeUndefined();
    expect(JSON.stringify(network())).not.toMatch(/PRIVATE KEY|private_key/);
  });

  it('attaches each server to the firewall, the SSH keys and the private network', () => {
    const server = onlyResource(network(), 'hcloud_server');
    const firewallId = Object.keys(resources(network(), 'hcloud_firewall')).find((id) => id !== 'deploy-path-firewall');
    const [networkId] = Object.keys(resources(network(), 'hcloud_network'));
    expect(server.firewall_ids).toEqual([`\${hcloud_firewall.${firewallId}.id}`, '${hcloud_firewall.deploy-path-firewall.id}']);
    expect(server.ssh_keys).toEqual(['${hcloud_ssh_key.ssh-key-platform_admin.id}']);
    expect(server.network).toEqual([{ network_id: `\${hcloud_network.${networkId}.id}`, ip: ranges.host }]);
    expect(server.depends_on).toEqual([expect.stringMatching(/^hcloud_network_subnet\./)]);
    expect(server).toMatchObject({ name: `manacore-${environment}-app-1`, location, image: 'ubuntu-24.04' });
  });

  it('labels servers with env, role and managed-by', () => {
    const server = onlyResource(network(), 'hcloud_server');
    expect(server.labels).toEqual({ system: 'manacore', env: environment, role: 'host', host: 'app-1', 'managed-by': 'cdktf' });
  });

  it('gives each server its own primary IPv4 and IPv6 that outlive it', () => {
    const ips = resources(network(), 'hcloud_primary_ip');
    expect(Object.keys(ips).sort()).toEqual(['host-app-1-ipv4', 'host-app-1-ipv6']);
    expect(ips['host-app-1-ipv4']).toMatchObject({ type: 'ipv4', location, assignee_type: 'server', auto_delete: false });
    expect(ips['host-app-1-ipv6']).toMatchObject({ type: 'ipv6', location, assignee_type: 'server', auto_delete: false });
    const server = onlyResource(network(), 'hcloud_server');
    expect(server.public_net).toEqual([
      {
        ipv4_enabled: true,
        ipv4: '${hcloud_primary_ip.host-app-1-ipv4.id}',
        ipv6_enabled: true,
        ipv6: '${hcloud_primary_ip.host-app-1-ipv6.id}',
      },
    ]);
  });

  it('points reverse DNS of both addresses at the host name', () => {
    const fqdn = environment === 'staging' ? 'staging-app-1.manacore.app' : 'app-1.manacore.app';
    const rdns = resourceList(network(), 'hcloud_rdns');
    expect(rdns).toHaveLength(2);
    expect(rdns).toEqual(
      expect.arrayContaining([
        { primary_ip_id: '${hcloud_primary_ip.host-app-1-ipv4.id}', ip_address: '${hcloud_primary_ip.host-app-1-ipv4.ip_address}', dns_ptr: fqdn },
        { primary_ip_id: '${hcloud_primary_ip.host-app-1-ipv6.id}', ip_address: '${hcloud_server.host-app-1.ipv6_address}', dns_ptr: fqdn },
      ]),
    );
  });

  it('creates no placement group for a single host', () => {
    expect(resourceList(network(), 'hcloud_placement_group')).toEqual([]);
    expect(onlyResource(network(), 'hcloud_server').placement_group_id).toBeUndefined();
  });

  it('publishes each host\'s server id and addresses as named outputs', () => {
    expect(network().output).toMatchObject({
      host_app_1_server_id: { value: '${hcloud_server.host-app-1.id}' },
      host_app_1_ipv4: { value: '${hcloud_primary_ip.host-app-1-ipv4.ip_address}' },
      host_app_1_ipv6: { value: '${hcloud_server.host-app-1.ipv6_address}' },
      host_app_1_private_ip: { value: ranges.host },
    });
  });
});

describe('protection', () => {
  it('protects production servers from delete and rebuild, with backups', () => {
    expect(onlyResource(production, 'hcloud_server')).toMatchObject({ delete_protection: true, rebuild_protection: true, backups: true });
  });

  it('ignores the fields that would re-provision a running production server', () => {
    expect(onlyResource(production, 'hcloud_server').lifecycle).toEqual({ ignore_changes: ['user_data', 'image', 'ssh_keys'] });
  });

  it('protects production primary IPs and the network from deletion', () => {
    expect(resourceList(production, 'hcloud_primary_ip').map((ip) => ip.delete_protection)).toEqual([true, true]);
    expect(onlyResource(production, 'hcloud_network').delete_protection).toBe(true);
  });

  it('leaves staging unprotected, without backups and without ignore_changes', () => {
    const server = onlyResource(staging, 'hcloud_server');
    expect(server).toMatchObject({ delete_protection: false, rebuild_protection: false, backups: false });
    expect(server.lifecycle).toBeUndefined();
    expect(resourceList(staging, 'hcloud_primary_ip').map((ip) => ip.delete_protection)).toEqual([false, false]);
  });
});

describe('cloud-init', () => {
  const config = () => cloudConfig(onlyResource(production, 'hcloud_server'));
  const file = (path: string) => config().write_files.find((entry: any) => entry.path === path);

  it('creates a non-root deploy user in the docker group with the administrators\' keys', () => {
    expect(config().users).toEqual([
      expect.objectContaining({
        name: 'deploy',
        groups: ['docker'],
        lock_passwd: true,
        ssh_authorized_keys: ['${var.ssh_public_key_platform_admin}'],
      }),
    ]);
    // The docker group exists with a fixed GID before the user and the package need it.
    expect(config().bootcmd).toEqual([['sh', '-c', 'getent group docker >/dev/null || groupadd --gid 2375 docker']]);
  });

  it('gives the edge proxy user (1001) its private ACME directory', () => {
    expect(config().runcmd).toContainEqual(['install', '-d', '-m', '0700', '-o', '1001', '-g', '1001', '/opt/edge/acme']);
  });

  it('disables root and password login', () => {
    expect(config()).toMatchObject({ disable_root: true, ssh_pwauth: false });
    const sshd: string[] = file('/etc/ssh/sshd_config.d/90-hardening.conf').content.split('\n');
    expect(sshd).toEqual(expect.arrayContaining(['PermitRootLogin no', 'PasswordAuthentication no', 'AllowUsers deploy']));
  });

  it('installs Docker, fail2ban and unattended upgrades, and enables them', () => {
    expect(config().packages).toEqual(expect.arrayContaining(['docker.io', 'fail2ban', 'unattended-upgrades']));
    expect(file('/etc/apt/apt.conf.d/20auto-upgrades').content).toContain('APT::Periodic::Unattended-Upgrade "1";');
    expect(file('/etc/fail2ban/jail.d/sshd.local').content).toContain('[sshd]\nenabled = true');
    const enabled = config()
      .runcmd.filter((command: string[]) => command.slice(0, 3).join(' ') === 'systemctl enable --now')
      .map((command: string[]) => command[3]);
    expect(enabled).toEqual(expect.arrayContaining(['docker', 'fail2ban', 'unattended-upgrades']));
  });

  it('adds a 4 GB swap file', () => {
    expect(config().swap).toEqual({ filename: '/swapfile', size: '4G', maxsize: '4G' });
  });

  it('rotates container logs in the Docker daemon settings', () => {
    expect(JSON.parse(file('/etc/docker/daemon.json').content)).toMatchObject({ 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m', 'max-file': '3' } });
  });

  it('boots staging hosts with the same hardening', () => {
    expect(cloudConfig(onlyResource(staging, 'hcloud_server'))).toEqual(config());
  });
});

describe('an environment with two hosts', () => {
  let network: TerraformJson;
  beforeAll(() => {
    network = new SynthesizedSystem(twoHosts).synth('staging-network');
  });

  it('spreads the hosts over one placement group', () => {
    const group = onlyResource(network, 'hcloud_placement_group');
    const [groupId] = Object.keys(resources(network, 'hcloud_placement_group'));
    expect(group).toMatchObject({ name: 'manacore-staging-spread', type: 'spread' });
    expect(resourceList(network, 'hcloud_server').map((server) => server.placement_group_id)).toEqual([
      `\${hcloud_placement_group.${groupId}.id}`,
      `\${hcloud_placement_group.${groupId}.id}`,
    ]);
  });

  it('gives the hosts consecutive private addresses and their own server types', () => {
    const servers = resources(network, 'hcloud_server');
    expect(servers['host-app-1']).toMatchObject({ server_type: 'ccx33', network: [expect.objectContaining({ ip: '10.10.1.10' })] });
    expect(servers['host-app-2']).toMatchObject({ server_type: 'ccx23', network: [expect.objectContaining({ ip: '10.10.1.11' })] });
  });

  it('gives every host its own primary IPs and reverse DNS', () => {
    expect(Object.keys(resources(network, 'hcloud_primary_ip')).sort()).toEqual(['host-app-1-ipv4', 'host-app-1-ipv6', 'host-app-2-ipv4', 'host-app-2-ipv6']);
    expect(resourceList(network, 'hcloud_rdns').map((rdns) => rdns.dns_ptr).sort()).toEqual([
      'staging-app-1.manacore.app',
      'staging-app-1.manacore.app',
      'staging-app-2.manacore.app',
      'staging-app-2.manacore.app',
    ]);
  });

  it('keeps the direct layout for products pinned to different hosts: no balancer, web open on each host', () => {
    // Each routed service runs on one host; a balancer would send half of each name's requests to an edge proxy
    // that does not route it (Traefik's Docker provider sees its own host only), so each name points at its host.
    expect(resources(network, 'hcloud_load_balancer')).toEqual({});
    expect(hostFirewall(network).rule.map((rule: any) => rule.port)).toEqual(['22', '80', '443']);
  });
});

describe('administrator keys given as literals', () => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFakeFake alice@laptop';
  let network: TerraformJson;
  beforeAll(() => {
    const system = variant(manacore, (copy) => {
      keepOnly(copy, ['staging'], []);
      environmentOf(copy, 'staging').sshKeys = [{ name: 'alice', publicKey: key }];
    });
    network = new SynthesizedSystem(system).synth('staging-network');
  });

  it('uses the literal public key and declares no key variable', () => {
    expect(onlyResource(network, 'hcloud_ssh_key').public_key).toBe(key);
    expect(network.variable?.ssh_public_key_alice).toBeUndefined();
    expect(cloudConfig(onlyResource(network, 'hcloud_server')).users[0].ssh_authorized_keys).toEqual([key]);
  });
});

describe('Docker access through a Terraform Cloud agent on the host', () => {
  let network: TerraformJson;
  beforeAll(() => {
    const system = variant(manacore, (copy) => {
      keepOnly(copy, ['staging'], []);
      environmentOf(copy, 'staging').terraformCloud = { organization: 'acme' };
    });
    network = new SynthesizedSystem(system).synth('staging-network');
  });

  it('opens no port beyond 22 (admins), 80 and 443', () => {
    const rules = hostFirewall(network).rule.map((rule: any) => [rule.port, rule.source_ips]);
    expect(rules).toEqual([
      ['22', ADMIN_CIDRS],
      ['80', ANYWHERE],
      ['443', ANYWHERE],
    ]);
  });

  it('starts the agent container from cloud-init with the token from a sensitive variable, base64-encoded, root-only', () => {
    const config = cloudConfig(onlyResource(network, 'hcloud_server'));
    const token = config.write_files.find((entry: any) => entry.path === '/etc/tfc-agent/token');
    expect(token).toEqual({ path: '/etc/tfc-agent/token', content: '${base64encode(var.tfc_agent_token)}', encoding: 'b64', permissions: '0600' });
    const unit = config.write_files.find((entry: any) => entry.path === '/etc/systemd/system/tfc-agent.service').content as string;
    expect(unit).toContain(`-v /var/run/docker.sock:/var/run/docker.sock ${TFC_AGENT_IMAGE}`);
    expect(config.runcmd).toContainEqual(['systemctl', 'enable', '--now', 'tfc-agent.service']);
    expect(network.variable?.tfc_agent_token).toMatchObject({ sensitive: true });
    expect(network.variable?.tfc_agent_token.default).toBeUndefined();
  });
});
