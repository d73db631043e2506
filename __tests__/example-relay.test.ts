/**
 * The Relay example (examples/relay.ts): a typical Node SaaS that the kind
 * defaults alone would break at runtime. Each test shows one setting the
 * description needs: kind defaults overridden per service (caching,
 * writable paths, read-only root, networks, update order), least-privilege
 * reachability, links with a path and a bare host:port, and clashes named
 * with both sources.
 */
import { relay } from '../examples/relay';
import { resolveSystem } from '../system/resolve';
import { DOCKER_DEFAULT_POOL_NETWORKS } from '../system/reachability';
import { environmentOf, productOf, serviceOf, variant } from './helpers/spec';
import { resourceList, resources, SynthesizedSystem, type TerraformJson } from './helpers/synth';

let app: SynthesizedSystem;
let product: TerraformJson;
beforeAll(() => {
  app = new SynthesizedSystem(relay);
  product = app.synth('production-relay');
});

const containerOf = (json: TerraformJson, address: string) => {
  const found = resources(json, 'docker_container')[address];
  if (found === undefined) throw new Error(`no docker_container.${address}; have ${Object.keys(resources(json, 'docker_container')).join(', ')}`);
  return found;
};
/** Names of the Docker networks a container joins, as `${docker_network.<id>.name}` references or edge outputs. */
const networksOf = (address: string): string[] => containerOf(product, address).networks_advanced.map((network: { name: string }) => network.name);
const serviceOfRelay = (environment: string, service: string) =>
  resolveSystem(relay).environments.find((e) => e.name === environment)!.products[0]!.services.find((s) => s.name === service)!;

describe('kind defaults are per-service settings', () => {
  it('leaves the proxied /api, /auth and /socket.io paths of the cached frontend uncached, with a short browser TTL', () => {
    const rules = resources(app.synth('production-network'), 'cloudflare_ruleset')['zone-caching-cache-settings'].rules as Array<{ expression: string; action_parameters: any }>;
    const onFrontend = rules.filter((rule) => rule.expression.includes('"app.relay.chat"'));
    expect(onFrontend.map((rule) => [rule.expression.match(/starts_with\(http\.request\.uri\.path, "([^"]+)"\)/)?.[1] ?? '/', rule.action_parameters.cache])).toEqual([
      ['/', true],
      ['/api/', false],
      ['/auth/', false],
      ['/socket.io/', false],
    ]);
    expect(onFrontend[0]!.action_parameters.browser_ttl).toEqual({ mode: 'override_origin', default: 600 });
  });

  it('keeps API and sign-in paths out of a landing cache by default', () => {
    const plain = variant(relay, (system) => {
      delete (serviceOf(system, 'relay', 'frontend') as { caching?: unknown }).caching;
    });
    const frontend = resolveSystem(plain).environments[1]!.products[0]!.services.find((s) => s.name === 'frontend')!;
    expect(frontend.caching.map((rule) => `${rule.path} ${rule.setting.type}`)).toEqual(['/* cache-everything', '/api/* bypass', '/auth/* bypass', '/images/* polish']);
  });

  it("mounts the frontend image's own writable paths instead of the kind's", () => {
    expect(Object.keys(containerOf(product, 'relay-frontend').tmpfs).sort()).toEqual(['/etc/nginx/conf.d', '/tmp', '/var/cache/nginx', '/var/run']);
  });

  it('replaces the singleton scheduler stop-first and the API start-first', () => {
    expect(containerOf(product, 'relay-scheduler').lifecycle?.create_before_destroy).toBeUndefined();
    expect(resources(product, 'random_id')['relay-scheduler-revision'].lifecycle.create_before_destroy).toBe(false);
    expect(containerOf(product, 'relay-api').lifecycle.create_before_destroy).toBe(true);
  });

  it('turns the read-only root off for a service that says so, which the hardening invariant then asks to be waived', () => {
    const writable = variant(relay, (system) => {
      serviceOf(system, 'relay', 'rules').readOnlyRootFilesystem = false;
    });
    expect(() => new SynthesizedSystem(writable).synth('production-relay')).toThrow(/hardened-container.*relay-rules.*read_only is not true/s);
    const waived = variant(writable, (system) => {
      environmentOf(system, 'production').invariantExemptions = [
        { rule: 'hardened-container', resource: 'docker_container.relay-rules', stack: 'production-relay', reason: 'the vendor image writes its state under /opt' },
      ];
    });
    expect(containerOf(new SynthesizedSystem(waived).synth('production-relay'), 'relay-rules').read_only).toBe(false);
  });

  it("joins the shared networks a service names instead of its kind's, and refuses a routed service without frontend", () => {
    const wider = variant(relay, (system) => {
      serviceOf(system, 'relay', 'frontend').networks = ['frontend', 'backend'];
    });
    expect(resolveSystem(wider).environments[1]!.products[0]!.services.find((s) => s.name === 'frontend')!.networks).toEqual(['backend', 'frontend']);
    const unreachable = variant(relay, (system) => {
      serviceOf(system, 'relay', 'api').networks = ['backend'];
    });
    expect(() => resolveSystem(unreachable)).toThrow(/field "services\.api\.networks": got \["backend"\]; allowed: a list with "frontend" \(an api service is routed by the edge proxy/);
  });

  it('refuses caching settings on a service without a public name, and TTLs outside mode everything', () => {
    const bad = variant(relay, (system) => {
      serviceOf(system, 'relay', 'rules').caching = { mode: 'none' };
      serviceOf(system, 'relay', 'api').caching = { mode: 'none', neverCache: ['/v1/*'] };
    });
    expect(() => resolveSystem(bad)).toThrow(/field "services\.rules\.caching": got "none"; allowed: nothing \(an internal service has no public name to cache\)/);
    expect(() => resolveSystem(bad)).toThrow(/field "services\.api\.caching\.neverCache": got \["\/v1\/\*"\]; allowed: nothing \(only mode "everything"/);
  });
});

describe('least-privilege reachability', () => {
  it('gives each linked service, and each service with no other way out, a network of its own instead of one per product', () => {
    // The worker calls the API, so it goes out through the API's network; the scheduler is on the internal data network only.
    expect(Object.keys(resources(product, 'docker_network')).sort()).toEqual(['service-network-api', 'service-network-rules', 'service-network-scheduler']);
    expect(resourceList(product, 'docker_network').map((network) => network.name).sort()).toEqual(['relay-relay.api', 'relay-relay.rules', 'relay-relay.scheduler']);
  });

  it('lets the public frontend reach the API only, never the scheduler, the workers or the rules service', () => {
    const own = (service: string) => `\${docker_network.service-network-${service}.name}`;
    expect(networksOf('relay-frontend')).toContain(own('api'));
    for (const unreachable of ['rules', 'scheduler', 'worker']) expect(networksOf('relay-frontend')).not.toContain(own(unreachable));
    expect(networksOf('relay-api')).toEqual(expect.arrayContaining([own('api'), own('rules')]));
    expect(networksOf('relay-rules').filter((name) => name.includes('service-network'))).toEqual([own('rules')]);
  });

  it("answers to its short name only on its own network, not where it merely calls", () => {
    const onNetwork = (address: string, network: string) => containerOf(product, address).networks_advanced.find((n: { name: string }) => n.name === `\${docker_network.service-network-${network}.name}`);
    expect(onNetwork('relay-api', 'api').aliases).toEqual(['relay-api', 'api']);
    expect(onNetwork('relay-api', 'rules').aliases).toEqual(['relay-api']);
  });

  it('keeps one shared product network by default', () => {
    const shared = variant(relay, (system) => {
      delete (productOf(system, 'relay') as { reachability?: unknown }).reachability;
    });
    expect(Object.keys(resources(new SynthesizedSystem(shared).synth('production-relay'), 'docker_network'))).toEqual(['product-network']);
  });

  it("refuses more networks on a host than a Docker daemon's default address pools hold", () => {
    const crowded = variant(relay, (system) => {
      const services = productOf(system, 'relay').services;
      for (let index = 0; index < DOCKER_DEFAULT_POOL_NETWORKS; index++) {
        services.push({ name: `job-${index}`, kind: 'worker', command: ['node', `dist/job-${index}.js`], resources: { cpuReservation: 0.01, memoryReservationMiB: 8, cpuLimit: 0.1, memoryLimitMiB: 16 } });
      }
    });
    expect(() => resolveSystem(crowded)).toThrow(
      /field "products\.reachability": got 39; allowed: at most 31 Docker networks on host "app-1" \(5 are the platform's; products: relay 34\).*could not find an available, non-overlapping IPv4 address pool/,
    );
  });
});

describe('links', () => {
  it('carries a path in the URL and gives gRPC a bare host:port', () => {
    expect(serviceOfRelay('production', 'worker').environment.API_BASE_URL).toBe('http://api:3002/v1');
    expect(serviceOfRelay('production', 'api').environment.RULES_ADDRESS).toBe('rules:50051');
  });

  it('refuses a path on a host or host:port link', () => {
    const bad = variant(relay, (system) => {
      serviceOf(system, 'relay', 'api').links = { RULES_ADDRESS: { target: 'rules', form: 'host-port', path: '/v1' } };
    });
    expect(() => resolveSystem(bad)).toThrow(/field "services\.api\.links\.RULES_ADDRESS\.path": got "\/v1"; allowed: no path with form "host-port" \(only a URL carries one\)/);
  });
});

describe('conflicts name both sources', () => {
  it('refuses a variable set in environment and by a data service it uses', () => {
    const bad = variant(relay, (system) => {
      serviceOf(system, 'relay', 'worker').environment = { REDIS_URL: 'redis://localhost:6379' };
    });
    expect(() => resolveSystem(bad)).toThrow(/REDIS_URL is set by environment and by uses: redis \(its connection string\)/);
  });

  it('refuses a production name that is also a staging name of the shared zone', () => {
    const bad = variant(relay, (system) => {
      productOf(system, 'relay').services.push({ name: 'preview', kind: 'web', subdomain: 'staging-app' });
    });
    expect(() => resolveSystem(bad)).toThrow(
      /environment "production", product "relay", field "services\.preview\.subdomain": got "staging-app\.relay\.chat"; allowed: a hostname not held by relay\/frontend in environment "staging"/,
    );
  });

  it("refuses an accessory port that the edge proxy holds on every address of a host", () => {
    const bad = variant(relay, (system) => {
      const production = environmentOf(system, 'production');
      production.hosts = [{ name: 'app-1', serverType: 'ccx33' }, { name: 'data-1', serverType: 'ccx33' }];
      production.data = { ...production.data, host: 'data-1' };
      system.accessories![0]!.ports = { http: 443, native: 9000 };
      system.accessories![0]!.connection = { ANALYTICS_URL: 'https://{host}:{port:http}' };
    });
    expect(() => resolveSystem(bad)).toThrow(/field "accessories\.analytics\.ports\.http": got 443; allowed: a port other than 22, 80, 443: 443 belongs to the edge proxy \(HTTPS, bound on every address\) on host "data-1"/);
  });
});
