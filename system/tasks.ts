/**
 * Release-time tasks: one-shot commands of a service (a schema migration)
 * that run once per released image tag, with the service's image, its data
 * connections and secrets, to completion, before any new container of the
 * product starts. The old version keeps serving while they run; a failure
 * fails the release and replaces nothing (docs/deploying.md, "Release tasks").
 */
import type { ResourceSpec } from '../constructs/core/resources';

/** One release task of a service, by name in its `tasks` (`migrate`). */
export interface TaskSpec {
  /**
   * The command, run with the service's image instead of its entrypoint and
   * CMD (`['pnpm', 'migration:run']`, `['npx', 'prisma', 'migrate', 'deploy']`).
   * It must be safe to run again (migration tools record what they applied)
   * and forward-compatible: the old version serves on the new schema until
   * its containers are replaced.
   */
  readonly command: readonly string[];
  /**
   * Seconds the task may run; then it is stopped (SIGTERM, SIGKILL 10 s
   * later) and the release fails. The image needs `timeout` (coreutils or
   * busybox, which every node and python image has).
   * @default 600
   */
  readonly timeoutSeconds?: number;
  /**
   * The command's dry-run form: reports what the task would change and
   * changes nothing (`['npx', 'prisma', 'migrate', 'status']`). Run by hand
   * against staging with `npm run ops -- task dry-run <env> <product> <task>`;
   * never run by a release.
   * @default - none: the task has no dry run
   */
  readonly dryRunCommand?: readonly string[];
  /** CPU and memory, field by field over the service's. @default - the service's */
  readonly resources?: Partial<ResourceSpec>;
}

/** Default time limit of a task, in seconds. */
export const DEFAULT_TASK_TIMEOUT_SECONDS = 600;

/**
 * The longest time limit a task may have: the Docker provider creates an
 * attached container within its create context, which terraform-plugin-sdk v2
 * bounds by the resource's create timeout, 20 minutes when the resource
 * declares none (helper/schema/resource.go, Resource.create:
 * context.WithTimeout(ctx, d.Timeout(TimeoutCreate))); docker_container
 * declares none at v3.6.2. A minute is left for starting and reading it.
 */
export const MAX_TASK_TIMEOUT_SECONDS = 19 * 60;

/** A task of a service, resolved for one environment. */
export interface ResolvedTask {
  /** Name within its service (`migrate`). */
  readonly name: string;
  /** Service it belongs to (`backend`), whose image, data connections and secrets it gets. */
  readonly service: string;
  /** `<product>-<service>-<task>`: base of its container name and Terraform addresses. */
  readonly id: string;
  readonly command: readonly string[];
  readonly dryRunCommand?: readonly string[];
  readonly timeoutSeconds: number;
  readonly resources: ResourceSpec;
}

/** The tasks of one service in the order its description lists them. */
export function resolveTasks(
  product: string,
  service: { readonly name: string; readonly tasks?: Readonly<Record<string, TaskSpec>> },
  serviceResources: ResourceSpec,
  escape: (text: string) => string,
): ResolvedTask[] {
  return Object.entries(service.tasks ?? {}).map(([name, task]) => ({
    name,
    service: service.name,
    id: `${product}-${service.name}-${name}`,
    command: task.command.map(escape),
    dryRunCommand: task.dryRunCommand?.map(escape),
    timeoutSeconds: task.timeoutSeconds ?? DEFAULT_TASK_TIMEOUT_SECONDS,
    resources: { ...serviceResources, ...task.resources },
  }));
}
