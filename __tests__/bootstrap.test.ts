import { Testing } from 'cdktf';
import { manacore } from '../environments';
import { TerraformCloudBootstrapStack } from '../stacks/bootstrap-stack';
import { createSystemStacks, stacksOf } from '../stacks/system-stacks';

type Resources = Record<string, Record<string, Record<string, unknown>>>;

describe('Terraform Cloud bootstrap stack', () => {
  let resources: Resources;
  let stackNames: string[];

  beforeAll(() => {
    const app = Testing.app();
    const environments = createSystemStacks(app, manacore, { terraformCloudOrganization: 'acme', onWarning: () => undefined });
    const stacks = environments.flatMap(stacksOf);
    stackNames = stacks.map((s) => s.stackName);
    const bootstrap = new TerraformCloudBootstrapStack(app, 'bootstrap', { organization: 'acme', stacks });
    resources = JSON.parse(Testing.synth(bootstrap)).resource;
  });

  it('creates one workspace per stack, named <prefix>-<stack>, with env and product tags', () => {
    const workspaces = Object.values(resources.tfe_workspace!);
    expect(workspaces.map((w) => w.name).sort()).toEqual(stackNames.map((s) => `manacore-${s}`).sort());
    expect(resources.tfe_workspace!['workspace-production-chat']).toMatchObject({
      organization: 'acme',
      tag_names: ['env:production', 'product:chat'],
      auto_apply: false,
      lifecycle: { prevent_destroy: true },
    });
    expect(resources.tfe_workspace!['workspace-staging-network']).toMatchObject({ tag_names: ['env:staging', 'platform:network'], auto_apply: true });
  });

  it('runs remotely and shares state only with the workspaces that read it', () => {
    const settings = resources.tfe_workspace_settings!;
    expect(settings['settings-production-network']).toMatchObject({ execution_mode: 'remote', global_remote_state: false });
    const consumers = settings['settings-production-network']!.remote_state_consumer_ids as string[];
    expect(consumers).toContain('${tfe_workspace.workspace-production-chat.id}');
    expect(consumers).toContain('${tfe_workspace.workspace-production-data.id}');
    expect(consumers.some((id) => id.includes('staging'))).toBe(false);
    // Nobody reads a product stack.
    expect(settings['settings-production-chat']!.remote_state_consumer_ids).toEqual([]);
  });

  it('declares each stack variable and provider credential by name only, keeping values set outside the code', () => {
    const variables = Object.values(resources.tfe_variable!);
    const ssh = variables.find((v) => v.key === 'ssh_public_key_platform_admin' && String(v.workspace_id).includes('production-network'));
    expect(ssh).toMatchObject({ category: 'terraform', sensitive: false, lifecycle: { ignore_changes: ['value'] } });
    const token = variables.find((v) => v.key === 'HCLOUD_TOKEN' && String(v.workspace_id).includes('production-network'));
    expect(token).toMatchObject({ category: 'env', sensitive: true });
    // Every value is set outside the code, except the agent token, which is this stack's own tfe_agent_token.
    for (const variable of variables.filter((v) => v.key !== 'tfc_agent_token')) expect(variable.value).toBeUndefined();
    const agentTokens = variables.filter((v) => v.key === 'tfc_agent_token');
    expect(agentTokens.map((v) => v.value).sort()).toEqual(['${tfe_agent_token.agent-token-production.token}', '${tfe_agent_token.agent-token-staging.token}']);
  });

  it("sets no TFE_TOKEN on any workspace: tfe_outputs reads with the run's token, limited to the states shared with it", () => {
    const variables = Object.values(resources.tfe_variable!);
    expect(variables.filter((v) => v.key === 'TFE_TOKEN' || v.key === 'TF_TOKEN_app_terraform_io').map((v) => v.workspace_id)).toEqual([]);
    // The product workspaces do use the tfe provider (tfe_outputs), so this is a decision, not an absence.
    expect(variables.some((v) => v.key === 'CLOUDFLARE_API_TOKEN' && String(v.workspace_id).includes('production-chat'))).toBe(true);
  });

  it('refuses stacks on the local backend', () => {
    const app = Testing.app();
    const stacks = createSystemStacks(app, manacore, { onWarning: () => undefined }).flatMap(stacksOf);
    expect(() => new TerraformCloudBootstrapStack(app, 'bootstrap', { organization: 'acme', stacks })).toThrow(
      /creates Terraform Cloud workspaces, but staging-network uses the local backend/,
    );
  });
});
