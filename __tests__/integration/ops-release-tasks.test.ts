/**
 * `ops tasks`, `ops task logs` and `ops task dry-run` against a real Docker engine (a private dockerd,
 * tools/e2e/engine/daemon.ts): task containers made as the release task makes them (labels, hardening,
 * networks, a secret in the environment), then the CLI reads their runs and output and runs a dry run
 * with a stand-in image. The CLI's docker commands run unchanged except the host URL, which points at the
 * private daemon's socket instead of ssh://deploy@<host>.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { manacore } from '../../environments';
import { main, type OpsIo } from '../../scripts/ops/cli';
import { gitRunner } from '../../scripts/ops/tags-file';
import { resolveSystem } from '../../system/resolve';
import { startDaemon, type EngineDaemon } from '../../tools/e2e/engine/daemon';
import { E2E_BUSYBOX } from '../../tools/e2e/engine/standins';
import { serviceOf, variant } from '../helpers/spec';
import { synthToTemp, PROJECT_ROOT } from '../helpers/synth-out';

jest.setTimeout(180_000);

const SECRET = `s3cret-${Math.random().toString(36).slice(2)}`;
const HOST_URL = 'ssh://deploy@203.0.113.5:22';
/** Staging's chat backend image at the catalog's tag: the dry run's image unless --tag. */
const imageRef = resolveSystem(manacore).environments.find((environment) => environment.name === 'staging')!.products.find((product) => product.name === 'chat')!.services.find((service) => service.name === 'backend')!.image!.ref;
const repository = imageRef.slice(0, imageRef.lastIndexOf(':'));
/** Manacore with a dry-run form for chat's migrate: it reports who it runs as, what it can reach and write, and exits 4. */
const withDryRun = variant(manacore, (system) => {
  (serviceOf(system, 'chat', 'backend').tasks as any).migrate.dryRunCommand = [
    'sh', '-c', 'echo "dry run as $(id -u), url of ${#DATABASE_URL} characters, interfaces $(ls /sys/class/net | tr "\\n" " ")"; touch /probe 2>/dev/null || echo "root read-only"; exit 4',
  ];
});

let daemon: EngineDaemon;
let outdir: string;
const docker = (...args: string[]) => {
  const result = spawnSync('docker', ['--host', `unix://${daemon.socket}`, ...args], { encoding: 'utf8' });
  if (result.status !== 0 && args[0] !== 'start') throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
  return result;
};

/** A task container as ReleaseTask makes it (hardened-container.ts), run to completion like Terraform's attach. */
function runTask(name: string, task: string, tag: string, script: string): void {
  docker(
    'container', 'create', '--name', name,
    '--label', 'system=manacore', '--label', 'env=staging', '--label', 'product=chat', '--label', 'service=backend', '--label', `task=${task}`, '--label', `image.tag=${tag}`, '--label', 'host=app-1',
    '--user', '1001', '--read-only', '--tmpfs', '/tmp:rw,noexec,nosuid,size=100m', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges:true', '--memory', '67108864',
    '--env', 'NODE_ENV=production', '--env', `DATABASE_URL=postgresql://chat:${SECRET}@postgres:5432/chat`,
    '--network', 'staging-backend', '--entrypoint', 'timeout', `${repository}:${tag}`, '-s', 'TERM', '-k', '10', '600', 'sh', '-c', script,
  );
  docker('network', 'connect', 'staging-data', name);
  docker('start', '--attach', name);
}

function io(system = manacore): OpsIo & { stdout: string[]; stderr: string[]; runs: Array<{ args: string[]; env?: Record<string, string> }> } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const runs: Array<{ args: string[]; env?: Record<string, string> }> = [];
  return {
    stdout, stderr, runs,
    out: (text) => stdout.push(text),
    err: (text) => stderr.push(text),
    env: { PATH: process.env.PATH },
    root: PROJECT_ROOT,
    outdir,
    system,
    run: (args, _inherit, env) => {
      runs.push({ args: [...args], env: env && { ...env } });
      const pointed = args.map((arg) => (arg === HOST_URL ? `unix://${daemon.socket}` : arg));
      const result = spawnSync(pointed[0]!, pointed.slice(1), { encoding: 'utf8', env: { ...process.env, ...env } });
      // What an operator's terminal would show of a streamed command.
      if (_inherit) stdout.push(result.stdout, result.stderr);
      return { code: result.status ?? 1, stdout: result.stdout };
    },
    git: gitRunner(PROJECT_ROOT),
    addressLookup: () => '203.0.113.5',
  };
}

beforeAll(async () => {
  outdir = synthToTemp();
  daemon = await startDaemon();
  // A stand-in image: static busybox and its applets (sh, timeout, id, ...), /tmp as in every base image.
  const root = fs.mkdtempSync(path.join(daemon.root, 'rootfs-'));
  // mkdtemp's 0700 would become the image's / and keep uid 1001 out of it.
  fs.chmodSync(root, 0o755);
  fs.mkdirSync(path.join(root, 'bin'));
  fs.mkdirSync(path.join(root, 'tmp'), { mode: 0o1777 });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.copyFileSync(E2E_BUSYBOX, path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  for (const applet of ['sh', 'timeout', 'id', 'echo', 'ls', 'tr', 'touch', 'sleep']) fs.symlinkSync('busybox', path.join(root, 'bin', applet));
  const tar = spawnSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 * 1024 * 1024 });
  // Imported once, tagged twice more over the API (each import unpacks the layer again).
  const [first, ...others] = ['main-1111111', 'main-2222222', imageRef.slice(imageRef.lastIndexOf(':') + 1)];
  const imported = spawnSync('docker', ['--host', `unix://${daemon.socket}`, 'import', '--change', 'ENV PATH=/bin', '-', `${repository}:${first}`], { input: tar.stdout });
  if (imported.status !== 0) throw new Error(imported.stderr.toString());
  for (const tag of others) await daemon.client.request('POST', `/images/${encodeURIComponent(`${repository}:${first}`)}/tag?repo=${encodeURIComponent(repository)}&tag=${tag}`);
  await daemon.client.request('POST', '/networks/create', { Name: 'staging-backend', CheckDuplicate: true });
  await daemon.client.request('POST', '/networks/create', { Name: 'staging-data', Internal: true, CheckDuplicate: true });
  runTask('chat-backend-migrate-main-1111111-aa', 'migrate', 'main-1111111', 'echo "applying 0042"; echo "relation exists" >&2; exit 3');
  runTask('chat-backend-migrate-main-2222222-bb', 'migrate', 'main-2222222', 'echo "applying 0042"; echo "applied 1 migration"');
  runTask('chat-backend-seed-main-2222222-cc', 'seed', 'main-2222222', 'echo "seed failed"; exit 5');
});

afterAll(async () => {
  await daemon?.stop();
  if (outdir) fs.rmSync(outdir, { recursive: true, force: true });
});

describe('ops on a real engine', () => {
  it('tasks shows the last run of each task with its tag, exit code and finish time, and names the failed ones', () => {
    const cli = io();
    expect(main(['tasks', 'staging', 'chat'], cli)).toBe(0);
    const lines = cli.stdout.join('').trim().split('\n');
    expect(lines[0]).toMatch(/^HOST\s+PRODUCT\s+SERVICE\s+TASK\s+TAG\s+EXIT\s+FINISHED\s+CONTAINER$/);
    expect(lines[1]).toMatch(/^app-1\s+chat\s+backend\s+migrate\s+main-2222222\s+0\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+chat-backend-migrate-main-2222222-bb$/);
    expect(lines[2]).toMatch(/^app-1\s+chat\s+backend\s+seed\s+main-2222222\s+5\s+/);
    expect(lines[3]).toBe('1 task(s) failed their last run: chat/backend/seed (npm run ops -- task logs staging <product> <task>)');
    expect(lines).toHaveLength(4);
  });

  it("task logs prints the output of a task's last run", () => {
    const cli = io();
    expect(main(['task', 'logs', 'staging', 'chat', 'backend/migrate', '--tail', '5'], cli)).toBe(0);
    expect(cli.stderr.join('')).toMatch(/chat-backend-migrate-main-2222222-bb \(main-2222222, exit code 0, finished /);
    expect(cli.stdout.join('')).toMatch(/Z applying 0042\n.*Z applied 1 migration/s);
    expect(cli.stdout.join('')).not.toContain('relation exists');
  });

  it("task dry-run runs the dry-run command with the task's variables, user, networks and read-only root, at the given tag, and removes its container", () => {
    const cli = io(withDryRun);
    expect(main(['task', 'dry-run', 'staging', 'chat', 'migrate', '--tag', 'main-2222222'], cli)).toBe(1);
    const output = cli.stdout.join('');
    const expectedLength = `postgresql://chat:${SECRET}@postgres:5432/chat`.length;
    expect(output).toContain(`dry run as 1001, url of ${expectedLength} characters, interfaces eth0 eth1 lo`);
    expect(output).toContain('root read-only');
    expect(output).toContain('chat/backend/migrate dry run exited with code 4');
    const create = cli.runs.find((run) => run.args.includes('create'))!;
    expect(create.args).toContain(`${repository}:main-2222222`);
    expect(create.args).toEqual(expect.arrayContaining(['--env', 'DATABASE_URL']));
    // The secret travels in the docker CLI's environment only: not in any command line nor in anything printed.
    expect(create.env?.DATABASE_URL).toContain(SECRET);
    expect(JSON.stringify(cli.runs.map((run) => run.args))).not.toContain(SECRET);
    expect(output + cli.stderr.join('')).not.toContain(SECRET);
    expect(docker('ps', '--all', '--quiet', '--filter', 'label=dry-run').stdout.trim()).toBe('');
    // A dry run is no run of the task: the last runs are what they were.
    const after = io();
    main(['tasks', 'staging', 'chat'], after);
    expect(after.stdout.join('')).toMatch(/migrate\s+main-2222222\s+0\s/);
  });

  it('task dry-run --print shows the command lines and nothing secret, and runs nothing but the reads', () => {
    const cli = io(withDryRun);
    expect(main(['task', 'dry-run', 'staging', 'chat', 'migrate', '--print'], cli)).toBe(0);
    const printed = cli.stdout.join('');
    expect(printed).toContain(`--entrypoint timeout ${imageRef} -s TERM -k 10 600 sh -c`);
    expect(printed).not.toContain(SECRET);
    expect(cli.runs.every((run) => run.args.includes('ps') || run.args.includes('inspect'))).toBe(true);
  });

  it('a task without a dry-run form is refused by name', () => {
    const cli = io();
    expect(main(['task', 'dry-run', 'staging', 'chat', 'migrate'], cli)).toBe(1);
    expect(cli.stderr.join('')).toContain('chat/backend/migrate has no dryRunCommand (services.backend.tasks.migrate.dryRunCommand in the catalog)');
  });
});
