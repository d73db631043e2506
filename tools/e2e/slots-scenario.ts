/**
 * A release through slots under real Terraform (docs/releasing.md): the first service of the system released through
 * slots, from its move to slots (pre-slot container beside blue) to a recorded blue slot, then a new tag into green.
 * What must hold, read from Terraform's own plans: recording the slots removes only the pre-slot container and leaves
 * the serving blue one as it is; a release creates the green version beside it and touches nothing of blue; the plan
 * comment announces the release steps; each apply converges.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderPlanComment } from '../../scripts/plan-comment/render';
import { slotsWithTag } from '../../scripts/ops/tags-file';
import type { ProductDeployment, ServiceSlots, SystemSpec } from '../../system/model';
import { resolveSystem } from '../../system/resolve';
import type { Harness, SystemRun } from './run';

/** An environment's product with a service released through slots, and that service's current tag. */
interface SlottedService {
  readonly environment: string;
  readonly product: string;
  readonly service: string;
  readonly tag: string;
}

/** The first service released through slots, production first (its canary shows in the comment); none when no service is. */
export function firstSlottedService(system: SystemSpec): SlottedService | undefined {
  const resolved = resolveSystem(system);
  const environments = [...resolved.environments].sort((a, b) => Number(b.production) - Number(a.production));
  for (const environment of environments) {
    for (const product of environment.products) {
      const service = product.services.find((candidate) => candidate.slots !== undefined);
      if (service?.image !== undefined) return { environment: environment.name, product: product.name, service: service.name, tag: service.image.tag };
    }
  }
  return undefined;
}

/** The system with `slots` recorded for one service (and the product's tag), as `release record-slots` writes them. */
function withRecordedSlots(system: SystemSpec, target: SlottedService, slots: ServiceSlots, imageTag: string): SystemSpec {
  return {
    ...system,
    environments: system.environments.map((environment) =>
      environment.name !== target.environment
        ? environment
        : {
            ...environment,
            products: environment.products.map((deployment): ProductDeployment =>
              deployment.product !== target.product ? deployment : { ...deployment, imageTag, slots: { ...deployment.slots, [target.service]: slots } },
            ),
          },
    ),
  };
}

const actionsOf = (plan: any, address: string): string[] => (plan.resource_changes ?? []).find((change: any) => change.address === address)?.change.actions ?? ['absent'];

export async function slotScenario(harness: Harness, run: SystemRun, target: SlottedService): Promise<string[]> {
  const started = Date.now();
  const stack = `${target.environment}-${target.product}`;
  const container = (suffix: string) => `docker_container.${target.product}-${target.service}${suffix}`;
  const problems: string[] = [];
  const expect = (what: string, actual: readonly string[], allowed: readonly (readonly string[])[]) => {
    if (!allowed.some((ok) => JSON.stringify(ok) === JSON.stringify(actual))) problems.push(`${run.name} slots ${stack}: ${what}: Terraform plans ${JSON.stringify(actual)}, expected ${allowed.map((ok) => JSON.stringify(ok)).join(' or ')}`);
  };

  // 1. The slots recorded (blue serves the current tag): the pre-slot container goes, blue stays as it is.
  const recorded: ServiceSlots = { live: 'blue', blue: target.tag };
  const recordedOut = path.join(run.workDir, 'out-slots-recorded');
  run.synth(withRecordedSlots(run.system, target, recorded, target.tag), recordedOut);
  const recording = (await harness.planJson(stack, run.stackDir(recordedOut, stack))).plan;
  expect('the pre-slot container once the slots are recorded', actionsOf(recording, container('')), [['delete']]);
  expect('the serving blue container once the slots are recorded', actionsOf(recording, container('-blue')), [['no-op']]);
  if (problems.length > 0) return problems;
  await harness.apply(stack, run.stackDir(recordedOut, stack));
  await harness.assertNoChanges(stack, run.stackDir(recordedOut, stack));

  // 2. A release: the new tag goes into the idle slot (as the tags file writes it), beside the serving version.
  const newTag = 'main-e2e0002';
  const released = slotsWithTag({ [target.service]: recorded }, target.service, newTag)![target.service]!;
  const releasedOut = path.join(run.workDir, 'out-slots-released');
  run.synth(withRecordedSlots(run.system, target, released, newTag), releasedOut);
  const release = (await harness.planJson(stack, run.stackDir(releasedOut, stack))).plan;
  expect('the new version (green)', actionsOf(release, container('-green')), [['create']]);
  expect('the serving version (blue) during a release', actionsOf(release, container('-blue')), [['no-op']]);
  const greenImage = (release.resource_changes ?? []).find((change: any) => change.address === `docker_image.${target.product}-${target.service}-green`)?.change.after?.name;
  if (typeof greenImage !== 'string' || !greenImage.endsWith(`:${newTag}`)) problems.push(`${run.name} slots ${stack}: the green slot's image is ${greenImage}, expected one tagged ${newTag}`);
  const comment = renderPlanComment([{ stack, plan: release }]);
  const commentFile = path.join(run.workDir, 'slots-release-comment.md');
  fs.writeFileSync(commentFile, comment.body);
  const announced = `- \`${stack}\`: \`${target.product}/${target.service}\` \`${newTag}\` into green: `;
  if (!comment.body.includes(announced)) problems.push(`${run.name} slots ${stack}: the comment (${commentFile}) does not announce the release steps ("${announced}...")`);
  if (problems.length > 0) return problems;
  await harness.apply(stack, run.stackDir(releasedOut, stack));
  await harness.assertNoChanges(stack, run.stackDir(releasedOut, stack));
  process.stdout.write(`${run.name} slots ${stack} ${target.service}: recorded, released into green beside blue, comment: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return problems;
}
