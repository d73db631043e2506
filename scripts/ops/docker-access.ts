/**
 * The Docker daemons of an environment, reached the way the stacks reach them: the docker
 * provider blocks the stacks were synthesized with (constructs/docker/docker-host-provider.ts),
 * `ssh://deploy@<address>:22` by default or `tcp://<address>:2376` with client certificates; where
 * the stacks run on a Terraform Cloud agent on the host (the local socket), over SSH as the deploy user.
 * Commands are `docker --host <same URL> ...` command lines; nothing here runs them.
 *
 * The docker CLI's ssh:// transport runs the system `ssh` (docker/cli connhelper), which takes its
 * options from ~/.ssh/config, not from the provider's ssh_opts; the deploy user's key must be
 * available to ssh (agent or config) as it is for Terraform.
 */
import * as fs from 'node:fs';
import { labelsOf, OUTPUT_REFERENCE, outputOf, resolveStatic, resourcesOf, type SynthesizedApp } from '../lib/synthesized';
import { OperatorError } from '../lib/tools';
import { stateLocation } from '../deploy/preflight';

/** One host of an environment and how to reach its daemon. */
export interface DockerHost {
  /** Host name in the environment (`app-1`). */
  readonly name: string;
  /** `ssh://deploy@203.0.113.5:22` or `tcp://203.0.113.5:2376`. */
  readonly url: string;
  /** TLS client files for tcp:// hosts, else undefined. */
  readonly tls?: { readonly caFile: string; readonly certFile: string; readonly keyFile: string };
}

/** Where a host's address comes from when the provider reads it from the network stack. */
export type AddressLookup = (stack: string, output: string) => string | undefined;

/** Reads an output from a local state file (`outputs.<name>.value`); Terraform Cloud state is not read here. */
export function localStateAddressLookup(app: SynthesizedApp): AddressLookup {
  return (stack, output) => {
    const synthesized = app.stacks.get(stack);
    if (synthesized === undefined) return undefined;
    const location = stateLocation(synthesized);
    if (location.kind !== 'local' || !fs.existsSync(location.file)) return undefined;
    const state = JSON.parse(fs.readFileSync(location.file, 'utf8')) as { outputs?: Record<string, { value?: unknown }> };
    const value = state.outputs?.[output]?.value;
    return typeof value === 'string' ? value : undefined;
  };
}

/**
 * The hosts of an environment with their daemon URLs, from the docker providers of `<env>-edge`
 * (one per host; its containers carry the `host` label). `overrides` (`app-1` -> address) wins
 * over the state lookup.
 */
export function dockerHosts(app: SynthesizedApp, environment: string, lookup: AddressLookup, overrides: ReadonlyMap<string, string> = new Map(), env: NodeJS.ProcessEnv = process.env): DockerHost[] {
  const edge = app.stacks.get(`${environment}-edge`);
  if (edge === undefined) {
    const environments = [...app.stacks.keys()].filter((name) => name.endsWith('-edge')).map((name) => name.slice(0, -'-edge'.length));
    throw new OperatorError(`no environment "${environment}" in cdktf.out; environments: ${environments.join(', ')}`);
  }
  const providers = edge.json.provider?.docker ?? [];
  const hostOfAlias = new Map<string, string>();
  for (const [, block] of resourcesOf(edge, 'docker_container')) {
    const host = labelsOf(block).host;
    if (host !== undefined) hostOfAlias.set(typeof block.provider === 'string' ? block.provider : 'docker', host);
  }
  const sshTemplate = (name: string) => `ssh://deploy@\${data.terraform_remote_state.outputs-${environment}-network.outputs.host_${name.replace(/-/g, '_')}_ipv4}:22`;
  const named = providers.map((provider) => {
    const alias = typeof provider.alias === 'string' ? `docker.${provider.alias}` : 'docker';
    // A swarm's edge stack has one provider, the endpoint's, and runs no plain container to name it: its host is the
    // one whose address the provider reads (host_<name>_ipv4, host names have no "_").
    const addressed = /outputs\.host_([a-z0-9_]+)_ipv4\}/.exec(String(provider.host))?.[1]?.replace(/_/g, '-');
    const name = hostOfAlias.get(alias) ?? (typeof provider.alias === 'string' ? provider.alias.replace(/_/g, '-') : (addressed ?? alias));
    return { name, providerHost: String(provider.host) };
  });
  // Every other host of the environment (a swarm's nodes: their plain containers), over SSH at its published address.
  const network = app.stacks.get(`${environment}-network`);
  const hostNames = Object.keys(network?.json.output ?? {}).flatMap((output) => /^host_([a-z0-9_]+)_ipv4$/.exec(output)?.[1]?.replace(/_/g, '-') ?? []);
  const others = hostNames.filter((name) => !named.some((host) => host.name === name)).map((name) => ({ name, providerHost: sshTemplate(name) }));
  // In the environment's order of hosts.
  const order = (name: string) => (hostNames.includes(name) ? hostNames.indexOf(name) : hostNames.length);
  return [...named, ...others].sort((a, b) => order(a.name) - order(b.name)).map(({ name, providerHost }) => {
    // Under a Terraform Cloud agent the stacks use the host's local socket; an operator reaches the same daemon
    // over SSH as the deploy user from inside adminSshCidrs, at the address the network stack publishes.
    const template = providerHost.startsWith('unix://') ? sshTemplate(name) : resolveStatic(app, edge, providerHost);
    const reference = OUTPUT_REFERENCE.exec(template);
    let url = template;
    if (reference !== null) {
      const { stack, output } = outputOf(reference);
      const address = overrides.get(name) ?? lookup(stack, output);
      if (address === undefined) {
        throw new OperatorError(
          `the address of host ${name} (${environment}) is the output "${output}" of ${stack}, which has no local state here; ` +
            `pass --host ${name}=<address> (see \`terraform output\` in cdktf.out/stacks/${stack})`,
        );
      }
      url = template.replace(reference[0], address);
    }
    const tls = url.startsWith('tcp://') ? tlsFiles(env) : undefined;
    return { name, url, tls };
  });
}

/** TLS client files for tcp:// hosts: the DOCKER_CERT_PATH layout (ca.pem, cert.pem, key.pem), as the docker CLI expects. */
function tlsFiles(env: NodeJS.ProcessEnv): DockerHost['tls'] {
  const dir = env.DOCKER_CERT_PATH;
  if (!dir) throw new OperatorError('this environment reaches Docker over TLS: set DOCKER_CERT_PATH to a directory holding ca.pem, cert.pem and key.pem (the client certificate the stacks use)');
  return { caFile: `${dir}/ca.pem`, certFile: `${dir}/cert.pem`, keyFile: `${dir}/key.pem` };
}

/** `docker --host <url> [--tlsverify ...]`: the prefix of every command for one host. */
export function dockerPrefix(host: DockerHost): string[] {
  const tls = host.tls === undefined ? [] : ['--tlsverify', '--tlscacert', host.tls.caFile, '--tlscert', host.tls.certFile, '--tlskey', host.tls.keyFile];
  return ['docker', '--host', host.url, ...tls];
}

/**
 * Every container of the environment, as one JSON object per line (docker ps `--format` with
 * `{{json .}}`; fields ID, Image, Names, State, Status, Labels). Filters on the labels every
 * container of the stacks carries (`system`, `env`; see constructs/docker/hardened-container.ts).
 */
export function statusCommand(host: DockerHost, system: string, environment: string): string[] {
  return [...dockerPrefix(host), 'ps', '--all', '--no-trunc', '--filter', `label=system=${system}`, '--filter', `label=env=${environment}`, '--format', '{{json .}}'];
}

/** The running container(s) of one service: names only, newest first (docker ps lists newest first). */
export function findServiceCommand(host: DockerHost, system: string, environment: string, product: string, service: string): string[] {
  return [
    ...dockerPrefix(host),
    'ps',
    '--filter', `label=system=${system}`,
    '--filter', `label=env=${environment}`,
    '--filter', `label=product=${product}`,
    '--filter', `label=service=${service}`,
    '--format', '{{.Names}}',
  ];
}

/** Options of `logs`. */
export interface LogsOptions {
  /** Lines from the end. @default 200 */
  readonly tail?: number;
  /** Only lines newer than this (`10m`, `2h`, an RFC 3339 date). @default - no limit */
  readonly since?: string;
  /** Keep streaming. @default false */
  readonly follow?: boolean;
}

const DURATION_OR_DATE = /^(\d+(s|m|h))+$|^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?$/;

/** `--timestamps --tail N [--since S] [--follow]`, which `docker logs` and `docker service logs` share. */
function logOptionArgs(options: LogsOptions): string[] {
  const tail = options.tail ?? 200;
  if (!Number.isInteger(tail) || tail < 0) throw new OperatorError(`--tail must be a whole number of lines, got ${String(options.tail)}`);
  if (options.since !== undefined && !DURATION_OR_DATE.test(options.since)) {
    throw new OperatorError(`--since must be a duration (30s, 10m, 2h, 1h30m) or a date (2026-11-29, 2026-11-29T10:00:00Z), got "${options.since}"`);
  }
  return ['--timestamps', '--tail', String(tail), ...(options.since !== undefined ? ['--since', options.since] : []), ...(options.follow ? ['--follow'] : [])];
}

export function logsCommand(host: DockerHost, container: string, options: LogsOptions = {}): string[] {
  return [...dockerPrefix(host), 'logs', ...logOptionArgs(options), container];
}

/** Every task's log lines of a Swarm service, whichever node runs it, through a manager (each line prefixed with its task and node). */
export function serviceLogsCommand(manager: DockerHost, service: string, options: LogsOptions = {}): string[] {
  return [...dockerPrefix(manager), 'service', 'logs', ...logOptionArgs(options), service];
}

/**
 * The Swarm services of the environment through a manager, one JSON object per line (`docker service ls`: ID, Name,
 * Mode, Replicas as `running/desired`, Image), filtered on the labels every service of the stacks carries.
 */
export function serviceListCommand(manager: DockerHost, system: string, environment: string): string[] {
  return [...dockerPrefix(manager), 'service', 'ls', '--filter', `label=system=${system}`, '--filter', `label=env=${environment}`, '--format', '{{json .}}'];
}

/** The tasks Swarm keeps running of these services, each with its node (`docker service ps`: Name, Node, CurrentState, Error). */
export function serviceTasksCommand(manager: DockerHost, services: readonly string[]): string[] {
  return [...dockerPrefix(manager), 'service', 'ps', '--no-trunc', '--filter', 'desired-state=running', '--format', '{{json .}}', ...services];
}

/** One task of a Swarm service as status shows it. */
export interface TaskStatus {
  /** `booking-api.2` (a global service's task: `<service>.<node id>`). */
  readonly task: string;
  readonly node: string;
  /** `Running 5 minutes ago`, `Pending 1 minute ago`, ... */
  readonly state: string;
  readonly error: string;
}

/** One Swarm service with its tasks. */
export interface ServiceStatus {
  readonly name: string;
  readonly product: string;
  readonly service: string;
  readonly mode: string;
  readonly running: number;
  readonly desired: number;
  readonly tag: string;
  readonly tasks: readonly TaskStatus[];
}

const jsonLines = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, string | undefined>);

/**
 * Joins `docker service ls` and `docker service ps` JSON lines. `Replicas` is `running/desired`, followed on newer
 * CLIs by ` (max N per node)`; `catalog` names a service's product and catalog service (`booking-api` -> booking/api).
 */
export function parseServiceStatus(servicesOutput: string, tasksOutput: string, catalog: ReadonlyMap<string, { product: string; service: string }>): ServiceStatus[] {
  const tasks = jsonLines(tasksOutput).map((row) => ({ task: row.Name ?? '', node: row.Node ?? '', state: row.CurrentState ?? '', error: row.Error ?? '' }));
  return jsonLines(servicesOutput)
    .map((row) => {
      const name = row.Name ?? '';
      const [running, desired] = /^(\d+)\/(\d+)/.exec(row.Replicas ?? '')?.slice(1).map(Number) ?? [0, 0];
      const known = catalog.get(name);
      return {
        name,
        product: known?.product ?? '-',
        service: known?.service ?? name,
        mode: row.Mode ?? '-',
        running: running!,
        desired: desired!,
        tag: (row.Image ?? '').split('@')[0]!.split(':').pop() ?? '-',
        tasks: tasks.filter((task) => task.task.startsWith(`${name}.`)).sort((a, b) => a.task.localeCompare(b.task, undefined, { numeric: true })),
      };
    })
    .sort((a, b) => a.product.localeCompare(b.product) || a.service.localeCompare(b.service));
}

/** A fixed-width table, one line per task (a service without a task gets one line with node "-"). */
export function formatServiceStatus(services: readonly ServiceStatus[]): string {
  const header = ['PRODUCT', 'SERVICE', 'TAG', 'REPLICAS', 'NODE', 'TASK', 'STATE'];
  const cells = services.flatMap((s) => {
    const replicas = `${s.running}/${s.desired}${s.mode === 'global' ? ' global' : ''}`;
    const lines = s.tasks.length > 0 ? s.tasks : [{ task: '-', node: '-', state: '-', error: '' }];
    return lines.map((task) => [s.product, s.service, s.tag, replicas, task.node, task.task, task.error === '' ? task.state : `${task.state}: ${task.error}`]);
  });
  return fixedWidth(header, cells);
}

/** Columns padded to their widest cell. */
function fixedWidth(header: readonly string[], cells: readonly string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => cell[column]!.length)));
  return [header, ...cells].map((cell) => cell.map((text, column) => text.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

/** One container as `docker ps --format '{{json .}}'` prints it, reduced to what status shows. */
export interface ContainerStatus {
  readonly host: string;
  readonly name: string;
  readonly product: string;
  readonly service: string;
  readonly tag: string;
  readonly state: string;
  /** `healthy`, `unhealthy`, `starting`, or `none` when the container has no health check. */
  readonly health: string;
  readonly status: string;
}

/** Parses docker ps JSON lines; `Labels` is `k=v,k=v` (values with commas are cut, which the labels read here never have). */
export function parseStatus(host: string, output: string): ContainerStatus[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const row = JSON.parse(line) as { Names?: string; State?: string; Status?: string; Labels?: string; Image?: string };
      const labels = Object.fromEntries(
        (row.Labels ?? '')
          .split(',')
          .map((pair) => pair.split('='))
          .filter((pair) => pair.length >= 2)
          .map(([key, ...value]) => [key, value.join('=')]),
      );
      const health = /\((healthy|unhealthy|health: starting)\)/.exec(row.Status ?? '')?.[1]?.replace('health: ', '') ?? 'none';
      return {
        host,
        name: row.Names ?? '',
        product: labels.product ?? '-',
        service: labels.service ?? labels.role ?? '-',
        tag: labels['image.tag'] ?? (row.Image ?? '').split(':').pop() ?? '-',
        state: row.State ?? '-',
        health,
        status: row.Status ?? '',
      };
    })
    .sort((a, b) => a.product.localeCompare(b.product) || a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
}

/** A fixed-width table of container statuses. */
export function formatStatus(rows: readonly ContainerStatus[]): string {
  const header = ['HOST', 'PRODUCT', 'SERVICE', 'TAG', 'STATE', 'HEALTH', 'CONTAINER'];
  return fixedWidth(header, rows.map((row) => [row.host, row.product, row.service, row.tag, row.state, row.health, row.name]));
}

/** Quotes a command line for display, so the operator can run it by hand. */
export function shellQuote(args: readonly string[]): string {
  return args.map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}
