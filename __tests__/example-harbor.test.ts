/**
 * The Harbor example (examples/harbor.ts): production on two app hosts and a
 * data host. Replicas spread over the app hosts, a load balancer in front of
 * their edge proxies with the PROXY protocol, public names on the balancer,
 * no public 80/443 on the hosts, and data services reached over the private
 * network only. Staging, on one host, keeps the direct layout.
 */
import { harbor } from '../examples/harbor';
import { planCapacity } from '../system/capacity';
import { resolveSystem } from '../system/resolve';
import { environmentOf, variant } from './helpers/spec';
import { SynthesizedSystem, resourceList, resources, type TerraformJson, hostFirewall } from './helpers/synth';

let app: SynthesizedSystem;
let network: TerraformJson;
let edge: TerraformJson;
let data: TerraformJson;
let booking: TerraformJson;
beforeAll(() => {
  app = new SynthesizedSystem(harbor);
  network = app.synth('production-network');
  edge = app.synth('production-edge');
  data = app.synth('production-data');
  booking = app.synth('production-booking');
});

const LB_PRIVATE_IP = '10.60.1.5';
const DATA_HOST_PRIVATE_IP = '10.60.1.12';

describe('placement', () => {
  it('spreads every replicated service over both app hosts, round-robin, and nothing onto the data host', () => {
    const hostOf = (address: string) => resources(booking, 'docker_container')[address].provider;
    expect(Object.fromEntries(Object.keys(resources(booking, 'docker_container')).map((address) => [address, hostOf(address)]))).toEqual({
      'booking-api-app-1': 'docker.app_1',
      'booking-api-app-2': 'docker.app_2',
      'booking-api-app-1-2': 'docker.app_1',
      'booking-reminders-app-1': 'docker.app_1',
      'booking-web-app-1': 'docker.app_1',
      'booking-web-app-2': 'docker.app_2',
    });
  });

  it("pulls each image once per host's daemon and gives the product its own network on each host", () => {
    expect(Object.keys(resources(booking, 'docker_image')).sort()).toEqual([
      'booking-api-app-1',
      'booking-api-app-2',
      'booking-reminders-app-1',
      'booking-web-app-1',
      'booking-web-app-2',
    ]);
    expect(resources(booking, 'docker_container')['booking-api-app-1-2'].image).toBe('${docker_image.booking-api-app-1.image_id}');
    const networks = resources(booking, 'docker_network');
    expect(Object.keys(networks).sort()).toEqual(['product-network-app-1', 'product-network-app-2']);
    expect(networks['product-network-app-2']).toMatchObject({ name: 'harbor-booking', provider: 'docker.app_2' });
  });

  it('configures every host of the environment in each product stack, so a container leaving a host is destroyed there', () => {
    const accounts = app.synth('production-accounts');
    expect(accounts.provider?.docker?.map((provider: any) => provider.alias)).toEqual(['app_1', 'app_2', 'data_1']);
    expect(Object.values(resources(accounts, 'docker_container')).some((body: any) => body.provider === 'docker.data_1')).toBe(false);
  });

  it('plans capacity per host with every replica', () => {
    const production = resolveSystem(harbor).environments.find((environment) => environment.name === 'production')!;
    const consumers = Object.fromEntries(planCapacity(production).hosts.map((host) => [host.host, host.consumers.map((consumer) => consumer.name).sort()]));
    expect(consumers['app-1']).toEqual(expect.arrayContaining(['booking-api', 'booking-api-3', 'booking-web', 'booking-reminders', 'accounts-api']));
    expect(consumers['app-2']).toEqual(expect.arrayContaining(['booking-api-2', 'booking-web-2', 'accounts-api-2']));
    expect(consumers['data-1']).toEqual(expect.arrayContaining(['postgres', 'redis', 'backup job']));
    expect(consumers['data-1']!.some((name) => name.startsWith('booking') || name.startsWith('accounts'))).toBe(false);
  });

  it('keeps staging, on one host, without a balancer and with the direct layout', () => {
    const staging = app.synth('staging-network');
    expect(resources(staging, 'hcloud_load_balancer')).toEqual({});
    expect(resources(app.synth('staging-booking'), 'cloudflare_dns_record')['dns-booking-api-a'].content).toBe(
      '${data.terraform_remote_state.outputs-staging-network.outputs.host_app_1_ipv4}',
    );
  });
});

describe('the load balancer', () => {
  it('passes TCP 80 and 443 through with the PROXY protocol, health-checked, to both app hosts over the private network', () => {
    expect(resources(network, 'hcloud_load_balancer')['edge-load-balancer']).toMatchObject({
      name: 'harbor-production-edge',
      load_balancer_type: 'lb11',
      location: 'fsn1',
      delete_protection: true,
    });
    expect(resources(network, 'hcloud_load_balancer_network')['edge-load-balancer-network']).toMatchObject({ ip: LB_PRIVATE_IP });
    const services = resourceList(network, 'hcloud_load_balancer_service').sort((a, b) => a.listen_port - b.listen_port);
    expect(services.map((service) => [service.listen_port, service.destination_port, service.protocol, service.proxyprotocol])).toEqual([
      [80, 80, 'tcp', true],
      [443, 443, 'tcp', true],
    ]);
    for (const service of services) expect(service.health_check).toMatchObject({ protocol: 'tcp', port: service.listen_port });
    const targets = resources(network, 'hcloud_load_balancer_target');
    expect(Object.keys(targets).sort()).toEqual(['edge-load-balancer-target-app-1', 'edge-load-balancer-target-app-2']);
    for (const target of Object.values(targets)) {
      expect(target).toMatchObject({ type: 'server', use_private_ip: true, depends_on: ['hcloud_load_balancer_network.edge-load-balancer-network'] });
    }
  });

  it('closes public 80 and 443 on every host: web traffic arrives from the balancer, over the private network', () => {
    const rules = hostFirewall(network).rule as Array<{ port: string }>;
    expect(rules.map((rule) => rule.port)).toEqual(['22']);
  });

  it('has every edge proxy take the PROXY protocol from the balancer alone', () => {
    for (const proxy of resourceList(edge, 'docker_container').filter((container) => container.name === 'edge-proxy')) {
      expect(proxy.command).toEqual(
        expect.arrayContaining([`--entryPoints.web.proxyProtocol.trustedIPs=${LB_PRIVATE_IP}`, `--entryPoints.websecure.proxyProtocol.trustedIPs=${LB_PRIVATE_IP}`]),
      );
    }
  });

  it('points every routed public name, IPv4 and IPv6, and the apex at the balancer', () => {
    const records = resourceList(booking, 'cloudflare_dns_record').filter((record) => record.type !== 'CNAME');
    // api and web, and the apex the environment gives booking/web (www is a CNAME to it).
    expect(records.length).toBe(6);
    for (const record of records) expect(record.content).toMatch(/outputs\.load_balancer_ipv[46]\}$/);
    expect(resources(booking, 'cloudflare_dns_record')['dns-apex-a'].name).toBe('harbor.travel');
    expect(resources(network, 'cloudflare_dns_record')).toEqual({});
  });
});

describe('data over the private network', () => {
  it('publishes PostgreSQL and Redis on the data host\'s private address only', () => {
    expect(resources(data, 'docker_container').postgres.ports).toEqual([{ internal: 5432, external: 5432, ip: DATA_HOST_PRIVATE_IP, protocol: 'tcp' }]);
    expect(resources(data, 'docker_container').redis.ports).toEqual([{ internal: 6379, external: 6379, ip: DATA_HOST_PRIVATE_IP, protocol: 'tcp' }]);
  });

  it('hands products connection strings at that address', () => {
    const credentials = app.synth('production-booking-credentials');
    expect(credentials.output?.database_url?.value).toBe(`postgresql://booking:\${random_password.postgres-role-password.result}@${DATA_HOST_PRIVATE_IP}:5432/booking`);
    expect(credentials.output?.redis_url?.value).toContain(`@${DATA_HOST_PRIVATE_IP}:6379/0`);
  });

  it('admits those ports from the subnet alone, in the data host\'s DOCKER-USER chain', () => {
    const servers = resources(network, 'hcloud_server');
    const dataHost = JSON.parse(String(servers['host-data-1'].user_data).replace(/^#cloud-config\n/, ''));
    const unit = dataHost.write_files.find((file: { path: string }) => file.path === '/etc/systemd/system/private-services-firewall.service');
    for (const port of [5432, 6379]) {
      const match = `-p tcp -m conntrack --ctorigdst ${DATA_HOST_PRIVATE_IP} --ctorigdstport ${port}`;
      expect(unit.content).toContain(`ExecStart=/usr/sbin/iptables -A PRIVATE-SERVICES ${match} -s 10.60.1.0/24 -j RETURN\nExecStart=/usr/sbin/iptables -A PRIVATE-SERVICES ${match} -j DROP\n`);
    }
    expect(unit.content).toContain("iptables -C DOCKER-USER -j PRIVATE-SERVICES 2>/dev/null || iptables -I DOCKER-USER -j PRIVATE-SERVICES");
    expect(dataHost.runcmd).toContainEqual(['systemctl', 'enable', '--now', 'private-services-firewall.service']);
    // app-1 runs Prometheus and Loki for the other hosts' collectors: the same guard; app-2 publishes nothing privately.
    const monitoringHost = JSON.parse(String(servers['host-app-1'].user_data).replace(/^#cloud-config\n/, ''));
    const monitoringUnit = monitoringHost.write_files.find((file: { path: string }) => file.path === '/etc/systemd/system/private-services-firewall.service');
    for (const port of [9090, 3100]) expect(monitoringUnit.content).toMatch(new RegExp(`--ctorigdst 10\\.60\\.1\\.\\d+ --ctorigdstport ${port} -s 10\\.60\\.1\\.0/24 -j RETURN`));
    expect(monitoringUnit.content).not.toContain('--ctorigdstport 5432');
    const appHost = JSON.parse(String(servers['host-app-2'].user_data).replace(/^#cloud-config\n/, ''));
    expect(appHost.write_files.some((file: { path: string }) => file.path.includes('private-services'))).toBe(false);
  });

});

describe('placement rules', () => {
  const reject = (mutate: Parameters<typeof variant>[1]) => () => resolveSystem(variant(harbor, mutate));

  it('refuses spreading over a group of one host', () => {
    expect(
      reject((system) => {
        environmentOf(system, 'production').products[0] = { product: 'booking', imageTag: 'v3.2.0', group: 'data' };
      }),
    ).toThrow(
      'environment "production", product "booking", field "group": got "data"; allowed: a group of two or more hosts (group "data" has only data-1), or host: "data-1" (spreading over one host protects nothing)',
    );
  });

  it('refuses pinning a replicated service to one host when there are two app hosts', () => {
    expect(
      reject((system) => {
        environmentOf(system, 'production').products[0] = { product: 'booking', imageTag: 'v3.2.0', host: 'app-1' };
      }),
    ).toThrow(
      'environment "production", product "booking", field "group": got undefined; allowed: group: "app" (spread over app-1, app-2) (service api has 3 replicas and the environment has 2 app hosts: on one host, losing it loses every replica)',
    );
  });

  it('refuses an unknown balancer type and one too small for the hosts', () => {
    expect(reject((system) => (environmentOf(system, 'production').loadBalancer = { type: 'lb99' }))).toThrow(
      'environment "production", field "loadBalancer.type": got "lb99"; allowed: lb11, lb21, lb31',
    );
  });

  it('refuses an in-product link to a service that is not on every host of the caller', () => {
    expect(
      reject((system) => {
        // One replica of an internal service lands on app-1 only; the web app runs on both hosts.
        system.products[0]!.services.push({ name: 'pricing', kind: 'internal', port: 9000 });
        system.products[0]!.services.find((service) => service.name === 'web')!.links = { PRICING_URL: 'pricing' };
      }),
    ).toThrow(/field "services\.web\.links\.PRICING_URL": got "pricing"; allowed: a service with a replica on every host this one runs on \(app-1, app-2\)/);
  });
});
