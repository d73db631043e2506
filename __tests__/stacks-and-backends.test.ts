/**
 * The App as a whole: which stacks exist and what they are called, the
 * Terraform addresses of stateful resources, how product stacks read the
 * network stack, and both state backends (local files, Terraform Cloud).
 */
import { manacore } from '../environments';
import { environmentOf, keepOnly, variant } from './helpers/spec';
import { SynthesizedSystem, dataSources, pathsOfKey, resolveIn, resources } from './helpers/synth';

/** The products an environment lists, in order; derived, so a new product (in one environment or both) changes no test. */
const productsOf = (environment: string): string[] => manacore.environments.find((spec) => spec.name === environment)!.products.map((deployment) => deployment.product);
/** Every product some environment runs. */
const PRODUCTS = [...new Set(manacore.environments.flatMap((spec) => productsOf(spec.name)))];
const ENVIRONMENTS = ['staging', 'production'] as const;
const PRIVATE_HOST_IPS = ['10.10.1.10', '10.20.1.10'];

let app: SynthesizedSystem;
let cloud: SynthesizedSystem;

beforeAll(() => {
  app = new SynthesizedSystem(manacore);
  cloud = new SynthesizedSystem(manacore, { terraformCloudOrganization: 'acme' });
});

describe('stack names', () => {
  it.each(ENVIRONMENTS)('creates the network stack, the data stack and one stack per enabled product in %s', (environment) => {
    const stacks = app.environment(environment);
    expect(stacks.network.stackName).toBe(`${environment}-network`);
    expect(stacks.data.stackName).toBe(`${environment}-data`);
    expect([...stacks.products.keys()]).toEqual(productsOf(environment));
    expect([...stacks.products.values()].map((stack) => stack.stackName)).toEqual(productsOf(environment).map((product) => `${environment}-${product}`));
  });

  it('names every stack of the App <env>-<part>, so `cdktf deploy production-chat` addresses one', () => {
    const expected = ENVIRONMENTS.flatMap((environment) => [`${environment}-network`, `${environment}-data`, ...productsOf(environment).map((product) => `${environment}-${product}`)]);
    expect(app.stackNames).toEqual(expect.arrayContaining(expected));
    expect(app.stackNames).toContain('staging-mana-core-auth');
    expect(app.stackNames).toContain('production-chat');
    // Platform stacks added later (edge, monitoring, a product's credentials) follow the same scheme.
    const known = new RegExp(`^(staging|production)-(network|edge|data|monitoring|(${PRODUCTS.join('|')})(-credentials)?)$`);
    expect(app.stackNames.filter((name) => !known.test(name))).toEqual([]);
    expect(new Set(app.stackNames).size).toBe(app.stackNames.length);
  });

  it('creates product stacks only for the products an environment enables', () => {
    const system = variant(manacore, (copy) => {
      keepOnly(copy, ['staging', 'production'], ['mana-core-auth', 'chat', 'picture', 'bauntown']);
      const staging = environmentOf(copy, 'staging');
      staging.products = staging.products.filter((deployment) => deployment.product !== 'picture');
    });
    const stacks = new SynthesizedSystem(system);
    expect([...stacks.environment('staging').products.keys()]).toEqual(['mana-core-auth', 'chat', 'bauntown']);
    expect(stacks.stackNames).not.toContain('staging-picture');
    expect(stacks.stackNames).toContain('production-picture');
  });
});

describe('stable Terraform addresses of stateful resources', () => {
  it.each(ENVIRONMENTS)('keeps %s host and address ids readable and fixed', (environment) => {
    const network = app.synth(`${environment}-network`);
    expect(Object.keys(resources(network, 'hcloud_server'))).toEqual(['host-app-1']);
    expect(Object.keys(resources(network, 'hcloud_primary_ip')).sort()).toEqual(['host-app-1-ipv4', 'host-app-1-ipv6']);
  });

  it.each(ENVIRONMENTS)('keeps %s volume ids readable and fixed', (environment) => {
    const data = app.synth(`${environment}-data`);
    expect(Object.keys(resources(data, 'hcloud_volume')).sort()).toEqual(['postgres-volume', 'redis-volume']);
    expect(Object.keys(resources(data, 'hcloud_volume_attachment')).sort()).toEqual(['postgres-volume-attachment', 'redis-volume-attachment']);
  });
});

describe('local backend', () => {
  it('keeps each stack\'s state in the project root under a relative path', () => {
    for (const name of app.stackNames) {
      expect(app.synth(name).terraform.backend).toEqual({ local: { path: `../../../terraform.${name}.tfstate` } });
    }
  });

  it.each(ENVIRONMENTS)('lets every %s product stack read the network outputs through local remote state', (environment) => {
    for (const product of productsOf(environment)) {
      const json = app.synth(`${environment}-${product}`);
      expect(dataSources(json, 'terraform_remote_state')[`outputs-${environment}-network`]).toMatchObject({
        backend: 'local',
        config: { path: `../../../terraform.${environment}-network.tfstate` },
      });
    }
  });

  it('hands product stacks the host addresses as remote-state references, never copied values', () => {
    const chat = app.environment('production').products.get('chat')!;
    expect(resolveIn(chat, chat.hostAddresses)).toEqual({
      ipv4: '${data.terraform_remote_state.outputs-production-network.outputs.host_app_1_ipv4}',
      ipv6: '${data.terraform_remote_state.outputs-production-network.outputs.host_app_1_ipv6}',
    });
  });

  it('writes no host address literally into any product stack', () => {
    for (const environment of ENVIRONMENTS) {
      for (const product of productsOf(environment)) {
        const json = app.synth(`${environment}-${product}`);
        // The reads' conditions name the outputs they check (system-stack.ts, StackOutputs): only values count here.
        const text = JSON.stringify({ ...json, data: undefined, dataNames: Object.keys(json.data ?? {}) });
        for (const ip of PRIVATE_HOST_IPS) expect(text).not.toContain(ip);
        // Any mention of a host output goes through the network stack's state.
        const mentions = text.match(/[\w.-]*host_app_1_(ipv4|ipv6|private_ip|server_id)/g) ?? [];
        expect(mentions.filter((mention) => !mention.startsWith(`data.terraform_remote_state.outputs-${environment}-network.outputs.`))).toEqual([]);
      }
    }
  });
});

describe('deploy order without cdktf dependencies', () => {
  it('refuses at synth a stack that would build on a later stage or another environment', () => {
    const production = app.environment('production');
    expect(() => production.network.deploysAfter(production.data)).toThrow(
      'Stack production-network (stage network) cannot build on production-data (stage data): a stack reads only from earlier stages of its own environment, in the order of DEPLOY_STAGES (stacks/deploy-order.ts)',
    );
    expect(() => production.products.get('chat')!.deploysAfter(app.environment('staging').network)).toThrow(/production-chat .* cannot build on staging-network/);
  });

  it('guards every read of another stack: the state must exist and hold what is read, or the plan names what to deploy first', () => {
    const json = app.synth('staging-chat');
    const reads = dataSources(json, 'terraform_remote_state');
    expect(Object.keys(reads).sort()).toEqual(['outputs-staging-chat-credentials', 'outputs-staging-edge', 'outputs-staging-network']);
    const network = reads['outputs-staging-network'];
    expect(network.depends_on).toBeUndefined();
    // Read one after the other in deploy order, so only the first missing stack reports.
    expect(reads['outputs-staging-edge'].depends_on).toEqual(['data.terraform_remote_state.outputs-staging-network']);
    expect(reads['outputs-staging-chat-credentials'].depends_on).toEqual(['data.terraform_remote_state.outputs-staging-edge']);
    expect(network.lifecycle.precondition[0].condition).toBe('${fileexists("${path.module}/../../../terraform.staging-network.tfstate")}');
    const message: string = network.lifecycle.precondition[0].error_message;
    const lines = message.split('\n');
    expect(lines[0]).toBe('staging-chat reads outputs of staging-network, which has not been deployed yet (no state file ../../../terraform.staging-network.tfstate).');
    const commands = lines.filter((line) => line.startsWith('  cdktf deploy '));
    expect(commands.slice(0, 2)).toEqual(['  cdktf deploy staging-network', '  cdktf deploy staging-edge']);
    expect(commands[2].split(' ').slice(4).every((stack) => stack.endsWith('-credentials'))).toBe(true);
    expect(commands[2]).toContain('staging-chat-credentials');
    expect(commands.slice(3)).toEqual(['  cdktf deploy staging-data']);
    expect(lines.slice(-2)).toEqual(['then: cdktf deploy staging-chat', "Or deploy the whole environment in order: npm run deploy -- 'staging-*'"]);
    expect(network.lifecycle.postcondition[0].condition).toBe(
      '${alltrue([for name in ["cloudflare_zone_id","host_app_1_ipv4","host_app_1_ipv6"] : contains(keys(self.outputs), name)])}',
    );
  });
});

describe('Terraform Cloud backend', () => {
  it('gives every stack a `cloud` block with the organization and its own workspace', () => {
    for (const name of cloud.stackNames) {
      const terraform = cloud.synth(name).terraform;
      expect(terraform.cloud).toEqual({ organization: 'acme', workspaces: { name: `manacore-${name}` } });
      expect(terraform.backend).toBeUndefined();
    }
  });

  it('lets product stacks read network outputs through tfe_outputs instead of remote state', () => {
    const chat = cloud.synth('production-chat');
    expect(dataSources(chat, 'tfe_outputs')['outputs-production-network']).toMatchObject({ organization: 'acme', workspace: 'manacore-production-network' });
    expect(dataSources(chat, 'terraform_remote_state')).toEqual({});
    expect(chat.terraform.required_providers?.tfe).toMatchObject({ source: 'hashicorp/tfe' });
    const stack = cloud.environment('production').products.get('chat')!;
    expect(resolveIn(stack, stack.hostAddresses.ipv4)).toBe('${data.tfe_outputs.outputs-production-network.nonsensitive_values["host_app_1_ipv4"]}');
  });

  it('attaches data volumes to the server id read from the network workspace', () => {
    const data = cloud.synth('staging-data');
    expect(resources(data, 'hcloud_volume_attachment')['postgres-volume-attachment'].server_id).toBe(
      '${data.tfe_outputs.outputs-staging-network.nonsensitive_values["host_app_1_server_id"]}',
    );
  });

  it('takes an environment\'s own organization and workspace prefix over the App-wide one', () => {
    const system = variant(manacore, (copy) => {
      keepOnly(copy, ['staging', 'production'], []);
      environmentOf(copy, 'staging').terraformCloud = { organization: 'manacore-labs', workspacePrefix: 'mc' };
    });
    const stacks = new SynthesizedSystem(system, { terraformCloudOrganization: 'acme' });
    expect(stacks.synth('staging-network').terraform.cloud).toEqual({ organization: 'manacore-labs', workspaces: { name: 'mc-staging-network' } });
    expect(stacks.synth('production-network').terraform.cloud).toEqual({ organization: 'acme', workspaces: { name: 'manacore-production-network' } });
  });
});

describe('provider 1.68.0 compatibility', () => {
  it('never sets `datacenter`, which provider 1.68.0 rejects', () => {
    for (const name of app.stackNames) expect(pathsOfKey(app.synth(name), 'datacenter')).toEqual([]);
  });
});
