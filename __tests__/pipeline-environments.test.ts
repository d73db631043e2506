/**
 * Issue 16: the GitHub environments and Terraform Cloud teams the delivery pipeline runs with,
 * created in code (constructs/github/pipeline-environments.ts, stacks/bootstrap-stack.ts).
 */
import { Testing, TerraformStack } from 'cdktf';
import { manacore } from '../environments';
import { DeploymentEnvironment } from '../constructs/github/deployment-environment';
import { PLAN_ENVIRONMENT, SENSITIVE_PLAN_ENVIRONMENT, platformEnvironmentName } from '../constructs/github/pipeline-environments';
import { TerraformCloudBootstrapStack } from '../stacks/bootstrap-stack';
import { createSystemStacks, stacksOf } from '../stacks/system-stacks';
import { nutri } from '../examples/nutri';
import { resourceList, SynthesizedSystem, synthStack } from './helpers/synth';

describe('pipeline environments in code', () => {
  it('every system environment gets <env>-platform from its network stack, and the system one plan environment', () => {
    for (const system of [manacore, nutri]) {
      const app = new SynthesizedSystem(system);
      // Product stacks own their product environments (github-environments.test.ts); the pipeline's are in network stacks.
      const owners = app.stackNames.filter((stack) => stack.endsWith('-network')).flatMap((stack) => resourceList(app.synth(stack), 'github_repository_environment').map((e) => `${stack}:${e.environment}`));
      const expected = system.environments.map((env) => `${env.name}-network:${platformEnvironmentName(env.name)}`);
      const productionNetwork = `${(system.environments.find((env) => env.production) ?? system.environments[0]).name}-network`;
      expect(owners.sort()).toEqual([...expected, `${productionNetwork}:${PLAN_ENVIRONMENT}`, `${productionNetwork}:${SENSITIVE_PLAN_ENVIRONMENT}`].sort());
    }
  });

  it('takes reviewers and wait timer of the environment file', () => {
    const app = new SynthesizedSystem(nutri);
    const platform = resourceList(app.synth('production-network'), 'github_repository_environment').find((e) => e.environment === 'production-platform');
    expect(platform.reviewers).toEqual([{ teams: [], users: [expect.stringContaining('data.github_user')] }]);
    expect(platform).toMatchObject({ prevent_self_review: true, can_admins_bypass: false });
  });

  it("deployBranches 'all' leaves the environment without a branch policy; an empty list is refused", () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    new DeploymentEnvironment(stack, 'open', { repository: 'r', name: 'plan', deployBranches: 'all' });
    const json = synthStack(stack);
    expect(resourceList(json, 'github_repository_environment')[0].deployment_branch_policy).toBeUndefined();
    expect(resourceList(json, 'github_repository_environment_deployment_policy')).toEqual([]);
    expect(() => new DeploymentEnvironment(stack, 'closed', { repository: 'r', name: 'x', deployBranches: [] })).toThrow(/deployBranches is empty/);
  });
});

describe('Terraform Cloud teams of the pipeline (bootstrap)', () => {
  const app = Testing.app();
  const stacks = createSystemStacks(app, manacore, { terraformCloudOrganization: 'acme', onWarning: () => undefined }).flatMap(stacksOf);
  const resources = JSON.parse(Testing.synth(new TerraformCloudBootstrapStack(app, 'bootstrap', { organization: 'acme', stacks }))).resource;
  const access = Object.entries(resources.tfe_team_access as Record<string, any>);

  // A credentials workspace's outputs are passwords: the pipeline never reads them (deploy-stage.yml, outputs-readable).
  const stateAccess = (id: string) => (/-credentials$/.test(id) ? 'none' : 'read-outputs');

  it('has one plan team on every workspace that may plan and read outputs (none of a credentials workspace), nothing more', () => {
    expect(resources.tfe_team['team-pipeline-plan']).toMatchObject({ name: 'manacore-pipeline-plan', organization: 'acme', visibility: 'secret' });
    const plan = access.filter(([id]) => id.startsWith('access-plan-'));
    expect(plan).toHaveLength(stacks.length);
    expect(plan.filter(([id]) => stateAccess(id) === 'none').length).toBeGreaterThan(0);
    for (const [id, grant] of plan) {
      expect(grant.permissions).toEqual([{ runs: 'plan', variables: 'none', state_versions: stateAccess(id), sentinel_mocks: 'none', workspace_locking: false, run_tasks: false }]);
      expect(grant.access).toBeUndefined();
    }
  });

  it('has one apply team per environment, granted on that environment\'s workspaces only', () => {
    expect(Object.keys(resources.tfe_team).sort()).toEqual(['team-pipeline-apply-production', 'team-pipeline-apply-staging', 'team-pipeline-plan']);
    for (const [id, grant] of access.filter(([name]) => name.startsWith('access-apply-'))) {
      const env = id.slice('access-apply-'.length).split('-')[0];
      expect(grant.team_id).toBe(`\${tfe_team.team-pipeline-apply-${env}.id}`);
      expect(grant.workspace_id).toContain(`workspace-${env}-`);
      expect(grant.permissions[0]).toMatchObject({ runs: 'apply', variables: 'none', state_versions: stateAccess(id) });
    }
  });

  it('holds no team token: tokens are made by hand and live only in GitHub environments', () => {
    expect(resources.tfe_team_token).toBeUndefined();
  });
});
