import { TfeProvider } from '@cdktf/provider-tfe/lib/provider';
import { Variable } from '@cdktf/provider-tfe/lib/variable';
import { Workspace } from '@cdktf/provider-tfe/lib/workspace';
import { WorkspaceSettings } from '@cdktf/provider-tfe/lib/workspace-settings';
import { LocalBackend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
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

    const workspaces = new Map<string, Workspace>();
    for (const stack of props.stacks) {
      const { environment, backend } = stack;
      if (backend.kind !== 'cloud') {
        throw new Error(`The bootstrap stack creates Terraform Cloud workspaces, but ${stack.stackName} uses the local backend: set TFC_ORGANIZATION or the environment's terraformCloud`);
      }
      const product = environment.products.find((p) => p.stackName === stack.stackName);
      const workspace = new Workspace(this, `workspace-${stack.stackName}`, {
        name: workspaceName(backend, stack.stackName),
        organization: props.organization,
        description: `cdktf stack ${stack.stackName}`,
        terraformVersion: backend.terraformVersion,
        tagNames: [`env:${environment.name}`, product ? `product:${product.name}` : `platform:${stack.stackName.slice(environment.name.length + 1)}`],
        // Production never applies without a human confirming the plan.
        autoApply: !environment.production,
        lifecycle: { preventDestroy: true },
      });
      workspace.overrideLogicalId(`workspace-${stack.stackName}`);
      workspaces.set(stack.stackName, workspace);
    }

    for (const stack of props.stacks) {
      const workspace = workspaces.get(stack.stackName)!;
      const readers = props.stacks.filter((other) => other.readsFrom.includes(stack.stackName)).map((other) => workspaces.get(other.stackName)!.id);
      new WorkspaceSettings(this, `settings-${stack.stackName}`, {
        workspaceId: workspace.id,
        executionMode: 'remote',
        globalRemoteState: false,
        remoteStateConsumerIds: readers,
      });

      const tf = stack.toTerraform() as { variable?: Record<string, { sensitive?: boolean; description?: string }>; terraform?: { required_providers?: Record<string, unknown> } };
      for (const [key, variable] of Object.entries(tf.variable ?? {})) {
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
      const credentials = new Set(Object.keys(tf.terraform?.required_providers ?? {}).flatMap((provider) => PROVIDER_CREDENTIALS[provider] ?? []));
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
    this.workspaces = workspaces;
  }
}
