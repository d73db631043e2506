/**
 * Issue 15: each product stack can read only its own connection values.
 * Terraform shares state per workspace, never per output, so "can read" is
 * "reads any output of": a product stack must read no stack whose state
 * holds another product's credentials. The passwords live in
 * `<env>-<product>-credentials`, read by the data stack and that product only;
 * under Terraform Cloud, remote state is shared with exactly those readers.
 */
import { Testing } from 'cdktf';
import { manacore } from '../environments';
import { harbor } from '../examples/harbor';
import { TerraformCloudBootstrapStack } from '../stacks/bootstrap-stack';
import { createSystemStacks, stacksOf, type EnvironmentStacks } from '../stacks/system-stacks';
import type { SystemSpec } from '../system/model';
import { SynthesizedSystem } from './helpers/synth';

const SYSTEMS: ReadonlyArray<[string, SystemSpec]> = [
  ['manacore', manacore],
  ['harbor', harbor],
];

/** Which stacks read which, over every stack of the environment. */
function readersOf(environment: EnvironmentStacks, stackName: string): string[] {
  return stacksOf(environment)
    .filter((stack) => stack.readsFrom.includes(stackName))
    .map((stack) => stack.stackName)
    .sort();
}

describe.each(SYSTEMS)('%s: data credentials are readable by their product alone', (_name, system) => {
  const app = new SynthesizedSystem(system);

  it('gives every product using a data container a credentials stack, and no other product one', () => {
    for (const environment of app.environments) {
      const users = environment.environment.products.filter((product) => Object.values(product.data).includes('container'));
      expect(users.length).toBeGreaterThan(0);
      expect([...environment.credentials.keys()].sort()).toEqual(users.map((product) => product.name).sort());
      for (const [product, stack] of environment.credentials) expect(stack.stackName).toBe(`${environment.environment.name}-${product}-credentials`);
    }
  });

  it("spells each URL with the address the data stack's servers listen on", () => {
    for (const environment of app.environments) {
      const { postgres, redis } = environment.data.containers;
      for (const [product, stack] of environment.credentials) {
        const outputs = app.synth(stack.stackName).output ?? {};
        if (outputs.database_url !== undefined) expect({ product, url: outputs.database_url.value }).toEqual({ product, url: expect.stringContaining(`@${postgres!.connectionHost}:5432/`) });
        if (outputs.redis_url !== undefined) expect({ product, url: outputs.redis_url.value }).toEqual({ product, url: expect.stringContaining(`@${redis!.connectionHost}:6379/0`) });
      }
    }
  });

  it('lets a product stack read the network, the edge and its own credentials, never the data stack or another product', () => {
    for (const environment of app.environments) {
      const env = environment.environment.name;
      for (const [product, stack] of environment.products) {
        const own = environment.credentials.get(product)?.stackName;
        const allowed = [`${env}-network`, `${env}-edge`, ...(own === undefined ? [] : [own])];
        expect({ product, reads: stack.readsFrom.filter((name) => !allowed.includes(name)) }).toEqual({ product, reads: [] });
        if (own !== undefined) expect(stack.readsFrom).toContain(own);
        // Still deployed after the data stack: its servers must know the product's role first.
        expect(stack.upstreamStacks.map((upstream) => upstream.stackName)).toContain(`${env}-data`);
      }
    }
  });

  it('has each credentials stack read by the data stack and its own product only', () => {
    for (const environment of app.environments) {
      const env = environment.environment.name;
      for (const [product, stack] of environment.credentials) {
        expect(readersOf(environment, stack.stackName)).toEqual([`${env}-data`, `${env}-${product}`].sort());
      }
      // The data stack's state holds every product's passwords (in its containers' environment): nobody reads it.
      expect(readersOf(environment, `${env}-data`)).toEqual([]);
    }
  });

  it("configures no stack a product reads from another product's credentials, nor with a product password of its own", () => {
    for (const environment of app.environments) {
      for (const [product, stack] of environment.products) {
        const others = [...environment.credentials.values()].filter((credentials) => credentials.product.name !== product).map((credentials) => credentials.stackName);
        for (const read of stack.readsFrom) {
          const text = JSON.stringify(app.synth(read));
          expect({ product, read, leaks: others.filter((other) => text.includes(`outputs-${other}`)) }).toEqual({ product, read, leaks: [] });
          // No state a product reads generates a product's password either.
          if (!read.endsWith('-credentials')) expect(text).not.toMatch(/random_password\.(postgres|redis)-password-/);
        }
      }
    }
  });
});

describe('under Terraform Cloud', () => {
  const app = Testing.app();
  const environments = createSystemStacks(app, manacore, { terraformCloudOrganization: 'acme', onWarning: () => undefined });
  const stacks = environments.flatMap(stacksOf);
  const bootstrap = JSON.parse(Testing.synth(new TerraformCloudBootstrapStack(app, 'bootstrap', { organization: 'acme', stacks }))).resource;
  const consumersOf = (stack: string) =>
    (bootstrap.tfe_workspace_settings[`settings-${stack}`].remote_state_consumer_ids as string[]).map((id) => id.replace(/^\$\{tfe_workspace\.workspace-(.*)\.id\}$/, '$1')).sort();

  it('shares a credentials workspace\'s state with the data workspace and its product\'s only, and the data workspace\'s with none', () => {
    expect(consumersOf('production-chat-credentials')).toEqual(['production-chat', 'production-data']);
    expect(consumersOf('staging-news-credentials')).toEqual(['staging-data', 'staging-news']);
    expect(consumersOf('production-data')).toEqual([]);
    expect(bootstrap.tfe_workspace_settings['settings-production-chat-credentials']).toMatchObject({ global_remote_state: false, execution_mode: 'remote' });
    expect(bootstrap.tfe_workspace['workspace-production-chat-credentials'].tag_names).toEqual(['env:production', 'credentials:chat']);
  });

  it('reads the connection strings with tfe_outputs of its own credentials workspace', () => {
    const chat = JSON.parse(Testing.synth(environments.find((environment) => environment.environment.name === 'production')!.products.get('chat')!));
    expect(Object.keys(chat.data.tfe_outputs).sort()).toEqual(['outputs-production-chat-credentials', 'outputs-production-edge', 'outputs-production-network']);
    expect(chat.data.tfe_outputs['outputs-production-chat-credentials'].workspace).toBe('manacore-production-chat-credentials');
  });
});
