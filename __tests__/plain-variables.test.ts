/**
 * The secret check takes a plain variable for a secret by its name (`_KEY`, `TOKEN`, ...). A false positive
 * (`CACHE_MAX_KEYS`) is allowed one variable at a time, never by exempting the whole container, and the
 * message says where a real secret belongs: `secrets:`.
 */
import { manacore } from '../environments';
import { checkInvariants, type InvariantContext } from '../policy/invariants';
import type { ServiceSpec, SystemSpec } from '../system/model';
import { resolveSystem } from '../system/resolve';
import { SynthesizedSystem } from './helpers/synth';

const context: InvariantContext = { stack: 'production-chat', production: true, adminSshCidrs: [], mayPublishPorts: false, appContainers: false, exemptions: [] };
const container = (env: string[]) => ({ resource: { docker_container: { 'chat-backend': { image: 'x:1', env } } } });

/** Manacore with chat's backend changed by `change`. */
function withChatBackend(change: Partial<ServiceSpec>, system: SystemSpec = manacore): SystemSpec {
  return {
    ...system,
    products: system.products.map((product) =>
      product.name !== 'chat' ? product : { ...product, services: product.services.map((service) => (service.name === 'backend' ? { ...service, ...change } : service)) },
    ),
  };
}

describe('a literal under a secret-looking name', () => {
  it('tells the user to move the value to secrets:, or to declare the variable plain', () => {
    const [violation] = checkInvariants(container(['CACHE_MAX_KEYS=1000']), context);
    expect(violation).toMatchObject({ rule: 'no-plaintext-secret', address: 'docker_container.chat-backend', variable: 'CACHE_MAX_KEYS' });
    expect(violation!.message).toContain("move it from the service's environment to its secrets:");
    expect(violation!.message).toContain("list CACHE_MAX_KEYS in the service's plainVariables");
  });

  it('an exemption naming one variable waives that variable only, not the rest of the container', () => {
    const exemptions = [{ rule: 'no-plaintext-secret' as const, stack: 'production-chat', resource: 'docker_container.chat-backend', variable: 'CACHE_MAX_KEYS', reason: 'a count, not a key' }];
    const violations = checkInvariants(container(['CACHE_MAX_KEYS=1000', 'API_TOKEN=abc']), { ...context, exemptions });
    expect(violations.map((violation) => violation.variable)).toEqual(['API_TOKEN']);
  });

  it('fails synth of the product stack', () => {
    const app = new SynthesizedSystem(withChatBackend({ environment: { NODE_ENV: 'production', PORT: '3002', CACHE_MAX_KEYS: '1000' } }));
    expect(() => app.synth('production-chat')).toThrow(/environment variable CACHE_MAX_KEYS has a literal value.*secrets:/);
  });
});

describe("a service's plainVariables", () => {
  const system = withChatBackend({ environment: { NODE_ENV: 'production', PORT: '3002', CACHE_MAX_KEYS: '1000' }, plainVariables: ['CACHE_MAX_KEYS'] });

  it('allows the declared variable, and the stack records the waiver per container and variable', () => {
    const app = new SynthesizedSystem(system);
    const env: string[] = (app.synth('production-chat').resource!.docker_container as Record<string, { env: string[] }>)['chat-backend']!.env;
    expect(env).toContain('CACHE_MAX_KEYS=1000');
    // Testing.synth drops the `//` block; the stack's own JSON holds it.
    const chat = app.environment('production').products.get('chat')!.toTerraform();
    expect(chat['//'].invariant_exemptions).toContainEqual({
      rule: 'no-plaintext-secret',
      resource: 'docker_container.chat-backend',
      variable: 'CACHE_MAX_KEYS',
      reason: 'services.backend.plainVariables declares CACHE_MAX_KEYS holds no secret',
      waives: [expect.stringMatching(/^docker_container\.chat-backend: environment variable CACHE_MAX_KEYS has a literal value/)],
    });
  });

  it('still refuses another secret-looking literal in the same container', () => {
    const leaky = withChatBackend({ environment: { NODE_ENV: 'production', PORT: '3002', CACHE_MAX_KEYS: '1000', STRIPE_TOKEN: 'tok' }, plainVariables: ['CACHE_MAX_KEYS'] });
    expect(() => new SynthesizedSystem(leaky).synth('production-chat')).toThrow(/STRIPE_TOKEN has a literal value/);
  });

  it('names variables of environment only, and exemptions name a variable with no-plaintext-secret only', () => {
    expect(() => resolveSystem(withChatBackend({ plainVariables: ['CACHE_MAX_KEYS'] }))).toThrow(
      /product "chat", field "services\.backend\.plainVariables": got "CACHE_MAX_KEYS"; allowed: NODE_ENV, PORT/,
    );
    const exempting: SystemSpec = {
      ...manacore,
      environments: manacore.environments.map((environment) => ({
        ...environment,
        invariantExemptions: [{ rule: 'pinned-image', stack: `${environment.name}-chat`, resource: 'docker_container.chat-backend', variable: 'X', reason: 'only a variable of a secret literal' }],
      })),
    };
    expect(() => resolveSystem(exempting)).toThrow(/field "invariantExemptions\[0\]\.variable": got "X"; allowed: the UPPER_SNAKE_CASE name of one environment variable/);
  });
});
