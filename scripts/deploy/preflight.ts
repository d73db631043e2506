/**
 * What `npm run deploy -- <stack>` checks before it lets cdktf run Terraform: that the stack
 * exists, that every stack it reads outputs from has been applied (state present), and that a
 * production stack does not use state on this laptop unless that is explicitly wanted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { environmentOf, type SynthesizedApp, type SynthesizedStack } from '../lib/synthesized';
import { PROVIDER_CREDENTIALS } from '../../stacks/bootstrap-stack';
import { OperatorError } from '../lib/tools';
import { groupByStage } from '../../stacks/deploy-order';

/** Where a stack's state is, as synthesized. */
export type StateLocation =
  | { readonly kind: 'local'; readonly file: string }
  | { readonly kind: 'cloud'; readonly organization: string; readonly workspace: string };

/** Whether an upstream stack has been applied. */
export type StateStatus = 'applied' | 'missing' | 'empty' | 'unknown';

/** Answers whether a stack's state holds resources; injected so tests need no Terraform Cloud. */
export type StateProbe = (stack: string, location: StateLocation) => Promise<StateStatus>;

/** Reads the backend block of a synthesized stack; paths are resolved against its working directory. */
export function stateLocation(stack: SynthesizedStack): StateLocation {
  const local = stack.json.terraform?.backend?.local;
  if (local !== undefined) {
    const file = typeof local.path === 'string' ? local.path : 'terraform.tfstate';
    return { kind: 'local', file: path.resolve(stack.workingDirectory, file) };
  }
  const cloud = stack.json.terraform?.cloud as { organization?: string; workspaces?: { name?: string } } | undefined;
  if (cloud?.organization !== undefined && cloud.workspaces?.name !== undefined) {
    return { kind: 'cloud', organization: cloud.organization, workspace: cloud.workspaces.name };
  }
  // cdktf's default when no backend is declared: local state in the working directory.
  return { kind: 'local', file: path.resolve(stack.workingDirectory, 'terraform.tfstate') };
}

/** Local state: applied when the file lists at least one resource (a destroyed stack leaves an empty list). */
export function localStateStatus(file: string): StateStatus {
  if (!fs.existsSync(file)) return 'missing';
  try {
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as { resources?: unknown[] };
    return Array.isArray(state.resources) && state.resources.length > 0 ? 'applied' : 'empty';
  } catch {
    return 'unknown';
  }
}

/**
 * Terraform Cloud: a workspace has state when its `current-state-version` relationship is set
 * (HCP Terraform API, GET /organizations/:organization_name/workspaces/:name). Without TFE_TOKEN
 * the answer is `unknown`, and the deploy goes ahead with a note.
 */
export async function cloudStateStatus(location: Extract<StateLocation, { kind: 'cloud' }>, env: NodeJS.ProcessEnv, fetchImpl: typeof fetch = fetch): Promise<StateStatus> {
  const token = env.TFE_TOKEN ?? env.TF_TOKEN_app_terraform_io;
  if (!token) return 'unknown';
  const host = env.TFE_HOSTNAME ?? 'app.terraform.io';
  const url = `https://${host}/api/v2/organizations/${encodeURIComponent(location.organization)}/workspaces/${encodeURIComponent(location.workspace)}`;
  const response = await fetchImpl(url, { headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/vnd.api+json' } });
  if (response.status === 404) return 'missing';
  if (!response.ok) return 'unknown';
  const body = (await response.json()) as { data?: { relationships?: Record<string, { data?: unknown }> } };
  const current = body.data?.relationships?.['current-state-version']?.data;
  return current === undefined ? 'unknown' : current === null ? 'empty' : 'applied';
}

/** The default probe: local files, or the Terraform Cloud API when a token is set. */
export function defaultStateProbe(env: NodeJS.ProcessEnv = process.env): StateProbe {
  return async (_stack, location) => (location.kind === 'local' ? localStateStatus(location.file) : cloudStateStatus(location, env));
}

/** Every stack `stack` depends on, directly or not, in deploy order (deployRounds). */
export function upstreamOf(app: SynthesizedApp, stack: string): string[] {
  const found: string[] = [];
  const visit = (name: string, trail: readonly string[]): void => {
    if (trail.includes(name)) throw new OperatorError(`stack dependency cycle: ${[...trail, name].join(' -> ')}`);
    for (const dependency of app.stacks.get(name)?.dependencies ?? []) {
      visit(dependency, [...trail, name]);
      if (!found.includes(dependency)) found.push(dependency);
    }
  };
  visit(stack, []);
  return deployRounds(app, found).flat();
}

/**
 * The stacks grouped into rounds to deploy one after the other: per environment (in the order given), one round
 * per stage of DEPLOY_STAGES (stacks/deploy-order.ts), whose stacks do not read each other and run together. A
 * stack outside the environments (the Terraform Cloud bootstrap) comes first: it creates the workspaces.
 */
export function deployRounds(app: SynthesizedApp, stacks: readonly string[]): string[][] {
  const outside = stacks.filter((stack) => app.stacks.get(stack)?.stage === undefined);
  const environments = [...new Set(stacks.filter((stack) => !outside.includes(stack)).map((stack) => environmentOf(app, stack)))];
  return [
    ...(outside.length > 0 ? [outside] : []),
    ...environments.flatMap((environment) =>
      groupByStage(
        stacks.filter((stack) => !outside.includes(stack) && environmentOf(app, stack) === environment),
        (stack) => app.stacks.get(stack)!.stage!,
      ),
    ),
  ];
}

/** The stacks named on the command line, each checked against the synth output; `<env>-*` selects an environment in deploy order. */
export function selectStacks(app: SynthesizedApp, requested: readonly string[], verb: 'deploy' | 'diff' = 'deploy'): string[] {
  if (requested.length === 0) {
    throw new OperatorError([`name the stack to ${verb}, e.g. \`npm run ${verb} -- staging-network\` (or 'staging-*'); stacks:`, ...[...app.stacks.keys()].map((stack) => `  ${stack}`)].join('\n'));
  }
  const selected: string[] = [];
  for (const name of requested) {
    const matches = name.endsWith('-*') ? [...app.stacks.keys()].filter((stack) => stack.startsWith(name.slice(0, -1))) : app.stacks.has(name) ? [name] : [];
    if (matches.length === 0) {
      const environment = environmentOf(app, name);
      const candidates = [...app.stacks.keys()].filter((stack) => environment === undefined || stack.startsWith(`${environment}-`));
      throw new OperatorError(`no stack "${name}" in cdktf.out; stacks${environment === undefined ? '' : ` of ${environment}`}: ${candidates.join(', ')}`);
    }
    for (const match of matches) if (!selected.includes(match)) selected.push(match);
  }
  // Deploy order, so `staging-*` deploys network and edge before anything that reads them.
  return deployRounds(app, selected).flat();
}

/** One upstream stack that has not been applied. */
export interface MissingUpstream {
  readonly stack: string;
  readonly status: StateStatus;
}

/** Result of the upstream check: what is missing (deploy it first) and what could not be checked. */
export interface UpstreamCheck {
  readonly missing: readonly MissingUpstream[];
  readonly unchecked: readonly string[];
}

/** Checks the upstream stacks of every selected stack; stacks deployed earlier in the same command count as present. */
export async function checkUpstream(app: SynthesizedApp, selected: readonly string[], probe: StateProbe): Promise<UpstreamCheck> {
  const missing: MissingUpstream[] = [];
  const unchecked: string[] = [];
  const seen = new Set<string>();
  for (const stack of selected) {
    for (const upstream of upstreamOf(app, stack)) {
      if (seen.has(upstream) || selected.indexOf(upstream) > -1) continue;
      seen.add(upstream);
      const status = await probe(upstream, stateLocation(app.stacks.get(upstream)!));
      if (status === 'missing' || status === 'empty') missing.push({ stack: upstream, status });
      if (status === 'unknown') unchecked.push(upstream);
    }
  }
  return { missing, unchecked };
}

/** The message for missing upstream stacks: what to deploy first, in order, as commands. */
export function missingUpstreamMessage(targets: readonly string[], missing: readonly MissingUpstream[]): string {
  const lines = missing.map(({ stack, status }) => `  npm run deploy -- ${stack}    # ${status === 'missing' ? 'no state yet' : 'state has no resources'}`);
  return [`${targets.join(', ')} depends on stacks that have not been deployed. Deploy them first, in this order:`, ...lines].join('\n');
}

/** Environment variable that allows a production deploy with local state. */
export const ALLOW_LOCAL_PRODUCTION_ENV = 'MANACORE_ALLOW_LOCAL_PRODUCTION';
/** Command-line flag with the same effect. */
export const ALLOW_LOCAL_PRODUCTION_FLAG = '--allow-local-production';

/**
 * Production state on a laptop is one lost disk away from an orphaned production, and nobody else
 * can see or lock it: refuse unless explicitly overridden.
 */
export function localProductionRefusal(app: SynthesizedApp, selected: readonly string[], isProduction: (environment: string) => boolean): string | undefined {
  const offending = selected.filter((stack) => {
    const environment = environmentOf(app, stack);
    return environment !== undefined && isProduction(environment) && stateLocation(app.stacks.get(stack)!).kind === 'local';
  });
  if (offending.length === 0) return undefined;
  return [
    `refusing to deploy ${offending.join(', ')}: a production stack with local state (the state file would live only on this machine).`,
    `Use Terraform Cloud (TFC_ORGANIZATION=<org>, see README "Terraform Cloud") or the apply workflow.`,
    `To do it anyway, pass ${ALLOW_LOCAL_PRODUCTION_FLAG} or set ${ALLOW_LOCAL_PRODUCTION_ENV}=1.`,
  ].join('\n');
}

/**
 * What a local run of the stack needs from the environment and does not have: provider
 * credentials (PROVIDER_CREDENTIALS, the variables each provider reads when its block sets no
 * credential) and, with local execution, a TF_VAR_<name> for every variable without a default.
 * Under Terraform Cloud the run is remote and the workspace holds both, so nothing is required
 * here but a token for the CLI (TF_TOKEN_app_terraform_io or `terraform login`).
 */
export function missingCredentials(stack: SynthesizedStack, env: NodeJS.ProcessEnv, home: string = require('node:os').homedir()): string[] {
  const missing: string[] = [];
  if (stateLocation(stack).kind === 'cloud') {
    const credentialsFile = path.join(home, '.terraform.d', 'credentials.tfrc.json');
    if (!env.TF_TOKEN_app_terraform_io && !fs.existsSync(credentialsFile)) missing.push('TF_TOKEN_app_terraform_io (or run `terraform login`)');
    return missing;
  }
  for (const [provider, blocks] of Object.entries(stack.json.provider ?? {})) {
    const names = PROVIDER_CREDENTIALS[provider];
    if (names === undefined) continue;
    // A block that sets a token itself (from a variable) needs the variable, checked below.
    const explicit = blocks.some((block) => ['token', 'api_token', 'api_key'].some((key) => block[key] !== undefined));
    if (!explicit && !names.some((name) => env[name])) missing.push(names.join(' or '));
  }
  for (const [name, variable] of Object.entries((stack.json as { variable?: Record<string, { default?: unknown }> }).variable ?? {})) {
    if (variable.default === undefined && env[`TF_VAR_${name}`] === undefined) missing.push(`TF_VAR_${name}`);
  }
  return missing;
}

/** The refusal for missing credentials: every missing name, per stack. */
export function missingCredentialsMessage(missing: ReadonlyMap<string, readonly string[]>): string {
  return [
    'these credentials are not set (README "Secrets", docs/deploying.md "Credentials Terraform needs"):',
    ...[...missing].map(([stack, names]) => `  ${stack}: ${names.join(', ')}`),
  ].join('\n');
}
