/**
 * `npm run release -- <verb> ...`, the commands behind release.yml and promote.yml (issue 19):
 *
 *   record <product>[/<service>] <tag>               staging's tags file gets <tag>
 *   promote <product>[/<service>] [--tag <tag>]      production's tags file gets what staging last applied
 *   check-placeholders <cdktf.out> <stack>...        refuses production product stacks running a placeholder tag
 *   run <env> <product> [<service>]                  the release steps on the hosts after the apply (docs/releasing.md)
 *   rollback <env> <product> [<service>]             back to the kept version inside the window; after it, says how to re-deploy
 *   close-window <env> [<product>]                   removes kept versions whose rollback window ended
 *   record-slots <env> <product>                     the tags file gets the slots the hosts' release records hold
 *     [--save <file>] [--from <file>]                 --save also writes them to a file; --from writes a saved file (no hosts)
 *   check-slots <env> <product>                      refuses when the tags file is behind the hosts (before an apply)
 *
 * record and promote only write environments/tags/<env>.json and print `stack=`, `tag=` and
 * `message=` lines (for $GITHUB_OUTPUT); committing and applying is the workflow's (or your) job.
 * Exit codes: 0 done, 1 refused (message names environment, product, field, value, allowed), 2 usage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSystem, projectRoot, runCommand } from '../lib/command-line';
import { ConfigurationError } from '../../constructs/core/configuration-error';
import type { SystemSpec } from '../../system/model';
import { environmentOf, readSynthesizedApp, SynthOutputError } from '../lib/synthesized';
import { OperatorError } from '../lib/tools';
import { otherSlot } from '../../constructs/docker/traffic-split';
import { effectiveTag, gitRunner, readTagsFile, withSlots, withSlotsSnapshot, writeTagsFile, type GitRunner, type SlotsSnapshot, type TagsContext } from '../ops/tags-file';
import { resolveSystem } from '../../system/resolve';
import { releasePurge } from './purge';
import { synthesizedReleaseSites, type ReleaseSites } from './release-sites';
import type { StepOutput } from './rollout';
import { checkSlots, recordedSlots, releaseServices, runCloseWindow, runRelease, runRollback } from './steps';
import type { ResolvedEnvironment } from '../../system/resolve';
import { parseTarget, placeholderRefusal, placeholderUses, productStack, promote, recordRelease, type ReleaseTarget, type StagingApplied } from './release';

const ROOT = projectRoot();

export const USAGE = `Usage: npm run release -- <verb> ...
  record <product>[/<service>] <tag>            write <tag> into environments/tags/staging.json
  promote <product>[/<service>] [--tag <tag>]   write what staging last applied (refs/applied/staging-<product>)
                                                into environments/tags/production.json
  check-placeholders <cdktf.out> <stack>...     fail if a production product stack would run a placeholder tag
  run <env> <product> [<service>]               after the apply: each service whose idle slot (blue/green) holds a new
                                                version goes through new version up, smoke checks, canary share and
                                                watch (with the environment's releases policy), promote or roll back
  rollback <env> <product> [<service>]          inside the rollback window: start the kept version, move traffic back
                                                (no pull, seconds); after it: says which tag to re-deploy, and how
  close-window <env> [<product>]                remove the kept versions whose rollback window ended (scheduled)
  record-slots <env> <product>                  write which slot serves and each slot's tag (from the hosts' release
                                                records) into environments/tags/<env>.json, so the next apply keeps them;
                                                --save <file> also writes what it read to a file, --from <file> writes
                                                such a file instead of reading the hosts (the pipeline's commit job)
  check-slots <env> <product>                   fail (exit 1) when environments/tags/<env>.json is behind the hosts'
                                                release records: an apply from it would start an old version
Options of run, rollback, close-window, record-slots and check-slots:
  --host <name>=<address>   address of a host when its network stack's state is not on this machine
Exit codes: 0 done (run: every release promoted or nothing to release), 1 refused or rolled back, 2 usage`;

/** A mistake in how the command was called: usage text, exit code 2. */
export class UsageError extends Error {}

/** The outside world of the command; replaced in tests. */
export interface ReleaseIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly root: string;
  readonly system: SystemSpec;
  readonly git: GitRunner;
  /** The environment's hosts and monitoring as the release steps reach them (from cdktf.out). */
  readonly sites?: (environment: ResolvedEnvironment, hosts: ReadonlyMap<string, string>) => ReleaseSites;
  /** Where the steps print, and the time. @default - stdout and the clock */
  readonly steps?: StepOutput;
}

export function defaultIo(): ReleaseIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    root: ROOT,
    // Loaded on first use, so `--help` answers even while environments/ has a mistake.
    get system() {
      return loadSystem();
    },
    git: gitRunner(ROOT),
    sites: (environment, hosts) => synthesizedReleaseSites(path.join(ROOT, 'cdktf.out'), environment.name, { hosts, monitoringHost: environment.monitoring.host }),
  };
}

/** The environment the flow records releases in, and the one it promotes to. */
function flowEnvironments(system: SystemSpec): { staging: TagsContext; production: TagsContext } {
  const staging = system.environments.find((environment) => !environment.production);
  const production = system.environments.find((environment) => environment.production);
  if (staging === undefined || production === undefined) throw new OperatorError(`the release flow needs one non-production and one production environment; ${system.name} has ${system.environments.map((e) => e.name).join(', ')}`);
  return { staging: tagsContext(system, staging.name), production: tagsContext(system, production.name) };
}

/** What refs/applied/<stack> records: the commit, and the staging tags file at that commit. */
export function stagingApplied(git: GitRunner, stagingEnvironment: string, stack: string): StagingApplied {
  let message: string;
  try {
    message = git(['cat-file', 'tag', `refs/applied/${stack}`]);
  } catch {
    return {};
  }
  // An annotated tag: header lines, a blank line, then the record (JSON), as deploy-stage.yml writes it.
  const body = message.slice(message.indexOf('\n\n') + 2);
  let commit: string | undefined;
  try {
    commit = (JSON.parse(body) as { commit?: string }).commit;
  } catch {
    throw new OperatorError(`refs/applied/${stack} does not hold an applied record (JSON); got ${JSON.stringify(body.slice(0, 80))}`);
  }
  if (commit === undefined || !/^[0-9a-f]{40}$/.test(commit)) return {};
  try {
    return { commit, stagingTagsText: git(['show', `${commit}:environments/tags/${stagingEnvironment}.json`]) };
  } catch {
    return { commit };
  }
}

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index === -1) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
  args.splice(index, 2);
  return value;
}

/**
 * `purge=` (JSON request bodies for Cloudflare's purge_cache, applied after the stack) and
 * `purge_summary=`: what the release purges from the edge, or why nothing.
 */
function purgeOutputs(io: ReleaseIo, environment: string, target: ReleaseTarget): Record<string, string> {
  const resolved = resolveSystem(io.system).environments.find((candidate) => candidate.name === environment)!;
  const purge = releasePurge(resolved, target);
  return { purge: JSON.stringify(purge.requests), purge_summary: purge.summary };
}

function outputs(io: ReleaseIo, values: Record<string, string>): void {
  io.out(Object.entries(values).map(([key, value]) => `${key}=${value}\n`).join(''));
}

/** Runs one invocation; the verbs acting on hosts (run, rollback, close-window) answer asynchronously. */
export function main(argv: readonly string[], io: ReleaseIo): number | Promise<number> {
  const [verb, ...rest] = argv;
  const args = [...rest];
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (verb === 'run' || verb === 'rollback' || verb === 'close-window' || verb === 'record-slots' || verb === 'check-slots') return hostVerb(verb, args, io).catch((error: unknown) => failed(error, io));
  try {
    switch (verb) {
      case 'record': {
        const { staging } = flowEnvironments(io.system);
        if (args.length !== 2) throw new UsageError('record needs <product>[/<service>] <tag>');
        const target = parseTarget(staging, args[0]);
        const tag = args[1]!;
        const file = recordRelease(readTagsFile(io.root, staging), staging, target, tag);
        writeTagsFile(io.root, file);
        const name = target.service === undefined ? target.product : `${target.product}/${target.service}`;
        outputs(io, { stack: productStack(staging.environment, target.product), tag, message: `release ${staging.environment} ${name} ${tag}`, ...purgeOutputs(io, staging.environment, target) });
        return 0;
      }
      case 'promote': {
        const { staging, production } = flowEnvironments(io.system);
        const expected = option(args, '--tag');
        if (args.length !== 1) throw new UsageError('promote needs <product>[/<service>] [--tag <tag>]');
        const target = parseTarget(production, args[0]);
        const applied = stagingApplied(io.git, staging.environment, productStack(staging.environment, target.product));
        const result = promote(readTagsFile(io.root, production), production, staging, target, applied, expected);
        writeTagsFile(io.root, result.file);
        const name = target.service === undefined ? target.product : `${target.product}/${target.service}`;
        outputs(io, {
          stack: productStack(production.environment, target.product),
          tag: result.tag,
          message: `promote ${production.environment} ${name} ${result.tag} (staging applied it at ${result.from.slice(0, 10)})`,
          ...purgeOutputs(io, production.environment, target),
        });
        return 0;
      }
      case 'check-placeholders': {
        const [outdir, ...stacks] = args;
        if (outdir === undefined || stacks.length === 0) throw new UsageError('check-placeholders needs <cdktf.out> <stack>...');
        const app = readSynthesizedApp(outdir);
        const productionNames = new Set(io.system.environments.filter((environment) => environment.production).map((environment) => environment.name));
        let refused = false;
        for (const name of stacks) {
          const stack = app.stacks.get(name);
          if (stack === undefined) throw new OperatorError(`no stack "${name}" in ${outdir}; stacks: ${[...app.stacks.keys()].join(', ')}`);
          const environment = environmentOf(app, name);
          if (environment === undefined || !productionNames.has(environment)) continue;
          const refusal = placeholderRefusal(environment, placeholderUses(stack));
          if (refusal !== undefined) {
            io.err(`error: ${refusal}\n`);
            refused = true;
          }
        }
        return refused ? 1 : 0;
      }
      case undefined:
      case 'help':
      case '--help':
        io.out(`${USAGE}\n`);
        return verb === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown verb "${verb}"; verbs: record, promote, check-placeholders, run, rollback, close-window, record-slots, check-slots`);
    }
  } catch (error) {
    return failed(error, io, '\nnothing was written');
  }
}

/** Usage mistakes exit 2 with the usage; the operator's mistakes 1 with their message (no stack trace); bugs are thrown. */
function failed(error: unknown, io: ReleaseIo, suffix = ''): number {
  if (error instanceof UsageError) {
    io.err(`error: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (error instanceof ConfigurationError || error instanceof OperatorError || error instanceof SynthOutputError) {
    io.err(`error: ${error.message}${suffix}\n`);
    return 1;
  }
  throw error;
}

/** `--host <name>=<address>` options, taken out of `args`. */
function hostOverrides(args: string[]): Map<string, string> {
  const hosts = new Map<string, string>();
  for (let value = option(args, '--host'); value !== undefined; value = option(args, '--host')) {
    const match = /^([a-z][a-z0-9-]*)=([0-9A-Za-z.:-]+)$/.exec(value);
    if (match === null) throw new UsageError(`--host must be <host name>=<address>, e.g. app-1=203.0.113.5; got "${value}"`);
    hosts.set(match[1]!, match[2]!);
  }
  return hosts;
}

/** The tags file's view of an environment (what record, promote and record-slots validate against). */
function tagsContext(system: SystemSpec, environment: string): TagsContext {
  const spec = system.environments.find((candidate) => candidate.name === environment)!;
  return { environment: spec.name, production: spec.production, products: system.products, runs: spec.products.map((deployment) => deployment.product) };
}

/** `record-slots --from <file>`: writes a snapshot another job read from the hosts; needs no host access. */
function recordSavedSlots(io: ReleaseIo, environment: string, product: string, from: string): number {
  let snapshot: SlotsSnapshot;
  try {
    snapshot = JSON.parse(fs.readFileSync(from, 'utf8')) as SlotsSnapshot;
  } catch (error) {
    throw new OperatorError(`${from} is not a slots file written by \`record-slots --save\` (${(error as Error).message})`);
  }
  if (snapshot.environment !== environment || snapshot.product !== product) throw new OperatorError(`${from} holds the slots of ${snapshot.environment} ${snapshot.product}, not of ${environment} ${product}`);
  const context = tagsContext(io.system, environment);
  const { file, skipped } = withSlotsSnapshot(readTagsFile(io.root, context), context, snapshot);
  for (const reason of skipped) io.out(`kept: ${reason}\n`);
  writeTagsFile(io.root, file);
  io.out(`recorded the slots of ${Object.keys(snapshot.slots).filter((service) => !skipped.some((reason) => reason.startsWith(`${service}:`))).join(', ') || 'no service'} in environments/tags/${environment}.json\n`);
  return 0;
}

async function hostVerb(verb: 'run' | 'rollback' | 'close-window' | 'record-slots' | 'check-slots', args: string[], io: ReleaseIo): Promise<number> {
  const hosts = hostOverrides(args);
  const save = verb === 'record-slots' ? option(args, '--save') : undefined;
  const from = verb === 'record-slots' ? option(args, '--from') : undefined;
  if (save !== undefined && from !== undefined) throw new UsageError('record-slots takes --save or --from, not both');
  const unknown = args.find((arg) => arg.startsWith('--'));
  if (unknown !== undefined) throw new UsageError(`unknown option ${unknown}`);
  const [environmentName, product, service, ...extra] = args;
  if (environmentName === undefined || (product === undefined && verb !== 'close-window') || extra.length > 0 || (verb === 'close-window' && service !== undefined)) {
    throw new UsageError(verb === 'close-window' ? 'close-window needs <env> [<product>]' : `${verb} needs <env> <product> [<service>]`);
  }
  const resolved = resolveSystem(io.system).environments.find((candidate) => candidate.name === environmentName);
  if (resolved === undefined) throw new OperatorError(`unknown environment "${environmentName}"; environments: ${io.system.environments.map((e) => e.name).join(', ')}`);
  if (from !== undefined) return recordSavedSlots(io, resolved.name, product!, from);
  const services = product === undefined ? resolved.products.flatMap((spec) => releaseServices(resolved, spec.name)) : releaseServices(resolved, product, service);
  if (io.sites === undefined) throw new OperatorError('no access to the hosts was configured');
  const sites = io.sites(resolved, hosts);
  const steps: StepOutput = io.steps ?? { line: (text) => io.out(`${text}\n`), now: () => new Date() };
  if (verb === 'rollback') {
    await runRollback(sites, resolved, services, steps);
    return 0;
  }
  if (verb === 'check-slots') {
    await checkSlots(sites, resolved.name, product!, services, readTagsFile(io.root, tagsContext(io.system, resolved.name)).products[product!]?.slots);
    steps.line(`environments/tags/${resolved.name}.json agrees with the hosts' release records of ${product}`);
    return 0;
  }
  if (verb === 'record-slots') {
    const context = tagsContext(io.system, resolved.name);
    const slots = await recordedSlots(sites, services);
    const file = readTagsFile(io.root, context);
    if (save !== undefined) {
      const snapshot: SlotsSnapshot = {
        environment: resolved.name,
        product: product!,
        slots: Object.fromEntries([...slots].map(([service, recorded]) => [service.name, recorded])),
        releasedTags: Object.fromEntries([...slots.keys()].map((service) => [service.name, effectiveTag(file.products[product!], service.name)!])),
      };
      fs.writeFileSync(save, `${JSON.stringify(snapshot, null, 2)}\n`);
    }
    if (slots.size === 0) {
      steps.line(`no service of ${product} in ${resolved.name} has a release recorded on its host: nothing to write`);
      return 0;
    }
    writeTagsFile(io.root, withSlots(file, context, product!, Object.fromEntries([...slots].map(([service, recorded]) => [service.name, recorded]))));
    for (const [service, recorded] of slots) steps.line(`${service.id}: ${recorded.live} serves ${recorded[recorded.live]}${recorded[otherSlot(recorded.live)] === undefined ? '' : `, ${otherSlot(recorded.live)} holds ${recorded[otherSlot(recorded.live)]}`}`);
    return 0;
  }
  if (verb === 'close-window') {
    const removed = await runCloseWindow(sites, services, steps);
    steps.line(removed.length === 0 ? 'no rollback window has ended: nothing removed' : `removed ${removed.length} kept container(s)`);
    return 0;
  }
  // An apply from a tags file behind the hosts may have started an old version in the idle slot: never promote it.
  if (product !== undefined) await checkSlots(sites, resolved.name, product, services, readTagsFile(io.root, tagsContext(io.system, resolved.name)).products[product]?.slots);
  const results = await runRelease(sites, resolved, services, steps);
  const released = results.filter((result) => 'outcome' in result);
  const failures = released.filter((result) => 'outcome' in result && result.outcome.result !== 'promoted');
  steps.line(
    released.length === 0
      ? `nothing to release in ${resolved.name} ${product}: no service holds a new version in a slot`
      : `${released.length - failures.length} promoted, ${failures.length} not (${failures.map((f) => f.service).join(', ') || 'none'})`,
  );
  return failures.length === 0 ? 0 : 1;
}

if (require.main === module) runCommand(() => main(process.argv.slice(2), defaultIo()));
