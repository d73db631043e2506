/**
 * One container per service, by kind: networks, ports, health check, limits,
 * hardening, labels and the edge proxy route. Built on Nutri with one service
 * of every kind (helpers/docker.ts).
 */
import { container, envOf, everyKind, labelsOf, serviceContainers, traefikLabels } from './helpers/docker';
import { SynthesizedSystem, resources, type TerraformJson } from './helpers/synth';

let product: TerraformJson;

beforeAll(() => {
  product = new SynthesizedSystem(everyKind).synth('production-nutri');
});

/** Logical network names a container joins: shared ones by the edge stack output they reference, `product` for the product's own. */
const networksOf = (body: any): string[] =>
  body.networks_advanced
    .map((network: any) => (network.name === '${docker_network.product-network.name}' ? 'product' : (/_docker_network_([a-z]+)\}$/.exec(network.name)?.[1] ?? network.name)))
    .sort();

describe('service containers by kind', () => {
  it.each([
    // The API calls the ML service within its product: the product network, no shared backend network.
    ['nutri-api', ['data', 'frontend', 'product']],
    ['nutri-ml', ['product']],
    ['nutri-web', ['frontend', 'product']],
    ['nutri-landing', ['frontend', 'product']],
    ['nutri-scheduler', ['data', 'product']],
  ])('%s joins exactly the networks of its kind and product: %j', (address, networks) => {
    expect(networksOf(container(product, address))).toEqual(networks);
  });

  it('joins every network under the stable service id, never the versioned container name, and its own network by short name too', () => {
    for (const [address, body] of Object.entries(serviceContainers(product))) {
      for (const network of body.networks_advanced) {
        const own = network.name === '${docker_network.product-network.name}';
        expect(network.aliases).toEqual(own ? [address, address.replace(/^nutri-/, '')] : [address]);
      }
    }
  });

  it("creates the product's own network in its stack, named after system and product", () => {
    expect(resources(product, 'docker_network')['product-network']).toMatchObject({ name: 'nutri-nutri', driver: 'bridge' });
  });

  it('publishes no host port from any service container', () => {
    for (const body of Object.values(resources(product, 'docker_container'))) expect(body.ports).toBeUndefined();
  });

  it('runs no container for the mobile service', () => {
    expect(Object.keys(serviceContainers(product)).sort()).toEqual(['nutri-api', 'nutri-landing', 'nutri-ml', 'nutri-scheduler', 'nutri-web']);
  });

  it.each([
    ['nutri-api', ['CMD-SHELL', 'wget -q --spider http://127.0.0.1:3000/api/health || exit 1']],
    ['nutri-ml', ['CMD-SHELL', 'wget -q --spider http://127.0.0.1:8000/health || exit 1']],
    ['nutri-web', ['CMD-SHELL', 'wget -q --spider http://127.0.0.1:3000/api/health || exit 1']],
    ['nutri-landing', ['CMD-SHELL', 'wget -q --spider http://127.0.0.1:80/health || exit 1']],
    ['nutri-scheduler', ['CMD', 'pgrep', '-f', '^([^ ]*/)?node dist/scheduler\\.js( |$)']],
  ])('%s has the health check of its kind', (address, test) => {
    expect(container(product, address).healthcheck).toEqual({ test, interval: '30s', timeout: '10s', retries: 3, start_period: '40s' });
  });

  it.each([
    // [address, memory MiB, cpus, cpu_shares (1024 per reserved core)]
    ['nutri-api', 1536, '1', 512],
    ['nutri-ml', 4096, '2', 1024],
    ['nutri-web', 256, '0.25', 256],
    ['nutri-landing', 128, '0.1', 102],
    ['nutri-scheduler', 512, '1', 512],
  ])('%s is limited to %i MiB (no swap) and %s CPUs, with shares %i for its reservation', (address, memory, cpus, shares) => {
    expect(container(product, address)).toMatchObject({ memory, memory_swap: memory, cpus, cpu_shares: shares });
  });

  it('hardens every container: uid 1001, read-only root, tmpfs /tmp, no capabilities, no-new-privileges, restart, rotated logs', () => {
    for (const body of Object.values(serviceContainers(product))) {
      expect(body).toMatchObject({
        user: '1001',
        read_only: true,
        security_opts: ['no-new-privileges:true'],
        restart: 'unless-stopped',
        log_driver: 'json-file',
        log_opts: { 'max-size': '10m', 'max-file': '3' },
      });
      expect(body.tmpfs['/tmp']).toBe('noexec,nosuid,size=100m');
      expect(body.capabilities.drop).toEqual(['ALL']);
    }
  });

  it('adds NET_BIND_SERVICE only to the service listening below 1024 (nginx on 80)', () => {
    const withCapabilities = Object.entries(resources(product, 'docker_container')).filter(([, body]) => body.capabilities.add !== undefined);
    expect(withCapabilities.map(([address, body]) => [address, body.capabilities.add])).toEqual([['nutri-landing', ['NET_BIND_SERVICE']]]);
  });

  it("keeps the landing page's nginx paths writable as tmpfs", () => {
    expect(container(product, 'nutri-landing').tmpfs).toEqual({
      '/tmp': 'noexec,nosuid,size=100m',
      '/var/cache/nginx': 'noexec,nosuid,size=100m',
      '/var/run': 'noexec,nosuid,size=100m',
    });
  });

  it('labels every container with system, env, product, service, kind, tag and its reservations', () => {
    expect(labelsOf(container(product, 'nutri-ml'))).toMatchObject({
      system: 'nutri',
      env: 'production',
      product: 'nutri',
      service: 'ml',
      kind: 'internal',
      'image.tag': 'main-3f9c2a1',
      'reservation.cpus': '1',
      'reservation.memory-mib': '2048',
    });
  });

  it.each([
    ['nutri-api', 'api.nutri.app', '3000'],
    ['nutri-web', 'app-nutri.nutri.app', '3000'],
    ['nutri-landing', 'nutri.nutri.app', '80'],
  ])('routes %s on its domain %s over HTTPS with a certificate and security headers', (address, domain, port) => {
    const labels = traefikLabels(container(product, address));
    expect(labels).toMatchObject({
      'traefik.enable': 'true',
      [`traefik.http.routers.${address}.rule`]: `Host(\`${domain}\`)`,
      [`traefik.http.routers.${address}.entrypoints`]: 'websecure',
      [`traefik.http.routers.${address}.tls.certresolver`]: 'letsencrypt',
      [`traefik.http.routers.${address}.service`]: address,
      [`traefik.http.services.${address}.loadbalancer.server.port`]: port,
      [`traefik.http.middlewares.${address}-headers.headers.stsSeconds`]: '31536000',
    });
    expect(labels[`traefik.http.routers.${address}.middlewares`]).toContain(`${address}-headers`);
  });

  it('rate-limits the API route and no other', () => {
    const limited = Object.entries(resources(product, 'docker_container'))
      .filter(([, body]) => Object.keys(traefikLabels(body)).some((label) => label.includes('.ratelimit.')))
      .map(([address]) => address);
    expect(limited).toEqual(['nutri-api']);
    expect(traefikLabels(container(product, 'nutri-api'))['traefik.http.routers.nutri-api.middlewares']).toBe('nutri-api-ratelimit,nutri-api-headers');
  });

  it.each(['nutri-ml', 'nutri-scheduler'])('gives %s no route from the edge proxy: no Traefik label at all', (address) => {
    expect(traefikLabels(container(product, address))).toEqual({});
  });

  it("passes plain variables as values and resolved links by short name on the product's network", () => {
    expect(envOf(container(product, 'nutri-api'))).toMatchObject({ NODE_ENV: 'production', PORT: '3000', ML_SERVICE_URL: 'http://ml:8000' });
    expect(envOf(container(product, 'nutri-web')).PUBLIC_API_URL).toBe('https://api.nutri.app');
  });

  it("reads the api's secret and external data URLs from sensitive variables without defaults", () => {
    expect(envOf(container(product, 'nutri-api'))).toMatchObject({
      JWT_SECRET: '${var.jwt_secret}',
      DATABASE_URL: '${var.database_url}',
      REDIS_URL: '${var.redis_url}',
    });
    for (const name of ['jwt_secret', 'database_url', 'redis_url']) {
      expect(product.variable?.[name]).toMatchObject({ type: 'string', sensitive: true });
      expect(product.variable?.[name].default).toBeUndefined();
    }
  });

  it('pulls each image by its pinned tag from ghcr.io and keeps it on the host', () => {
    expect(resources(product, 'docker_image')['nutri-ml']).toMatchObject({ name: 'ghcr.io/nutri/nutri-ml:main-3f9c2a1', keep_locally: true });
    expect(container(product, 'nutri-ml').image).toBe('${docker_image.nutri-ml.image_id}');
  });

  it("connects to the product's host over SSH as deploy, and logs in to ghcr.io with sensitive variables", () => {
    expect(product.provider?.docker).toEqual([
      {
        host: 'ssh://deploy@${data.terraform_remote_state.outputs-production-network.outputs.host_app_1_ipv4}:22',
        ssh_opts: ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'ServerAliveInterval=30'],
        registry_auth: [{ address: 'ghcr.io', username: '${var.registry_username}', password: '${var.registry_password}' }],
      },
    ]);
    expect(product.variable?.registry_password).toMatchObject({ sensitive: true });
  });
});
