/**
 * scripts/swarm/join on real daemons: two (then three) dockerds, each in its
 * own network namespace with its own hostname (__tests__/helpers/swarm-nodes.ts),
 * the first initialized as cloud-init does it. The script joins the second
 * with the token passed only through pipes (never an argument of any
 * process, never printed), labels the node, and when the host is replaced
 * (same hostname and address, empty disk) joins the new one and removes the
 * old node once it is down.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initializerCommands } from '../../constructs/hetzner/swarm-formation';
import { harbor } from '../../examples/harbor';
import { ArgumentWatch, controlToken, JOIN_TOKEN_SHAPE, showsJoinToken } from '../helpers/process-arguments';
import { SwarmNodes, type SwarmNodeHost } from '../helpers/swarm-nodes';
import { resources, SynthesizedSystem } from '../helpers/synth';

jest.setTimeout(180_000);

const JOIN = path.join(__dirname, '../../scripts/swarm/join');

let nodes: SwarmNodes;
let manager: SwarmNodeHost;

function spawnSyncShell(ssh: string, host: string, command: string): { status: number | null; stdout: string } {
  const result = spawnSync(ssh, [host, command], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout };
}

/**
 * Runs the join script while scanning every process's arguments every few milliseconds; returns its exit, output,
 * every token-shaped argument seen, and how many scans saw the script running (the scan really watched it).
 */
async function join(args: readonly string[]): Promise<{ status: number | null; output: string; tokensInArguments: string[]; scansWhileRunning: number; seconds: number }> {
  const started = Date.now();
  const watch = new ArgumentWatch();
  const child = spawn(JOIN, args, { env: { ...process.env, SWARM_SSH: nodes.ssh, SWARM_WAIT_SECONDS: '90', SWARM_DOWN_WAIT_SECONDS: '120' } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let running = true;
  void exited.then(() => (running = false));
  const tokensInArguments: string[] = [];
  let scansWhileRunning = 0;
  while (running) {
    const lines = watch.scan();
    if (lines.some((line) => line.includes('swarm/join'))) scansWhileRunning++;
    tokensInArguments.push(...lines.filter(showsJoinToken));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const status = await exited;
  return { status, output, tokensInArguments, scansWhileRunning, seconds: (Date.now() - started) / 1000 };
}

const tokens = () => ['worker', 'manager'].map((role) => nodes.docker('app-1', ['swarm', 'join-token', '-q', role]));

describe('scripts/swarm/join', () => {
  beforeAll(async () => {
    nodes = new SwarmNodes();
    manager = await nodes.start('app-1', 'app-1', 10);
    // The initializer's own boot commands, run against its daemon (the second run shows them idempotent).
    for (let boot = 0; boot < 2; boot++) {
      for (const [, , command] of initializerCommands({ name: 'app-1', role: 'app', privateIp: manager.address })) {
        const result = spawnSyncShell(nodes.ssh, 'app-1', command!);
        expect({ command, ...result }).toEqual({ command, status: 0, stdout: '' });
      }
    }
    // Heartbeats every second (Swarm's default is 5 s): a killed host's node is seen down in about 3 s instead of 10,
    // which is when the join of its replacement may remove it. The test asserts on the removal, not on its timing.
    nodes.docker('app-1', ['swarm', 'update', '--dispatcher-heartbeat', '1s']);
  });
  // Stopped before the Terraform test below starts its own daemons.
  afterAll(async () => nodes?.stop());

  it('the argument scan sees a token-shaped argument when there is one (the check can fail)', async () => {
    // One in a process running before the watch began, one in a process started after it (every scan reads those).
    const sleeper = (digit: string) => spawn('sh', ['-c', 'sleep 0.5', controlToken(digit)]);
    const exits = (child: ChildProcess) => new Promise((resolve) => child.on('exit', resolve));
    const before = sleeper('c');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const watch = new ArgumentWatch();
    const after = sleeper('d');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const tokenShaped = () => watch.scan().flatMap((line) => JOIN_TOKEN_SHAPE.exec(line)?.[0].slice(-1) ?? []);
    expect(tokenShaped().sort()).toEqual(['c', 'd']);
    expect(tokenShaped()).toEqual(['d']);
    // What the joins are checked with flags a token of that shape, and not another file's control running meanwhile.
    expect(showsJoinToken(`sh -c read SWMTKN-1-${'1b'.repeat(25)}-${'c2'.repeat(12)}`)).toBe(true);
    expect(showsJoinToken(`sh -c sleep ${controlToken('e')}`)).toBe(false);
    await Promise.all([exits(before), exits(after)]);
  });

  it('joins a worker with the token only on pipes, and labels its node', async () => {
    const worker = await nodes.start('data-1', 'data-1', 11);
    const result = await join(['--manager', 'app-1', '--manager-address', manager.address, '--node', 'data-1', '--node-address', worker.address, '--as', 'worker', '--label', 'role=data']);
    console.log(`join of a worker: ${result.seconds.toFixed(1)} s, ${result.scansWhileRunning} argument scans while it ran`);
    expect(result).toMatchObject({ status: 0, tokensInArguments: [] });
    expect(result.scansWhileRunning).toBeGreaterThan(0);
    for (const token of tokens()) expect(result.output).not.toContain(token);
    expect(result.output).toContain('joined data-1 as worker');
    expect(nodes.docker('app-1', ['node', 'inspect', 'data-1', '--format', '{{.Spec.Role}} {{json .Spec.Labels}} {{.Status.State}} {{.Status.Addr}}'])).toBe(
      `worker {"role":"data"} ready ${worker.address}`,
    );
    // A second run (new labels: the host became an edge) joins nothing and sets exactly the labels given.
    const relabel = (labels: string[]) => join(['--manager', 'app-1', '--manager-address', manager.address, '--node', 'data-1', '--node-address', worker.address, '--as', 'worker', ...labels.flatMap((label) => ['--label', label])]);
    const again = await relabel(['role=data', 'edge=true']);
    expect(again).toMatchObject({ status: 0, tokensInArguments: [] });
    expect(again.output).toContain('data-1 is already in the swarm');
    expect(nodes.docker('app-1', ['node', 'inspect', 'data-1', '--format', '{{json .Spec.Labels}}'])).toBe('{"edge":"true","role":"data"}');
    expect((await relabel(['role=data'])).status).toBe(0);
    expect(nodes.docker('app-1', ['node', 'inspect', 'data-1', '--format', '{{json .Spec.Labels}}'])).toBe('{"role":"data"}');
    // A node already in the swarm takes the role the formation now gives it (a third host makes the second a manager), and back.
    const asRole = (role: string) => join(['--manager', 'app-1', '--manager-address', manager.address, '--node', 'data-1', '--node-address', worker.address, '--as', role, '--label', 'role=data']);
    const promoted = await asRole('manager');
    expect(promoted).toMatchObject({ status: 0, tokensInArguments: [] });
    expect(promoted.output).toMatch(/made data-1 \(\w+\) a manager \(it was a worker\)/);
    expect(nodes.docker('app-1', ['node', 'inspect', 'data-1', '--format', '{{.Spec.Role}}'])).toBe('manager');
    // Raft admits the new manager a moment after the promotion.
    const reachability = () => nodes.docker('app-1', ['node', 'inspect', 'data-1', '--format', '{{with .ManagerStatus}}{{.Reachability}}{{end}}']);
    for (let waited = 0; reachability() !== 'reachable' && waited < 30_000; waited += 250) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(reachability()).toBe('reachable');
    expect((await asRole('worker')).output).toMatch(/made data-1 \(\w+\) a worker \(it was a manager\)/);
    expect(nodes.docker('app-1', ['node', 'inspect', 'data-1', '--format', '{{.Spec.Role}}'])).toBe('worker');
  });

  it('joins a replacement host as a manager and removes the replaced node once it is down', async () => {
    // Three managers, as the formation has from three hosts on: losing one keeps quorum (two of three).
    const managerArgs = (instance: string, host: SwarmNodeHost) => ['--manager', 'app-1', '--manager-address', manager.address, '--node', instance, '--node-address', host.address, '--as', 'manager', '--label', 'role=app'];
    const args = managerArgs('app-2', await nodes.start('app-2', 'app-2', 12));
    expect(await join(args)).toMatchObject({ status: 0, tokensInArguments: [] });
    expect(await join(managerArgs('app-3', await nodes.start('app-3', 'app-3', 13)))).toMatchObject({ status: 0, tokensInArguments: [] });
    const oldId = nodes.docker('app-1', ['node', 'inspect', 'app-2', '--format', '{{.ID}} {{.ManagerStatus.Reachability}}']);
    expect(oldId).toMatch(/ reachable$/);

    // The server is replaced: the old daemon is gone without leaving, the new one has the same name and address and an empty disk.
    await nodes.kill('app-2');
    await nodes.start('app-2-replacement', 'app-2', 12);
    const result = await join(args.map((arg) => (arg === 'app-2' ? 'app-2-replacement' : arg)));
    console.log(`join of a replacement manager, old node seen down and removed: ${result.seconds.toFixed(1)} s`);
    expect({ ...result, output: result.status === 0 ? '' : result.output }).toMatchObject({ status: 0, tokensInArguments: [] });
    for (const token of tokens()) expect(result.output).not.toContain(token);
    expect(result.output).toContain(`removed the replaced node ${oldId.split(' ')[0]} of app-2`);
    const listed = nodes.docker('app-1', ['node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}']).split('\n').map((line) => line.trim()).sort();
    expect(listed).toEqual(['app-1 Ready Leader', 'app-2 Ready Reachable', 'app-3 Ready Reachable', 'data-1 Ready']);
    expect(nodes.docker('app-1', ['node', 'inspect', 'app-2', '--format', '{{json .Spec.Labels}}'])).toBe('{"role":"app"}');
  });

  it('stops at once, naming the missing SSH client, where there is none', () => {
    // A PATH with the script's other tools and no ssh; SWARM_SSH unset, so the default client is looked for.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'join-no-ssh-'));
    for (const tool of ['sh', 'grep', 'tr', 'sed', 'awk', 'sleep', 'cat']) fs.symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`]).stdout.toString().trim(), path.join(bin, tool));
    const { SWARM_SSH: _unset, ...env } = process.env;
    const started = Date.now();
    const result = spawnSync(JOIN, ['--manager', 'app-1', '--manager-address', '10.0.0.2', '--node', 'data-1', '--node-address', '10.0.0.3', '--as', 'worker'], { env: { ...env, PATH: bin }, encoding: 'utf8' });
    fs.rmSync(bin, { recursive: true, force: true });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/swarm join: no "ssh" here: the join reaches the hosts over SSH \(install openssh-client where it runs/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses bad arguments before touching any host', async () => {
    const result = await join(['--manager', 'app-1', '--manager-address', manager.address, '--node', 'x', '--node-address', '10.0.0.300x', '--as', 'leader']);
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/--as must be worker or manager; got "leader"/);
  });
});

/**
 * The network stack's own joins, synthesized for Harbor's production (three hosts, all managers), applied by real
 * Terraform: its terraform_data resources with the servers' addresses pointed at daemons that sit at the
 * environment's private addresses, after the first manager ran the init commands of its synthesized user_data.
 */
describe('the synthesized joins under terraform apply', () => {
  let environment: SwarmNodes;
  let workdir: string;
  afterAll(async () => {
    await environment?.stop();
    if (workdir) fs.rmSync(workdir, { recursive: true, force: true });
  });

  it('forms the swarm: every host a manager, labelled by role (and edge), in the order the stack gives', async () => {
    const network = new SynthesizedSystem(harbor).synth('production-network');
    environment = new SwarmNodes();
    const addresses = { 'app-1': '10.60.1.10', 'app-2': '10.60.1.11', 'data-1': '10.60.1.12' };
    for (const [index, [host, address]] of Object.entries(addresses).entries()) await environment.start(host, host, index + 10, address);
    // The data host initializes the swarm (the environment's endpoint).
    const boot = JSON.parse(resources(network, 'hcloud_server')['host-data-1'].user_data.replace(/^#cloud-config\n/, ''));
    for (const command of boot.runcmd.filter((line: string[]) => line[0] === 'sh' && line[2]!.includes('docker '))) {
      expect(spawnSyncShell(environment.ssh, 'data-1', command[2])).toEqual({ status: 0, stdout: '' });
    }

    // Only the servers are outside this machine: their addresses become the daemons' names, their ids fixed strings.
    const joins = JSON.stringify(resources(network, 'terraform_data'))
      .replace(/\$\{hcloud_primary_ip\.host-([a-z0-9-]+)-ipv4\.ip_address\}/g, '$1')
      .replace(/\$\{hcloud_server\.host-([a-z0-9-]+)\.id\}/g, 'server-$1');
    const withoutServers = Object.fromEntries(
      Object.entries(JSON.parse(joins)).map(([name, body]: [string, any]) => [name, { ...body, depends_on: body.depends_on.filter((dependency: string) => dependency.startsWith('terraform_data.')) }]),
    );
    workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-join-terraform-'));
    fs.writeFileSync(path.join(workdir, 'main.tf.json'), JSON.stringify({ resource: { terraform_data: withoutServers } }, null, 2));
    const env = { ...process.env, SWARM_SSH: environment.ssh, SWARM_WAIT_SECONDS: '90', TF_IN_AUTOMATION: '1' };
    const started = Date.now();
    for (const args of [['init', '-input=false'], ['apply', '-auto-approve', '-input=false', '-no-color']]) {
      const result = spawnSync('terraform', args, { cwd: workdir, env, encoding: 'utf8' });
      expect({ args, status: result.status, stderr: result.stderr }).toEqual({ args, status: 0, stderr: expect.any(String) });
      for (const token of ['worker', 'manager'].map((role) => environment.docker('data-1', ['swarm', 'join-token', '-q', role]))) {
        expect(result.stdout + result.stderr).not.toContain(token);
      }
      if (args[0] === 'apply') expect(result.stdout).toMatch(/deploy@data-1 is already in the swarm[\s\S]*joined deploy@app-1 as manager[\s\S]*joined deploy@app-2 as manager/);
    }
    console.log(`terraform init + apply of the synthesized joins: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const nodes = environment.docker('data-1', ['node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}']).split('\n').sort();
    expect(nodes).toEqual(['app-1 Reachable', 'app-2 Reachable', 'data-1 Leader']);
    for (const [host, labels] of [['app-1', '{"edge":"true","role":"app"}'], ['app-2', '{"edge":"true","role":"app"}'], ['data-1', '{"data":"true","role":"data"}']]) {
      expect(environment.docker('data-1', ['node', 'inspect', host!, '--format', '{{json .Spec.Labels}} {{.Status.Addr}}'])).toBe(`${labels} ${addresses[host as keyof typeof addresses]}`);
    }
    const state = fs.readFileSync(path.join(workdir, 'terraform.tfstate'), 'utf8');
    expect(state).not.toMatch(/SWMTKN/);
  });
});
