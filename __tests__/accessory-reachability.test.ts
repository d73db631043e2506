/**
 * Accessories are reachable by the services that use them and by nothing
 * else (least privilege, like `reachability: 'linked'` for services): through
 * a network of the accessory's own, which only it and its users join: a bridge
 * on one host, an encrypted overlay across the nodes of a swarm. Nothing of
 * it is published.
 * Shown on the Lexicon example: Meilisearch (`search`), used by the web app
 * and the worker, not by the scheduler or the gRPC service.
 */
import { lexicon } from '../examples/lexicon';
import { productOf, variant } from './helpers/spec';
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

describe('across hosts (production, a swarm: the app on app-1, the search engine on data-1)', () => {
  it('gives the accessory an internal, encrypted overlay of its own, created through the manager', () => {
    const edge = new SynthesizedSystem(lexicon).synth('production-edge');
    expect(resources(edge, 'docker_network')['accessory-network-search']).toMatchObject({
      name: 'lexicon-accessory-search',
      driver: 'overlay',
      internal: true,
      options: { encrypted: 'true' },
      // The accessory stays a plain container on its node, which joins the overlay.
      attachable: true,
    });
  });

  it('publishes none of its ports: its users reach it by name on that overlay', () => {
    const search = resources(new SynthesizedSystem(lexicon).synth('production-data'), 'docker_container').search as Container & { ports?: unknown[] };
    expect(search.ports).toBeUndefined();
    expect(networksOf(search)).toEqual([accessoryNetwork]);
    const services = resources(new SynthesizedSystem(lexicon).synth('production-lexicon'), 'docker_service');
    const networksOfService = (name: string) => services[name].task_spec.networks_advanced.map((network: { name: string }) => network.name);
    expect(networksOfService('lexicon-web')).toContainEqual(accessoryNetwork);
    expect(networksOfService('lexicon-scheduler')).not.toContainEqual(accessoryNetwork);
    expect(services['lexicon-web'].task_spec.container_spec.env.MEILI_URL).toBe('http://search:7700');
  });

  it('leaves the data host without a firewall unit: nothing there is published any more', () => {
    const network = new SynthesizedSystem(lexicon).synth('production-network');
    const userData = JSON.parse(String(resources(network, 'hcloud_server')['host-data-1'].user_data).replace(/^#cloud-config\n/, ''));
    expect(userData.write_files.some((file: { path: string }) => file.path.includes('private-services'))).toBe(false);
    expect(network.output?.host_data_1_private_services_unit).toBeUndefined();
  });
});

describe('a running host', () => {
  it('gets no private-services unit on a swarm: Prometheus and Loki are reached over the backend overlay, not a private address', () => {
    const network = new SynthesizedSystem(lexicon).synth('production-network');
    for (const host of ['app-1', 'data-1']) {
      const userData = JSON.parse(String(resources(network, 'hcloud_server')[`host-${host}`].user_data).replace(/^#cloud-config\n/, ''));
      expect(userData.write_files.some((file: { path: string }) => file.path.includes('private-services'))).toBe(false);
    }
    expect(Object.keys(network.output ?? {}).filter((name) => name.endsWith('_private_services_unit'))).toEqual([]);
  });
});
