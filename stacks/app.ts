import { App } from 'cdktf';
import { checkBinaryVersionsOnce } from '../constructs/core/binary-version-once';
import { configureTokenStackTraces } from '../constructs/core/token-stack-traces';
import type { SystemSpec } from '../system/model';
import { TerraformCloudBootstrapStack } from './bootstrap-stack';
import { certificateOrderViolations, countCertificateOrders, LETS_ENCRYPT_CERTIFICATES_PER_REGISTERED_DOMAIN } from '../policy/invariants';
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
 * Terraform's version is checked once, not once per stack (binary-version-once.ts).
 */
export function synthesizeSystem(system: SystemSpec, options: SynthesizeSystemOptions = {}): SynthesizedSystemApp {
  const built = buildSystemApp(system, options);
  built.app.synth();
  // Across stacks: every host's edge proxy orders on its own, and Let's Encrypt counts per registered domain.
  assertCertificateOrders(built.environments, system.rootDomain);
  return built;
}

/**
 * The App `synthesizeSystem` synthesizes, built but not synthesized: a stack's
 * `toTerraform()` renders that stack alone (what the deploy wrapper checks
 * before paying for a whole synth, scripts/deploy/preview.ts).
 */
export function buildSystemApp(system: SystemSpec, options: SynthesizeSystemOptions = {}): SynthesizedSystemApp {
  configureTokenStackTraces();
  checkBinaryVersionsOnce();
  const app = new App({ stackTraces: false, outdir: options.outdir });
  const organization = options.terraformCloudOrganization;
  const environments = createSystemStacks(app, system, options);
  if (options.bootstrap) {
    if (!organization) throw new Error('The bootstrap stack needs a Terraform Cloud organization (TFC_ORGANIZATION): it creates Terraform Cloud workspaces');
    new TerraformCloudBootstrapStack(app, 'bootstrap', { organization, stacks: environments.flatMap(stacksOf) });
  }
  return { app, environments };
}

/**
 * The options main.ts reads from the process environment, for it and for the commands that build the same App:
 * `TFC_ORGANIZATION=acme` moves every stack to Terraform Cloud; `TFC_BOOTSTRAP=1` adds the stack that creates its workspaces.
 */
export function synthesizeOptionsFromEnv(env: NodeJS.ProcessEnv): SynthesizeSystemOptions {
  return { terraformCloudOrganization: env.TFC_ORGANIZATION || undefined, bootstrap: env.TFC_BOOTSTRAP === '1' };
}

/**
 * Fails when the synthesized stacks would order more certificates per
 * registered domain than Let's Encrypt issues in a week (names under the
 * system's root domain count against it; others against their last two labels).
 */
export function assertCertificateOrders(
  environments: readonly EnvironmentStacks[],
  rootDomain: string,
  limit = LETS_ENCRYPT_CERTIFICATES_PER_REGISTERED_DOMAIN,
): void {
  const stacks = environments.flatMap((stacks) => stacksOf(stacks).map((stack) => ({ environment: stacks.environment.name, json: stack.synthesizedJson ?? stack.toTerraform() })));
  const registered = (name: string) => (name === rootDomain || name.endsWith(`.${rootDomain}`) ? rootDomain : name.split('.').slice(-2).join('.'));
  const violations = certificateOrderViolations(countCertificateOrders(stacks, registered), limit);
  if (violations.length > 0) throw new Error(`Certificate orders over Let's Encrypt's rate limit:\n${violations.map((line) => `  - ${line}`).join('\n')}`);
}
