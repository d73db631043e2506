/**
 * Retrying a failed deploy with the same image tag.
 *
 * A service container that never became healthy is left in state as tainted
 * (the Docker provider returns the failed health wait after creating it;
 * kreuzwerker/terraform-provider-docker resourceDockerContainerCreate). Its
 * name is `<service>-<tag>-<revision>`, and the revision (`random_id`) only
 * changes with the container's settings, so the next plan replaces it
 * create-before-destroy under the same name: Docker refuses ("name already in
 * use"). Replacing the revision too gives the new container a fresh name.
 *
 *   terraform plan -out=plan && terraform show -json plan > plan.json
 *   tsx scripts/retry-deploy.ts plan.json   # prints -replace=random_id.<service>-revision per tainted container
 *   terraform apply $(tsx scripts/retry-deploy.ts plan.json)
 *
 * Exit codes: 0 success (nothing printed: nothing to retry), 1 bad plan, 2 usage error.
 */
import * as fs from 'node:fs';
import { parsePlan, type ParsedPlan } from './plan-comment/plan-format';

/** Terraform's reason for replacing an object that a failed apply left tainted (plan JSON `action_reason`). */
export const TAINTED = 'replace_because_tainted';

/**
 * `-replace=` arguments that give each tainted service container a new
 * revision: the container `docker_container.<service>` is named after
 * `random_id.<service>-revision` (ServiceContainer pins both addresses).
 * Throws when a tainted container has no revision in the plan, since
 * replacing it alone would clash again.
 */
export function retryReplacements(plan: ParsedPlan): string[] {
  const addresses = new Set(plan.resourceChanges.map((change) => change.address));
  const flags: string[] = [];
  for (const change of plan.resourceChanges) {
    if (change.type !== 'docker_container' || change.actionReason !== TAINTED || change.deposed !== undefined) continue;
    const revision = `random_id.${change.name}-revision`;
    if (!addresses.has(revision)) {
      throw new Error(`${plan.stack}: ${change.address} is tainted but ${revision} is not in the plan; only service containers are renamed by a revision`);
    }
    flags.push(`-replace=${revision}`);
  }
  return flags;
}

function main(args: readonly string[]): number {
  if (args.length !== 1) {
    process.stderr.write('Usage: tsx scripts/retry-deploy.ts <plan.json>\n');
    return 2;
  }
  try {
    const plan = parsePlan(args[0]!, JSON.parse(fs.readFileSync(args[0]!, 'utf8')));
    const flags = retryReplacements(plan);
    if (flags.length > 0) process.stdout.write(flags.join(' ') + '\n');
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
