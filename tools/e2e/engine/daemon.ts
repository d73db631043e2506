/**
 * The e2e's own Docker daemon: Debian's dockerd (docker.io, 20.10) started as root with its own socket, data
 * root, exec root and pid file under a temporary directory, so it never touches a system daemon or another
 * run's. No iptables (what runs without netfilter, tried in issue 26), overlay2 storage where the kernel mounts an
 * overlay on the daemon's file system, else vfs (dockerdStorageDriver); no default bridge (docker0) and an address
 * pool of its own, so parallel runs on one machine do not collide. Stopped by its pid at the end, on failure and on SIGINT/SIGTERM.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineClient } from './api';
import { E2E_BUSYBOX } from './standins';
import { dockerdStorageDriver } from './storage-driver';

const DOCKERD = '/usr/sbin/dockerd';

let daemonsStarted = 0;

/** A running daemon of this run. */
export interface EngineDaemon {
  readonly client: EngineClient;
  readonly socket: string;
  /** Where the daemon keeps its state (also the root of the emulated hosts' directories). */
  readonly root: string;
  readonly startSeconds: number;
  stop(): Promise<void>;
}

/** Why the daemon cannot run here, or undefined when it can be tried. */
function missingPrerequisite(): string | undefined {
  if (!fs.existsSync(DOCKERD)) return `${DOCKERD} is not installed (Debian package docker.io; scripts/install-test-tools.sh installs it)`;
  if (process.getuid?.() !== 0) return `dockerd needs root, and this run is uid ${process.getuid?.()}`;
  if (!fs.existsSync(E2E_BUSYBOX)) return `${E2E_BUSYBOX} is missing (busybox-static's binary, the stand-in images are built from it): run scripts/install-test-tools.sh`;
  return undefined;
}

/** Starts a daemon and waits until it answers /_ping; fails with dockerd's own log when it cannot start. */
export async function startDaemon(): Promise<EngineDaemon> {
  const missing = missingPrerequisite();
  if (missing) throw new Error(`e2e: the real Docker engine cannot start: ${missing}. The engine scenarios are part of npm run e2e and are not skipped.`);
  const started = Date.now();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-dockerd-'));
  const socket = path.join(root, 'docker.sock');
  const logFile = path.join(root, 'dockerd.log');
  // Each daemon of this run a pool of its own (a run starts several at once).
  const pool = `10.${64 + ((process.pid + 11 * daemonsStarted++) % 64)}.0.0/16`;
  const child = spawn(
    DOCKERD,
    [
      `--storage-driver=${dockerdStorageDriver()}`, '--iptables=false', '--ip6tables=false', '--bridge=none',
      `--default-address-pool=base=${pool},size=24`,
      '--host', `unix://${socket}`, '--data-root', path.join(root, 'data'), '--exec-root', path.join(root, 'exec'),
      '--pidfile', path.join(root, 'docker.pid'),
    ],
    { stdio: ['ignore', fs.openSync(logFile, 'a'), fs.openSync(logFile, 'a')], detached: true },
  );
  const logTail = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n') : '');
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `${code ?? signal}`));
  const kill = () => {
    if (exited === undefined && child.pid) process.kill(child.pid, 'SIGTERM');
  };
  // A run stopped with Ctrl-C or killed must not leave a root daemon behind.
  const onSignal = (signal: NodeJS.Signals) => {
    kill();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', kill);

  const client = new EngineClient(socket);
  for (;;) {
    if (exited !== undefined) throw new Error(`e2e: dockerd exited (${exited}) while starting; its log (${logFile}):\n${logTail()}`);
    if (Date.now() - started > 60_000) {
      kill();
      throw new Error(`e2e: dockerd did not answer on ${socket} within 60 s; its log:\n${logTail()}`);
    }
    try {
      if ((await client.request('GET', '/_ping', undefined, { timeoutMs: 2000 })) === 'OK') break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const startSeconds = (Date.now() - started) / 1000;
  return {
    client,
    socket,
    root,
    startSeconds,
    stop: async () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('exit', kill);
      if (exited === undefined) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        kill();
        await gone;
      }
      // Container mounts (/dev/shm, tmpfs) die with their shims; anything still mounted is left rather than forced.
      fs.rmSync(root, { recursive: true, force: true, maxRetries: 2 });
    },
  };
}
