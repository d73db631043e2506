/**
 * The edge stack's swarm joins under a Terraform Cloud agent (Harbor's
 * production with `dockerAccess: agent`), applied by real Terraform as the
 * agent on the data host would: Terraform's own SSH client logs in to a
 * real sshd at the data host's private address (10.60.1.12:22, in that
 * host's network namespace, where Terraform runs too), checks its pinned
 * host key, uploads the key, known hosts and script into a private tmpfs
 * directory and runs the join there against three real dockerds.
 *
 * The script's own hops (the manager reaching itself and each joining host)
 * go through a stand-in for ssh, set by sshd's SetEnv as SWARM_SSH for the
 * session (the synthesized command puts its options after it): it checks
 * what real ssh would be given (the key file private, in a private directory,
 * holding the key; the address pinned) and runs the command on the daemon
 * at that address. The daemons sit at the environment's addresses in
 * namespaces of their own, where a second sshd per host would add nothing
 * the first does not show.
 *
 * Only what is outside this machine is replaced in the synthesized JSON: the
 * servers' ids (from the network workspace) by fixed strings, the login user
 * `deploy` by the one running the test (no such account here), and the
 * connection's 30 s timeout by 1 s (it bounds the retries of a refused host
 * key, which Terraform retries like a server still booting).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { harbor } from '../../examples/harbor';
import { SWARM_JOIN_DIRECTORY } from '../../stacks/swarm-joins';
import { ArgumentWatch, showsJoinToken } from '../helpers/process-arguments';
import { environmentOf, variant } from '../helpers/spec';
import { SwarmNodes } from '../helpers/swarm-nodes';
import { resources, SynthesizedSystem } from '../helpers/synth';
import { TestSshd } from '../helpers/test-sshd';

jest.setTimeout(120_000);

const addresses = { 'app-1': '10.60.1.10', 'app-2': '10.60.1.11', 'data-1': '10.60.1.12' };
const indexOf = (host: keyof typeof addresses) => Object.keys(addresses).indexOf(host) + 10;

let environment: SwarmNodes;
let sshd: TestSshd;
let workdir: string;
let deployKey: string;
/** known_hosts lines for the joining hosts (their keys matter only to the stand-in, which checks the line is there). */
let nodeLines: string[];

beforeAll(async () => {
  workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-join-agent-'));
  const system = new SynthesizedSystem(variant(harbor, (s) => (environmentOf(s, 'production').dockerAccess = { mode: 'agent' })), { terraformCloudOrganization: 'acme' });
  const network = system.synth('production-network');
  const edge = system.synth('production-edge');

  environment = new SwarmNodes();
  await Promise.all(Object.entries(addresses).map(([host, address]) => environment.start(host, host, indexOf(host as keyof typeof addresses), address)));
  // The data host initializes the swarm with its synthesized boot commands.
  const boot = JSON.parse(resources(network, 'hcloud_server')['host-data-1'].user_data.replace(/^#cloud-config\n/, ''));
  for (const command of boot.runcmd.filter((line: string[]) => line[0] === 'sh' && line[2]!.includes('docker '))) {
    expect(spawnSync(environment.ssh, ['data-1', command[2]], { encoding: 'utf8' }).status).toBe(0);
  }
  // app-2 leads a swarm of its own: its join fails (the script refuses to take it over) until it leaves.
  environment.docker('app-2', ['swarm', 'init', '--advertise-addr', addresses['app-2']]);

  expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'deploy', '-f', path.join(workdir, 'deploy')]).status).toBe(0);
  deployKey = fs.readFileSync(path.join(workdir, 'deploy'), 'utf8');
  nodeLines = ['app-1', 'app-2'].map((host, index) => `${addresses[host as 'app-1']} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${'h'.repeat(42)}${index}`);

  // The stand-in for the script's ssh: checks what it is given, logs the credential files it saw, then runs the
  // command on the daemon behind the private address.
  const byAddress = Object.entries(addresses).map(([host, address]) => `${address}) instance=${host} ;;`).join(' ');
  const standIn = path.join(workdir, 'ssh');
  fs.writeFileSync(
    standIn,
    [
      '#!/bin/sh',
      'key="" known=""',
      'while [ $# -gt 2 ]; do case $1 in -i) key=$2; shift 2 ;; -o) case $2 in UserKnownHostsFile=*) known=${2#*=} ;; esac; shift 2 ;; *) shift ;; esac; done',
      `[ "$(stat -c %a "$key")" = 600 ] && [ "$(stat -c %a "$(dirname "$key")")" = 700 ] || { echo "key file not private" >&2; exit 90; }`,
      `cmp -s "$key" "${workdir}/deploy" || { echo "key file differs" >&2; exit 91; }`,
      'address=${1#*@}',
      `grep -q "^$address " "$known" || { echo "no pinned key for $address" >&2; exit 92; }`,
      `echo "$key $known" >> "${workdir}/seen"`,
      `case $address in ${byAddress} *) exit 93 ;; esac`,
      `exec "${environment.ssh}" "$instance" "$2"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  sshd = await TestSshd.start({
    dir: path.join(workdir, 'sshd'),
    namespace: environment.namespace(indexOf('data-1')),
    address: addresses['data-1'],
    authorizedKey: fs.readFileSync(path.join(workdir, 'deploy.pub'), 'utf8'),
    environment: { SWARM_SSH: standIn, SWARM_WAIT_SECONDS: '90' },
  });

  const joins = JSON.parse(JSON.stringify(resources(edge, 'terraform_data')).replace(/\$\{data\.tfe_outputs\.[^}]*host_([a-z0-9_]+)_server_id[^}]*\}/g, 'server-$1'));
  for (const join of Object.values(joins) as any[]) {
    expect(join.connection).toMatchObject({ user: 'deploy', timeout: '30s', host: addresses['data-1'] });
    join.connection = { ...join.connection, user: os.userInfo().username, timeout: '1s' };
  }
  const variable = { swarm_join_ssh_key: edge.variable!.swarm_join_ssh_key, swarm_known_hosts: edge.variable!.swarm_known_hosts };
  fs.writeFileSync(path.join(workdir, 'main.tf.json'), JSON.stringify({ variable, locals: { swarm_manager_host_keys: (edge.locals as Record<string, unknown>).swarm_manager_host_keys }, resource: { terraform_data: joins } }, null, 2));
  expect(spawnSync('terraform', ['init', '-input=false'], { cwd: workdir, encoding: 'utf8' }).status).toBe(0);
});

afterAll(async () => {
  await sshd?.stop();
  await environment?.stop();
  if (workdir) fs.rmSync(workdir, { recursive: true, force: true });
});

/**
 * `terraform apply` on the data host's network, as the agent there, while every process's arguments are scanned for
 * a join token and the deploy key; its temporary directory is its own, to show it keeps nothing.
 */
async function apply(knownHosts: string[]): Promise<{ status: number | null; output: string; secretsInArguments: string[]; seconds: number }> {
  const started = Date.now();
  const tmp = path.join(workdir, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  // No SSH agent: the connection must not need one (it says `agent = false`).
  const { SSH_AUTH_SOCK: _agent, ...inherited } = process.env;
  const env = { ...inherited, TMPDIR: tmp, TF_IN_AUTOMATION: '1', TF_VAR_swarm_join_ssh_key: deployKey, TF_VAR_swarm_known_hosts: knownHosts.join('\n') };
  const watch = new ArgumentWatch();
  const child = spawn('nsenter', [`--net=${environment.namespace(indexOf('data-1'))}`, 'terraform', 'apply', '-auto-approve', '-input=false', '-no-color'], { cwd: workdir, env });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let running = true;
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  void exited.then(() => (running = false));
  const secretsInArguments: string[] = [];
  while (running) {
    secretsInArguments.push(...watch.scan().filter((line) => showsJoinToken(line) || keyLines().some((keyLine) => line.includes(keyLine))));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const status = await exited;
  // Terraform's temporary files (the key's upload copy, the pinned host key) are gone once it ends.
  expect(fs.readdirSync(tmp)).toEqual([]);
  return { status, output, secretsInArguments, seconds: (Date.now() - started) / 1000 };
}

/** The deploy key's base64 lines, any of which would show it. */
const keyLines = () => deployKey.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
const managerLines = () => sshd.hostKeys.map((key) => `${addresses['data-1']} ${key}`);
const swarmNodes = () => environment.docker('data-1', ['node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}']).split('\n').sort();
const tokens = () => ['worker', 'manager'].map((role) => environment.docker('data-1', ['swarm', 'join-token', '-q', role]));
const logins = () => (sshd.log.match(/Accepted publickey/g) ?? []).length;
/** The manager's /dev/shm but Terraform's step scripts (plain commands, emptied after a success): the private directory must not be there. */
const leftOnManager = () => fs.readdirSync(sshd.shm).filter((entry) => !/^swarm-join-step-\d+\.sh$/.test(entry));

describe('the synthesized agent-mode joins under terraform apply, through Terraform\'s SSH client', () => {
  it('refuses a manager with no pinned host key at plan, before connecting', async () => {
    const result = await apply(nodeLines);
    expect(result.status).not.toBe(0);
    expect(result.output.replace(/\s+/g, ' ')).toContain("swarm join: no pinned host key for 10.60.1.12, the swarm's first manager Terraform connects to");
    expect(sshd.log).not.toContain('Connection from');
  });

  it('refuses a manager presenting other host keys than the pinned ones: nothing joined, nothing left on it', async () => {
    const impostor = path.join(workdir, 'impostor');
    for (const type of ['ecdsa', 'ed25519']) spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', `${impostor}-${type}`]);
    const pinnedElsewhere = ['ecdsa', 'ed25519'].map((type) => `${addresses['data-1']} ${fs.readFileSync(`${impostor}-${type}.pub`, 'utf8').trim()}`);
    const result = await apply([...pinnedElsewhere, ...nodeLines]);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/knownhosts: key mismatch/);
    // Terraform connected and refused the key the server presented, before logging in.
    expect(sshd.log).toContain(`Connection from ${addresses['data-1']}`);
    expect(logins()).toBe(0);
    expect(swarmNodes()).toEqual(['data-1 Leader']);
    expect(fs.readdirSync(sshd.shm)).toEqual([]);
  });

  it('removes the private directory after a failed join, and shows why it failed', async () => {
    const result = await apply([...managerLines(), ...nodeLines]);
    expect(result.status).not.toBe(0);
    // The join's output streams (no sensitive value in the remote-exec's own config), the host key checked.
    expect(result.output).toContain('Checking Host Key: true');
    expect(result.output).toMatch(/swarm join: joined deploy@10\.60\.1\.10 as manager/);
    expect(result.output).toMatch(/deploy@10\.60\.1\.11 is a manager of another swarm/);
    expect(leftOnManager()).toEqual([]);
    expect(swarmNodes()).toEqual(['app-1 Reachable', 'data-1 Leader']);
  });

  it('forms the swarm from the manager with the key on its tmpfs only for the join, host keys pinned', async () => {
    environment.docker('app-2', ['swarm', 'leave', '--force']);
    const loginsBefore = logins();
    const result = await apply([...managerLines(), ...nodeLines]);
    console.log(`terraform apply of the agent-mode joins over real SSH (app-2 only, the others done): ${result.seconds.toFixed(1)} s, ${logins() - loginsBefore} SSH logins`);
    expect({ status: result.status, secretsInArguments: result.secretsInArguments }).toEqual({ status: 0, secretsInArguments: [] });
    expect(result.output).toMatch(/swarm join: joined deploy@10\.60\.1\.11 as manager/);
    expect(swarmNodes()).toEqual(['app-1 Reachable', 'app-2 Reachable', 'data-1 Leader']);
    for (const [host, labels] of [['app-1', '{"edge":"true","role":"app"}'], ['app-2', '{"edge":"true","role":"app"}'], ['data-1', '{"data":"true","role":"data"}']]) {
      expect(environment.docker('data-1', ['node', 'inspect', host!, '--format', '{{json .Spec.Labels}} {{.Status.Addr}}'])).toBe(`${labels} ${addresses[host as keyof typeof addresses]}`);
    }
    // Every hop of the script had the key and the pinned hosts in the private directory, which is gone.
    const seen = new Set(fs.readFileSync(path.join(workdir, 'seen'), 'utf8').trim().split('\n'));
    expect([...seen]).toEqual([`${SWARM_JOIN_DIRECTORY}/key ${SWARM_JOIN_DIRECTORY}/known_hosts`]);
    expect(leftOnManager()).toEqual([]);
    const stepScripts = fs.readdirSync(sshd.shm).map((entry) => fs.readFileSync(path.join(sshd.shm, entry), 'utf8')).join('\n');
    for (const secret of [...keyLines(), ...tokens()]) {
      expect(result.output).not.toContain(secret);
      expect(stepScripts).not.toContain(secret);
    }
    const state = fs.readFileSync(path.join(workdir, 'terraform.tfstate'), 'utf8');
    expect(state).not.toMatch(/SWMTKN|OPENSSH PRIVATE KEY/);
    for (const keyLine of keyLines()) expect(state).not.toContain(keyLine);
  });
});
