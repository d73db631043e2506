/**
 * The real-engine part of `npm run e2e`: per system, one environment's stacks are applied by real Terraform
 * with the mock docker provider acting on the e2e's own dockerd (mock-provider/docker-engine.ts), stand-in
 * images in place of the registry's. Then, on the engine: every container is healthy by its own health check
 * (or, run once, exited 0), a scratch image's stand-in without any shell too; read-only root, dropped
 * capabilities, user, tmpfs and memory/CPU limits are in force inside the container; the names its environment's
 * URLs give resolve and answer, and no container resolves one it shares no network with (isolation.ts); Redis holds
 * no password and each product's REDIS_URL logs in (redis.ts); a
 * redeploy with a new tag replaces each service in its order, start-first or stop-first, as the engine's events
 * show (events.ts); a kind's default probe on a shell-less image fails the apply, naming the container and why;
 * and every stop (the redeploy's and `terraform destroy`'s) is SIGTERM first, waited for, exit 0.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SystemSpec } from '../../../index';
import { changedStacks } from '../../../scripts/plan-comment/changed-stacks';
import { Harness, SystemRun, deployLevels, inParallel } from '../run';
import { withDefaultProbe, withImageTag } from '../synth';
import { startSharedMock } from '../terraform';
import { demultiplex, type EngineClient } from './api';
import { startDaemon } from './daemon';
import { releaseTaskScenario } from './release-tasks';
import { watchContainerEvents, rolloutFindings, stopFindings, type StopExpectation } from './events';
import { isolationFindings } from './isolation';
import { redisFindings } from './redis';
import { imageName, importStandIns, probesLikeScratch, standInSpecs, type StandInSpec } from './standins';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The environment run on the engine: one whose containers all live on one host (one daemon stands in for it). */
function engineEnvironment(run: SystemRun): string | undefined {
  const hostsByEnv = new Map<string, Set<string>>();
  for (const stack of run.stackJsons) {
    for (const c of Object.values<any>(stack.resource?.docker_container ?? {})) {
      const labels: Record<string, string> = Object.fromEntries((c.labels ?? []).map((l: any) => [l.label, l.value]));
      if (!hostsByEnv.has(labels.env)) hostsByEnv.set(labels.env, new Set());
      hostsByEnv.get(labels.env)!.add(labels.host);
    }
  }
  const single = [...hostsByEnv].filter(([, hosts]) => hosts.size === 1).map(([env]) => env);
  return single.includes('staging') ? 'staging' : single[0];
}

/** Runs one system's engine scenario; returns its problems. */
export async function engineScenario(name: string, system: SystemSpec, workRoot: string, cliConfig: string, concurrency: number): Promise<string[]> {
  const started = Date.now();
  const problems: string[] = [];
  const daemon = await startDaemon();
  const client = daemon.client;
  const workDir = path.join(workRoot, 'engine', name);
  const hostRoot = path.join(daemon.root, 'host');
  fs.mkdirSync(hostRoot, { recursive: true });
  const mock = await startSharedMock(workDir, { E2E_DOCKER_SOCKET: daemon.socket, E2E_DOCKER_HOST_ROOT: hostRoot });
  const say = (line: string) => process.stdout.write(`${name} engine: ${line}\n`);
  try {
    const run = new SystemRun(name, system, workDir, false);
    run.prepare();
    const env = engineEnvironment(run);
    if (!env) return [`${name}: no environment runs on a single host, so none can run on one daemon`];
    const where = `${name} ${env}`;
    const stacks = Object.keys(run.manifest.stacks).filter((s) => s.startsWith(`${env}-`));
    const envJsons = stacks.map((s) => run.stackJsons[Object.keys(run.manifest.stacks).indexOf(s)]);
    const imported = await importStandIns(client, standInSpecs(envJsons).values(), workDir);
    const prepared = Date.now();
    say(`dockerd up in ${daemon.startSeconds.toFixed(1)} s, ${imported} stand-in images in ${seconds(prepared - started)}`);

    const harness = new Harness(mock, cliConfig, run.variables);
    // A kind's default probe on a shell-less image waits out its wait_timeout before it fails: it runs beside the
    // rest, on a network of its own, and its container carries PROBE_LABEL so the other checks leave it out.
    const probeCheck = defaultProbeScenario(client, harness, run, env, workDir);
    const levels = deployLevels(run.deployInfo(), stacks);
    for (const level of levels) {
      const errors = await inParallel(level, concurrency, (stack) => harness.converge(stack, run.stackDir(run.out, stack)));
      if (errors.length > 0) {
        await probeCheck;
        return [...problems, ...errors.map((e) => `${name} engine: ${e.message}`)];
      }
    }
    const converged = Date.now();
    say(`${env} applied on the engine (${levels.flat().length} stacks) in ${seconds(converged - prepared)}`);

    // `count = 0`: declared for another tool to run (a release's smoke checks, run by `release run`), never by Terraform.
    const synthesized = envJsons.flatMap((j) => Object.values<any>(j.resource?.docker_container ?? {})).filter((c) => c.count !== 0);
    const checked = await checkContainers(client, synthesized, where);
    problems.push(...checked.problems);
    checked.lines.forEach(say);
    const redis = await redisFindings(client, where);
    problems.push(...redis.problems);
    redis.lines.forEach(say);
    const isolation = await isolationFindings(client, await systemContainers(client, false), checked.shells, where);
    problems.push(...isolation.problems);
    isolation.facts.forEach((fact) => say(`measured, not checked: ${fact}`));
    say(`health, confinement, names and isolation checked in ${seconds(Date.now() - converged)}`);

    const redeployed = await redeployScenario(client, harness, run, env, workDir, where, synthesized);
    problems.push(...redeployed.problems);
    redeployed.lines.forEach(say);
    const probeFindings = await probeCheck;
    problems.push(...probeFindings.problems);
    probeFindings.lines.forEach(say);
    problems.push(...(await releaseTaskScenario({ name, system, env, run, harness, client, workDir })));

    const destroyStart = Date.now();
    const drains = await standInDrains(client);
    const watch = await watchContainerEvents(client);
    const stackDir = (stack: string) => redeployed.dirs.get(stack) ?? run.stackDir(run.out, stack);
    // Only the Docker resources: the stacks' volumes carry prevent_destroy, as they should.
    const dockerTargets = (stack: string) => {
      const json = readJson(path.join(stackDir(stack), 'cdk.tf.json'));
      return ['docker_container', 'docker_network'].flatMap((type) => Object.keys(json.resource?.[type] ?? {}).map((id) => `${type}.${id}`));
    };
    for (const level of [...levels].reverse()) {
      const withDocker = level.filter((stack) => dockerTargets(stack).length > 0);
      const errors = await inParallel(withDocker, concurrency, (stack) => harness.destroy(stack, stackDir(stack), dockerTargets(stack)));
      problems.push(...errors.map((e) => `${name} engine: ${e.message}`));
    }
    const left = await client.request<any[]>('GET', '/containers/json?all=1');
    if (left.length > 0) problems.push(`${name} engine: terraform destroy left ${left.length} containers: ${left.map((c) => c.Names[0]).join(', ')}`);
    const stops = stopFindings(await watch.stop(), stopExpectation([...synthesized, ...redeployed.containers], drains), `${where} destroy`);
    problems.push(...stops.problems);
    say(`destroyed in ${seconds(Date.now() - destroyStart)} (${stops.stopped} containers stopped by SIGTERM, the longest in ${seconds(stops.longestMs)}); engine total ${seconds(Date.now() - started)}`);
  } finally {
    await mock.stop();
    await daemon.stop();
  }
  return problems;
}

/** Marks the default-probe scenario's container, which is not one of the system's. */
const PROBE_LABEL = 'e2e.default-probe';

/** The system's containers on the daemon (`all`: exited ones too), without the default-probe scenario's. */
async function systemContainers(client: EngineClient, all: boolean): Promise<any[]> {
  const listed = await client.request<any[]>('GET', `/containers/json${all ? '?all=1' : ''}`);
  return listed.filter((c) => !c.Labels?.[PROBE_LABEL]);
}

function readJson(file: string): any {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const labelOf = (container: any, label: string): string | undefined => (container.labels ?? []).find((l: any) => l.label === label)?.value;

/** A synthesized container's name as a pattern: the revision in it is interpolated, so it matches any value there. */
function namePattern(container: any): RegExp {
  return new RegExp(`^${container.name.replace(/[.*+?^()|[\]\\]/g, '\\$&').replace(/\$\\?\{[^}]*\}/g, '.+')}$`);
}

/** How each container named in the events was meant to stop: its synthesized grace, and the stand-in's drain if it runs the app. */
function stopExpectation(synthesized: readonly any[], drains: ReadonlyMap<string, number>): (name: string) => StopExpectation | undefined {
  return (name) => {
    const spec = synthesized.find((c) => namePattern(c).test(name));
    return spec && { graceSeconds: spec.destroy_grace_seconds ?? 0, drainSeconds: drains.get(name) ?? 0 };
  };
}

/** The running containers whose main process is the stand-in app (it says so in its log), with their drain seconds. */
async function standInDrains(client: EngineClient): Promise<Map<string, number>> {
  const drains = new Map<string, number>();
  for (const c of await systemContainers(client, false)) {
    const raw: Buffer = await client.request('GET', `/containers/${c.Id}/logs?stdout=1&stderr=1&tail=50`, undefined, { binary: true });
    if (!demultiplex(raw).includes('stand-in: serving on')) continue;
    const env: string[] = (await client.inspect(c.Id)).Config.Env ?? [];
    drains.set(c.Names[0].slice(1), Number(env.find((e) => e.startsWith('STANDIN_DRAIN_SECONDS='))?.split('=')[1] ?? 0));
  }
  return drains;
}

/**
 * A redeploy with a new tag of the environment's first product, applied by Terraform on the engine: every service
 * replaced in its order (start-first: the old container serves until the new one is healthy; stop-first: no
 * overlap), and each old container stopped by SIGTERM within its grace.
 */
async function redeployScenario(client: EngineClient, harness: Harness, run: SystemRun, env: string, workDir: string, where: string, before: readonly any[]) {
  const started = Date.now();
  const problems: string[] = [];
  const product = run.system.environments.find((e) => e.name === env)!.products[0].product;
  const change = { environment: env, product, imageTag: 'main-e2e0002' };
  const tagged = path.join(workDir, 'out-engine-tag');
  run.synth(withImageTag(run.system, change), tagged);
  const changed = changedStacks(run.out, tagged);
  const stacks = [...changed.changed, ...changed.added];
  if (JSON.stringify(stacks) !== JSON.stringify([`${env}-${product}`])) problems.push(`${where} redeploy of ${product}: changed stacks ${JSON.stringify(stacks)}, expected only ${env}-${product}`);
  const jsons = stacks.map((stack) => readJson(path.join(run.stackDir(tagged, stack), 'cdk.tf.json')));
  const missing: StandInSpec[] = [];
  for (const spec of standInSpecs(jsons).values()) {
    if (!(await client.request('GET', `/images/${encodeURIComponent(spec.image)}/json`).then(() => true, () => false))) missing.push(spec);
  }
  await importStandIns(client, missing, workDir);
  const drains = await standInDrains(client);
  const applyStart = Date.now();
  const watch = await watchContainerEvents(client);
  for (const stack of stacks) await harness.converge(stack, run.stackDir(tagged, stack));
  const events = await watch.stop();
  const containers = jsons.flatMap((j) => Object.values<any>(j.resource?.docker_container ?? {}));
  const services = containers
    .filter((c) => !c.attach && labelOf(c, 'image.tag') === change.imageTag)
    .map((c) => ({ service: labelOf(c, 'service')!, product, startFirst: c.lifecycle?.create_before_destroy === true, waitsHealthy: c.wait === true }));
  if (services.length === 0) problems.push(`${where} redeploy of ${product}: no container runs the new tag ${change.imageTag}`);
  const rollout = rolloutFindings(events, services, `${where} redeploy`);
  // The old containers are the first synth's (their names carry the old tag).
  const stops = stopFindings(events, stopExpectation(before, drains), `${where} redeploy`);
  return {
    problems: [...problems, ...rollout.problems, ...stops.problems],
    lines: [
      `redeploy ${product} -> ${change.imageTag} applied in ${seconds(Date.now() - applyStart)} (${seconds(applyStart - started)} to synthesize and import): ${rollout.lines.join('; ')}`,
      `redeploy: ${stops.stopped} old containers stopped by SIGTERM, the longest in ${seconds(stops.longestMs)}`,
    ],
    dirs: new Map(stacks.map((stack) => [stack, run.stackDir(tagged, stack)])),
    containers,
  };
}

/**
 * A shell-less image's service with its kind's default probe instead of its own exec-form one: the container never
 * turns healthy, and the apply fails naming the container (Terraform's resource address and the mock's detail)
 * and why (the probe's own output: the tool it runs is not in the image). Runs in a Terraform directory of its own
 * with the synthesized container (image, probe, wait and confinement as synthesized) on a network of its own.
 */
async function defaultProbeScenario(client: EngineClient, harness: Harness, run: SystemRun, env: string, workDir: string): Promise<{ problems: string[]; lines: string[] }> {
  const started = Date.now();
  const productStack = Object.keys(run.manifest.stacks).find((s) => s.startsWith(`${env}-`) && Object.values<any>(run.stackJsons[Object.keys(run.manifest.stacks).indexOf(s)].resource?.docker_container ?? {}).some(probesLikeScratch));
  if (!productStack) return { problems: [], lines: ['no shell-less image in this system: the default-probe failure is shown where there is one (Lexicon)'] };
  const original = run.stackJsons[Object.keys(run.manifest.stacks).indexOf(productStack)];
  const [key, own] = Object.entries<any>(original.resource.docker_container).find(([, c]) => probesLikeScratch(c))!;
  const service = labelOf(own, 'service')!;
  const variantOut = path.join(workDir, 'out-default-probe');
  run.synth(withDefaultProbe(run.system, labelOf(own, 'product')!, service), variantOut);
  const variant = readJson(path.join(run.stackDir(variantOut, productStack), 'cdk.tf.json'));
  const container = variant.resource.docker_container[key];
  const probe: string[] = container.healthcheck.test;
  const tool = probe[0] === 'CMD-SHELL' ? '/bin/sh' : probe[1];
  const name = `${service}-default-probe`;
  const kept = ['healthcheck', 'wait', 'wait_timeout', 'user', 'read_only', 'tmpfs', 'capabilities', 'security_opts', 'destroy_grace_seconds', 'memory', 'cpus'];
  const dir = path.join(workDir, 'default-probe');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({
    terraform: { required_providers: { docker: variant.terraform.required_providers.docker } },
    resource: {
      docker_network: { probe: { name: 'e2e-default-probe' } },
      docker_container: {
        [key]: {
          ...Object.fromEntries(kept.filter((k) => k in container).map((k) => [k, container[k]])),
          name,
          image: imageName(variant, container),
          networks_advanced: [{ name: '${docker_network.probe.name}' }],
          labels: [{ label: PROBE_LABEL, value: 'true' }],
        },
      },
    },
  }, null, 2));
  const problems: string[] = [];
  const result = await harness.failingApply(`${env}-default-probe`, dir);
  const error = result.output.slice(result.output.indexOf('Error:')).replace(/\s+/g, ' ').slice(0, 600);
  if (result.code !== 1) problems.push(`${name}: the kind's default probe (${probe.join(' ')}) on a shell-less image applied (exit ${result.code}); it should fail unhealthy`);
  else {
    for (const [what, expected] of [['the resource', `docker_container.${key}`], ['the container', name], ['the state', 'healthy state'], ['the missing tool', tool]] as const) {
      if (!result.output.includes(expected)) problems.push(`${name}: the apply failure does not name ${what} (${expected}): ${error}`);
    }
  }
  await client.request('DELETE', `/containers/${name}?force=true`).catch(() => undefined);
  await client.request('DELETE', '/networks/e2e-default-probe').catch(() => undefined);
  return { problems, lines: [`${service} with its kind's default probe (${probe.join(' ')}) on its shell-less image: apply failed after ${seconds(Date.now() - started)}: ${error}`] };
}

/** The containers on the daemon by name (a name comes resolved from the state, so match on the labels' service). */
async function checkContainers(client: EngineClient, expected: readonly any[], where: string): Promise<{ problems: string[]; lines: string[]; shells: Map<string, boolean> }> {
  const problems: string[] = [];
  const lines: string[] = [];
  const shells = new Map<string, boolean>();
  const listed = await systemContainers(client, true);
  if (listed.length !== expected.length) problems.push(`${where}: ${expected.length} containers synthesized, ${listed.length} on the engine`);
  const byName = new Map(listed.map((c) => [c.Names[0].slice(1), c]));
  for (const spec of expected) {
    const found = [...byName.keys()].find((n) => namePattern(spec).test(n));
    if (!found) {
      problems.push(`${where}: no container named like ${spec.name} on the engine`);
      continue;
    }
    const info = await client.inspect(found);
    const label = `${where} ${found}`;
    if (spec.attach) {
      if (info.State.Running || info.State.ExitCode !== 0) problems.push(`${label}: a run-once container should have exited 0, state ${info.State.Status} exit ${info.State.ExitCode}`);
      continue;
    }
    if (!info.State.Running) {
      problems.push(`${label}: not running (${info.State.Status}, exit ${info.State.ExitCode})`);
      continue;
    }
    if (spec.healthcheck && spec.healthcheck.test?.[0] !== 'NONE' && info.State.Health?.Status !== 'healthy') problems.push(`${label}: health ${info.State.Health?.Status}`);
    const shell = await client.exec(found, ['/bin/sh', '-c', 'true']).then((r) => ({ ok: r.exitCode === 0, output: r.output }), (e: Error) => ({ ok: false, output: e.message }));
    shells.set(found, shell.ok);
    if (probesLikeScratch(spec)) {
      // The premise of issue 34.1's check: the stand-in of a scratch image has no shell, and its exec-form probe still passes.
      if (shell.ok) problems.push(`${label}: the stand-in of a scratch image has a shell (/bin/sh ran)`);
      else lines.push(`${found}: no /bin/sh in the container (${shell.output.trim().replace(/\s+/g, ' ').slice(0, 120)}), health ${info.State.Health?.Status} by its exec-form probe ${spec.healthcheck.test.slice(1).join(' ')}`);
    }
    problems.push(...(await confinementProblems(client, found, spec, label, shell.ok)));
    problems.push(...(await reachabilityProblems(client, found, spec, label, shell.ok)));
  }
  return { problems, lines, shells };
}

/** Inside the container: the root is read-only, the user and effective capabilities are as synthesized, tmpfs and limits apply. */
async function confinementProblems(client: EngineClient, container: string, spec: any, label: string, hasShell: boolean): Promise<string[]> {
  const problems: string[] = [];
  const pid: number = (await client.inspect(container)).State.Pid;
  // Without a shell (a scratch image), the container's PID 1 is read from this machine's /proc: the same process.
  const run = hasShell ? (cmd: string) => client.exec(container, ['sh', '-c', cmd]) : undefined;
  if (spec.read_only) {
    if (run) {
      const write = await run('touch /e2e-probe');
      if (write.exitCode === 0) problems.push(`${label}: read_only is set but writing / succeeded`);
    } else {
      const root = fs.readFileSync(`/proc/${pid}/mounts`, 'utf8').split('\n').find((l) => l.split(' ')[1] === '/');
      if (!/^\S+ \/ \S+ ro[ ,]/.test(root ?? '')) problems.push(`${label}: read_only is set but / is mounted ${root}`);
    }
  }
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const ids = run ? await run('id -u; id -g; grep CapEff /proc/1/status') : { output: `${/^Uid:\s+(\d+)/m.exec(status)?.[1]}\n${/^Gid:\s+(\d+)/m.exec(status)?.[1]}\n${/^CapEff:.*$/m.exec(status)?.[0]}` };
  const [uid, , capLine] = ids.output.trim().split('\n');
  const wantUid = String(spec.user ?? '0').split(':')[0];
  const numericUid = { root: '0', postgres: '999', redis: '998' }[wantUid] ?? wantUid;
  if (uid !== numericUid) problems.push(`${label}: runs as uid ${uid}, synthesized user ${spec.user}`);
  // With every capability dropped and a non-root user, the main process holds none (CapEff 0).
  const capEff = BigInt(`0x${capLine?.split(/\s+/)[1] ?? 'ff'}`);
  if (spec.capabilities?.drop?.includes('ALL') && !spec.capabilities?.add && capEff !== 0n) problems.push(`${label}: capabilities dropped but PID 1 holds CapEff ${capLine}`);
  for (const [mountPoint, options] of Object.entries<string>(spec.tmpfs ?? {})) {
    const mounts = run ? await run(`grep ' ${mountPoint} ' /proc/mounts`) : { output: fs.readFileSync(`/proc/${pid}/mounts`, 'utf8').split('\n').filter((l) => l.split(' ')[1] === mountPoint).join('\n') };
    if (!/ tmpfs /.test(mounts.output) || (options.includes('noexec') && !/noexec/.test(mounts.output))) problems.push(`${label}: ${mountPoint} should be tmpfs (${options}), /proc/mounts says: ${mounts.output.trim() || 'not mounted'}`);
  }
  // Limits are read from the container's cgroup on this machine (a container may bind the host's /sys over its own).
  if (spec.memory) {
    const limit = cgroupValue(pid, 'memory', 'memory.max', 'memory.limit_in_bytes');
    if (Number(limit) !== spec.memory * 1024 * 1024) problems.push(`${label}: memory limit in the cgroup is ${limit}, synthesized ${spec.memory} MiB`);
  }
  if (spec.cpus) {
    const v2 = cgroupValue(pid, 'cpu', 'cpu.max', undefined);
    const [max, period] = v2 ? v2.split(/\s+/).map(Number) : [Number(cgroupValue(pid, 'cpu', undefined, 'cpu.cfs_quota_us')), Number(cgroupValue(pid, 'cpu', undefined, 'cpu.cfs_period_us'))];
    if (!(Math.abs(max / period - Number(spec.cpus)) < 0.001)) problems.push(`${label}: CPU quota in the cgroup is ${max}/${period}, synthesized cpus ${spec.cpus}`);
  }
  return problems;
}

/** A file of the container's cgroup (v2 unified, else the v1 controller's hierarchy). */
function cgroupValue(pid: number, controller: string, v2File: string | undefined, v1File: string | undefined): string | undefined {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').map((l) => l.split(':'));
  const unified = lines.find(([id, controllers]) => id === '0' && controllers === '');
  if (unified && v2File && fs.existsSync(`/sys/fs/cgroup${unified[2]}/${v2File}`)) return fs.readFileSync(`/sys/fs/cgroup${unified[2]}/${v2File}`, 'utf8').trim();
  const v1 = lines.find(([, controllers]) => controllers.split(',').includes(controller));
  if (!v1 || !v1File) return undefined;
  const dir = fs.readdirSync('/sys/fs/cgroup').find((d) => d.split(',').includes(controller));
  return fs.readFileSync(`/sys/fs/cgroup/${dir}${v1[2]}/${v1File}`, 'utf8').trim();
}

/** Every http://name:port in the container's environment resolves and answers from inside it. */
async function reachabilityProblems(client: EngineClient, container: string, spec: any, label: string, hasShell: boolean): Promise<string[]> {
  const problems: string[] = [];
  for (const entry of spec.env ?? []) {
    const url = /^([A-Z_]+)=(?:https?|postgres(?:ql)?|redis):\/\/(?:[^@/]*@)?([a-z][a-z0-9.-]*):(\d+)/.exec(entry);
    if (!url) continue;
    const [, variable, host, port] = url;
    // bash's /dev/tcp (the stand-ins carry the real bash): resolves through Docker's DNS and connects.
    // Without a shell: node's net.connect (the scratch stand-in runs node).
    const probe = hasShell
      ? await client.exec(container, ['timeout', '5', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`])
      : await client.exec(container, ['/usr/bin/node', '-e', `require('net').connect(${port}, '${host}', () => process.exit(0)).on('error', (e) => { console.log(e.message); process.exit(1); }); setTimeout(() => process.exit(1), 5000);`]);
    if (probe.exitCode !== 0) problems.push(`${label}: ${variable} names ${host}:${port}, which does not answer from inside the container (${probe.output.trim()})`);
  }
  return problems;
}
