/**
 * The Harbor example (examples/harbor.ts): production on two app hosts and a
 * data host, run as one Docker Swarm. Each service a Swarm service placed by
 * role label, a load balancer in front of the edge proxies with the PROXY
 * protocol, public names on the balancer, no public 80/443 on the hosts, and
 * data services reached by name on an encrypted overlay network. Staging, on
 * one host, keeps plain containers and the direct layout.
 */
import { harbor } from '../examples/harbor';
import { checkInvariants } from '../policy/invariants';
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

const labelsOf = (body: any): Record<string, string> => Object.fromEntries((body.labels ?? []).map((entry: { label: string; value: string }) => [entry.label, entry.value]));

describe('one swarm', () => {
  it('reaches the swarm through one endpoint, its first manager data-1 (the data host), and runs each service as a Swarm service instead of containers', () => {
    for (const stack of [booking, app.synth('production-accounts')]) {
      expect(stack.provider?.docker).toHaveLength(1);
      expect(stack.provider!.docker[0].alias).toBeUndefined();
      expect(stack.provider!.docker[0].host).toContain('outputs.host_data_1_ipv4');
      expect(resources(stack, 'docker_container')).toEqual({});
      expect(resources(stack, 'docker_image')).toEqual({});
    }
    const services = resources(booking, 'docker_service');
    expect(Object.fromEntries(Object.entries(services).map(([address, body]) => [address, [body.name, body.mode.replicated.replicas]]))).toEqual({
      'booking-api': ['booking-api', 3],
      'booking-web': ['booking-web', 2],
      'booking-reminders': ['booking-reminders', 1],
    });
  });

  it('places every replica on the nodes labelled role=app, never on the data host, and leaves two app nodes free to hold them all', () => {
    for (const body of Object.values(resources(booking, 'docker_service'))) {
      expect(body.task_spec.placement.constraints).toEqual(['node.labels.role==app']);
      // With two app nodes one must hold every replica after the other's loss: no bound per node.
      expect(body.task_spec.placement.max_replicas).toBeUndefined();
    }
  });

  it('bounds replicas per node once a third app node leaves room for the others to take a lost one\'s share', () => {
    const system = variant(harbor, (s) => {
      const production = environmentOf(s, 'production');
      production.hosts = [...production.hosts.slice(0, 2), { name: 'app-3', serverType: 'ccx33' }, production.hosts[2]!];
      production.loadBalancer = { type: 'lb11' };
    });
    const services = resources(new SynthesizedSystem(system).synth('production-booking'), 'docker_service');
    // ceil(replicas / (nodes - 1)): 3 over 3 nodes at most 2 a node, 2 at most 1, 1 unbounded.
    expect(services['booking-api'].task_spec.placement.max_replicas).toBe(2);
    expect(services['booking-web'].task_spec.placement.max_replicas).toBe(1);
    expect(services['booking-reminders'].task_spec.placement.max_replicas).toBeUndefined();
  });

  it('limits and reserves, health-checks, updates start-first with rollback on failure, restarts and stops gracefully', () => {
    const api = resources(booking, 'docker_service')['booking-api'];
    expect(api.task_spec.resources).toEqual({
      limits: { nano_cpus: 1e9, memory_bytes: 512 * 1024 * 1024 },
      reservation: { nano_cpus: 0.5e9, memory_bytes: 256 * 1024 * 1024 },
    });
    expect(api.task_spec.container_spec.healthcheck.test).toEqual(['CMD-SHELL', 'wget -q --spider http://127.0.0.1:8080/health || exit 1']);
    expect(api.update_config).toMatchObject({ order: 'start-first', failure_action: 'rollback', parallelism: 1, monitor: '120s' });
    expect(api.rollback_config).toMatchObject({ order: 'start-first', failure_action: 'pause' });
    expect(api.task_spec.restart_policy).toMatchObject({ condition: 'any', delay: '5s' });
    expect(api.task_spec.container_spec).toMatchObject({ stop_grace_period: '30s', read_only: true, user: '1001', cap_drop: ['ALL'] });
    // The apply waits for every replica, and fails when Swarm rolled the update back.
    expect(api.converge_config).toMatchObject({ delay: '5s' });
  });

  it("puts the Traefik router on the service's labels, with the port and the network Traefik's Swarm provider needs", () => {
    const labels = labelsOf(resources(booking, 'docker_service')['booking-web']);
    expect(labels['traefik.enable']).toBe('true');
    expect(labels['traefik.http.routers.booking-web.rule']).toBe('Host(`app-booking.harbor.travel`) || Host(`harbor.travel`) || Host(`www.harbor.travel`)');
    expect(labels['traefik.http.services.booking-web.loadbalancer.server.port']).toBe('3000');
    expect(labels['traefik.swarm.network']).toBe('${data.terraform_remote_state.outputs-production-edge.outputs.host_data_1_docker_network_frontend}');
    // A worker is not routed.
    expect(labelsOf(resources(booking, 'docker_service')['booking-reminders'])['traefik.enable']).toBeUndefined();
  });

  it('gives the product an encrypted overlay network, where its services reach each other by short name', () => {
    expect(resources(booking, 'docker_network')).toEqual({
      'product-network': expect.objectContaining({ name: 'harbor-booking', driver: 'overlay', options: { encrypted: 'true' }, attachable: true }),
    });
    const api = resources(booking, 'docker_service')['booking-api'];
    expect(api.task_spec.networks_advanced).toContainEqual({ name: '${docker_network.product-network.name}', aliases: ['api'] });
    expect(api.task_spec.container_spec.env.ACCOUNTS_URL).toBe('http://accounts-api:8090');
  });

  it("creates the swarm's shared networks once, as encrypted overlays through the manager, and names them for every host", () => {
    const overlays = Object.values(resources(edge, 'docker_network')).filter((body: any) => body.driver === 'overlay');
    expect(overlays.map((body: any) => [body.name, body.internal ?? false, body.provider]).sort()).toEqual([
      // The stack's one provider, the data host's daemon: no alias.
      ['harbor-backend', false, 'docker'],
      ['harbor-data', true, 'docker'],
      ['harbor-docker-api', true, 'docker'],
      ['harbor-frontend', false, 'docker'],
    ]);
    for (const body of overlays) expect(body).toMatchObject({ options: { encrypted: 'true' } });
    // The shared networks take plain containers too (data services, release tasks); the edge's Docker API network does not.
    for (const body of overlays.filter((network: any) => network.name !== 'harbor-docker-api')) expect(body).toMatchObject({ attachable: true });
    expect(Object.values(resources(edge, 'docker_network')).some((body: any) => body.driver === 'bridge' && /harbor-(frontend|backend|data)$/.test(body.name))).toBe(false);
    expect(edge.output?.host_data_1_docker_network_data?.value).toBe('${docker_network.swarm-data.name}');
  });

  it('serves IPv6 at the load balancer: the frontend overlay carries none, and the invariant accepts that only behind a balancer', () => {
    const networks = resources(edge, 'docker_network');
    expect(networks['swarm-frontend'].ipv6).toBeUndefined();
    // The edge is one global Swarm service on the frontend overlay, not a container per host.
    expect(resources(edge, 'docker_container')).toEqual({});
    expect(resources(edge, 'docker_service')['edge-proxy'].task_spec.networks_advanced.map((network: { name: string }) => network.name)).toContain('${docker_network.swarm-frontend.name}');
    const context = { stack: 'production-edge', production: true, adminSshCidrs: [], mayPublishPorts: true, appContainers: true, exemptions: [], edgeServesIpv6: true };
    const ipv6Violations = (publicWeb: boolean) =>
      checkInvariants(edge, { ...context, publicWeb }).filter((violation) => violation.rule === 'ipv6-served').map((violation) => violation.address);
    expect(ipv6Violations(false)).toEqual([]);
    expect(ipv6Violations(true)).toEqual(['docker_network.swarm-frontend']);
  });

  it('plans capacity for what stays on its host, and places the services as Swarm would with every node and with each lost', () => {
    const production = resolveSystem(harbor).environments.find((environment) => environment.name === 'production')!;
    expect(production.engine).toBe('swarm');
    const report = planCapacity(production);
    expect(report.issues).toEqual([]);
    const consumers = Object.fromEntries(report.hosts.map((host) => [host.host, host.consumers.map((consumer) => consumer.name).sort()]));
    expect(consumers['data-1']).toEqual(expect.arrayContaining(['postgres', 'redis', 'backup job']));
    expect(Object.values(consumers).flat().some((name) => name.startsWith('booking') || name.startsWith('accounts'))).toBe(false);
  });

  it('lets a single host opt in: staging with engine swarm runs Swarm services on its one node, where no replica must survive a loss', () => {
    const system = variant(harbor, (s) => (environmentOf(s, 'staging').engine = 'swarm'));
    const staging = resolveSystem(system).environments[0]!;
    expect([staging.engine, staging.loadBalancer]).toEqual(['swarm', undefined]);
    const booking = new SynthesizedSystem(system).synth('staging-booking');
    expect(resources(booking, 'docker_container')).toEqual({});
    expect(resources(booking, 'docker_service')['booking-api'].task_spec.placement.constraints).toEqual(['node.labels.role==app']);
    expect(resources(new SynthesizedSystem(harbor).synth('staging-booking'), 'docker_service')).toEqual({});
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

describe('data by name on the overlay', () => {
  it('publishes neither PostgreSQL nor Redis: they join the data overlay under their names', () => {
    for (const name of ['postgres', 'redis']) {
      const container = resources(data, 'docker_container')[name];
      expect(container.ports).toBeUndefined();
      expect(container.networks_advanced).toContainEqual({ name: '${data.terraform_remote_state.outputs-production-edge.outputs.host_data_1_docker_network_data}', aliases: [name] });
    }
  });

  it('hands products connection strings by name', () => {
    const credentials = app.synth('production-booking-credentials');
    expect(credentials.output?.database_url?.value).toBe('postgresql://booking:${random_password.postgres-role-password.result}@postgres:5432/booking');
    expect(credentials.output?.redis_url?.value).toContain('@redis:6379/0');
    expect(JSON.stringify(credentials)).not.toContain(DATA_HOST_PRIVATE_IP);
  });

  it('publishes nothing on a private address, so no host needs the private-services firewall unit', () => {
    const servers = resources(network, 'hcloud_server');
    const files = (host: string) => JSON.parse(String(servers[`host-${host}`].user_data).replace(/^#cloud-config\n/, '')).write_files as Array<{ path: string; content: string }>;
    const unit = (host: string) => files(host).find((file) => file.path === '/etc/systemd/system/private-services-firewall.service');
    // Data by name on the data overlay; Prometheus and Loki reached by every node's collector services on the backend overlay.
    for (const host of ['app-1', 'app-2', 'data-1']) expect(unit(host)).toBeUndefined();
    const monitoring = app.synth('production-monitoring');
    for (const body of Object.values(resources(monitoring, 'docker_container')) as any[]) expect(body.ports ?? []).toEqual([]);
  });
});

describe('placement rules', () => {
  const reject = (mutate: Parameters<typeof variant>[1]) => () => resolveSystem(variant(harbor, mutate));

  it('refuses plain containers on more than one host, naming the engine and why', () => {
    expect(reject((system) => (environmentOf(system, 'production').engine = 'containers'))).toThrow(
      'environment "production", field "engine": got "containers"; allowed: "swarm" with 3 hosts ("containers" runs one host only)',
    );
  });

  it('refuses a swarm that cannot survive the loss of a node: the N-1 capacity check at synth', () => {
    // Three API replicas of 2.5 CPUs fit on two ccx33 app nodes, but not on the one left after losing either.
    const heavy: Parameters<typeof variant>[1] = (system) => {
      const api = system.products[0]!.services.find((service) => service.name === 'api')!;
      (api as { resources?: object }).resources = { cpuLimit: 2.5, cpuReservation: 2.5, memoryLimitMiB: 512, memoryReservationMiB: 256 };
    };
    expect(reject(heavy)).toThrow(
      /environment "production", field "hosts": got \["app-1","app-2","data-1"\]; allowed: nodes of which any N-1 hold every replica of the services that must survive; with app-1 lost, booking-api replica \d \(2\.5 CPU\/256 MiB on nodes labelled role=app\) finds no node/,
    );
  });

  it('refuses placing a product by a host that shares its group: on a swarm that host stands for its group', () => {
    expect(
      reject((system) => {
        environmentOf(system, 'production').products[0] = { product: 'booking', imageTag: 'v3.2.0', host: 'app-1' };
      }),
    ).toThrow('environment "production", product "booking", field "host": got "app-1"; allowed: group: "app" (Swarm schedules over app-1, app-2), or a host alone in its group');
  });

  it('places a product by a host alone in its group on that group', () => {
    const system = variant(harbor, (s) => (environmentOf(s, 'production').products[1] = { product: 'accounts', imageTag: 'v1.9.4', host: 'data-1' }));
    const accounts = resolveSystem(system).environments[1]!.products.find((product) => product.name === 'accounts')!;
    expect(accounts.services[0]!.placement).toEqual({ nodeLabels: { role: 'data' }, nodes: ['data-1'], maxReplicasPerNode: undefined });
  });

  it('refuses an unknown balancer type and one too small for the hosts', () => {
    expect(reject((system) => (environmentOf(system, 'production').loadBalancer = { type: 'lb99' }))).toThrow(
      'environment "production", field "loadBalancer.type": got "lb99"; allowed: lb11, lb21, lb31',
    );
  });

  it('links a caller to a service of its product by name wherever Swarm runs either', () => {
    const system = variant(harbor, (s) => {
      // One replica of an internal service, on whichever node; the web app runs on both.
      s.products[0]!.services.push({ name: 'pricing', kind: 'internal', port: 9000 });
      s.products[0]!.services.find((service) => service.name === 'web')!.links = { PRICING_URL: 'pricing' };
    });
    const web = resolveSystem(system).environments[1]!.products[0]!.services.find((service) => service.name === 'web')!;
    expect(web.environment.PRICING_URL).toBe('http://pricing:9000');
  });
});
