/**
 * Behind the edge load balancer every target's edge proxy answers every
 * routed name: Hetzner balances TCP 80/443 over all targets without looking
 * at the Host header, and on a swarm each edge proxy reaches every task of a
 * service over the overlay networks, wherever Swarm scheduled it.
 */
import { harbor } from '../examples/harbor';
import { environmentOf, variant, withoutSmokeChecks } from './helpers/spec';
import { issueLines } from './helpers/issues';
import { manacore } from '../environments';
import { resolveSystem } from '../system/resolve';

it('accepts a routed service with fewer replicas than the balancer has targets: any edge proxy reaches its task', () => {
  const system = variant(harbor, (s) => {
    environmentOf(s, 'production').products[0] = { product: 'booking', imageTag: 'v3.2.0', group: 'app', replicas: { web: 1 } };
  });
  const production = resolveSystem(system).environments[1]!;
  expect(production.loadBalancer?.targets).toEqual(['app-1', 'app-2']);
  expect(production.products[0]!.services.find((service) => service.name === 'web')!.replicas).toBe(1);
});

it('refuses a product placed by one host of a group the balancer spans: on a swarm the host stands for its group', () => {
  const lines = issueLines(
    variant(harbor, (system) => {
      const production = environmentOf(system, 'production');
      production.products[1] = { product: 'accounts', imageTag: 'v1.9.4', host: 'app-1', replicas: { api: 1 } };
    }),
  );
  expect(lines).toEqual([
    'environment "production", product "accounts", field "host": got "app-1"; allowed: group: "app" (Swarm schedules over app-1, app-2), or a host alone in its group (on a swarm a product is placed by its nodes\' role label (role=app), which accounts would share with every host of the group)',
  ]);
});

it('keeps the direct layout, without a balancer, for products placed on groups of one node each', () => {
  const system = variant(manacore, (s) => {
    withoutSmokeChecks(s);
    const staging = environmentOf(s, 'staging');
    staging.hosts.push({ name: 'app-2', serverType: 'ccx23', group: 'chat' });
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
