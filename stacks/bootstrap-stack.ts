import { AgentPool } from '@cdktf/provider-tfe/lib/agent-pool';
import { AgentPoolAllowedWorkspaces } from '@cdktf/provider-tfe/lib/agent-pool-allowed-workspaces';
import { AgentToken } from '@cdktf/provider-tfe/lib/agent-token';
import { TfeProvider } from '@cdktf/provider-tfe/lib/provider';
import { Team } from '@cdktf/provider-tfe/lib/team';
import { TeamAccess, type TeamAccessPermissions } from '@cdktf/provider-tfe/lib/team-access';
import { Variable } from '@cdktf/provider-tfe/lib/variable';
import { Workspace } from '@cdktf/provider-tfe/lib/workspace';
import { WorkspaceSettings } from '@cdktf/provider-tfe/lib/workspace-settings';
import { LocalBackend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { TFC_AGENT_TOKEN_VARIABLE } from './network-stack';
import { localStatePath, workspaceName, type SystemStack } from './system-stack';

/** Provider -> the environment variable its credentials come from on a remote run. */
export const PROVIDER_CREDENTIALS: Readonly<Record<string, readonly string[]>> = {
  hcloud: ['HCLOUD_TOKEN'],
  cloudflare: ['CLOUDFLARE_API_TOKEN'],
  github: ['GITHUB_TOKEN'],
  tfe: ['TFE_TOKEN'],
};

export interface TerraformCloudBootstrapStackProps {
  /** Terraform Cloud organization. */
  readonly organization: string;
  /** The stacks that get a workspace (every stack of every environment); each must use the cloud backend. */
  readonly stacks: readonly SystemStack[];
}

/**
 * `bootstrap` (opt-in): the Terraform Cloud workspaces the other stacks run
 * in. One workspace per stack, remote execution, remote state shared only
 * with the workspaces that read it, and every variable a stack declares
 * created by name (values are set in Terraform Cloud, never here, and
 * `ignore_changes` keeps them). Its own state is local: it must exist before
 * any workspace does.
 */
export class TerraformCloudBootstrapStack extends TerraformStack {
  public readonly workspaces: ReadonlyMap<string, Workspace>;

  public constructor(scope: Construct, id: string, props: TerraformCloudBootstrapStackProps) {
    super(scope, id);
    new LocalBackend(this, { path: localStatePath(id) });
    new TfeProvider(this, 'tfe', {});

    // One agent pool per environment whose Docker stacks run on an agent on its host (dockerAccess "agent").
    const agentPools = new Map<string, { pool: AgentPool; token: AgentToken }>();
    for (const stack of props.stacks) {
      const { environment } = stack;
      const access = environment.dockerAccess;
      if (access.mode !== 'agent' || agentPools.has(environment.name)) continue;
      const pool = new AgentPool(this, `agent-pool-${environment.name}`, { name: access.agentPool, organization: props.organization, organizationScoped: false });
      pool.overrideLogicalId(`agent-pool-${environment.name}`);
      const token = new AgentToken(this, `agent-token-${environment.name}`, { agentPoolId: pool.id, description: `Agent on the hosts of ${environment.name}` });
      token.overrideLogicalId(`agent-token-${environment.name}`);
      agentPools.set(environment.name, { pool, token });
    }

    const workspaces = new Map<string, Workspace>();
    for (const stack of props.stacks) {
      const { environment, backend } = stack;
      if (backend.kind !== 'cloud') {
        throw new Error(`The bootstrap stack creates Terraform Cloud workspaces, but ${stack.stackName} uses the local backend: set TFC_ORGANIZATION or the environment's terraformCloud`);
      }
      const product = environment.products.find((p) => p.stackName === stack.stackName);
      const credentialsOf = environment.products.find((p) => p.credentialsStackName === stack.stackName);
      const workspace = new Workspace(this, `workspace-${stack.stackName}`, {
        name: workspaceName(backend, stack.stackName),
        organization: props.organization,
        description: `cdktf stack ${stack.stackName}`,
        terraformVersion: backend.terraformVersion,
        tagNames: [
          `env:${environment.name}`,
          product
            ? `product:${product.name}`
            : credentialsOf
              ? `credentials:${credentialsOf.name}`
              : `platform:${stack.stackName.slice(environment.name.length + 1)}`,
        ],
        // Production never applies without a human confirming the plan.
        autoApply: !environment.production,
        lifecycle: { preventDestroy: true },
      });
      workspace.overrideLogicalId(`workspace-${stack.stackName}`);
      workspaces.set(stack.stackName, workspace);
    }

    const agentWorkspaces = new Map<string, string[]>();
    for (const stack of props.stacks) {
      const workspace = workspaces.get(stack.stackName)!;
      const readers = props.stacks.filter((other) => other.readsFrom.includes(stack.stackName)).map((other) => workspaces.get(other.stackName)!.id);
      const tf = stack.toTerraform() as {
        variable?: Record<string, { sensitive?: boolean; description?: string }>;
        terraform?: { required_providers?: Record<string, unknown> };
      };
      // Stacks with a Docker provider run on the environment's agent, which reaches the daemon over the local socket.
      const agent = 'docker' in (tf.terraform?.required_providers ?? {}) ? agentPools.get(stack.environment.name) : undefined;
      if (agent !== undefined) agentWorkspaces.set(stack.environment.name, [...(agentWorkspaces.get(stack.environment.name) ?? []), workspace.id]);
      new WorkspaceSettings(this, `settings-${stack.stackName}`, {
        workspaceId: workspace.id,
        executionMode: agent === undefined ? 'remote' : 'agent',
        agentPoolId: agent?.pool.id,
        globalRemoteState: false,
        remoteStateConsumerIds: readers,
      });
      for (const [key, variable] of Object.entries(tf.variable ?? {})) {
        if (key === TFC_AGENT_TOKEN_VARIABLE && agentPools.has(stack.environment.name)) {
          // Set here, from the token this stack creates: the network stack writes it into the host's cloud-init.
          new Variable(this, `var-${stack.stackName}-${key}`, {
            workspaceId: workspace.id,
            key,
            category: 'terraform',
            sensitive: true,
            description: variable.description,
            value: agentPools.get(stack.environment.name)!.token.token,
          });
          continue;
        }
        new Variable(this, `var-${stack.stackName}-${key}`, {
          workspaceId: workspace.id,
          key,
          category: 'terraform',
          sensitive: variable.sensitive ?? false,
          description: variable.description,
          // The value is set in Terraform Cloud by a person; applying this stack must not reset it.
          lifecycle: { ignoreChanges: ['value'] },
        });
      }
      // No TFE_TOKEN on a workspace: its stacks use the tfe provider only for tfe_outputs, which then authenticates with
      // the run's own token from the CLI configuration (terraform-provider-tfe internal/client/config.go, getTokenFromCreds;
      // it warns "Authentication method has limited TFE provider permissions"). That token reads exactly the states shared
      // with this workspace (remote_state_consumer_ids above); a user or team token would read every state its owner can,
      // another product's credentials included.
      const credentials = new Set(
        Object.keys(tf.terraform?.required_providers ?? {})
          .filter((provider) => provider !== 'tfe')
          .flatMap((provider) => PROVIDER_CREDENTIALS[provider] ?? []),
      );
      for (const key of [...credentials].sort()) {
        new Variable(this, `env-${stack.stackName}-${key}`, {
          workspaceId: workspace.id,
          key,
          category: 'env',
          sensitive: true,
          description: `Credential of a provider of ${stack.stackName}`,
          lifecycle: { ignoreChanges: ['value'] },
        });
      }
    }
    // Not organization-scoped: only the environment's Docker workspaces may run on its agents.
    for (const [environment, workspaceIds] of agentWorkspaces) {
      new AgentPoolAllowedWorkspaces(this, `agent-pool-workspaces-${environment}`, { agentPoolId: agentPools.get(environment)!.pool.id, allowedWorkspaceIds: workspaceIds });
    }
    this.workspaces = workspaces;
    this.addPipelineTeams(props);
  }

  /**
   * Issue 16: the Terraform Cloud teams whose tokens the delivery workflows hold (README,
   * "Delivery pipeline"). Tokens are created by hand and stored as GitHub environment secrets:
   * a token in this stack's state would be one more place to steal it from.
   * - `<prefix>-pipeline-plan` (token `TF_PLAN_TOKEN` of the `plan` environment): may queue
   *   plans on every workspace and read state outputs; cannot apply, read variables or state.
   * - `<prefix>-pipeline-apply-<env>` (token `TF_API_TOKEN` of `<env>-platform`): may apply
   *   that environment's workspaces only.
   * Custom permissions as the tfe provider defines them (resource_tfe_team_access.go:
   * runs read|plan|apply, variables none|read|write, state_versions none|read-outputs|read|write).
   */
  private addPipelineTeams(props: TerraformCloudBootstrapStackProps): void {
    // Named like the workspaces (`<prefix>-...`, the system name unless the environment sets a prefix).
    const prefixes = [...new Set(props.stacks.map((stack) => (stack.backend.kind === 'cloud' ? stack.backend.workspacePrefix : stack.stackName)))];
    const system = prefixes.join('-');
    // A credentials workspace's outputs are passwords: the pipeline records a digest of its configuration instead
    // (deploy-stage.yml), so its teams need no state access there at all.
    const credentialsStacks = new Set(props.stacks.flatMap((stack) => stack.environment.products.map((product) => product.credentialsStackName)));
    const least = (runs: 'plan' | 'apply', stack: SystemStack): TeamAccessPermissions => ({
      runs,
      variables: 'none',
      stateVersions: credentialsStacks.has(stack.stackName) ? 'none' : 'read-outputs',
      sentinelMocks: 'none',
      workspaceLocking: false,
      runTasks: false,
    });
    const plan = new Team(this, 'team-pipeline-plan', { name: `${system}-pipeline-plan`, organization: props.organization, visibility: 'secret' });
    const applyTeams = new Map<string, Team>();
    for (const stack of props.stacks) {
      const environment = stack.environment.name;
      let apply = applyTeams.get(environment);
      if (apply === undefined) {
        apply = new Team(this, `team-pipeline-apply-${environment}`, { name: `${system}-pipeline-apply-${environment}`, organization: props.organization, visibility: 'secret' });
        applyTeams.set(environment, apply);
      }
      const workspaceId = this.workspaces.get(stack.stackName)!.id;
      new TeamAccess(this, `access-plan-${stack.stackName}`, { teamId: plan.id, workspaceId, permissions: [least('plan', stack)] });
      new TeamAccess(this, `access-apply-${stack.stackName}`, { teamId: apply.id, workspaceId, permissions: [least('apply', stack)] });
    }
  }
}
