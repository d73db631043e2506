import { App } from 'cdktf';
import { configureTokenStackTraces } from '../constructs/core/token-stack-traces';
import type { SystemSpec } from '../system/model';
import { TerraformCloudBootstrapStack } from './bootstrap-stack';
import { createSystemStacks, stacksOf, type EnvironmentStacks, type SystemStacksOptions } from './system-stacks';

export interface SynthesizeSystemOptions extends SystemStacksOptions {
  /**
   * Add the `bootstrap` stack, which creates the Terraform Cloud workspaces
   * of every other stack (needs `terraformCloudOrganization`).
   * @default false
   */
  readonly bootstrap?: boolean;
  /** Where cdktf writes the stacks. @default - cdktf's default (`cdktf.out`, or the CLI's choice) */
  readonly outdir?: string;
}

/** What `synthesizeSystem` built. */
export interface SynthesizedSystemApp {
  readonly app: App;
  readonly environments: readonly EnvironmentStacks[];
}

/**
 * A cdktf app's whole `main.ts`: validates the system, builds every stack of
 * every environment (and the bootstrap stack when asked) and synthesizes
 * them. Stack traces in resource metadata and on tokens are off (they cost a
 * fifth of synth time); `CDKTF_TOKEN_STACK_TRACES=1` brings token traces back.
 */
export function synthesizeSystem(system: SystemSpec, options: SynthesizeSystemOptions = {}): SynthesizedSystemApp {
  configureTokenStackTraces();
  const app = new App({ stackTraces: false, outdir: options.outdir });
  const organization = options.terraformCloudOrganization;
  const environments = createSystemStacks(app, system, options);
  if (options.bootstrap) {
    if (!organization) throw new Error('The bootstrap stack needs a Terraform Cloud organization (TFC_ORGANIZATION): it creates Terraform Cloud workspaces');
    new TerraformCloudBootstrapStack(app, 'bootstrap', { organization, stacks: environments.flatMap(stacksOf) });
  }
  app.synth();
  return { app, environments };
}
