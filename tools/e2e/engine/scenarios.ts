/**
 * The real-engine part of `npm run e2e`: per system, one environment's stacks are applied by real Terraform
 * with the mock docker provider acting on the e2e's own dockerd (mock-provider/docker-engine.ts), stand-in
 * images in place of the registry's. Then, on the engine: every container is healthy by its own health check
 * (or, run once, exited 0); read-only root, dropped capabilities, user, tmpfs and memory/CPU limits are in force
 * inside the container; the names its environment's URLs give resolve and answer; and `terraform destroy` stops
 * every container with its grace period, SIGTERM first.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SystemSpec } from '../../../index';
import { Harness, SystemRun, deployLevels, inParallel } from '../run';
import { startSharedMock } from '../terraform';
import type { EngineClient } from './api';
import { startDaemon } from './daemon';
import { releaseTaskScenario } from './release-tasks';
import { importStandIns, standInSpecs } from './standins';

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
  const workDir = path.join(workRoot, 'engine', name);
  const hostRoot = path.join(daemon.root, 'host');
  fs.mkdirSync(hostRoot, { recursive: true });
  const mock = await startSharedMock(workDir, { E2E_DOCKER_SOCKET: daemon.socket, E2E_DOCKER_HOST_ROOT: hostRoot });
  try {
    const run = new SystemRun(name, system, workDir, false);
    run.prepare();
    const env = engineEnvironment(run);
    if (!env) return [`${name}: no environment runs on a single host, so none can run on one daemon`];
    const stacks = Object.keys(run.manifest.stacks).filter((s) => s.startsWith(`${env}-`));
    const envJsons = stacks.map((s) => run.stackJsons[Object.keys(run.manifest.stacks).indexOf(s)]);
    const specs = standInSpecs(envJsons);
    const imported = await importStandIns(daemon.client, specs.values(), workDir);
    const prepared = Date.now();
    process.stdout.write(`${name} engine: dockerd up in ${daemon.startSeconds.toFixed(1)} s, ${imported} stand-in images in ${seconds(prepared - started)}\n`);

    const harness = new Harness(mock, cliConfig, run.variables);
    const levels = deployLevels(run.deployInfo(), stacks);
    for (const level of levels) {
      const errors = await inParallel(level, concurrency, (stack) => harness.converge(stack, run.stackDir(run.out, stack)));
      if (errors.length > 0) return [...problems, ...errors.map((e) => `${name} engine: ${e.message}`)];
    }
    const converged = Date.now();
    process.stdout.write(`${name} engine: ${env} applied on the engine (${levels.flat().length} stacks) in ${seconds(converged - prepared)}\n`);

    const expected = envJsons.flatMap((j) => Object.values<any>(j.resource?.docker_container ?? {}));
    problems.push(...(await checkContainers(daemon.client, expected, `${name} ${env}`)));
    process.stdout.write(`${name} engine: health, confinement and names checked in ${seconds(Date.now() - converged)}\n`);
    problems.push(...(await releaseTaskScenario({ name, system, env, run, harness, client: daemon.client, workDir })));

    const destroyStart = Date.now();
    // Only the Docker resources: the stacks' volumes carry prevent_destroy, as they should.
    const dockerTargets = (stack: string) => {
      const json = run.stackJsons[Object.keys(run.manifest.stacks).indexOf(stack)];
      return ['docker_container', 'docker_network'].flatMap((type) => Object.keys(json.resource?.[type] ?? {}).map((id) => `${type}.${id}`));
    };
    for (const level of [...levels].reverse()) {
      const withDocker = level.filter((stack) => dockerTargets(stack).length > 0);
      const errors = await inParallel(withDocker, concurrency, (stack) => harness.destroy(stack, run.stackDir(run.out, stack), dockerTargets(stack)));
      problems.push(...errors.map((e) => `${name} engine: ${e.message}`));
    }
    const left = await daemon.client.request<any[]>('GET', '/containers/json?all=1');
    if (left.length > 0) problems.push(`${name} engine: terraform destroy left ${left.length} containers: ${left.map((c) => c.Names[0]).join(', ')}`);
    process.stdout.write(`${name} engine: destroyed in ${seconds(Date.now() - destroyStart)}; engine total ${seconds(Date.now() - started)}\n`);
  } finally {
    await mock.stop();
    await daemon.stop();
  }
  return problems;
}

/** The containers on the daemon by name (a name comes resolved from the state, so match on the labels' service). */
async function checkContainers(client: EngineClient, expected: readonly any[], where: string): Promise<string[]> {
  const problems: string[] = [];
  const listed = await client.request<any[]>('GET', '/containers/json?all=1');
  if (listed.length !== expected.length) problems.push(`${where}: ${expected.length} containers synthesized, ${listed.length} on the engine`);
  const byName = new Map(listed.map((c) => [c.Names[0].slice(1), c]));
  for (const spec of expected) {
    const namePattern = new RegExp(`^${spec.name.replace(/[.*+?^()|[\]\\]/g, '\\$&').replace(/\$\\?\{[^}]*\}/g, '.+')}$`);
    const found = [...byName.keys()].find((n) => namePattern.test(n));
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
    if (spec.healthcheck && info.State.Health?.Status !== 'healthy') problems.push(`${label}: health ${info.State.Health?.Status}`);
    problems.push(...(await confinementProblems(client, found, spec, label)));
    problems.push(...(await reachabilityProblems(client, found, spec, label)));
  }
  return problems;
}

/** Inside the container: the root is read-only, the user and effective capabilities are as synthesized, tmpfs and limits apply. */
async function confinementProblems(client: EngineClient, container: string, spec: any, label: string): Promise<string[]> {
  const problems: string[] = [];
  const run = (cmd: string) => client.exec(container, ['sh', '-c', cmd]);
  if (spec.read_only) {
    const write = await run('touch /e2e-probe');
    if (write.exitCode === 0) problems.push(`${label}: read_only is set but writing / succeeded`);
  }
  const ids = await run('id -u; id -g; grep CapEff /proc/1/status');
  const [uid, , capLine] = ids.output.trim().split('\n');
  const wantUid = String(spec.user ?? '0').split(':')[0];
  const numericUid = { root: '0', postgres: '999', redis: '998' }[wantUid] ?? wantUid;
  if (uid !== numericUid) problems.push(`${label}: runs as uid ${uid}, synthesized user ${spec.user}`);
  // With every capability dropped and a non-root user, the main process holds none (CapEff 0).
  const capEff = BigInt(`0x${capLine?.split(/\s+/)[1] ?? 'ff'}`);
  if (spec.capabilities?.drop?.includes('ALL') && !spec.capabilities?.add && capEff !== 0n) problems.push(`${label}: capabilities dropped but PID 1 holds CapEff ${capLine}`);
  for (const [mountPoint, options] of Object.entries<string>(spec.tmpfs ?? {})) {
    const mounts = await run(`grep ' ${mountPoint} ' /proc/mounts`);
    if (!/ tmpfs /.test(mounts.output) || (options.includes('noexec') && !/noexec/.test(mounts.output))) problems.push(`${label}: ${mountPoint} should be tmpfs (${options}), /proc/mounts says: ${mounts.output.trim() || 'not mounted'}`);
  }
  // Limits are read from the container's cgroup on this machine (a container may bind the host's /sys over its own).
  const pid: number = (await client.inspect(container)).State.Pid;
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
async function reachabilityProblems(client: EngineClient, container: string, spec: any, label: string): Promise<string[]> {
  const problems: string[] = [];
  for (const entry of spec.env ?? []) {
    const url = /^([A-Z_]+)=(?:https?|postgres(?:ql)?|redis):\/\/(?:[^@/]*@)?([a-z][a-z0-9.-]*):(\d+)/.exec(entry);
    if (!url) continue;
    const [, variable, host, port] = url;
    // bash's /dev/tcp (the stand-ins carry the real bash): resolves through Docker's DNS and connects.
    const probe = await client.exec(container, ['timeout', '5', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`]);
    if (probe.exitCode !== 0) problems.push(`${label}: ${variable} names ${host}:${port}, which does not answer from inside the container (${probe.output.trim()})`);
  }
  return problems;
}
