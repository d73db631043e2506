/**
 * `npm run e2e`: Terraform itself checks every stack, offline, against the mock providers.
 *
 * For each system (Manacore, and the examples: Nutri, Fieldnotes, Harbor), in .e2e/<system>/:
 * 1. synthesizes it into out/ (local backend; state files land in .e2e/<system>/),
 * 2. per deploy stage (stacks/deploy-order.ts; the stacks of one stage in parallel): terraform init (through the
 *    filesystem mirror of the CLI configuration), validate, plan, apply, and a second plan that must show no
 *    changes; later levels read earlier stacks' real outputs through terraform_remote_state; a network stack whose
 *    hosts form a swarm runs its `swarm-join` provisioners against real dockerds, one per host (swarm.ts),
 * 3. changes one product's image tag, re-synthesizes into out-tag/, plans the changed stacks, renders the
 *    `terraform show -json` plans with the plan-comment renderer and checks them, applies, then rolls the tag back
 *    (plan, apply) and checks everything converged again.
 *
 * Options: --only <stack,...> (those stacks and what they depend on), --skip-scenario, --concurrency <n>,
 * --skip-engine, --engine-concurrency <n> (systems on the real engine at once, a daemon each; default 3),
 * --cloud (synthesize for Terraform Cloud, then swap in local state: backend-swap.ts), --system <name,...>,
 * --system-file <path> (the systems a file of your own exports, instead of the built-in ones; repeatable).
 * Meanwhile the committed provider schemas are rebuilt from the bindings and must be unchanged.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { manacore } from '../../environments';
import { fieldnotes } from '../../examples/fieldnotes';
import { harbor } from '../../examples/harbor';
import { lexicon } from '../../examples/lexicon';
import { relay } from '../../examples/relay';
import { nutri } from '../../examples/nutri';
import type { SystemSpec } from '../../index';
import { changedStacks } from '../../scripts/plan-comment/changed-stacks';
import { groupByStage, type DeployStage } from '../../stacks/deploy-order';
import { renderPlanComment } from '../../scripts/plan-comment/render';
import { MOCKED_PROVIDERS, REPO_ROOT } from './schema/providers';
import { swapCloudForLocal } from './backend-swap';
import { engineScenario } from './engine/scenarios';
import { cdktfEnv, checkRefusal, checkRefusalMessage, runCdktf, writeCdktfProject } from './cdktf-cli';
import { synthesize, withImageTag, type TagChange } from './synth';
import { systemsFromFile } from './system-file';
import { startSwarmEnvironment, swarmJoins, type SwarmEnvironment } from './swarm';
import { firstSlottedService, slotScenario } from './slots-scenario';
import { Terraform, TerraformError, startSharedMock, variableValues, writeCliConfig, type SharedMock } from './terraform';

const WORK_ROOT = path.join(REPO_ROOT, '.e2e');
/** Where the shared mock records the primary IPs it hands out (swarm.ts reads it). */
const MOCK_ADDRESS_BOOK = path.join(WORK_ROOT, 'mock-addresses.txt');

/** The systems the harness checks: the product's own, and the examples built with the library. */
const SYSTEMS: Readonly<Record<string, SystemSpec>> = { manacore, nutri, fieldnotes, harbor, relay, lexicon };

/** The tag change of the scenario: Manacore's chat in staging (several services, secrets, data); else the first product. */
function tagChangeFor(system: SystemSpec): TagChange {
  if (system === manacore) return { environment: 'staging', product: 'chat', imageTag: 'main-e2e0001' };
  const environment = system.environments[0];
  return { environment: environment.name, product: environment.products[0].product, imageTag: 'main-e2e0001' };
}

interface Options {
  readonly only?: readonly string[];
  readonly skipScenario: boolean;
  readonly concurrency: number;
  /** Synthesize for Terraform Cloud and swap the cloud block and tfe_outputs for local state (backend-swap.ts). */
  readonly cloud: boolean;
  /** Which systems to run (default: all of SYSTEMS). */
  readonly systems: readonly string[];
  /** Leave out the real-engine scenarios (engine/scenarios.ts), for iterating on the Terraform part only. */
  readonly skipEngine: boolean;
  /** Files whose exported systems run instead of SYSTEMS (system-file.ts). */
  readonly systemFiles: readonly string[];
  /** How many systems' engine scenarios run at once, each on a daemon of its own. */
  readonly engineConcurrency: number;
}

function parseOptions(argv: readonly string[]): Options {
  let only: string[] | undefined;
  let skipScenario = false;
  let concurrency = 4;
  let cloud = false;
  let systems = Object.keys(SYSTEMS);
  let skipEngine = false;
  let engineConcurrency = 3;
  const systemFiles: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--only') only = argv[++i].split(',');
    else if (argv[i] === '--skip-scenario') skipScenario = true;
    else if (argv[i] === '--concurrency') concurrency = Number(argv[++i]);
    else if (argv[i] === '--cloud') cloud = true;
    else if (argv[i] === '--system') systems = argv[++i].split(',');
    else if (argv[i] === '--system-file') systemFiles.push(argv[++i]);
    else if (argv[i] === '--skip-engine') skipEngine = true;
    else if (argv[i] === '--engine-concurrency') engineConcurrency = Number(argv[++i]);
    else throw new Error(`e2e: unknown option ${argv[i]}; options: --only <stack,...>, --skip-scenario, --skip-engine, --engine-concurrency <n>, --concurrency <n>, --cloud, --system <name,...>, --system-file <path>`);
  }
  return { only, skipScenario, concurrency, cloud, systems, systemFiles, skipEngine, engineConcurrency };
}

/** What the harness reads of one synthesized stack: `"//".deploy` of its cdk.tf.json (SystemStack.toTerraform). */
export interface StackDeployInfo {
  readonly stage?: DeployStage;
  readonly after?: readonly string[];
}

/**
 * Stacks grouped into deploy stages (stacks/deploy-order.ts), every environment's together: the stacks of one stage
 * do not read each other and run in parallel. With `only`, those stacks and every stack they build on.
 */
export function deployLevels(stacks: Readonly<Record<string, StackDeployInfo>>, only?: readonly string[]): string[][] {
  const wanted = new Set<string>();
  const want = (name: string): void => {
    if (!(name in stacks)) throw new Error(`e2e: no stack "${name}"; stacks: ${Object.keys(stacks).join(', ')}`);
    if (wanted.has(name)) return;
    wanted.add(name);
    (stacks[name].after ?? []).forEach(want);
  };
  (only ?? Object.keys(stacks)).forEach(want);
  return groupByStage(wanted, (name) => {
    const stage = stacks[name].stage;
    if (stage === undefined) throw new Error(`e2e: stack ${name} has no "//".deploy.stage in its cdk.tf.json`);
    return stage;
  });
}

/** Runs `fn` over items with at most `limit` at once; every failure is collected, not only the first. */
export async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<Error[]> {
  const errors: Error[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (error) {
        errors.push(error as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return errors;
}

function readJson(file: string): any {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export class Harness {
  readonly timings = new Map<string, number>();
  private readonly terraform: Terraform;

  constructor(
    mock: SharedMock,
    cliConfig: string,
    variables: Record<string, string>,
  ) {
    this.terraform = new Terraform(cliConfig, mock, variables);
  }

  private async step(stack: string, dir: string, args: string[], options: { reattach?: boolean; allowExit?: number[]; env?: NodeJS.ProcessEnv } = {}) {
    return this.terraform.run(stack, dir, args, options);
  }

  /** init, validate, plan and apply, re-plan (must be empty) for one stack. */
  /** Returns the apply's output. `env`: extra environment for the apply (the swarm joins' SWARM_SSH). */
  async converge(stack: string, dir: string, env?: NodeJS.ProcessEnv): Promise<string> {
    const started = Date.now();
    // init installs from the filesystem mirror (no reattach), exactly as a fresh checkout would.
    await this.step(stack, dir, ['init', '-input=false', '-no-color'], { reattach: false });
    await this.step(stack, dir, ['validate', '-json', '-no-color']);
    // Plan and apply in one Terraform process (apply plans first, then applies that plan): a process less per
    // stack, each spending most of its time loading configuration and provider schemas. The tag scenario below
    // plans to a file, shows it as JSON and applies the saved plan.
    const applied = await this.step(stack, dir, ['apply', '-input=false', '-no-color', '-auto-approve'], { env });
    if (!/Apply complete!/.test(applied.stdout)) throw new TerraformError(`${stack}: terraform apply did not report "Apply complete!":\n${applied.stdout.slice(-2000)}`);
    const replan = await this.step(stack, dir, ['plan', '-input=false', '-no-color', '-detailed-exitcode'], { allowExit: [2] });
    if (replan.code === 2) {
      throw new TerraformError(`${stack}: the first apply did not converge, a second plan still has changes:\n${replan.stdout.split('\n').filter((l) => /^\s*[#~+-]|Plan:/.test(l)).join('\n')}`);
    }
    this.timings.set(stack, Date.now() - started);
    return applied.stdout + applied.stderr;
  }

  /** One `terraform init` needing every mocked provider, so parallel inits later only read the plugin cache. */
  async warmPluginCache(dir: string): Promise<void> {
    fs.mkdirSync(dir, { recursive: true });
    const requiredProviders = Object.fromEntries(MOCKED_PROVIDERS.map((p) => [p.name, { source: p.address, version: p.version }]));
    fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ terraform: { required_providers: requiredProviders } }));
    await this.step('plugin cache', dir, ['init', '-input=false', '-no-color', '-backend=false'], { reattach: false });
  }

  /** Plans a stack to tfplan and returns (plan JSON, Terraform's own "Plan: ..." line). */
  async planJson(stack: string, dir: string): Promise<{ plan: any; summary: string }> {
    await this.step(stack, dir, ['init', '-input=false', '-no-color'], { reattach: false });
    const human = await this.step(stack, dir, ['plan', '-input=false', '-no-color', '-out=tfplan']);
    const shown = await this.step(stack, dir, ['show', '-json', 'tfplan']);
    const summary = human.stdout.match(/Plan: (\d+) to add, (\d+) to change, (\d+) to destroy/)?.[0] ?? 'No changes.';
    return { plan: JSON.parse(shown.stdout), summary };
  }

  async apply(stack: string, dir: string): Promise<void> {
    await this.step(stack, dir, ['apply', '-input=false', '-no-color', 'tfplan']);
  }

  /** Destroys the given resource addresses of a stack (the engine scenario's Docker resources). */
  async destroy(stack: string, dir: string, targets: readonly string[]): Promise<void> {
    await this.step(stack, dir, ['destroy', '-input=false', '-no-color', '-auto-approve', ...targets.map((t) => `-target=${t}`)]);
  }

  /** terraform init alone, from the filesystem mirror: writes the lock file. */
  async init(stack: string, dir: string): Promise<void> {
    await this.step(stack, dir, ['init', '-input=false', '-no-color'], { reattach: false });
  }

  /** A plan expected to fail (exit 1): what Terraform printed. */
  async failingPlan(stack: string, dir: string): Promise<{ code: number; output: string }> {
    const planned = await this.step(stack, dir, ['plan', '-input=false', '-no-color'], { allowExit: [1] });
    return { code: planned.code, output: `${planned.stdout}\n${planned.stderr}` };
  }

  /** init and an apply expected to fail (exit 1): what Terraform printed. */
  async failingApply(stack: string, dir: string): Promise<{ code: number; output: string }> {
    await this.step(stack, dir, ['init', '-input=false', '-no-color'], { reattach: false });
    const applied = await this.step(stack, dir, ['apply', '-input=false', '-no-color', '-auto-approve'], { allowExit: [1] });
    return { code: applied.code, output: `${applied.stdout}\n${applied.stderr}` };
  }

  /** The environment for a program that runs Terraform itself (the cdktf CLI). */
  terraformEnv(): NodeJS.ProcessEnv {
    return this.terraform.cliEnv();
  }

  async assertNoChanges(stack: string, dir: string): Promise<void> {
    const replan = await this.step(stack, dir, ['plan', '-input=false', '-no-color', '-detailed-exitcode'], { allowExit: [2] });
    if (replan.code === 2) throw new TerraformError(`${stack}: expected no changes after apply, the plan still has some`);
  }
}

/** Every value that must never appear in a plan comment: sensitive variables and sensitive outputs in state. */
function secretValues(workDir: string, variables: Record<string, string>, stacks: readonly any[]): string[] {
  const sensitiveVariables = new Set<string>();
  stacks.forEach((s) => Object.entries<any>(s.variable ?? {}).forEach(([n, v]) => v.sensitive && sensitiveVariables.add(n)));
  const secrets = Object.entries(variables).filter(([n]) => sensitiveVariables.has(n)).map(([, v]) => v);
  for (const file of fs.readdirSync(workDir).filter((f) => f.endsWith('.tfstate'))) {
    const state = readJson(path.join(workDir, file));
    for (const output of Object.values<any>(state.outputs ?? {})) {
      if (output.sensitive && typeof output.value === 'string' && output.value.length >= 8) secrets.push(output.value);
    }
  }
  return secrets;
}

/**
 * Checks the tag-change plan: only the product's containers (and their image and revision) are replaced, in the
 * order each declares: create-before-destroy, or destroy first for a stop-first service (`stopFirst`: addresses
 * whose synthesized lifecycle is not create_before_destroy).
 */
export function checkTagPlan(stack: string, plan: any, product: string, stopFirst: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  const changes = (plan.resource_changes ?? []).filter((c: any) => !(c.change.actions.length === 1 && ['no-op', 'read'].includes(c.change.actions[0])));
  const containers = (plan.resource_changes ?? []).filter((c: any) => c.type === 'docker_container');
  if (containers.length === 0) problems.push(`${stack}: the plan has no docker_container at all`);
  const expectedOrder = (address: string) => (stopFirst.has(address) ? '["delete","create"]' : '["create","delete"]');
  for (const container of containers) {
    if (JSON.stringify(container.change.actions) !== expectedOrder(container.address)) {
      problems.push(`${stack}: ${container.address} should be replaced ${expectedOrder(container.address)}, plan says ${JSON.stringify(container.change.actions)}`);
    }
  }
  for (const change of changes) {
    const actions = JSON.stringify(change.change.actions);
    // The container's image and its revision (random_id keyed on the image) are replaced with it; the GitHub
    // environment records each service's deployed tag in a <SERVICE>_IMAGE_TAG variable, updated in place.
    const replacedCompanion = ['docker_image', 'random_id'].includes(change.type) && (actions === '["create","delete"]' || (stopFirst.has(change.address) && actions === '["delete","create"]'));
    const recordedTag = change.type === 'github_actions_environment_variable' && actions === '["update"]' && /_IMAGE_TAG$/.test(change.change.after?.variable_name ?? '');
    if (change.type !== 'docker_container' && !replacedCompanion && !recordedTag) {
      problems.push(`${stack}: unexpected change to ${change.address} (${change.change.actions.join(', ')}); a tag change of ${product} may only replace its containers`);
    }
  }
  return problems;
}

/**
 * The committed schemas the mock serves must be what the installed bindings rebuild to, byte for byte
 * (schema/generate.ts --check). Runs in a child process alongside the Terraform runs, which mostly wait.
 */
function checkGeneratedSchemas(): Promise<string[]> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(REPO_ROOT, 'tools', 'e2e', 'schema', 'generate.ts'), '--check'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      process.stdout.write(`provider schemas checked against the bindings in ${seconds(Date.now() - started)}\n`);
      resolve(code === 0 ? [] : [`e2e: the mock's provider schemas are not what the bindings rebuild to (exit ${code}):\n${stderr.trim()}`]);
    });
  });
}

/** One system's run: its own work directory (states land there), synth output and variable values. */
export class SystemRun {
  readonly out: string;
  readonly tagChange: TagChange;
  manifest: any;
  stackJsons: any[] = [];
  variables: Record<string, string> = {};

  constructor(
    readonly name: string,
    readonly system: SystemSpec,
    readonly workDir: string,
    readonly cloud: boolean,
  ) {
    this.out = path.join(workDir, 'out');
    this.tagChange = tagChangeFor(system);
  }

  /** Each stack's deploy stage and the stacks it builds on, as synthesized. */
  deployInfo(): Record<string, StackDeployInfo> {
    return Object.fromEntries(Object.keys(this.manifest.stacks).map((stack, index) => [stack, this.stackJsons[index]['//']?.deploy ?? {}]));
  }

  stackDir(root: string, stack: string): string {
    return path.join(root, 'stacks', stack);
  }

  /** Synthesizes (for Terraform Cloud, swapped to local state, with --cloud); stacks' local state is <workDir>/terraform.<stack>.tfstate. */
  synth(system: SystemSpec, outdir: string): void {
    synthesize(system, outdir, this.cloud ? 'e2e-org' : undefined);
    if (this.cloud) this.swapAll(outdir);
  }

  prepare(): void {
    fs.mkdirSync(this.workDir, { recursive: true });
    this.synth(this.system, this.out);
    this.manifest = readJson(path.join(this.out, 'manifest.json'));
    this.stackJsons = Object.keys(this.manifest.stacks).map((s) => readJson(path.join(this.stackDir(this.out, s), 'cdk.tf.json')));
    this.variables = variableValues(this.stackJsons);
  }

  /** Rewrites every synthesized stack for local state (the harness's stand-in for Terraform Cloud). */
  private swapAll(out: string): void {
    const prefix = `${this.system.name}-`;
    for (const stack of fs.readdirSync(path.join(out, 'stacks'))) {
      const file = path.join(out, 'stacks', stack, 'cdk.tf.json');
      const swapped = swapCloudForLocal(readJson(file), {
        stack,
        stackOfWorkspace: (workspace) => {
          if (!workspace.startsWith(prefix)) throw new Error(`e2e: workspace ${workspace} is not one of ${this.system.name}'s`);
          return workspace.slice(prefix.length);
        },
        statePath: (name) => path.join(this.workDir, `terraform.${name}.tfstate`),
      });
      fs.writeFileSync(file, JSON.stringify(swapped, null, 2));
    }
  }
}

/**
 * Converges one stack. A network stack whose hosts form a swarm runs its joins for real: a dockerd per host at its
 * private address (swarm.ts), started into `swarms` (stopped by the caller); the swarm they formed is checked.
 */
async function convergeStack(harness: Harness, run: SystemRun, stack: string, swarms: SwarmEnvironment[]): Promise<void> {
  const json = run.stackJsons[Object.keys(run.manifest.stacks).indexOf(stack)];
  const joins = swarmJoins(json);
  if (joins.length === 0) {
    await harness.converge(stack, run.stackDir(run.out, stack));
    return;
  }
  const started = Date.now();
  const swarm = await startSwarmEnvironment(json, run.workDir, MOCK_ADDRESS_BOOK);
  swarms.push(swarm);
  const output = await harness.converge(stack, run.stackDir(run.out, stack), swarm.env);
  fs.writeFileSync(path.join(run.workDir, `${stack}-apply.log`), output);
  const problems = swarm.check(output);
  if (problems.length > 0) throw new Error(`${run.name} ${stack}: the swarm joins under terraform apply (${path.join(run.workDir, `${stack}-apply.log`)}):\n${problems.join('\n')}`);
  process.stdout.write(`${run.name} ${stack}: ${joins.length} hosts joined the swarm on real dockerds (roles, labels, addresses checked) in ${seconds(Date.now() - started)}\n`);
}

async function runSystem(run: SystemRun, mock: SharedMock, cliConfig: string, options: Options): Promise<string[]> {
  const swarms: SwarmEnvironment[] = [];
  try {
    return await convergeSystem(run, mock, cliConfig, options, swarms);
  } finally {
    for (const swarm of swarms) await swarm.stop();
  }
}

async function convergeSystem(run: SystemRun, mock: SharedMock, cliConfig: string, options: Options, swarms: SwarmEnvironment[]): Promise<string[]> {
  const startedAt = Date.now();
  run.prepare();
  const harness = new Harness(mock, cliConfig, run.variables);
  const failures: string[] = [];
  const levels = deployLevels(run.deployInfo(), options.only?.filter((stack) => stack in run.manifest.stacks));
  // The card's command, typed as is: the cdktf CLI deploys the tag scenario's product stack, refused before its
  // upstream exists, applied after; the harness applies every other stack. Manacore only: cdktf synthesizes the
  // repository's app (main.ts), which is Manacore, and would replace another system's synth output with it.
  const cliTarget = `${run.tagChange.environment}-${run.tagChange.product}`;
  const cliScenario = run.system === manacore && !run.cloud && !options.skipScenario && levels.flat().includes(cliTarget);
  if (cliScenario) {
    const problems = await cdktfBeforeUpstream(harness, run, cliTarget);
    if (problems.length > 0) return problems;
  }
  for (const [index, level] of levels.map((stacks) => stacks.filter((stack) => !cliScenario || stack !== cliTarget)).filter((stacks) => stacks.length > 0).entries()) {
    const levelStart = Date.now();
    const errors = await inParallel(level, options.concurrency, (stack) => convergeStack(harness, run, stack, swarms));
    process.stdout.write(`${run.name} level ${index}: ${level.length} stacks in ${seconds(Date.now() - levelStart)}\n`);
    if (errors.length > 0) {
      failures.push(...errors.map((e) => e.message));
      return failures; // later levels read this level's outputs
    }
  }
  if (cliScenario) {
    failures.push(...(await cdktfAfterUpstream(harness, run, cliTarget)));
    if (failures.length > 0) return failures;
  }
  const all = levels.flat();
  process.stdout.write(`${run.name} per stack (init+validate+plan+apply+plan): ${all.map((s) => `${s} ${seconds(harness.timings.get(s) ?? 0)}`).join(', ')}\n`);
  process.stdout.write(`${run.name} validate, plan, apply, converge: ${all.length} stacks in ${seconds(Date.now() - startedAt)}\n`);
  const target = `${run.tagChange.environment}-${run.tagChange.product}`;
  if (!options.skipScenario && all.includes(target)) failures.push(...(await tagScenario(harness, run)));
  const slotted = firstSlottedService(run.system);
  if (!options.skipScenario && failures.length === 0 && slotted !== undefined && all.includes(`${slotted.environment}-${slotted.product}`)) {
    failures.push(...(await slotScenario(harness, run, slotted)));
  }
  return failures;
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv);
  const startedAt = Date.now();
  fs.rmSync(WORK_ROOT, { recursive: true, force: true });
  fs.mkdirSync(WORK_ROOT, { recursive: true });
  const schemaCheck = checkGeneratedSchemas();
  const cliConfig = writeCliConfig(WORK_ROOT);
  const mock = await startSharedMock(WORK_ROOT, { E2E_MOCK_ADDRESS_BOOK: MOCK_ADDRESS_BOOK });
  const failures: string[] = [];
  try {
    const chosen: Record<string, SystemSpec> =
      options.systemFiles.length > 0 ? Object.fromEntries(options.systemFiles.flatMap(systemsFromFile).map((system) => [system.name, system])) : SYSTEMS;
    for (const name of options.systemFiles.length > 0 ? Object.keys(chosen) : options.systems) {
      const system = chosen[name];
      if (!system) throw new Error(`e2e: no system "${name}"; systems: ${Object.keys(chosen).join(', ')}`);
      failures.push(...(await runSystem(new SystemRun(name, system, path.join(WORK_ROOT, name), options.cloud), mock, cliConfig, options)));
    }
  } catch (error) {
    failures.push((error as Error).message);
  } finally {
    await mock.stop();
  }
  if (!options.skipEngine && !options.only && options.systemFiles.length === 0) {
    // A daemon per system (a system's environments share container names: postgres, edge-proxy), several systems at
    // once: the engine runs mostly wait out health-check intervals and drains, so they overlap well on 2 cores.
    const engineStart = Date.now();
    await inParallel(options.systems, options.engineConcurrency, async (name) => {
      try {
        failures.push(...(await engineScenario(name, SYSTEMS[name], WORK_ROOT, cliConfig, options.concurrency)));
      } catch (error) {
        failures.push(`${name} engine: ${(error as Error).message}`);
      }
    });
    process.stdout.write(`engine scenarios (${options.systems.length} systems, ${options.engineConcurrency} at once): ${seconds(Date.now() - engineStart)}\n`);
  }
  failures.push(...(await schemaCheck));
  const mockCpu = fs.readFileSync(mock.logFile, 'utf8').match(/CPU used: ([\d.]+) s/)?.[1];
  process.stdout.write(`e2e total: ${seconds(Date.now() - startedAt)}${mockCpu ? ` (the shared mock provider used ${mockCpu} s of CPU)` : ''}\n`);
  if (failures.length > 0) {
    process.stderr.write(`\ne2e FAILED:\n${failures.join('\n\n')}\n`);
    return 1;
  }
  process.stdout.write('e2e passed\n');
  return 0;
}

/** Addresses of a stop-first service's container, image and revision: what the stack declares without create_before_destroy. */
function stopFirstAddresses(stackDir: string): Set<string> {
  const resources = readJson(path.join(stackDir, 'cdk.tf.json')).resource ?? {};
  const addresses = new Set<string>();
  const containers = Object.entries<any>(resources.docker_container ?? {});
  for (const [name, body] of containers) {
    if (body.lifecycle?.create_before_destroy === true) continue;
    // A release task declares no order: Terraform replaces it create-before-destroy when a container depending on it is so.
    const startFirstDependent = containers.some(([, other]) => other.lifecycle?.create_before_destroy === true && (other.depends_on ?? []).includes(`docker_container.${name}`));
    if (startFirstDependent) continue;
    addresses.add(`docker_container.${name}`);
    addresses.add(`random_id.${name}-revision`);
    addresses.add(`docker_image.${name}`);
  }
  return addresses;
}

async function tagScenario(harness: Harness, run: SystemRun): Promise<string[]> {
  const started = Date.now();
  const change = run.tagChange;
  const problems: string[] = [];
  const tagged = path.join(run.workDir, 'out-tag');
  run.synth(withImageTag(run.system, change), tagged);
  const changed = changedStacks(run.out, tagged);
  const expected = [`${change.environment}-${change.product}`];
  const stacks = [...changed.changed, ...changed.added];
  if (JSON.stringify(stacks) !== JSON.stringify(expected)) problems.push(`${run.name} tag change: changed stacks are ${JSON.stringify(stacks)}, expected ${JSON.stringify(expected)}`);

  const plans: { stack: string; plan: any; summary: string }[] = [];
  for (const stack of stacks) {
    const { plan, summary } = await harness.planJson(stack, run.stackDir(tagged, stack));
    plans.push({ stack, plan, summary });
    problems.push(...checkTagPlan(stack, plan, change.product, stopFirstAddresses(run.stackDir(tagged, stack))));
  }
  const comment = renderPlanComment(plans.map(({ stack, plan }) => ({ stack, plan })));
  const commentFile = path.join(run.workDir, 'tag-change-comment.md');
  fs.writeFileSync(commentFile, comment.body);
  problems.push(...checkComment(comment, plans, secretValues(run.workDir, run.variables, run.stackJsons), commentFile));
  // Every release task the tag change re-runs (a replaced container labelled `task`) is announced with the new tag.
  for (const { stack, plan } of plans) {
    const stackJson = run.stackJsons[Object.keys(run.manifest.stacks).indexOf(stack)];
    const hasTasks = Object.values<any>(stackJson?.resource?.docker_container ?? {}).some((c) => (c.labels ?? []).some((l: any) => l.label === 'task'));
    const announced = (plan.resource_changes ?? []).filter((c: any) => c.type === 'docker_container' && (c.change.after?.labels ?? []).some((l: any) => l.label === 'task'));
    if (hasTasks && announced.length === 0) problems.push(`${run.name} tag change: ${stack} has release tasks but its plan re-runs none`);
    for (const change of plan.resource_changes ?? []) {
      const labels = Object.fromEntries((change.change.after?.labels ?? []).map((l: any) => [l.label, l.value]));
      if (change.type !== 'docker_container' || !change.change.actions.includes('create') || labels.task === undefined) continue;
      if (!comment.body.includes(`: \`${labels.product}\`: runs \`${labels.task}\` (\`${labels.service}\`) with \`${labels["image.tag"]}\``)) {
        problems.push(`${run.name} tag change: the comment (${commentFile}) does not say that ${stack} runs ${labels.task} with ${labels['image.tag']}`);
      }
    }
  }
  if (problems.length > 0) return problems;

  for (const stack of stacks) await harness.apply(stack, run.stackDir(tagged, stack));
  for (const stack of stacks) await harness.assertNoChanges(stack, run.stackDir(tagged, stack));
  // Roll back: the original synth output, planned and applied again.
  for (const stack of stacks) {
    const { plan } = await harness.planJson(stack, run.stackDir(run.out, stack));
    problems.push(...checkTagPlan(`${stack} (rollback)`, plan, change.product, stopFirstAddresses(run.stackDir(run.out, stack))));
    await harness.apply(stack, run.stackDir(run.out, stack));
    await harness.assertNoChanges(stack, run.stackDir(run.out, stack));
  }
  process.stdout.write(`${run.name} tag change ${change.product} -> ${change.imageTag}, comment, apply, rollback: ${seconds(Date.now() - started)}\n`);
  return problems;
}

/** `cdktf deploy <stack> --auto-approve` before any stack is applied: Terraform stops it with what to deploy first, and nothing changes. */
async function cdktfBeforeUpstream(harness: Harness, run: SystemRun, stack: string): Promise<string[]> {
  const started = Date.now();
  writeCdktfProject(run.workDir, path.relative(run.workDir, run.out));
  // The lock file, from the mirror: without one cdktf runs `terraform providers lock`, which asks the public registry.
  await harness.init(stack, run.stackDir(run.out, stack));
  const result = await runCdktf(run.workDir, ['deploy', stack, '--auto-approve'], cdktfEnv(harness.terraformEnv()));
  fs.writeFileSync(path.join(run.workDir, 'cdktf-before-upstream.log'), result.output);
  // The order as the stack states it (its first read's precondition); its content is checked in stacks-and-backends.test.ts.
  const json = run.stackJsons[Object.keys(run.manifest.stacks).indexOf(stack)];
  const environment = run.tagChange.environment;
  const firstRead = json.data.terraform_remote_state[`outputs-${environment}-network`];
  const deployFirst = (firstRead.lifecycle.precondition[0].error_message as string).split('\n').filter((line) => line.startsWith('  cdktf deploy '));
  const stateFiles = fs.readdirSync(run.workDir).filter((file) => file.endsWith('.tfstate'));
  const problems = checkRefusal(result, stack, stateFiles);
  // The message itself, from Terraform in the same directory: cdktf (0.21, without a terminal) at times exits
  // before it prints the tail of Terraform's output, where the message is.
  const planned = await harness.failingPlan(stack, run.stackDir(run.out, stack));
  problems.push(...checkRefusalMessage(planned, stack, `${environment}-network`, deployFirst));
  if (deployFirst[0]?.trim() !== `cdktf deploy ${environment}-network`) problems.push(`${stack}: the order to deploy in does not start with ${environment}-network: ${deployFirst.join(' | ')}`);
  process.stdout.write(`${run.name} cdktf deploy ${stack} before its upstream: refused (exit ${result.code}) in ${seconds(Date.now() - started)}\n`);
  return problems;
}

/** `cdktf deploy <stack> --auto-approve` once its upstream is applied: it applies, and a plan afterwards has no changes. */
async function cdktfAfterUpstream(harness: Harness, run: SystemRun, stack: string): Promise<string[]> {
  const started = Date.now();
  const result = await runCdktf(run.workDir, ['deploy', stack, '--auto-approve'], cdktfEnv(harness.terraformEnv()));
  fs.writeFileSync(path.join(run.workDir, 'cdktf-after-upstream.log'), result.output);
  if (result.code !== 0) return [`cdktf deploy ${stack} --auto-approve (upstream applied) failed (exit ${result.code}):\n${result.output.slice(-4000)}`];
  // Not cdktf's "Apply complete!" line, which it at times leaves unprinted (see cdktfBeforeUpstream): the state.
  const stateFile = path.join(run.workDir, `terraform.${stack}.tfstate`);
  const resources = fs.existsSync(stateFile) ? (readJson(stateFile).resources ?? []).filter((r: any) => r.mode === 'managed').length : 0;
  if (resources === 0) return [`cdktf deploy ${stack} --auto-approve exited 0 but ${stateFile} holds no resources`];
  await harness.assertNoChanges(stack, run.stackDir(run.out, stack));
  process.stdout.write(`${run.name} cdktf deploy ${stack} --auto-approve (upstream applied): applied in ${seconds(Date.now() - started)}\n`);
  return [];
}

/** The comment states Terraform's own counts per stack and in total, and no secret value. */
export function checkComment(
  comment: { body: string; totals: { add: number; change: number; destroy: number } },
  plans: readonly { stack: string; summary: string }[],
  secrets: readonly string[],
  commentFile: string,
): string[] {
  const problems: string[] = [];
  const totals = { add: 0, change: 0, destroy: 0 };
  for (const { stack, summary } of plans) {
    const counts = summary.match(/(\d+) to add, (\d+) to change, (\d+) to destroy/);
    if (!counts) {
      problems.push(`${stack}: Terraform planned no changes for a tag change`);
      continue;
    }
    totals.add += Number(counts[1]);
    totals.change += Number(counts[2]);
    totals.destroy += Number(counts[3]);
    if (!comment.body.includes(`${counts[1]} to add, ${counts[2]} to change, ${counts[3]} to destroy`)) {
      problems.push(`${stack}: the comment does not state Terraform's "${summary}" (see ${commentFile})`);
    }
  }
  if (comment.totals.add !== totals.add || comment.totals.change !== totals.change || comment.totals.destroy !== totals.destroy) {
    problems.push(`comment totals ${JSON.stringify(comment.totals)} differ from Terraform's ${JSON.stringify(totals)}`);
  }
  for (const secret of secrets) {
    if (comment.body.includes(secret)) problems.push(`the plan comment contains a secret value (${secret.slice(0, 4)}…, see ${commentFile})`);
  }
  return problems;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: Error) => {
      process.stderr.write(`e2e: ${error.stack ?? error}\n`);
      process.exitCode = 1;
    },
  );
}
