/**
 * The commands `npm run ops -- status|logs` send to a swarm's manager, run by the real docker CLI (Debian's
 * docker.io 20.10) against a real single-node swarm (__tests__/helpers/swarm-engine.ts), and their output parsed
 * as status shows it: a service short of its replicas (at most one a node on one node), a global service, the
 * pending task's reason, and every task's log lines.
 */
import { spawnSync } from 'node:child_process';
import { parseServiceStatus, serviceListCommand, serviceLogsCommand, serviceTasksCommand, type DockerHost } from '../../scripts/ops/docker-access';
import { SwarmEngine } from '../helpers/swarm-engine';

jest.setTimeout(120_000);

const IMAGE = 'ops-busybox:1';
let engine: SwarmEngine;
let manager: DockerHost;

function docker(args: readonly string[]): string {
  const result = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

beforeAll(async () => {
  engine = await SwarmEngine.start();
  engine.importBusybox(IMAGE);
  manager = { name: 'app-1', url: `unix://${engine.socket}` };
  const labels = ['--label', 'system=harbor', '--label', 'env=production'];
  engine.cli(['service', 'create', '--detach', '--name', 'booking-api', ...labels, '--replicas', '2', '--replicas-max-per-node', '1', IMAGE, 'sh', '-c', 'echo hello-from-task; exec sleep 3600']);
  engine.cli(['service', 'create', '--detach', '--name', 'edge-proxy', ...labels, '--mode', 'global', IMAGE, 'sleep', '3600']);
  // Not the environment's: filtered out by its labels.
  engine.cli(['service', 'create', '--detach', '--name', 'other', '--label', 'system=harbor', '--label', 'env=staging', IMAGE, 'sleep', '3600']);
  await engine.until('one booking-api task and the edge task run', async () => (await engine.tasks('booking-api')).some((task) => task.Status.State === 'running') && (await engine.tasks('edge-proxy')).some((task) => task.Status.State === 'running'), 60);
});

afterAll(async () => {
  await engine?.stop();
});

test("status: 1 of 2 replicas (at most one a node, one node), the pending task's reason, the global service's task on the node", () => {
  const listed = docker(serviceListCommand(manager, 'harbor', 'production'));
  const tasks = docker(serviceTasksCommand(manager, ['booking-api', 'edge-proxy']));
  const node = engine.cli(['node', 'ls', '--format', '{{.Hostname}}']);
  const services = parseServiceStatus(listed, tasks, new Map([['booking-api', { product: 'booking', service: 'api' }]]));
  expect(services.map((s) => [s.name, s.product, s.mode, s.running, s.desired, s.tag])).toEqual([
    ['edge-proxy', '-', 'global', 1, 1, '1'],
    ['booking-api', 'booking', 'replicated', 1, 2, '1'],
  ]);
  const api = services.find((s) => s.name === 'booking-api')!;
  expect(api.tasks.map((t) => t.task).sort()).toEqual(['booking-api.1', 'booking-api.2']);
  const running = api.tasks.filter((t) => t.state.startsWith('Running'));
  const pending = api.tasks.filter((t) => t.state.startsWith('Pending'));
  expect(running.map((t) => t.node)).toEqual([node]);
  expect(pending).toEqual([expect.objectContaining({ node: '', error: expect.stringContaining('max replicas per node') })]);
  const edge = services.find((s) => s.name === 'edge-proxy')!;
  expect(edge.tasks).toEqual([expect.objectContaining({ node, task: expect.stringMatching(/^edge-proxy\.[a-z0-9]{25}$/) })]);
});

test("logs: every task's lines of the service through the manager", async () => {
  const output = docker(serviceLogsCommand(manager, 'booking-api', { tail: 10 }));
  expect(output).toMatch(/^\S+Z booking-api\.[12]\.[a-z0-9]+@\S+ +\| hello-from-task$/m);
});
