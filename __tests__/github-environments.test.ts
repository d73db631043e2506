/**
 * GitHub: one deployment environment per product stack, named like it;
 * production gated by reviewers and a main-only branch policy; secrets only
 * as references to sensitive variables; repository-level pipeline secrets
 * owned by one stack; and no secret in plain text anywhere in cdktf.out.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing, TerraformStack } from 'cdktf';
import { Duration } from '../constructs/core/duration';
import { SecretValue } from '../constructs/core/secret-value';
import { DeploymentEnvironment } from '../constructs/github/deployment-environment';
import { manacore } from '../environments';
import { createSystemStacks } from '../stacks/system-stacks';
import { environmentOf, variant } from './helpers/spec';
import { dataSources, onlyResource, resourceList, resources, SynthesizedSystem } from './helpers/synth';

let app: SynthesizedSystem;
beforeAll(() => {
  app = new SynthesizedSystem(manacore);
});

const environmentOfStack = (stack: string) => onlyResource(app.synth(stack), 'github_repository_environment');
const variablesOf = (stack: string) =>
  Object.fromEntries(resourceList(app.synth(stack), 'github_actions_environment_variable').map((v) => [v.variable_name, v.value]));
const secretsOf = (stack: string) =>
  Object.fromEntries(resourceList(app.synth(stack), 'github_actions_environment_secret').map((s) => [s.secret_name, s.plaintext_value]));

describe('deployment environments', () => {
  it('exist once per product stack, named exactly like the stack', () => {
    for (const stack of ['production-chat', 'staging-chat', 'production-memoro', 'production-bauntown', 'staging-mana-core-auth']) {
      expect(environmentOfStack(stack)).toMatchObject({ environment: stack, repository: 'manacore-monorepo' });
    }
    // The network stack holds only the pipeline's own environments (issue 16, __tests__/pipeline-environments.test.ts).
    expect(resourceList(app.synth('production-network'), 'github_repository_environment').map((e) => e.environment).sort()).toEqual(['plan', 'plan-data', 'production-platform']);
    expect(resources(app.synth('production-data'), 'github_repository_environment')).toEqual({});
  });

  it('require the platform team in production, with a wait timer, no self review and no admin bypass', () => {
    const environment = environmentOfStack('production-chat');
    expect(environment).toMatchObject({ wait_timer: 5, prevent_self_review: true, can_admins_bypass: false });
    expect(environment.reviewers).toEqual([{ teams: ['${data.github_team.deployment-environment_team-platform_05683D20.id}'], users: [] }]);
    expect(Object.values(dataSources(app.synth('production-chat'), 'github_team'))).toEqual([expect.objectContaining({ slug: 'platform', summary_only: true })]);
  });

  it('deploy only from main, in staging and production', () => {
    for (const stack of ['production-chat', 'staging-chat']) {
      expect(environmentOfStack(stack).deployment_branch_policy).toEqual({ protected_branches: false, custom_branch_policies: true });
      expect(resourceList(app.synth(stack), 'github_repository_environment_deployment_policy')).toEqual([
        expect.objectContaining({ branch_pattern: 'main', environment: '${github_repository_environment.deployment-environment.environment}' }),
      ]);
    }
  });

  it('let staging deploy without review', () => {
    const environment = environmentOfStack('staging-mana-core-auth');
    expect(environment.reviewers).toBeUndefined();
    expect(environment).toMatchObject({ wait_timer: 0, prevent_self_review: false });
    expect(dataSources(app.synth('staging-chat'), 'github_team')).toEqual({});
  });

  it('carry the public URL, image tags, service URLs and the server addresses as variables', () => {
    expect(variablesOf('production-chat')).toEqual({
      DEPLOY_URL: 'https://app-chat.manacore.app',
      SERVER_IPV4: '${data.terraform_remote_state.outputs-production-network.outputs.host_app_1_ipv4}',
      SERVER_IPV6: '${data.terraform_remote_state.outputs-production-network.outputs.host_app_1_ipv6}',
      BACKEND_IMAGE_TAG: 'main-0000000',
      BACKEND_URL: 'https://api-chat.manacore.app',
      WEB_IMAGE_TAG: 'main-0000000',
      WEB_URL: 'https://app-chat.manacore.app',
      LANDING_IMAGE_TAG: 'main-0000000',
      LANDING_URL: 'https://chat.manacore.app',
      MOBILE_URL: 'https://ota-chat.manacore.app',
      MOBILE_BUCKET: '${cloudflare_r2_bucket.chat-mobile-ota.name}',
      MOBILE_S3_ENDPOINT: 'https://${var.cloudflare_account_id}.r2.cloudflarestorage.com',
    });
    expect(variablesOf('staging-bauntown')).toMatchObject({ DEPLOY_URL: 'https://staging-bauntown.manacore.app', LANDING_URL: 'https://staging-bauntown.manacore.app' });
    expect(variablesOf('production-mana-core-auth')).toMatchObject({ DEPLOY_URL: 'https://auth.manacore.app', BACKEND_IMAGE_TAG: 'main-0000000' });
  });

  it('take secrets only from sensitive variables, the same ones the containers read', () => {
    expect(secretsOf('production-chat')).toEqual({
      AZURE_OPENAI_API_KEY: '${var.azure_openai_api_key}',
      OTA_R2_ACCESS_KEY_ID: '${var.ota_r2_access_key_id}',
      OTA_R2_SECRET_ACCESS_KEY: '${var.ota_r2_secret_access_key}',
    });
    expect(secretsOf('production-mana-core-auth')).toEqual({ JWT_PRIVATE_KEY: '${var.jwt_private_key}' });
    expect(secretsOf('production-bauntown')).toEqual({});
    expect(secretsOf('staging-memoro')).toEqual({ OTA_R2_ACCESS_KEY_ID: '${var.ota_r2_access_key_id}', OTA_R2_SECRET_ACCESS_KEY: '${var.ota_r2_secret_access_key}' });
    const containerEnv = resourceList(app.synth('production-chat'), 'docker_container').flatMap((container) => container.env ?? []);
    expect(containerEnv).toContain('AZURE_OPENAI_API_KEY=${var.azure_openai_api_key}');
    const variables = app.synth('production-chat').variable!;
    for (const name of ['azure_openai_api_key', 'ota_r2_access_key_id', 'ota_r2_secret_access_key']) {
      expect(variables[name]).toMatchObject({ sensitive: true });
      expect(variables[name]).not.toHaveProperty('default');
    }
  });
});

describe('repository-level pipeline secrets', () => {
  it('are owned by production-network alone, never duplicated across stacks', () => {
    const owners = app.stackNames.filter((stack) => Object.keys(resources(app.synth(stack), 'github_actions_secret')).length > 0);
    expect(owners).toEqual(['production-network']);
    expect(resourceList(app.synth('production-network'), 'github_actions_secret')).toEqual([
      expect.objectContaining({ secret_name: 'REGISTRY_TOKEN', plaintext_value: '${var.pipeline_registry_token}', repository: 'manacore-monorepo' }),
    ]);
  });

  it('never include a Terraform Cloud token, even when the stacks run in Terraform Cloud (issue 16)', () => {
    // A repository secret reaches pull-request jobs; the plan and apply tokens are environment secrets set by hand.
    const cloud = new SynthesizedSystem(variant(manacore, (system) => (system.environments = [environmentOf(system, 'production')])), {
      terraformCloudOrganization: 'manacore',
    });
    expect(resourceList(cloud.synth('production-network'), 'github_actions_secret').map((secret) => [secret.secret_name, secret.plaintext_value])).toEqual([
      ['REGISTRY_TOKEN', '${var.pipeline_registry_token}'],
    ]);
    expect(cloud.synth('production-network').variable).not.toHaveProperty('pipeline_tfc_token');
  });
});

describe('DeploymentEnvironment', () => {
  const stackWith = () => new TerraformStack(Testing.app(), 'test');

  it('refuses approval without reviewers, too many reviewers and a wait timer beyond 30 days', () => {
    const stack = stackWith();
    expect(() => new DeploymentEnvironment(stack, 'a', { repository: 'r', name: 'prod', requireApproval: true })).toThrow(/cannot require approval from nobody/);
    const users = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    expect(() => new DeploymentEnvironment(stack, 'b', { repository: 'r', name: 'prod', reviewerUsers: users })).toThrow(/7 reviewers given; GitHub allows at most 6/);
    expect(() => new DeploymentEnvironment(stack, 'c', { repository: 'r', name: 'prod', waitTimer: Duration.days(31) })).toThrow(/0 to 43200/);
  });

  it('refuses reserved and malformed names and a second value for one name', () => {
    const environment = new DeploymentEnvironment(stackWith(), 'env', { repository: 'r', name: 'staging-chat' });
    expect(() => environment.addVariable('GITHUB_SHA', 'x')).toThrow(/prefix GitHub reserves/);
    expect(() => environment.addVariable('1ST', 'x')).toThrow(/may not start with a digit/);
    environment.addVariable('TAG', 'x');
    expect(() => environment.addVariable('TAG', 'y')).toThrow(/variable TAG is set twice/);
    expect(() => environment.url('http://insecure.example.com')).toThrow(/must be https/);
  });

  it('accepts a secret only as a sensitive variable without default', () => {
    const stack = stackWith();
    const environment = new DeploymentEnvironment(stack, 'env', { repository: 'r', name: 'staging-chat' });
    environment.addSecret('API_KEY', SecretValue.variable(stack, 'api_key', 'test'));
    const json = JSON.parse(Testing.synth(stack));
    expect(Object.values(json.resource.github_actions_environment_secret)).toEqual([expect.objectContaining({ plaintext_value: '${var.api_key}' })]);
  });
});

describe('no plaintext secret in cdktf.out', () => {
  it('synthesizes the whole App and finds only variable references where secrets go', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdktf-out-'));
    try {
      const whole = new App({ outdir, stackTraces: false });
      createSystemStacks(whole, manacore, { onWarning: () => undefined });
      whole.synth();
      const files = walk(outdir);
      const stacks = files.filter((file) => file.endsWith('cdk.tf.json'));
      expect(stacks.length).toBeGreaterThan(20);
      for (const file of stacks) {
        const json = JSON.parse(fs.readFileSync(file, 'utf8'));
        for (const [name, variable] of Object.entries<any>(json.variable ?? {})) {
          if (variable.sensitive) expect({ file, name, default: variable.default }).toEqual({ file, name, default: undefined });
        }
        for (const type of ['github_actions_environment_secret', 'github_actions_secret']) {
          for (const secret of Object.values<any>(json.resource?.[type] ?? {})) {
            expect(secret.plaintext_value).toMatch(/^\$\{var\.[a-z0-9_]+\}$/);
            expect(secret.encrypted_value).toBeUndefined();
          }
        }
      }
      // Token shapes that must never appear, in any file cdktf wrote.
      const shapes = [/\bgh[pousr]_[A-Za-z0-9]{30,}/, /\bgithub_pat_[A-Za-z0-9_]{20,}/, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, /\.atlasv1\./, /\bAKIA[0-9A-Z]{16}\b/];
      for (const file of files) {
        const text = fs.readFileSync(file, 'utf8');
        for (const shape of shapes) expect({ file, found: shape.exec(text)?.[0] }).toEqual({ file, found: undefined });
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

function walk(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}
