/**
 * Reads what `cdktf synth` wrote (cdktf.out/manifest.json and every stack's cdk.tf.json), for the
 * operator commands that must describe what Terraform will actually get: deploy order, topology,
 * cost. Nothing here imports the model in environments/, so a picture or a price is derived from
 * the synthesized JSON alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DeployStage } from '../../stacks/deploy-order';

/** One Terraform resource block: its attributes as synthesized. */
export type ResourceBlock = Readonly<Record<string, unknown>>;

/** One synthesized stack. */
export interface SynthesizedStack {
  readonly name: string;
  /** Stacks that must be deployed before this one (`"//".deploy.after` in cdk.tf.json; not in cdktf's manifest: stacks/deploy-order.ts). */
  readonly dependencies: readonly string[];
  /** The stage the stack is deployed in (`"//".deploy.stage`); undefined for a stack outside the environments (bootstrap). */
  readonly stage?: DeployStage;
  /** Directory Terraform runs in, relative to the project root. */
  readonly workingDirectory: string;
  /** The stack's cdk.tf.json. */
  readonly json: StackJson;
}

/** The parts of cdk.tf.json the commands read. */
export interface StackJson {
  readonly '//'?: { readonly deploy?: { readonly stage?: DeployStage; readonly after?: readonly string[] } };
  readonly resource?: Readonly<Record<string, Readonly<Record<string, ResourceBlock>>>>;
  readonly data?: Readonly<Record<string, Readonly<Record<string, ResourceBlock>>>>;
  readonly output?: Readonly<Record<string, { readonly value?: unknown; readonly sensitive?: boolean }>>;
  readonly provider?: Readonly<Record<string, readonly ResourceBlock[]>>;
  readonly terraform?: {
    readonly backend?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
    readonly cloud?: Readonly<Record<string, unknown>>;
  };
}

/** Everything in one cdktf.out directory. */
export interface SynthesizedApp {
  readonly outdir: string;
  readonly stacks: ReadonlyMap<string, SynthesizedStack>;
}

/** Thrown when cdktf.out is missing or not what `cdktf synth` writes; the message says what to run. */
export class SynthOutputError extends Error {}

interface ManifestStack {
  readonly name: string;
  readonly dependencies?: readonly string[];
  readonly synthesizedStackPath: string;
  readonly workingDirectory: string;
}

/** Reads manifest.json and every stack it lists. */
export function readSynthesizedApp(outdir: string): SynthesizedApp {
  const manifestFile = path.join(outdir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) {
    throw new SynthOutputError(`${manifestFile} does not exist: run \`npm run synth\` first`);
  }
  let manifest: { stacks?: Record<string, ManifestStack> };
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  } catch (error) {
    throw new SynthOutputError(`${manifestFile} is not valid JSON (${(error as Error).message}): run \`npm run synth\` again`);
  }
  if (manifest.stacks === undefined || typeof manifest.stacks !== 'object') {
    throw new SynthOutputError(`${manifestFile} lists no stacks: run \`npm run synth\` again`);
  }
  const stacks = new Map<string, SynthesizedStack>();
  for (const entry of Object.values(manifest.stacks)) {
    const file = path.join(outdir, entry.synthesizedStackPath);
    if (!fs.existsSync(file)) throw new SynthOutputError(`${file} (stack ${entry.name}) is missing: run \`npm run synth\` again`);
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as StackJson;
    stacks.set(entry.name, {
      name: entry.name,
      dependencies: [...(entry.dependencies ?? []), ...(json['//']?.deploy?.after ?? [])],
      stage: json['//']?.deploy?.stage,
      workingDirectory: path.join(outdir, entry.workingDirectory),
      json,
    });
  }
  return { outdir, stacks };
}

/**
 * Environment names, derived from the stacks: every `<env>-network` stack names one.
 * Longest first, so `environmentOf` matches `staging-eu` before `staging`.
 */
export function environmentsOf(app: SynthesizedApp): string[] {
  return [...app.stacks.keys()]
    .filter((name) => name.endsWith('-network'))
    .map((name) => name.slice(0, -'-network'.length))
    .sort((a, b) => b.length - a.length || a.localeCompare(b));
}

/** The environment a stack belongs to, or undefined (the bootstrap stack belongs to none). */
export function environmentOf(app: SynthesizedApp, stack: string): string | undefined {
  return environmentsOf(app).find((environment) => stack.startsWith(`${environment}-`));
}

/** The stacks of one environment, in manifest order. */
export function stacksOfEnvironment(app: SynthesizedApp, environment: string): SynthesizedStack[] {
  return [...app.stacks.values()].filter((stack) => environmentOf(app, stack.name) === environment);
}

/** Every resource of one type in a stack, as [name, block] pairs sorted by name. */
export function resourcesOf(stack: SynthesizedStack, type: string): [string, ResourceBlock][] {
  return Object.entries(stack.json.resource?.[type] ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

/** `labels` of a docker resource (a list of {label, value}) or of an hcloud resource (a map), as a map. */
export function labelsOf(block: ResourceBlock): Record<string, string> {
  const labels = block.labels;
  if (Array.isArray(labels)) {
    return Object.fromEntries(labels.map((entry: { label: string; value: string }) => [entry.label, entry.value]));
  }
  return labels !== null && typeof labels === 'object' ? { ...(labels as Record<string, string>) } : {};
}

/**
 * A published output of another stack as the reading stack synthesizes it: local remote state
 * (`data.terraform_remote_state.outputs-<stack>.outputs.<name>`) or Terraform Cloud
 * (`data.tfe_outputs.outputs-<stack>.nonsensitive_values["<name>"]`, or `.values` when sensitive).
 * Groups: 1 or 3 the producing stack, 2 or 4 the output name.
 */
export const OUTPUT_REFERENCE = /\$\{data\.(?:terraform_remote_state\.outputs-([a-z0-9-]+)\.outputs\.([A-Za-z0-9_]+)|tfe_outputs\.outputs-([a-z0-9-]+)\.(?:nonsensitive_values|values)\["([A-Za-z0-9_]+)"\])\}/;
const REMOTE_OUTPUT = new RegExp(`^${OUTPUT_REFERENCE.source}$`);

/** The producing stack and output name of an output reference match. */
export function outputOf(match: RegExpExecArray): { stack: string; output: string } {
  return { stack: match[1] ?? match[3], output: match[2] ?? match[4] };
}
const OWN_ATTRIBUTE = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$/;

/**
 * Follows a reference to a value known at synth: another stack's published output
 * (`${data.terraform_remote_state.outputs-<stack>.outputs.<name>}`, as SystemStack.publish
 * writes it) to that output's value, and a reference to an attribute of a resource in the same
 * stack to the literal attribute. Returns the literal, or the reference unchanged when it is only
 * known at apply (an address, an id).
 */
export function resolveStatic(app: SynthesizedApp, stack: SynthesizedStack, value: string, depth = 0): string {
  if (depth > 8) return value;
  const remote = REMOTE_OUTPUT.exec(value);
  if (remote !== null) {
    const { stack: producerName, output: outputName } = outputOf(remote);
    const producer = app.stacks.get(producerName);
    const output = producer?.json.output?.[outputName]?.value;
    return producer !== undefined && typeof output === 'string' ? resolveStatic(app, producer, output, depth + 1) : value;
  }
  const own = OWN_ATTRIBUTE.exec(value);
  if (own !== null && own[1] !== 'var' && own[1] !== 'data') {
    const attribute = stack.json.resource?.[own[1]]?.[own[2]]?.[own[3]];
    return typeof attribute === 'string' ? resolveStatic(app, stack, attribute, depth + 1) : value;
  }
  return value;
}
