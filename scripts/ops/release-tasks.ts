/**
 * Release tasks on the hosts (constructs/docker/release-task.ts): what their last runs did, and a task's
 * dry-run form run by hand against an environment (staging) without rolling anything out.
 *
 * Where the facts live. A task is a one-shot container Terraform creates once per release and keeps,
 * stopped, until the next release replaces it: the host's Docker keeps its state (State.ExitCode,
 * StartedAt, FinishedAt), its labels (product, service, task, image.tag) and its output (the json-file
 * log driver, `docker logs` works on a stopped container). Terraform's state holds the same exit code and
 * `container_logs` too, but only for the stack's own apply and in a state file an operator may not have;
 * Loki has the lines as long as its retention keeps them. The engine is the one place every environment
 * has, so these commands read it the way `status` and `logs` do (docker-access.ts).
 *
 * The dry run copies the last run of the task: its environment (names on the command line; the values
 * pass to the docker CLI through its own environment, `--env NAME`, never through argv or output), its
 * networks, user and limits; the image is the task's service image at the tag the catalog names now (or
 * `--tag`), so a tag can be tried before it is released. Its command is the task's `dryRunCommand`.
 */
import { dockerPrefix, type DockerHost } from './docker-access';
import { OperatorError } from '../lib/tools';

/** One run of a task, from `docker container inspect`. */
export interface TaskRun {
  readonly host: string;
  readonly container: string;
  readonly product: string;
  readonly service: string;
  readonly task: string;
  readonly tag: string;
  /** `exited`, `running`, `created`... */
  readonly state: string;
  /** Undefined while it runs or before it started. */
  readonly exitCode?: number;
  /** RFC 3339, UTC; undefined before it started. */
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

/** The task containers of an environment (optionally one product): IDs, one a line. */
export function taskContainersCommand(host: DockerHost, system: string, environment: string, product?: string): string[] {
  return [
    ...dockerPrefix(host),
    'ps', '--all', '--quiet', '--no-trunc',
    '--filter', `label=system=${system}`,
    '--filter', `label=env=${environment}`,
    '--filter', 'label=task',
    ...(product === undefined ? [] : ['--filter', `label=product=${product}`]),
  ];
}

/** `docker container inspect` of the given containers: a JSON array. */
export function inspectCommand(host: DockerHost, containers: readonly string[]): string[] {
  return [...dockerPrefix(host), 'container', 'inspect', ...containers];
}

/** Docker's zero time (`0001-01-01T00:00:00Z`) means "never". */
const time = (value: unknown): string | undefined => (typeof value === 'string' && !value.startsWith('0001-') ? value.replace(/\.\d+Z$/, 'Z') : undefined);

/** The runs in an inspect answer; containers without a `task` label are not runs. */
export function parseTaskRuns(host: string, inspectJson: string): TaskRun[] {
  const containers = JSON.parse(inspectJson) as any[];
  return containers
    .map((container) => ({ container, labels: (container.Config?.Labels ?? {}) as Record<string, string> }))
    .filter(({ labels }) => labels.task !== undefined)
    .map(({ container, labels }) => {
      const state = container.State ?? {};
      const started = time(state.StartedAt);
      return {
        host,
        container: String(container.Name ?? '').replace(/^\//, ''),
        product: labels.product ?? '-',
        service: labels.service ?? '-',
        task: labels.task!,
        tag: labels['image.tag'] ?? '-',
        state: String(state.Status ?? '-'),
        exitCode: state.Status === 'exited' && started !== undefined ? Number(state.ExitCode) : undefined,
        startedAt: started,
        finishedAt: state.Status === 'exited' ? time(state.FinishedAt) : undefined,
      };
    });
}

/** The newest run of each task (product, service, task), ordered by product, service, task. */
export function lastRuns(runs: readonly TaskRun[]): TaskRun[] {
  const newest = new Map<string, TaskRun>();
  for (const run of runs) {
    const key = `${run.product}/${run.service}/${run.task}`;
    const seen = newest.get(key);
    if (seen === undefined || (run.startedAt ?? '') > (seen.startedAt ?? '')) newest.set(key, run);
  }
  return [...newest.values()].sort((a, b) => a.product.localeCompare(b.product) || a.service.localeCompare(b.service) || a.task.localeCompare(b.task));
}

/** A fixed-width table of runs; EXIT is `-` while a task runs or never started. */
export function formatTaskRuns(runs: readonly TaskRun[]): string {
  const header = ['HOST', 'PRODUCT', 'SERVICE', 'TASK', 'TAG', 'EXIT', 'FINISHED', 'CONTAINER'];
  const cells = runs.map((run) => [run.host, run.product, run.service, run.task, run.tag, run.exitCode === undefined ? run.state : String(run.exitCode), run.finishedAt ?? '-', run.container]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => cell[column]!.length)));
  return [header, ...cells].map((cell) => cell.map((text, column) => text.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

/** What a dry run takes from the task's last run: settings only, and the environment's names apart from its values. */
export interface TaskTemplate {
  readonly container: string;
  /** Variable names, in the order the container has them. */
  readonly variableNames: readonly string[];
  /** The values by name: handed to the docker CLI's environment, never printed. */
  readonly values: Readonly<Record<string, string>>;
  readonly networks: readonly string[];
  readonly user: string;
  readonly readOnly: boolean;
  /** Mount point -> options. */
  readonly tmpfs: Readonly<Record<string, string>>;
  readonly memoryBytes: number;
  readonly nanoCpus: number;
  readonly labels: Readonly<Record<string, string>>;
}

/** The settings of one inspected task container. */
export function taskTemplate(inspectJson: string): TaskTemplate {
  const [container] = JSON.parse(inspectJson) as any[];
  if (container === undefined) throw new OperatorError('docker inspect returned no container');
  const env = (container.Config?.Env ?? []) as string[];
  const pairs = env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const);
  const host = container.HostConfig ?? {};
  return {
    container: String(container.Name ?? '').replace(/^\//, ''),
    variableNames: pairs.map(([name]) => name),
    values: Object.fromEntries(pairs),
    networks: Object.keys(container.NetworkSettings?.Networks ?? {}).sort(),
    user: String(container.Config?.User ?? ''),
    readOnly: host.ReadonlyRootfs === true,
    tmpfs: host.Tmpfs ?? {},
    memoryBytes: Number(host.Memory ?? 0),
    nanoCpus: Number(host.NanoCpus ?? 0),
    labels: container.Config?.Labels ?? {},
  };
}

/** Seconds between the time limit's SIGTERM and its SIGKILL, as for the task itself (release-task.ts). */
const KILL_AFTER_SECONDS = 10;

/** What the dry run runs. */
export interface DryRun {
  /** Image reference, the service's repository at the tag to try. */
  readonly image: string;
  readonly command: readonly string[];
  readonly timeoutSeconds: number;
  /** Its container's name (unique per run). */
  readonly name: string;
}

/**
 * The docker command lines of a dry run, in order: create (first network, the task's hardening, every
 * variable by name only), connect the other networks (docker 20.10's `run` takes one network), start
 * attached (its exit code is the command's), remove.
 */
export function dryRunCommands(host: DockerHost, template: TaskTemplate, run: DryRun): string[][] {
  const [first, ...others] = template.networks;
  if (first === undefined) throw new OperatorError(`the task container ${template.container} is on no network`);
  const docker = dockerPrefix(host);
  const labels = Object.entries(template.labels).filter(([name]) => ['system', 'env', 'product', 'service', 'host'].includes(name));
  const create = [
    ...docker, 'container', 'create',
    '--name', run.name,
    '--network', first,
    ...(template.user !== '' ? ['--user', template.user] : []),
    ...(template.readOnly ? ['--read-only'] : []),
    ...Object.entries(template.tmpfs).flatMap(([path, options]) => ['--tmpfs', options === '' ? path : `${path}:${options}`]),
    '--cap-drop', 'ALL',
    '--security-opt', 'no-new-privileges:true',
    ...(template.memoryBytes > 0 ? ['--memory', String(template.memoryBytes), '--memory-swap', String(template.memoryBytes)] : []),
    ...(template.nanoCpus > 0 ? ['--cpus', String(template.nanoCpus / 1e9)] : []),
    ...labels.flatMap(([name, value]) => ['--label', `${name}=${value}`]),
    // Not `task`: a dry run is no run of the task (`ops tasks` lists those).
    '--label', `dry-run=${template.labels.task ?? 'task'}`,
    ...template.variableNames.flatMap((name) => ['--env', name]),
    '--entrypoint', 'timeout',
    run.image,
    '-s', 'TERM', '-k', String(KILL_AFTER_SECONDS), String(run.timeoutSeconds), ...run.command,
  ];
  return [create, ...others.map((network) => [...docker, 'network', 'connect', network, run.name]), [...docker, 'container', 'start', '--attach', run.name], [...docker, 'container', 'rm', '--force', run.name]];
}

/** `repo:tag` or `repo@digest` with its tag replaced. */
export function withImageTag(reference: string, tag: string): string {
  const at = reference.indexOf('@');
  const base = at >= 0 ? reference.slice(0, at) : reference;
  const colon = base.lastIndexOf(':');
  const repository = colon > base.lastIndexOf('/') ? base.slice(0, colon) : base;
  return `${repository}:${tag}`;
}
