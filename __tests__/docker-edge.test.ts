/**
 * The edge stack: Docker networks and the Traefik edge proxy on every host,
 * and how other stacks reach the hosts' Docker daemons.
 */
import { manacore } from '../environments';
import { TerraformVariable, Testing } from 'cdktf';
import { DOCKER_SOCKET_GROUP_ID, EdgeProxy, TRAEFIK_IMAGE } from '../constructs/docker/edge-proxy';
import { SOCKET_PROXY_IMAGE } from '../constructs/docker/docker-socket-proxy';
import { ACME_STORAGE_DIR } from '../stacks/network-stack';
import { container, labelsOf } from './helpers/docker';
import { environmentOf, variant, withoutSmokeChecks } from './helpers/spec';
import { SynthesizedSystem, resources, type TerraformJson } from './helpers/synth';

let app: SynthesizedSystem;
let edge: TerraformJson;
let proxy: any;

beforeAll(() => {
  app = new SynthesizedSystem(manacore);
  edge = app.synth('production-edge');
  proxy = container(edge, 'app-1-edge-proxy');
});

describe('edge stack', () => {
  it('sits between network and data in every environment', () => {
    for (const env of ['staging', 'production']) {
      const stacks = app.environment(env);
      expect(stacks.edge.stackName).toBe(`${env}-edge`);
      expect(stacks.edge.readsFrom).toEqual([`${env}-network`]);
      expect(stacks.data.readsFrom).toEqual(expect.arrayContaining([`${env}-network`, `${env}-edge`]));
      for (const product of stacks.products.values()) {
        if (product.containers.size > 0) expect(product.readsFrom).toEqual(expect.arrayContaining([`${env}-edge`]));
      }
    }
  });

  it('creates the three host networks, the data network internal (no internet), and the internal Docker API network', () => {
    const networks = resources(edge, 'docker_network');
    expect(Object.keys(networks).sort()).toEqual(['app-1-backend', 'app-1-data', 'app-1-docker-api', 'app-1-frontend']);
    expect(networks['app-1-frontend']).toMatchObject({ name: 'manacore-frontend', driver: 'bridge', internal: false, ipv6: true });
    expect(networks['app-1-docker-api']).toMatchObject({ name: 'manacore-docker-api', internal: true });
    expect(networks['app-1-backend']).toMatchObject({ name: 'manacore-backend', internal: false });
    expect(networks['app-1-data']).toMatchObject({ name: 'manacore-data', internal: true });
  });

  it('publishes each network name for the data and product stacks', () => {
    expect(edge.output).toMatchObject({
      host_app_1_docker_network_frontend: { value: '${docker_network.app-1-frontend.name}', sensitive: false },
      host_app_1_docker_network_backend: { value: '${docker_network.app-1-backend.name}' },
      host_app_1_docker_network_data: { value: '${docker_network.app-1-data.name}' },
    });
  });
});

describe('edge proxy', () => {
  const flags = () => proxy.command as string[];

  it('runs a pinned Traefik v3 release', () => {
    expect(TRAEFIK_IMAGE).toMatch(/^traefik:v3\.\d+\.\d+$/);
    expect(resources(edge, 'docker_image')['app-1-edge-proxy']).toMatchObject({ name: TRAEFIK_IMAGE, keep_locally: true });
  });

  it('is the only container publishing host ports, and only 80 and 443', () => {
    expect(proxy.ports).toEqual([
      { internal: 8080, external: 80, protocol: 'tcp' },
      { internal: 8443, external: 443, protocol: 'tcp' },
    ]);
    for (const stack of app.stacks.filter((candidate) => !candidate.node.id.endsWith('-edge'))) {
      for (const body of Object.values(resources(app.synth(stack.node.id), 'docker_container'))) expect(body.ports).toBeUndefined();
    }
  });

  it('joins the frontend network, routes through it, and reaches Docker only on the internal API network', () => {
    expect(proxy.networks_advanced).toEqual([{ name: '${docker_network.app-1-frontend.name}' }, { name: '${docker_network.app-1-docker-api.name}' }]);
    expect(flags()).toContain('--providers.docker.network=${docker_network.app-1-frontend.name}');
  });

  it('redirects HTTP to HTTPS permanently', () => {
    expect(flags()).toEqual(
      expect.arrayContaining([
        '--entryPoints.web.address=:8080',
        '--entryPoints.web.http.redirections.entryPoint.to=:443',
        '--entryPoints.web.http.redirections.entryPoint.scheme=https',
        '--entryPoints.web.http.redirections.entryPoint.permanent=true',
        '--entryPoints.websecure.address=:8443',
      ]),
    );
  });

  it("gets Let's Encrypt certificates with the environment's e-mail, stored on the host", () => {
    expect(flags()).toEqual(
      expect.arrayContaining([
        '--certificatesResolvers.letsencrypt.acme.email=ops@manacore.app',
        '--certificatesResolvers.letsencrypt.acme.storage=/acme/acme.json',
        '--certificatesResolvers.letsencrypt.acme.dnsChallenge.provider=cloudflare',
        '--entryPoints.websecure.http.tls.certResolver=letsencrypt',
      ]),
    );
    expect(proxy.volumes).toContainEqual({ host_path: ACME_STORAGE_DIR, container_path: '/acme', read_only: false });
  });

  it('routes only containers that opt in, and keeps its API and dashboard off', () => {
    expect(flags()).toContain('--providers.docker.exposedByDefault=false');
    expect(flags().filter((flag) => flag.startsWith('--api'))).toEqual([]);
  });

  it('never mounts the Docker socket: the socket proxy holds it, read-only, through the docker group, not as root', () => {
    expect(proxy.volumes.map((volume: any) => volume.host_path)).not.toContain('/var/run/docker.sock');
    expect(proxy.user).toBe('1001:1001');
    expect(proxy.group_add).toBeUndefined();
    const socketProxy = container(edge, 'app-1-docker-socket-proxy');
    expect(socketProxy).toMatchObject({ user: '99:99', group_add: [String(DOCKER_SOCKET_GROUP_ID)], read_only: true });
    expect(socketProxy.volumes).toEqual([{ host_path: '/var/run/docker.sock', container_path: '/var/run/docker.sock', read_only: true }]);
    expect(resources(edge, 'docker_image')['app-1-docker-socket-proxy'].name).toBe(SOCKET_PROXY_IMAGE);
  });

  it('is hardened: read-only root, no capabilities at all, no-new-privileges, limits, health-checked', () => {
    expect(proxy).toMatchObject({ read_only: true, security_opts: ['no-new-privileges:true'], memory: 256, cpus: '1', wait: true, restart: 'unless-stopped' });
    expect(proxy.capabilities).toEqual({ drop: ['ALL'] });
    expect(proxy.healthcheck.test).toEqual(['CMD', 'traefik', 'healthcheck', '--ping', '--ping.entryPoint=ping', '--entryPoints.ping.address=127.0.0.1:8082']);
  });

  it('trusts no forwarded headers: proxied routes take the visitor from CF-Connecting-IP behind origin pulls instead', () => {
    expect(flags().filter((flag) => flag.includes('forwardedHeaders'))).toEqual([]);
    const network = app.synth('production-network');
    expect(network.data?.cloudflare_ip_ranges).toBeUndefined();
  });

  it('trusts forwarded headers only when told, and refuses a malformed CIDR list', () => {
    const base = { acmeEmail: 'ops@example.com', frontendNetwork: 'frontend', dockerEndpoint: 'tcp://docker-socket-proxy:2375' };
    expect(EdgeProxy.staticConfiguration(base).filter((flag) => flag.includes('forwardedHeaders'))).toEqual([]);
    expect(EdgeProxy.staticConfiguration({ ...base, trustedProxyCidrs: '173.245.48.0/20,2400:cb00::/32' })).toContain(
      '--entryPoints.websecure.forwardedHeaders.trustedIPs=173.245.48.0/20,2400:cb00::/32',
    );
    const build = (trustedProxyCidrs: string) => () =>
      Testing.synthScope((scope) => {
        const token = new TerraformVariable(scope, 'dns_token', { type: 'string', sensitive: true }).stringValue;
        new EdgeProxy(scope, 'proxy', { ...base, dockerApiNetwork: 'docker-api', certificates: { cloudflareDnsToken: token }, acmeStorageDir: '/srv/acme', trustedProxyCidrs });
      });
    expect(build('0.0.0.0/0, 10.0.0.1/8')).toThrow(
      'EdgeProxy proxy: trustedProxyCidrs must be comma-separated CIDR blocks (192.0.2.0/24,2001:db8::/32); got "0.0.0.0/0, 10.0.0.1/8"',
    );
    expect(build('')).toThrow(/trustedProxyCidrs must be comma-separated CIDR blocks/);
  });

  it('exports per-service Prometheus metrics on an entry point of its own, never published', () => {
    const flags = proxy.command as string[];
    expect(flags).toEqual(
      expect.arrayContaining(['--metrics.prometheus=true', '--metrics.prometheus.addServicesLabels=true', '--metrics.prometheus.entryPoint=metrics', '--entryPoints.metrics.address=:8090']),
    );
    // Without an entry point of its own, metrics would open Traefik's default `traefik` entry point on :8080, the HTTP one's port.
    expect(flags.filter((flag) => flag.startsWith('--entryPoints.traefik'))).toEqual([]);
    expect(proxy.ports.map((port: { internal: number }) => port.internal)).not.toContain(8090);
  });

  it('carries no routing labels of its own', () => {
    expect(Object.keys(labelsOf(proxy)).filter((label) => label.startsWith('traefik.'))).toEqual([]);
  });
});

describe('Docker provider per host', () => {
  it('reaches the host over SSH as the deploy user by default', () => {
    expect(edge.provider?.docker).toEqual([
      expect.objectContaining({ host: 'ssh://deploy@${data.terraform_remote_state.outputs-production-network.outputs.host_app_1_ipv4}:22' }),
    ]);
    expect(edge.provider?.docker?.[0].registry_auth).toBeUndefined();
  });

  it('runs the edge of a swarm and the product stacks through the manager alone', () => {
    const twoHosts = variant(manacore, (system) => {
      withoutSmokeChecks(system);
      const staging = environmentOf(system, 'staging');
      staging.hosts.push({ name: 'app-2', serverType: 'ccx33', group: 'chat' });
      staging.products.find((deployment) => deployment.product === 'chat')!.host = 'app-2';
    });
    const synthesized = new SynthesizedSystem(twoHosts);
    const stagingEdge = synthesized.synth('staging-edge');
    // One provider, the first manager's (app-1: the data host), however many nodes.
    expect(stagingEdge.provider?.docker?.map((provider: any) => [provider.alias, provider.host])).toEqual([
      [undefined, 'ssh://deploy@${data.terraform_remote_state.outputs-staging-network.outputs.host_app_1_ipv4}:22'],
    ]);
    // One global edge service through the manager (__tests__/swarm-edge.test.ts), no proxy container per host.
    expect(resources(stagingEdge, 'docker_service')['edge-proxy'].provider).toBe('docker');
    expect(resources(stagingEdge, 'docker_container')['app-2-edge-proxy']).toBeUndefined();
    // The shared networks are the swarm's overlays, created once through the manager and named for every host.
    expect(resources(stagingEdge, 'docker_network')['swarm-data']).toMatchObject({ driver: 'overlay', provider: 'docker' });
    expect(resources(stagingEdge, 'docker_network')['app-2-data']).toBeUndefined();
    expect(stagingEdge.output?.host_app_2_docker_network_data?.value).toBe('${docker_network.swarm-data.name}');
    // A product stack reaches the swarm through its manager (one endpoint), and Swarm places chat by its group's label.
    const chat = synthesized.synth('staging-chat');
    expect(chat.provider?.docker?.map((provider: any) => [provider.alias, provider.host])).toEqual([
      [undefined, 'ssh://deploy@${data.terraform_remote_state.outputs-staging-network.outputs.host_app_1_ipv4}:22'],
    ]);
    expect(resources(chat, 'docker_service')['chat-backend'].task_spec.placement.constraints).toEqual(['node.labels.role==chat']);
  });

  it('reaches the daemon over the local socket when the environment runs on a Terraform Cloud agent', () => {
    const agent = variant(manacore, (system) => {
      environmentOf(system, 'staging').terraformCloud = { organization: 'acme' };
    });
    const stagingEdge = new SynthesizedSystem(agent).synth('staging-edge');
    expect(stagingEdge.provider?.docker).toEqual([{ host: 'unix:///var/run/docker.sock' }]);
  });
});
