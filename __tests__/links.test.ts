import { HealthCheck } from '../constructs/core/health-check';
import { manacore } from '../environments';
import type { ProductSpec, SystemSpec } from '../system/model';
import { resolveSystem } from '../system/resolve';

/**
 * chat with an extra worker and internal service, to see how links resolve. Capacity is not what
 * these tests are about: the hosts get the largest type, so the extra containers fit whatever the catalog holds.
 */
function withChatServices(services: ProductSpec['services']): SystemSpec {
  return {
    ...manacore,
    products: manacore.products.map((p) => (p.name === 'chat' ? { ...p, services: [...p.services, ...services] } : p)),
    environments: manacore.environments.map((environment) => ({ ...environment, hosts: environment.hosts.map((host) => ({ ...host, serverType: 'ccx63' })) })),
  };
}

const chatService = (system: SystemSpec, environment: string, service: string) =>
  resolveSystem(system)
    .environments.find((e) => e.name === environment)!
    .products.find((p) => p.name === 'chat')!
    .services.find((s) => s.name === service)!;

describe('links between services', () => {
  it('reaches a service by container name when both share a network on one host', () => {
    const backend = chatService(manacore, 'production', 'backend');
    expect(backend.environment.MANA_CORE_AUTH_URL).toBe('http://mana-core-auth-backend:3001');
  });

  it('gives browser-facing variables the public HTTPS URL, with the environment prefix', () => {
    const web = chatService(manacore, 'staging', 'web');
    expect(web.environment.PUBLIC_BACKEND_URL).toBe('https://staging-api-chat.manacore.app');
    expect(web.environment.PUBLIC_MANA_CORE_AUTH_URL).toBe('https://staging-auth.manacore.app');
  });

  it("calls services of its own product by short name on the product's network", () => {
    const system = withChatServices([
      { name: 'digest', kind: 'worker', command: ['node', 'dist/digest.js'], links: { WEB_URL: 'web', ML_URL: 'ml' } },
      { name: 'ml', kind: 'internal', port: 8000, healthCheck: HealthCheck.http('/health') },
    ]);
    const worker = chatService(system, 'production', 'digest');
    expect(worker.environment.WEB_URL).toBe('http://web:3000');
    expect(worker.environment.ML_URL).toBe('http://ml:8000');
    // Neither end calls another product, so neither joins the shared backend network.
    expect(worker.networks).toEqual([]);
    expect(chatService(system, 'production', 'ml').networks).toEqual([]);
  });

  it('puts both ends of a link between products, and only them, on the shared backend network', () => {
    const system = withChatServices([{ name: 'ml', kind: 'internal', port: 8000, healthCheck: HealthCheck.http('/health') }]);
    expect(chatService(system, 'production', 'backend').networks).toContain('backend');
    expect(chatService(system, 'production', 'ml').networks).not.toContain('backend');
    expect(chatService(system, 'production', 'web').networks).not.toContain('backend');
  });
});
