/**
 * Release tasks on the real engine, under real Terraform (part of the engine scenario): a product's release whose
 * migration fails, then the fixed release.
 *
 * 1. Failing release (its stand-in migration exits 3): the apply fails with the task's name, exit code and output
 *    (the postcondition of constructs/docker/release-task.ts); on the engine the old containers keep running,
 *    untouched, and no container of the new release exists but the exited task. A second plan fails the same way.
 * 2. Fixed release: the task runs to completion (exit 0) before any new container of the product is created; the
 *    new containers replace the old ones.
 * 3. Re-plan of the fixed release: no changes, and the task did not run again (same container, same finish time).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SystemSpec } from '../../../index';
import type { Harness, SystemRun } from '../run';
import { withImageTag } from '../synth';
import { TerraformError } from '../terraform';
import type { EngineClient } from './api';
import { importStandIns, standInSpecs } from './standins';

const FAILING_TAG = 'main-fa11ed0';
const FIXED_TAG = 'main-0c0ffee';
const FAILING_EXIT = 3;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const labelsOf = (body: any): Record<string, string> => Object.fromEntries((body.labels ?? []).map((l: any) => [l.label, l.value]));

export interface ReleaseTaskContext {
  readonly name: string;
  readonly system: SystemSpec;
  readonly env: string;
  readonly run: SystemRun;
  readonly harness: Harness;
  readonly client: EngineClient;
  readonly workDir: string;
}

/** The product of `env` whose stack has release tasks, with that stack's index; undefined when none has. */
function productWithTasks(run: SystemRun, env: string): { product: string; stack: string } | undefined {
  const stacks = Object.keys(run.manifest.stacks);
  for (const [index, stack] of stacks.entries()) {
    if (!stack.startsWith(`${env}-`)) continue;
    const task = Object.values<any>(run.stackJsons[index].resource?.docker_container ?? {}).find((c) => labelsOf(c).task !== undefined);
    if (task) return { product: labelsOf(task).product, stack };
  }
  return undefined;
}

/** The product's containers on the engine, by name, with their state. */
async function productContainers(client: EngineClient, product: string): Promise<any[]> {
  const listed = await client.request<any[]>('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`product=${product}`] }))}`);
  return Promise.all(listed.map((c) => client.inspect(c.Id)));
}

export async function releaseTaskScenario(ctx: ReleaseTaskContext): Promise<string[]> {
  const { client, harness, run, env } = ctx;
  const found = productWithTasks(run, env);
  if (!found) {
    // Systems without tasks (fieldnotes, harbor...) have nothing to show here; nutri and manacore have.
    process.stdout.write(`${ctx.name} engine: no release tasks in ${env}\n`);
    return [];
  }
  const { product, stack } = found;
  const where = `${ctx.name} engine release tasks (${stack})`;
  const problems: string[] = [];
  const before = await productContainers(client, product);
  const beforeServices = before.filter((c) => c.Config.Labels.task === undefined);

  /** Synthesizes the release of `tag` and imports its new images' stand-ins (`env` baked into them). */
  const release = async (tag: string, imageEnv: Record<string, string>): Promise<string> => {
    const out = path.join(ctx.workDir, `out-${tag}`);
    run.synth(withImageTag(ctx.system, { environment: env, product, imageTag: tag }), out);
    const json = JSON.parse(fs.readFileSync(path.join(run.stackDir(out, stack), 'cdk.tf.json'), 'utf8'));
    const specs = [...standInSpecs([json]).values()].filter((spec) => spec.image.endsWith(`:${tag}`)).map((spec) => ({ ...spec, env: imageEnv }));
    await importStandIns(client, specs, ctx.workDir);
    return run.stackDir(out, stack);
  };

  // 1. The failing release.
  let started = Date.now();
  const failingDir = await release(FAILING_TAG, { STANDIN_TASK_EXIT: String(FAILING_EXIT) });
  let failure = '';
  try {
    await harness.planJson(stack, failingDir);
    await harness.apply(stack, failingDir);
    problems.push(`${where}: the release ${FAILING_TAG}, whose migration exits ${FAILING_EXIT}, applied without an error`);
  } catch (error) {
    if (!(error instanceof TerraformError)) throw error;
    failure = error.message;
  }
  for (const expected of ['Resource postcondition failed', 'Release task "migrate"', `(${FAILING_TAG}) failed: exit code ${FAILING_EXIT}`, 'column email contains null values']) {
    if (failure && !failure.includes(expected)) problems.push(`${where}: the failed apply does not say ${JSON.stringify(expected)}:\n${failure.slice(0, 3000)}`);
  }
  const afterFailure = await productContainers(client, product);
  for (const old of beforeServices) {
    const now = afterFailure.find((c) => c.Id === old.Id);
    if (!now?.State.Running) problems.push(`${where}: ${old.Name} of the old release is ${now ? now.State.Status : 'gone'} after the failed release; it must keep serving`);
  }
  const strays = afterFailure.filter((c) => !before.some((old) => old.Id === c.Id));
  const failedTask = strays.find((c) => c.Config.Labels.task !== undefined);
  if (!failedTask || failedTask.State.ExitCode !== FAILING_EXIT) problems.push(`${where}: expected the failed task's container, exited ${FAILING_EXIT}; found ${strays.map((c) => `${c.Name} ${c.State.Status} ${c.State.ExitCode}`).join(', ') || 'none'}`);
  for (const stray of strays.filter((c) => c !== failedTask)) problems.push(`${where}: ${stray.Name} of the failed release was created although its migration failed`);
  // Re-planning the same failing release fails on the recorded exit code (the task is not tainted).
  try {
    await harness.planJson(stack, failingDir);
    problems.push(`${where}: a second plan of the failed release succeeded; it should fail on the recorded exit code`);
  } catch (error) {
    if (!(error instanceof TerraformError) || !error.message.includes(`failed: exit code ${FAILING_EXIT}`)) throw error;
  }
  const failedSeconds = Date.now() - started;

  // 2. The fixed release.
  started = Date.now();
  const fixedDir = await release(FIXED_TAG, {});
  await harness.planJson(stack, fixedDir);
  await harness.apply(stack, fixedDir);
  const afterFix = await productContainers(client, product);
  const task = afterFix.find((c) => c.Config.Labels.task !== undefined);
  const services = afterFix.filter((c) => c.Config.Labels.task === undefined);
  if (!task || task.State.Running || task.State.ExitCode !== 0 || task.Config.Labels['image.tag'] !== FIXED_TAG) {
    problems.push(`${where}: after the fixed release the task should have exited 0 with ${FIXED_TAG}; found ${task ? `${task.Name} ${task.State.Status} ${task.State.ExitCode}` : 'none'}`);
  }
  if (afterFix.filter((c) => c.Config.Labels.task !== undefined).length !== 1) problems.push(`${where}: the failed task's container should be replaced by the fixed one`);
  if (services.length !== beforeServices.length) problems.push(`${where}: ${beforeServices.length} service containers before, ${services.length} after the fixed release`);
  for (const service of services) {
    if (service.Config.Labels['image.tag'] !== FIXED_TAG || !service.State.Running) problems.push(`${where}: ${service.Name} is ${service.State.Status} with ${service.Config.Labels['image.tag']}, expected running ${FIXED_TAG}`);
    // Docker's Created is when the provider created it: after the task had finished.
    if (task && Date.parse(service.Created) < Date.parse(task.State.FinishedAt)) {
      problems.push(`${where}: ${service.Name} was created at ${service.Created}, before the task finished at ${task.State.FinishedAt}`);
    }
  }
  const fixedSeconds = Date.now() - started;

  // 3. An unchanged re-apply plans nothing, so the task does not run again.
  await harness.assertNoChanges(stack, fixedDir);
  const again = task && (await client.inspect(task.Id).catch(() => undefined));
  if (task && (!again || again.State.FinishedAt !== task.State.FinishedAt)) problems.push(`${where}: the task ran again, or vanished, on an unchanged re-plan`);
  process.stdout.write(`${ctx.name} engine: release tasks of ${product}: failing release refused, old containers kept, in ${seconds(failedSeconds)}; fixed release migrated then rolled out in ${seconds(fixedSeconds)}\n`);
  return problems;
}
