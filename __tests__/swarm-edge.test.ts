/**
 * The edge of a swarm environment (Harbor's production: three hosts behind a
 * load balancer): Traefik as one global service on the edge nodes with its
 * Swarm provider, ports in host mode, the DNS token as a Swarm secret file,
 * and a socket proxy on a manager admitting only the Swarm provider's reads.
 */
import { DockerSocketProxy, TRAEFIK_SWARM_API_CALLS } from '../constructs/docker/docker-socket-proxy';
import { harbor } from '../examples/harbor';
import { countCertificateOrders } from '../policy/invariants';
import { environmentOf, variant } from './helpers/spec';
import { resources, SynthesizedSystem } from './helpers/synth';

const system = new SynthesizedSystem(harbor);
const edge = system.synth('production-edge');
const services = resources(edge, 'docker_service');
const proxy = services['edge-proxy'];
const socketProxy = services['docker-socket-proxy'];
const args: string[] = proxy.task_spec.container_spec.args;

describe('the edge proxy on swarm', () => {
  it('replaces the per-host edge containers with one global service on the app nodes, sent to the first manager (the data host), its one endpoint', () => {
    expect(Object.keys(resources(edge, 'docker_container'))).toEqual([]);
    expect(proxy.mode).toEqual({ global: true });
    expect(proxy.task_spec.placement.constraints).toEqual(['node.labels.edge==true']);
    expect(proxy.provider).toBe('docker');
    expect(socketProxy.provider).toBe('docker');
    expect(edge.provider?.docker?.map((provider: any) => [provider.alias, provider.host])).toEqual([
      [undefined, 'ssh://deploy@${data.terraform_remote_state.outputs-production-network.outputs.host_data_1_ipv4}:22'],
    ]);
  });

  it('publishes 80 and 443 in host mode on each node (client address and PROXY header kept), updating stop-first', () => {
    expect(proxy.endpoint_spec.ports).toEqual([
      { protocol: 'tcp', publish_mode: 'host', published_port: 80, target_port: 8080 },
      { protocol: 'tcp', publish_mode: 'host', published_port: 443, target_port: 8443 },
    ]);
    expect(proxy.update_config.order).toBe('stop-first');
    expect(args).toContain('--entryPoints.websecure.proxyProtocol.trustedIPs=10.60.1.5');
  });

  it("routes services that opt in through Traefik's Swarm provider, over the frontend overlay the routed services join, reading Docker through the socket proxy", () => {
    expect(args.filter((arg) => arg.startsWith('--providers.'))).toEqual([
      '--providers.swarm=true',
      '--providers.swarm.endpoint=tcp://docker-socket-proxy:2375',
      '--providers.swarm.exposedByDefault=false',
      '--providers.swarm.network=${docker_network.swarm-frontend.name}',
      '--providers.file.directory=/etc/traefik/dynamic',
    ]);
    expect(args.some((arg) => arg.startsWith('--providers.docker'))).toBe(false);
    expect(proxy.task_spec.networks_advanced).toEqual([{ name: '${docker_network.swarm-frontend.name}' }, { name: '${docker_network.swarm-docker-api-network.name}' }]);
    expect(proxy.depends_on).toEqual(['docker_service.docker-socket-proxy']);
    // The routed services join that overlay and name it for Traefik (traefik.swarm.network).
    expect(edge.output?.host_app_1_docker_network_frontend?.value).toBe('${docker_network.swarm-frontend.name}');
  });

  it('keeps the DNS-01 wildcard setup, the ACME storage of each node, and takes the Cloudflare token as a secret file', () => {
    expect(args).toContain('--certificatesResolvers.letsencrypt.acme.dnsChallenge.provider=cloudflare');
    expect(args).toContain('--certificatesResolvers.letsencrypt.acme.storage=/acme/acme.json');
    const mounts = proxy.task_spec.container_spec.mounts;
    expect(mounts).toContainEqual({ type: 'bind', source: '/opt/edge/acme', target: '/acme', read_only: false });
    const env = proxy.task_spec.container_spec.env;
    expect(env.CF_DNS_API_TOKEN).toBeUndefined();
    expect(env.CF_DNS_API_TOKEN_FILE).toBe('/run/secrets/cf_dns_api_token');
    expect(proxy.task_spec.container_spec.secrets).toEqual([
      expect.objectContaining({ file_name: 'cf_dns_api_token', file_uid: '1001', file_mode: 0o400, secret_id: '${docker_secret.edge-proxy-cloudflare-dns-token.id}' }),
    ]);
    expect(resources(edge, 'docker_secret')['edge-proxy-cloudflare-dns-token'].data).toBe('${base64encode(data.terraform_remote_state.outputs-production-network.outputs.acme_dns_token)}');
  });

  it('runs the socket proxy once, on a manager, with the socket read-only through the docker group, on an encrypted internal overlay', () => {
    expect(socketProxy.mode).toEqual({ replicated: { replicas: 1 } });
    expect(socketProxy.task_spec.placement.constraints).toEqual(['node.role==manager']);
    expect(socketProxy.task_spec.container_spec.user).toBe('99:99');
    expect(socketProxy.task_spec.container_spec.groups).toEqual(['2375']);
    expect(socketProxy.task_spec.container_spec.mounts).toContainEqual({ type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock', read_only: true });
    const networks = resources(edge, 'docker_network');
    expect(networks['swarm-docker-api-network']).toMatchObject({ driver: 'overlay', internal: true, attachable: false, options: { encrypted: 'true' } });
    expect(networks['swarm-frontend']).toMatchObject({ driver: 'overlay', internal: false, options: { encrypted: 'true' } });
    expect(socketProxy.task_spec.container_spec.env.HAPROXY_CONFIG).toBe(DockerSocketProxy.configuration(TRAEFIK_SWARM_API_CALLS));
  });

  it("admits only the Swarm provider's reads: services, tasks, networks, one node, version; no events, containers, secrets or the swarm itself", () => {
    const config = DockerSocketProxy.configuration(TRAEFIK_SWARM_API_CALLS);
    expect(config).toContain('http-request deny unless METH_GET || METH_HEAD');
    expect(config).toContain('http-request deny unless ping || version || services || networks || tasks || node');
    expect(config).not.toMatch(/events|containers|secrets|\/swarm/);
  });

  it('leaves a one-host environment on containers', () => {
    const staging = system.synth('staging-edge');
    expect(Object.keys(resources(staging, 'docker_service'))).toEqual([]);
    expect(Object.keys(resources(staging, 'docker_container'))).toEqual(['app-1-docker-socket-proxy', 'app-1-edge-proxy']);
  });

  it('runs on the hosts of routed services whatever their groups (edge=true), in the direct layout too', () => {
    // Each product pinned to a host of its own group: no balancer, DNS points each name at its host.
    const split = variant(harbor, (copy) => {
      const production = environmentOf(copy, 'production');
      production.hosts = [{ name: 'app-1', serverType: 'ccx33' }, { name: 'web-1', serverType: 'ccx33', group: 'web' }, { name: 'data-1', serverType: 'ccx33', group: 'data' }];
      production.products = production.products.map((deployment) => ({ product: deployment.product, imageTag: deployment.imageTag, host: deployment.product === 'booking' ? 'app-1' : 'web-1' }));
      delete production.loadBalancer;
    });
    const synthesized = new SynthesizedSystem(split);
    expect(resources(synthesized.synth('production-edge'), 'docker_service')['edge-proxy'].task_spec.placement.constraints).toEqual(['node.labels.edge==true']);
    const labels = Object.fromEntries(Object.entries(resources(synthesized.synth('production-network'), 'terraform_data')).map(([name, body]: [string, any]) => [name, body.triggers_replace.labels]));
    expect(labels).toEqual({ 'swarm-join-app-1': 'role=app,edge=true', 'swarm-join-web-1': 'role=web,edge=true', 'swarm-join-data-1': 'role=data,data=true' });
  });
  it("counts a routed service's certificate once per edge node against Let's Encrypt's weekly limit: each node's task orders its own", () => {
    const routedService = {
      resource: {
        docker_service: {
          'booking-web': {
            labels: [
              { label: 'traefik.http.routers.booking-web.tls.certresolver', value: 'letsencrypt' },
              { label: 'traefik.http.routers.booking-web.tls.domains[0].main', value: 'harbor.travel' },
              { label: 'traefik.http.routers.booking-web.tls.domains[0].sans', value: '*.harbor.travel' },
            ],
          },
        },
      },
    };
    const stacks = [
      { environment: 'production', json: system.synth('production-network') as any },
      { environment: 'production', json: routedService },
    ];
    const orders = countCertificateOrders(stacks, (name) => name.split('.').slice(-2).join('.'));
    expect(orders.get('harbor.travel')!.map((order) => order.host).sort()).toEqual(['production/app-1', 'production/app-2']);
  });
});
