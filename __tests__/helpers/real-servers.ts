/**
 * Real PostgreSQL 15 and Redis from Debian's packages (.ci/run installs them),
 * each started on loopback on a free port in a temporary directory and
 * stopped by the test. No network, no Docker.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command without blocking the event loop (a test's HTTP server must keep answering). */
export function run(command: string, args: readonly string[], options: SpawnOptions & { input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    // A command that exits without reading its input (a refused login) must not fail the caller with EPIPE.
    child.stdin!.on('error', () => undefined);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin!.end(options.input ?? '');
  });
}

/** initdb refuses to run as root: as root, the server runs as Debian's `postgres` user. */
const asRoot = process.getuid?.() === 0;
function asServerUser(command: string, args: readonly string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, [...args]];
}

export interface PostgresServer {
  readonly port: number;
  readonly superuserPassword: string;
  /** Environment for psql, pg_dump, pg_restore as the superuser over TCP. */
  readonly env: NodeJS.ProcessEnv;
  psql(sql: string, as?: { user: string; password: string; database: string }): Promise<RunResult>;
  stop(): Promise<void>;
}

export async function startPostgres(name: string, settings: Readonly<Record<string, string>> = {}): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), `drill-pg-${name}-`));
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres']).stdout.toString().trim();
    const gid = spawnSync('id', ['-g', 'postgres']).stdout.toString().trim();
    chownSync(dir, Number(id), Number(gid));
  }
  const superuserPassword = `drill-${Math.random().toString(36).slice(2)}`;
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, superuserPassword, { mode: 0o644 });
  const data = join(dir, 'data');
  const [initdb, initArgs] = asServerUser(`${POSTGRES_BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync']);
  const init = await run(initdb, initArgs);
  if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const options = { listen_addresses: '127.0.0.1', port: String(port), unix_socket_directories: dir, fsync: 'off', ...settings };
  const optionString = Object.entries(options)
    .map(([key, value]) => `-c ${key}=${value}`)
    .join(' ');
  const [pgCtl, ctlArgs] = asServerUser(`${POSTGRES_BIN}/pg_ctl`, ['-D', data, '-l', join(dir, 'log'), '-o', optionString, '-w', 'start']);
  const started = await run(pgCtl, ctlArgs);
  if (started.code !== 0) throw new Error(`pg_ctl start failed: ${started.stderr}${started.stdout}`);
  const env = { ...process.env, PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: 'postgres', PGPASSWORD: superuserPassword, PGDATABASE: 'postgres' };
  return {
    port,
    superuserPassword,
    env,
    psql: (sql, as) =>
      run(`${POSTGRES_BIN}/psql`, ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1'], {
        env: as ? { ...env, PGUSER: as.user, PGPASSWORD: as.password, PGDATABASE: as.database } : env,
        input: sql,
      }),
    stop: async () => {
      const [stopCmd, stopArgs] = asServerUser(`${POSTGRES_BIN}/pg_ctl`, ['-D', data, '-m', 'fast', '-w', 'stop']);
      await run(stopCmd, stopArgs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisServer {
  readonly port: number;
  readonly dir: string;
  cli(args: readonly string[], auth: { user?: string; password: string }, input?: string): Promise<RunResult>;
  /** Stops the server; `keepDir` leaves its files for a restart on them. */
  stop(keepDir?: boolean): Promise<void>;
}

/** redis-server in the foreground (a child of the test), with the given extra arguments. */
export async function startRedis(name: string, args: readonly string[], dir = mkdtempSync(join(tmpdir(), `drill-redis-${name}-`))): Promise<RedisServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--enable-debug-command', 'local', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (chunk) => (log += chunk));
  const cli: RedisServer['cli'] = (cliArgs, auth, input) =>
    run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...(auth.user ? ['--user', auth.user] : []), ...cliArgs], {
      env: { ...process.env, REDISCLI_AUTH: auth.password },
      input,
    });
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${log}`);
    const ping = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping']);
    if (ping.stdout.includes('PONG') || ping.stdout.includes('NOAUTH') || ping.stdout.includes('AUTH')) break;
    if (attempt > 100) throw new Error(`redis-server did not start: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    dir,
    cli,
    stop: async (keepDir = false) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * SHA-256 (hex) of each value as Terraform's own `sha256()` computes it (`terraform console`, no providers), so a
 * server started with the hashes holds exactly what the synthesized stacks hand it. Values: letters, digits, "-".
 */
export async function terraformSha256(values: readonly string[]): Promise<string[]> {
  const bad = values.find((value) => !/^[A-Za-z0-9-]+$/.test(value));
  if (bad !== undefined) throw new Error(`terraformSha256: "${bad}" must be letters, digits and "-" (no quoting here)`);
  const dir = mkdtempSync(join(tmpdir(), 'terraform-sha256-'));
  try {
    // One expression: piped to `terraform console`, only the first line is evaluated. It prints the JSON as a quoted string.
    const result = await run('terraform', ['console'], { cwd: dir, input: `jsonencode([${values.map((value) => `sha256("${value}")`).join(', ')}])\n` });
    const hashes: unknown[] = (() => {
      try {
        return JSON.parse(JSON.parse(result.stdout.trim()) as string) as unknown[];
      } catch {
        return [];
      }
    })();
    if (result.code !== 0 || hashes.length !== values.length || hashes.some((hash) => typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash))) {
      throw new Error(`terraform console failed (${result.code}): ${result.stdout}${result.stderr}`);
    }
    return hashes as string[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
