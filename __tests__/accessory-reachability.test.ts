/**
 * Accessories are reachable by the services that use them and by nothing
 * else (least privilege, like `reachability: 'linked'` for services): on one
 * host through a network of the accessory's own, which only it and its users
 * join; across hosts through its published ports, admitted in the DOCKER-USER
 * chain from the private addresses of the hosts running its users alone.
 * Shown on the Lexicon example: Meilisearch (`search`), used by the web app
 * and the worker, not by the scheduler or the gRPC service.
 */
import { lexicon } from '../examples/lexicon';
import { environmentOf, productOf, variant } from './helpers/spec';
import { resources, SynthesizedSystem, type TerraformJson } from './helpers/synth';

type Container = { networks_advanced: { name: string }[] };
const networksOf = (container: Container) => container.networks_advanced.map((network) => network.name);
const accessoryNetwork = expect.stringContaining('accessory_search_docker_network');

describe('on one host (staging)', () => {
  let app: SynthesizedSystem;
  let edge: TerraformJson;
  let product: TerraformJson;
  beforeAll(() => {
    app = new SynthesizedSystem(lexicon);
    edge = app.synth('staging-edge');
    product = app.synth('staging-lexicon');
  });

  it('gives the accessory an internal network of its own on its host', () => {
    const network = resources(edge, 'docker_network')['accessory-network-search'];
    expect(network).toMatchObject({ name: 'lexicon-accessory-search', internal: true });
    expect(edge.output?.accessory_search_docker_network?.value).toBe('${docker_network.accessory-network-search.name}');
  });

  it('puts the accessory on that network only, not on the data network every PostgreSQL and Redis user joins', () => {
    const data = app.synth('staging-data');
    const search = resources(data, 'docker_container').search as Container;
    expect(networksOf(search)).toEqual([accessoryNetwork]);
    expect(JSON.stringify(search.networks_advanced)).not.toContain('docker_network_data');
  });

  it('joins the services that use it to its network, and no other service', () => {
    const containers = resources(product, 'docker_container') as Record<string, Container>;
    for (const user of ['lexicon-web', 'lexicon-worker']) expect(networksOf(containers[user]!)).toContainEqual(accessoryNetwork);
    for (const other of ['lexicon-scheduler', 'lexicon-suggest', 'lexicon-docs']) expect(networksOf(containers[other]!)).not.toContainEqual(accessoryNetwork);
  });

  it('keeps a service that uses only an accessory off the data network', () => {
    const onlySearch = variant(lexicon, (system) => {
      productOf(system, 'lexicon').services.find((service) => service.name === 'suggest')!.uses = ['search'];
    });
    const suggest = resources(new SynthesizedSystem(onlySearch).synth('staging-lexicon'), 'docker_container')['lexicon-suggest'] as Container;
    expect(networksOf(suggest)).toContainEqual(accessoryNetwork);
    expect(JSON.stringify(suggest.networks_advanced)).not.toContain('docker_network_data');
  });
});

describe('across hosts (production: the app on app-1, the search engine on data-1)', () => {
  /** app-1's private address: hosts take .10, .11... of the subnet in order. */
  const APP_1 = '10.80.1.10';
  const unitOf = (system: typeof lexicon, host: string): string => {
    const network = new SynthesizedSystem(system).synth('production-network');
    const userData = JSON.parse(String(resources(network, 'hcloud_server')[`host-${host}`].user_data).replace(/^#cloud-config\n/, ''));
    return userData.write_files.find((file: { path: string }) => file.path === '/etc/systemd/system/private-services-firewall.service').content;
  };
  const searchRules = (unit: string) => unit.split('\n').filter((line) => line.includes('--ctorigdstport 7700'));

  it("admits the accessory's port from the hosts running its users alone, not the whole subnet", () => {
    const rules = searchRules(unitOf(lexicon, 'data-1'));
    expect(rules).toEqual([
      `ExecStart=/usr/sbin/iptables -A PRIVATE-SERVICES -p tcp -m conntrack --ctorigdst 10.80.1.11 --ctorigdstport 7700 -s ${APP_1}/32 -j RETURN`,
      'ExecStart=/usr/sbin/iptables -A PRIVATE-SERVICES -p tcp -m conntrack --ctorigdst 10.80.1.11 --ctorigdstport 7700 -j DROP',
    ]);
    // PostgreSQL keeps the subnet: every product host uses it.
    expect(unitOf(lexicon, 'data-1')).toContain('--ctorigdstport 5432 -s 10.80.1.0/24 -j RETURN');
  });

  it('admits every host a user runs on, and nobody when no service uses it', () => {
    const spread = variant(lexicon, (system) => {
      const production = environmentOf(system, 'production');
      production.hosts.push({ name: 'app-2', serverType: 'ccx33' });
      production.products = [{ product: 'lexicon', imageTag: 'v2.3.0', group: 'app', replicas: { web: 2, docs: 2, suggest: 2 } }];
    });
    const sources = searchRules(unitOf(spread, 'data-1')).map((line) => / -s (\S+) /.exec(line)?.[1]).filter(Boolean);
    expect(sources).toEqual(['10.80.1.10/32', '10.80.1.12/32']);

    const unused = variant(lexicon, (system) => {
      // Shared secrets need exactly one product using the accessory.
      system.accessories![0]!.sharedSecrets = [];
      for (const service of productOf(system, 'lexicon').services) service.uses = service.uses?.filter((name) => name !== 'search');
    });
    expect(searchRules(unitOf(unused, 'data-1'))).toEqual([expect.stringMatching(/--ctorigdstport 7700 -j DROP$/)]);
  });

  it('publishes the port from a network that is not internal, which Docker would not publish from', () => {
    const edge = new SynthesizedSystem(lexicon).synth('production-edge');
    expect(resources(edge, 'docker_network')['accessory-network-search']).toMatchObject({ name: 'lexicon-accessory-search', internal: false });
    const search = resources(new SynthesizedSystem(lexicon).synth('production-data'), 'docker_container').search as Container & { ports: unknown[] };
    expect(search.ports).toEqual([{ internal: 7700, external: 7700, ip: '10.80.1.11', protocol: 'tcp' }]);
  });

  it('leaves the users off its network: they reach it at its host\'s private address', () => {
    const product = new SynthesizedSystem(lexicon).synth('production-lexicon');
    const web = resources(product, 'docker_container')['lexicon-web-app-1'] as Container & { env: string[] };
    expect(networksOf(web)).not.toContainEqual(accessoryNetwork);
    expect(web.env).toContain('MEILI_URL=http://10.80.1.11:7700');
  });
});

describe('a running host', () => {
  it('gets a changed set of rules from the network stack, in a unit that flushes and refills its chain on restart', () => {
    const network = new SynthesizedSystem(lexicon).synth('production-network');
    const unit = String(network.output?.host_data_1_private_services_unit?.value);
    const userData = JSON.parse(String(resources(network, 'hcloud_server')['host-data-1'].user_data).replace(/^#cloud-config\n/, ''));
    // The output is exactly what cloud-init installs at first boot.
    expect(userData.write_files.find((file: { path: string }) => file.path === '/etc/systemd/system/private-services-firewall.service').content).toBe(unit);
    const lines = unit.split('\n');
    expect(lines.indexOf('ExecStart=/usr/sbin/iptables -F PRIVATE-SERVICES')).toBeLessThan(lines.findIndex((line) => line.includes('-A PRIVATE-SERVICES')));
  });
});
