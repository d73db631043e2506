/**
 * Day-two commands, `npm run ops -- <verb> ...`:
 *
 *   status <env>                                   hosts, containers, health, image tags; on a swarm each service's tasks per node
 *   logs <env> <product>/<service> [--tail N] [--since 10m] [--follow]   on a swarm: every task's, through the manager
 *   versions <env> <product>[/<service>]           recorded tags, newest first, from the tags file's git history
 *   rollback <env> <product>[/<service>] [<tag>]   writes the tag (default: the previous one) into environments/tags/<env>.json
 *   tasks <env> [<product>]                        last run of each release task (scripts/ops/release-tasks.ts)
 *   task logs|dry-run <env> <product> <task>       a task's last output; its dry-run form against the environment
 *   traffic <env> [<product>]                      each released service's traffic split, tags and rollback window end
 *   common: [--host <name>=<address>] [--print]    --print shows the docker command lines instead of running them
 *
 * status and logs reach Docker the way the stacks do (scripts/ops/docker-access.ts) and read the
 * synthesized stacks, so run `npm run synth` first. rollback and versions only touch the tags
 * file: a rollback is a change like any other, reviewed and applied with `npm run deploy`.
 *
 * Exit codes: 0 done, 1 failed (message says why), 2 usage error.
 */
import { loadSystem, projectRoot, runCommand } from '../lib/command-line';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ConfigurationError } from '../../constructs/core/configuration-error';
import type { SystemSpec } from '../../system/model';
import { labelsOf, readSynthesizedApp, resourcesOf, SynthOutputError } from '../lib/synthesized';
import { OperatorError, quietEnv, requireBinary } from '../lib/tools';
import {
  dockerHosts,
  findServiceCommand,
  formatServiceStatus,
  formatStatus,
  localStateAddressLookup,
  logsCommand,
  parseServiceStatus,
  parseStatus,
  serviceListCommand,
  serviceLogsCommand,
  serviceTasksCommand,
  shellQuote,
  statusCommand,
  type AddressLookup,
  type DockerHost,
} from './docker-access';
import { swarmManagerHost } from '../../stacks/docker-hosts';
import { dryRunCommands, formatTaskRuns, inspectCommand, lastRuns, parseTaskRuns, taskContainersCommand, taskTemplate, withImageTag, type TaskRun } from './release-tasks';
import { resolveSystem, type ResolvedEnvironment } from '../../system/resolve';
import { synthesizedReleaseSites, type ReleaseSites } from '../release/release-sites';
import { releaseServices, trafficLines } from '../release/steps';
import { DOCKER_TAG } from '../../system/validation';
import { effectiveTag, gitRunner, previousTag, readTagsFile, tagHistory, withTag, writeTagsFile, type GitRunner, type TagsContext } from './tags-file';

const ROOT = projectRoot();

export const USAGE = `Usage: npm run ops -- <verb> ...
  status <env>                                    containers, health and image tags on every host; on a swarm first
                                                  each service's replicas and tasks per node (through the manager)
  logs <env> <product>/<service> [--tail <n>] [--since <10m|2026-11-29T10:00:00Z>] [--follow]
                                                  on a swarm: every task's lines, whichever node runs it
  versions <env> <product>[/<service>]            tags recorded in environments/tags/<env>.json, newest first
  rollback <env> <product>[/<service>] [<tag>]    write <tag> (default: the previous one) into the tags file
  tasks <env> [<product>]                         last run of each release task: tag, exit code, when it finished
  task logs <env> <product> [<service>/]<task> [--tail <n>]   output of a task's last run
  task dry-run <env> <product> [<service>/]<task> [--tag <tag>]
                                                  run the task's dryRunCommand now, on the host, with the settings of
                                                  its last run and the image at the catalog's tag (or --tag); no rollout
  traffic <env> [<product>]                       each service's traffic split on the edge (blue/green), the tags of both
                                                  versions and when the rollback window ends (docs/releasing.md)
Options for status, logs, tasks, task and traffic:
  --host <name>=<address>   address of a host when its network stack's state is not on this machine
  --print                   print the docker command lines instead of running them`;

/** A mistake in how the command was called: usage text, exit code 2. */
export class UsageError extends Error {}

/** The outside world of the command; replaced in tests. */
export interface OpsIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly root: string;
  readonly outdir: string;
  readonly system: SystemSpec;
  /** Runs a command and returns its exit code and captured stdout (or streams it when `inherit`); `env` adds to its environment. */
  readonly run: (args: readonly string[], inherit: boolean, env?: Readonly<Record<string, string>>) => { code: number; stdout: string };
  readonly git: GitRunner;
  readonly addressLookup?: AddressLookup;
  /** The environment's hosts as the release steps reach them; replaced in tests. @default - from cdktf.out */
  readonly releaseSites?: (environment: ResolvedEnvironment, hosts: ReadonlyMap<string, string>) => ReleaseSites;
  /** The time. @default - the clock */
  readonly now?: () => Date;
}

export function defaultIo(): OpsIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    root: ROOT,
    outdir: path.join(ROOT, 'cdktf.out'),
    // Loaded on first use, so `--help` answers even while environments/ has a mistake.
    get system() {
      return loadSystem();
    },
    run: (args, inherit, env) => {
      const result = spawnSync(args[0], args.slice(1), { encoding: 'utf8', env: { ...quietEnv(), ...env }, stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'inherit'] });
      if (result.error !== undefined) throw new OperatorError(`could not run ${args[0]}: ${result.error.message}`);
      return { code: result.status ?? 1, stdout: result.stdout ?? '' };
    },
    git: gitRunner(ROOT),
  };
}

interface ParsedOps {
  readonly positional: string[];
  readonly hosts: Map<string, string>;
  readonly print: boolean;
  readonly follow: boolean;
  readonly tail?: number;
  readonly since?: string;
  readonly tag?: string;
}

function parseOptions(args: readonly string[]): ParsedOps {
  const positional: string[] = [];
  const hosts = new Map<string, string>();
  let print = false;
  let follow = false;
  let tail: number | undefined;
  let since: string | undefined;
  let tag: string | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    const value = (): string => {
      const next = args[(i += 1)];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === '--print') print = true;
    else if (arg === '--follow' || arg === '-f') follow = true;
    else if (arg === '--tail') {
      const text = value();
      tail = /^\d+$/.test(text) ? Number(text) : NaN;
      if (Number.isNaN(tail)) throw new UsageError(`--tail must be a whole number of lines, got "${text}"`);
    } else if (arg === '--since') since = value();
    else if (arg === '--tag') {
      tag = value();
      if (!DOCKER_TAG.test(tag)) throw new UsageError(`--tag must be a Docker tag (letters, digits, "_", "." and "-", at most 128), got "${tag}"`);
    }
    else if (arg === '--host') {
      const text = value();
      const match = /^([a-z][a-z0-9-]*)=([0-9A-Za-z.:-]+)$/.exec(text);
      if (match === null) throw new UsageError(`--host must be <host name>=<address>, e.g. app-1=203.0.113.5; got "${text}"`);
      hosts.set(match[1], match[2]);
    } else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    else positional.push(arg);
  }
  return { positional, hosts, print, follow, tail, since, tag };
}

function environmentSpec(io: OpsIo, name: string | undefined) {
  if (name === undefined) throw new UsageError('name the environment');
  const spec = io.system.environments.find((environment) => environment.name === name);
  if (spec === undefined) throw new OperatorError(`unknown environment "${name}"; environments: ${io.system.environments.map((environment) => environment.name).join(', ')}`);
  return spec;
}

/** `product` or `product/service`, checked against the catalog. */
function productTarget(io: OpsIo, environment: string, target: string | undefined, serviceRequired: boolean): { product: string; service?: string } {
  if (target === undefined) throw new UsageError(serviceRequired ? 'name the service as <product>/<service>' : 'name the product as <product> or <product>/<service>');
  const [product, service, ...extra] = target.split('/');
  const spec = io.system.products.find((candidate) => candidate.name === product);
  if (spec === undefined) throw new OperatorError(`environment "${environment}": unknown product "${product}"; products: ${io.system.products.map((p) => p.name).join(', ')}`);
  if (extra.length > 0 || (serviceRequired && !service)) throw new UsageError(`expected <product>/<service>, got "${target}"`);
  if (service !== undefined && service !== '' && !spec.services.some((candidate) => candidate.name === service)) {
    throw new OperatorError(`environment "${environment}", product "${product}": unknown service "${service}"; services: ${spec.services.map((s) => s.name).join(', ')}`);
  }
  return { product, service: service === '' ? undefined : service };
}

function synthesizedHosts(io: OpsIo, environment: string, overrides: Map<string, string>) {
  const app = readSynthesizedApp(io.outdir);
  const hosts = dockerHosts(app, environment, io.addressLookup ?? localStateAddressLookup(app), overrides, io.env);
  // The system label every container carries, read from the edge proxy (the same for all).
  const edge = app.stacks.get(`${environment}-edge`)!;
  const system = resourcesOf(edge, 'docker_container').map(([, block]) => labelsOf(block).system).find(Boolean) ?? io.system.name;
  return { hosts, system };
}

/** On a swarm: the manager every service command goes through, and which catalog service each Swarm service is. */
function swarmOf(io: OpsIo, environment: string, hosts: readonly DockerHost[]) {
  const resolved = resolveSystem(io.system).environments.find((candidate) => candidate.name === environment)!;
  if (resolved.engine !== 'swarm') return undefined;
  const managerName = swarmManagerHost(resolved);
  const manager = hosts.find((host) => host.name === managerName);
  if (manager === undefined) throw new OperatorError(`environment "${environment}": the swarm's manager ${managerName} is not among the hosts of cdktf.out (${hosts.map((host) => host.name).join(', ')}); run npm run synth`);
  const catalog = new Map(resolved.products.flatMap((product) => product.services.map((service) => [service.id, { product: service.product, service: service.name }] as const)));
  return { manager, catalog };
}

/** The services' replicas and tasks per node, through the manager; returns how many run fewer tasks than they should. */
function swarmStatus(io: OpsIo, swarm: NonNullable<ReturnType<typeof swarmOf>>, system: string, environment: string): number {
  const { manager, catalog } = swarm;
  io.err(`swarm manager ${manager.name}: ${manager.url}\n`);
  const listed = io.run(serviceListCommand(manager, system, environment), false);
  if (listed.code !== 0) throw new OperatorError(`docker on ${manager.name} (${manager.url}) exited with code ${listed.code}`);
  const names = listed.stdout.split('\n').filter((line) => line.trim() !== '').map((line) => String((JSON.parse(line) as { Name?: string }).Name));
  const tasks = names.length === 0 ? { code: 0, stdout: '' } : io.run(serviceTasksCommand(manager, names), false);
  if (tasks.code !== 0) throw new OperatorError(`docker on ${manager.name} (${manager.url}) exited with code ${tasks.code}`);
  const services = parseServiceStatus(listed.stdout, tasks.stdout, catalog);
  io.out(`${formatServiceStatus(services)}\n`);
  const short = services.filter((service) => service.running < service.desired);
  if (short.length > 0) io.out(`${short.length} service(s) run fewer tasks than their replicas: ${short.map((service) => `${service.name} ${service.running}/${service.desired}`).join(', ')}\n`);
  return short.length;
}

function runStatus(io: OpsIo, options: ParsedOps): number {
  const environment = environmentSpec(io, options.positional[0]).name;
  const { hosts, system } = synthesizedHosts(io, environment, options.hosts);
  const swarm = swarmOf(io, environment, hosts);
  const commands = hosts.map((host) => ({ host, args: statusCommand(host, system, environment) }));
  if (options.print) {
    const serviceCommands = swarm === undefined ? [] : [serviceListCommand(swarm.manager, system, environment), serviceTasksCommand(swarm.manager, ['<services from the line above>'])];
    io.out(`${[...serviceCommands, ...commands.map(({ args }) => args)].map((args) => shellQuote(args)).join('\n')}\n`);
    return 0;
  }
  requireBinary('docker', 'status and logs use the docker CLI (client only; it talks to the hosts over ssh or TLS).', io.env);
  if (swarm !== undefined) {
    swarmStatus(io, swarm, system, environment);
    // Data services, accessories and the monitoring collectors stay plain containers on their hosts.
    io.out('\nplain containers on each host:\n');
  }
  const rows = [];
  for (const [index, { host, args }] of commands.entries()) {
    io.err(`[${index + 1}/${commands.length}] ${host.name}: ${host.url}\n`);
    const result = io.run(args, false);
    if (result.code !== 0) throw new OperatorError(`docker on ${host.name} (${host.url}) exited with code ${result.code}`);
    rows.push(...parseStatus(host.name, result.stdout));
  }
  io.out(`${formatStatus(rows)}\n`);
  const unhealthy = rows.filter((row) => row.health === 'unhealthy' || row.state !== 'running');
  if (unhealthy.length > 0) io.out(`${unhealthy.length} container(s) not running or unhealthy: ${unhealthy.map((row) => row.name).join(', ')}\n`);
  return 0;
}

function runLogs(io: OpsIo, options: ParsedOps): number {
  const environment = environmentSpec(io, options.positional[0]).name;
  const { product, service } = productTarget(io, environment, options.positional[1], true);
  const { hosts, system } = synthesizedHosts(io, environment, options.hosts);
  const logOptions = { tail: options.tail, since: options.since, follow: options.follow };
  const swarm = swarmOf(io, environment, hosts);
  if (swarm !== undefined) {
    // A product service is a Swarm service named by its id: its tasks' lines, whichever node runs them.
    const name = [...swarm.catalog].find(([, known]) => known.product === product && known.service === service)?.[0];
    if (name === undefined) throw new OperatorError(`environment "${environment}": ${product}/${service} does not run here`);
    const args = serviceLogsCommand(swarm.manager, name, logOptions);
    if (options.print) {
      io.out(`${shellQuote(args)}\n`);
      return 0;
    }
    requireBinary('docker', 'status and logs use the docker CLI (client only; it talks to the hosts over ssh or TLS).', io.env);
    io.err(`${swarm.manager.name} (manager): service ${name}\n`);
    return io.run(args, true).code === 0 ? 0 : 1;
  }
  if (options.print) {
    for (const host of hosts) {
      io.out(`${shellQuote(findServiceCommand(host, system, environment, product, service!))}\n`);
      io.out(`${shellQuote(logsCommand(host, '<container from the line above>', logOptions))}\n`);
    }
    return 0;
  }
  requireBinary('docker', 'status and logs use the docker CLI (client only; it talks to the hosts over ssh or TLS).', io.env);
  for (const host of hosts) {
    const found = io.run(findServiceCommand(host, system, environment, product, service!), false);
    if (found.code !== 0) throw new OperatorError(`docker on ${host.name} (${host.url}) exited with code ${found.code}`);
    const container = found.stdout.split('\n').map((line) => line.trim()).find(Boolean);
    if (container === undefined) continue;
    io.err(`${host.name}: ${container}\n`);
    const result = io.run(logsCommand(host, container, logOptions), true);
    return result.code === 0 ? 0 : 1;
  }
  throw new OperatorError(`no running container of ${product}/${service} in ${environment} (hosts: ${hosts.map((host) => host.name).join(', ')})`);
}

function tagsContext(io: OpsIo, environment: string): TagsContext {
  const spec = environmentSpec(io, environment);
  return { environment: spec.name, production: spec.production, products: io.system.products, runs: spec.products.map((deployment) => deployment.product) };
}

function runVersions(io: OpsIo, options: ParsedOps): number {
  const context = tagsContext(io, options.positional[0]);
  const { product, service } = productTarget(io, context.environment, options.positional[1], false);
  const current = effectiveTag(readTagsFile(io.root, context).products[product], service);
  const history = tagHistory(io.git, context.environment, product, service);
  const label = service === undefined ? product : `${product}/${service}`;
  io.out(`${context.environment} ${label}: ${current === undefined ? 'not in the tags file' : `current tag ${current}`}\n`);
  if (history.length === 0) {
    io.out('no committed history yet\n');
    return 0;
  }
  for (const release of history) io.out(`${release.date}  ${release.tag.padEnd(16)}  ${release.commit.slice(0, 10)}  ${release.subject}\n`);
  return 0;
}

function runRollback(io: OpsIo, options: ParsedOps): number {
  const context = tagsContext(io, options.positional[0]);
  const { product, service } = productTarget(io, context.environment, options.positional[1], false);
  const file = readTagsFile(io.root, context);
  const current = effectiveTag(file.products[product], service);
  const label = service === undefined ? product : `${product}/${service}`;
  if (current === undefined) throw new OperatorError(`environment "${context.environment}": product "${product}" is not in environments/tags/${context.environment}.json`);
  let tag = options.positional[2];
  if (tag === undefined) {
    const previous = previousTag(tagHistory(io.git, context.environment, product, service), current);
    if (previous === undefined) {
      throw new OperatorError(`environment "${context.environment}", ${label}: no earlier tag than ${current} in the history of environments/tags/${context.environment}.json; name the tag to roll back to`);
    }
    tag = previous.tag;
  }
  if (tag === current) throw new OperatorError(`environment "${context.environment}", ${label} already runs ${tag}`);
  const written = writeTagsFile(io.root, withTag(file, context, product, service, tag));
  io.out(
    [
      `${context.environment} ${label}: ${current} -> ${tag} (written to ${path.relative(io.root, written)})`,
      'Next: commit it and open a pull request (the plan comment shows the swap), or apply it now:',
      `  git commit -m "rollback ${context.environment} ${label} to ${tag}" ${path.relative(io.root, written)}`,
      `  npm run deploy -- ${context.environment}-${product}`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** The newest run of every task on the environment's hosts (of one product when given), with each host's commands. */
function collectTaskRuns(io: OpsIo, environment: string, options: ParsedOps, product?: string): TaskRun[] {
  const { hosts, system } = synthesizedHosts(io, environment, options.hosts);
  requireBinary('docker', 'tasks uses the docker CLI (client only; it talks to the hosts over ssh or TLS).', io.env);
  const runs: TaskRun[] = [];
  for (const host of hosts) {
    const listed = io.run(taskContainersCommand(host, system, environment, product), false);
    if (listed.code !== 0) throw new OperatorError(`docker on ${host.name} (${host.url}) exited with code ${listed.code}`);
    const ids = listed.stdout.split('\n').map((line) => line.trim()).filter(Boolean);
    if (ids.length === 0) continue;
    const inspected = io.run(inspectCommand(host, ids), false);
    if (inspected.code !== 0) throw new OperatorError(`docker on ${host.name} (${host.url}) exited with code ${inspected.code}`);
    runs.push(...parseTaskRuns(host.name, inspected.stdout));
  }
  return lastRuns(runs);
}

function runTasks(io: OpsIo, options: ParsedOps): number {
  const environment = environmentSpec(io, options.positional[0]).name;
  const product = options.positional[1] === undefined ? undefined : productTarget(io, environment, options.positional[1], false).product;
  if (options.print) {
    const { hosts, system } = synthesizedHosts(io, environment, options.hosts);
    for (const host of hosts) {
      io.out(`${shellQuote(taskContainersCommand(host, system, environment, product))}\n`);
      io.out(`${shellQuote(inspectCommand(host, ['<containers from the line above>']))}\n`);
    }
    return 0;
  }
  const runs = collectTaskRuns(io, environment, options, product);
  if (runs.length === 0) {
    io.out(`no release task has run in ${environment}${product === undefined ? '' : ` for ${product}`} (tasks run when a release changes a tag)\n`);
    return 0;
  }
  io.out(`${formatTaskRuns(runs)}\n`);
  const failed = runs.filter((run) => run.exitCode !== undefined && run.exitCode !== 0);
  if (failed.length > 0) io.out(`${failed.length} task(s) failed their last run: ${failed.map((run) => `${run.product}/${run.service}/${run.task}`).join(', ')} (npm run ops -- task logs ${environment} <product> <task>)\n`);
  return 0;
}

/** `<task>` or `<service>/<task>` of a product, checked against the catalog as resolved for the environment. */
function catalogTask(io: OpsIo, environment: string, productName: string, name: string | undefined) {
  if (name === undefined) throw new UsageError('name the task as <task> or <service>/<task>');
  const resolved = resolveSystem(io.system).environments.find((candidate) => candidate.name === environment)!;
  const product = resolved.products.find((candidate) => candidate.name === productName);
  if (product === undefined) throw new OperatorError(`environment "${environment}": product "${productName}" does not run here`);
  const [first, second] = name.split('/');
  const matches = product.services.flatMap((service) => service.tasks.map((task) => ({ service, task }))).filter(({ service, task }) => (second === undefined ? task.name === first : service.name === first && task.name === second));
  const all = product.services.flatMap((service) => service.tasks.map((task) => `${service.name}/${task.name}`));
  if (matches.length === 0) throw new OperatorError(`environment "${environment}", product "${productName}": no task "${name}"; tasks: ${all.join(', ') || 'none'}`);
  if (matches.length > 1) throw new UsageError(`task "${name}" of ${productName} is ambiguous; name it as one of ${matches.map(({ service, task }) => `${service.name}/${task.name}`).join(', ')}`);
  return matches[0]!;
}

function runTask(io: OpsIo, options: ParsedOps): number {
  const [action, environmentName, productName, taskName] = options.positional;
  if (action !== 'logs' && action !== 'dry-run') throw new UsageError(`task needs "logs" or "dry-run", got ${action === undefined ? 'nothing' : `"${action}"`}`);
  const environment = environmentSpec(io, environmentName).name;
  const { product } = productTarget(io, environment, productName, false);
  const { service, task } = catalogTask(io, environment, product, taskName);
  const label = `${product}/${service.name}/${task.name}`;
  // The catalog's own words: the resolved command is escaped for Terraform (`$${`), and this one goes to docker directly.
  const dryRunCommand = io.system.products.find((spec) => spec.name === product)!.services.find((spec) => spec.name === service.name)!.tasks?.[task.name]?.dryRunCommand;
  if (action === 'dry-run' && dryRunCommand === undefined) {
    throw new OperatorError(`environment "${environment}": ${label} has no dryRunCommand (services.${service.name}.tasks.${task.name}.dryRunCommand in the catalog)`);
  }
  const { hosts } = synthesizedHosts(io, environment, options.hosts);
  if (options.print && action === 'logs') {
    for (const host of hosts) io.out(`${shellQuote(logsCommand(host, '<container of its last run: npm run ops -- tasks ' + environment + ' ' + product + '>', { tail: options.tail }))}\n`);
    return 0;
  }
  const last = collectTaskRuns(io, environment, options, product).find((run) => run.service === service.name && run.task === task.name);
  if (last === undefined) throw new OperatorError(`${label} has not run in ${environment} yet: a release that changes its tag runs it${action === 'dry-run' ? '; the dry run copies the settings of its last run' : ''}`);
  const host = hosts.find((candidate) => candidate.name === last.host)!;
  if (action === 'logs') {
    io.err(`${host.name}: ${last.container} (${last.tag}, exit code ${last.exitCode ?? last.state}, finished ${last.finishedAt ?? '-'})\n`);
    return io.run(logsCommand(host, last.container, { tail: options.tail, since: options.since }), true).code === 0 ? 0 : 1;
  }
  const inspected = io.run(inspectCommand(host, [last.container]), false);
  if (inspected.code !== 0) throw new OperatorError(`docker on ${host.name} (${host.url}) exited with code ${inspected.code}`);
  const template = taskTemplate(inspected.stdout);
  const image = options.tag === undefined ? service.image!.ref : withImageTag(service.image!.ref, options.tag);
  const commands = dryRunCommands(host, template, { image, command: dryRunCommand!, timeoutSeconds: task.timeoutSeconds, name: `${task.id}-dry-run-${Date.now().toString(36)}` });
  io.err(`${label} dry run in ${environment} on ${host.name}: ${image}, the variables and networks of ${last.container}\n`);
  if (options.print) {
    io.out(`${commands.map((command) => shellQuote(command)).join('\n')}\n`);
    return 0;
  }
  const [create, ...rest] = commands;
  const remove = rest.pop()!;
  const start = rest.pop()!;
  const created = io.run(create!, false, template.values);
  if (created.code !== 0) throw new OperatorError(`docker on ${host.name} could not create the dry run's container (exit code ${created.code})`);
  try {
    for (const connect of rest) {
      if (io.run(connect, false).code !== 0) throw new OperatorError(`docker on ${host.name} could not connect the dry run to its networks`);
    }
    const result = io.run(start, true);
    io.out(`${label} dry run exited with code ${result.code}\n`);
    return result.code === 0 ? 0 : 1;
  } finally {
    io.run(remove, false);
  }
}

async function runTraffic(io: OpsIo, options: ParsedOps): Promise<number> {
  const environment = environmentSpec(io, options.positional[0]).name;
  const resolved = resolveSystem(io.system).environments.find((candidate) => candidate.name === environment)!;
  const product = options.positional[1] === undefined ? undefined : productTarget(io, environment, options.positional[1], false).product;
  // Only routed services have a split at the edge.
  const services = (product === undefined ? resolved.products.map((spec) => spec.name) : [product]).flatMap((name) => releaseServices(resolved, name)).filter((service) => service.routed);
  const sites = (io.releaseSites ?? ((env, hosts) => synthesizedReleaseSites(io.outdir, env.name, { hosts, monitoringHost: env.monitoring.host, lookup: io.addressLookup, env: io.env })))(resolved, options.hosts);
  requireBinary('docker', 'traffic uses the docker CLI (client only; it talks to the hosts over ssh or TLS).', io.env);
  const lines = await trafficLines(sites, services, (io.now ?? (() => new Date()))());
  io.out(`${lines.join('\n') || `no routed service of ${product ?? environment} runs in ${environment}`}\n`);
  return 0;
}

/** Runs one invocation and returns the exit code (traffic answers asynchronously). */
export function main(argv: readonly string[], io: OpsIo): number | Promise<number> {
  const [verb, ...rest] = argv;
  try {
    if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help' || rest.includes('--help') || rest.includes('-h')) {
      io.out(`${USAGE}\n`);
      return verb === undefined ? 2 : 0;
    }
    const options = parseOptions(rest);
    switch (verb) {
      case 'status':
        return runStatus(io, options);
      case 'logs':
        return runLogs(io, options);
      case 'versions':
        return runVersions(io, options);
      case 'rollback':
        return runRollback(io, options);
      case 'tasks':
        return runTasks(io, options);
      case 'task':
        return runTask(io, options);
      case 'traffic':
        return runTraffic(io, options).catch((error: unknown) => failed(error, io));
      default:
        throw new UsageError(`unknown verb "${verb}"; verbs: status, logs, versions, rollback, tasks, task, traffic`);
    }
  } catch (error) {
    return failed(error, io);
  }
}

/** Usage mistakes exit 2 with the usage; the operator's mistakes 1 with their message; bugs are thrown. */
function failed(error: unknown, io: OpsIo): number {
  if (error instanceof UsageError) {
    io.err(`error: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (error instanceof OperatorError || error instanceof SynthOutputError || error instanceof ConfigurationError) {
    io.err(`error: ${error.message}\n`);
    return 1;
  }
  throw error;
}

if (require.main === module) runCommand(() => main(process.argv.slice(2), defaultIo()));
