import type { Construct } from 'constructs';
import type { SystemSpec } from '../system/model';
import { resolveSystem, type ResolvedEnvironment } from '../system/resolve';
import { CredentialsStack } from './credentials-stack';
import { DataStack } from './data-stack';
import { EdgeStack } from './edge-stack';
import { MonitoringStack } from './monitoring-stack';
import { NetworkStack } from './network-stack';
import { ProductStack } from './product-stack';
import { planCloudflare } from '../system/cloudflare-plan';
import type { SystemStack } from './system-stack';
import { printWarning } from './warnings';
import { INVARIANT_RULES } from '../policy/invariants';

/** The stacks of one environment. */
export interface EnvironmentStacks {
  readonly environment: ResolvedEnvironment;
  readonly network: NetworkStack;
  /** Docker networks and the edge proxy on every host. */
  readonly edge: EdgeStack;
  /** `<env>-<product>-credentials` of every product using a data container, by product name. */
  readonly credentials: ReadonlyMap<string, CredentialsStack>;
  readonly data: DataStack;
  /** Metrics, logs, dashboards and alerts. */
  readonly monitoring: MonitoringStack;
  readonly products: ReadonlyMap<string, ProductStack>;
}

export interface SystemStacksOptions {
  /**
   * Terraform Cloud organization for every environment without its own
   * `terraformCloud` setting (the `TFC_ORGANIZATION` variable, in `main.ts`).
   * @default - local backend
   */
  readonly terraformCloudOrganization?: string;
  /** Receives warnings that do not fail synth (a host over 85% reserved). @default - printed as a warning (stacks/warnings.ts) */
  readonly onWarning?: (message: string) => void;
}

/** Every stack of an environment, in deploy order. */
export function stacksOf(environment: EnvironmentStacks): SystemStack[] {
  return [environment.network, environment.edge, ...environment.credentials.values(), environment.data, environment.monitoring, ...environment.products.values()];
}

/**
 * Every stack of every environment: `<env>-network`, `<env>-edge`, `<env>-<product>-credentials` per product
 * using a data container, `<env>-data`, `<env>-monitoring` and one `<env>-<product>` per product the environment runs. Validates the whole
 * system first, so bad input fails before any construct exists.
 */
export function createSystemStacks(scope: Construct, system: SystemSpec, options: SystemStacksOptions = {}): EnvironmentStacks[] {
  const resolved = resolveSystem(system, { terraformCloudOrganization: options.terraformCloudOrganization });
  const warn = options.onWarning ?? ((message: string) => printWarning(message));
  resolved.warnings.forEach(warn);
  // The shared zone's page-rule quota and priorities, and who owns its zone-wide records and
  // rulesets, are decided across all environments before any stack exists (system/cloudflare-plan.ts).
  const cloudflare = planCloudflare(resolved);
  new Set([...cloudflare.values()].flatMap((plan) => plan.notes)).forEach(warn);
  // Repository-level pipeline secrets: owned by one stack only, the first production environment's network stack.
  const pipelineSecretsOwner = (resolved.environments.find((environment) => environment.production) ?? resolved.environments[0])?.name;
  for (const environment of resolved.environments) {
    for (const exemption of environment.invariantExemptions) {
      // Says what the rule promises, so the reader sees what is given up; the stack's "//" block lists the violations waived.
      warn(`${exemption.stack}: invariant "${exemption.rule}" (${INVARIANT_RULES[exemption.rule]}) is waived for ${exemption.resource} only: ${exemption.reason}`);
    }
  }
  return resolved.environments.map((environment) => {
    const props = { environment };
    const network = new NetworkStack(scope, {
      ...props,
      cloudflare: cloudflare.get(environment.name),
      ownsRepositorySecrets: environment.name === pipelineSecretsOwner,
    });
    // The edge stack sits between network and data; data and product stacks place containers through it.
    const edge = new EdgeStack(scope, { ...props, network });
    // One per product using a data container: passwords only the data stack and that product's stack read.
    const credentials = new Map(
      environment.products
        .filter((product) => product.credentialsStackName !== undefined)
        .map((product) => [product.name, new CredentialsStack(scope, { ...props, product })]),
    );
    const data = new DataStack(scope, { ...props, network, edge, credentials });
    // Before the products: they do not depend on it, but their first deploy is then already watched.
    const monitoring = new MonitoringStack(scope, { ...props, network, edge, cloudflare: cloudflare.get(environment.name) });
    const products = new Map(
      environment.products.map((product) => [product.name, new ProductStack(scope, { ...props, product, network, edge, data, credentials: credentials.get(product.name), cloudflare: cloudflare.get(environment.name) })]),
    );
    return { environment, network, edge, credentials, data, monitoring, products };
  });
}
