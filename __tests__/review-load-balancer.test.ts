/**
 * Behind the edge load balancer every target's edge proxy must answer every
 * routed name: Hetzner balances TCP 80/443 round-robin over all targets
 * without looking at the Host header, and each edge proxy routes only the
 * containers of its own host (Traefik's Docker provider reads the local daemon).
 */
import { harbor } from '../examples/harbor';
import { environmentOf, variant } from './helpers/spec';
import { issueLines } from './helpers/issues';
import { manacore } from '../environments';
import { resolveSystem } from '../system/resolve';

it('refuses a routed service that runs on fewer hosts than the balancer sends its traffic to', () => {
  const lines = issueLines(
    variant(harbor, (system) => {
      // One replica of the web app lands on app-1 only; the api keeps both hosts behind the balancer.
      environmentOf(system, 'production').products[0] = { product: 'booking', imageTag: 'v3.2.0', group: 'app', replicas: { web: 1 } };
    }),
  );
  expect(lines).toEqual([
    'environment "production", product "booking", field "replicas.web": got 1; allowed: a replica on every host behind the load balancer (app-1, app-2): 2 or more (the balancer sends every name to every host, and an edge proxy routes only its own host\'s containers; this service runs on app-1 only)',
  ]);
});

it('refuses a product pinned to one host when another routed service spans the balancer', () => {
  const lines = issueLines(
    variant(harbor, (system) => {
      const production = environmentOf(system, 'production');
      production.products[1] = { product: 'accounts', imageTag: 'v1.9.4', host: 'app-1', replicas: { api: 1 } };
    }),
  );
  expect(lines).toEqual([
    'environment "production", product "accounts", field "replicas.api": got 1; allowed: a replica on every host behind the load balancer (app-1, app-2): place accounts on their group, not on one host (the balancer sends every name to every host, and an edge proxy routes only its own host\'s containers; this service runs on app-1 only)',
  ]);
});

it('keeps the direct layout, without a balancer, for products pinned to different hosts', () => {
  const system = variant(manacore, (s) => {
    const staging = environmentOf(s, 'staging');
    staging.hosts.push({ name: 'app-2', serverType: 'ccx23' });
    staging.products.find((deployment) => deployment.product === 'chat')!.host = 'app-2';
  });
  const staging = resolveSystem(system).environments.find((environment) => environment.name === 'staging')!;
  expect(staging.loadBalancer).toBeUndefined();
  expect(staging.products.find((product) => product.name === 'chat')!.host).toBe('app-2');
});

describe('a balancer type where no balancer is needed', () => {
  it('is reported as a warning naming the environment and the type', () => {
    const single = variant(harbor, (system) => {
      const production = environmentOf(system, 'production');
      production.hosts = [{ name: 'app-1', serverType: 'ccx63' }];
      delete production.data.host;
      production.products = production.products.map((deployment) => {
        const replicas: Record<string, number> = deployment.product === 'booking' ? { api: 1, web: 1 } : { api: 1 };
        return { product: deployment.product, imageTag: deployment.imageTag, replicas };
      });
    });
    expect(resolveSystem(single).warnings).toContain(
      'environment "production": loadBalancer.type "lb11" is unused: no routed service runs on more than one host, so there is no load balancer',
    );
  });
});
