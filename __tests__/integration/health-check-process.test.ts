/**
 * HealthCheck.process against real processes: the probe Docker would run
 * (exec form, so no shell) is executed here with the host's pgrep (procps;
 * busybox's pgrep, in the alpine images, shares the -f and self-skip rules it
 * relies on: see the comment in health-check.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { HealthCheck, processPattern } from '../../constructs/core/health-check';

const unique = `fake-crond-${process.pid}-${Date.now()}`;
const running: ChildProcess[] = [];

/** A process that runs until killed (`tail -f /dev/null`) whose argv[0] is `argv0`: pgrep sees `<argv0> -f /dev/null`. */
function startProcess(argv0: string): ChildProcess {
  const child = spawn('tail', ['-f', '/dev/null'], { argv0, stdio: 'ignore' });
  running.push(child);
  return child;
}

function startShell(script: string): ChildProcess {
  // Its own process group, so the cleanup kills the shell's children (a `sleep`) with it.
  const child = spawn('/bin/sh', ['-c', script], { stdio: 'ignore', detached: true });
  running.push(child);
  return child;
}

/** Runs a Docker healthcheck `test` the way dockerd does; returns the exit code. */
function probe(test: readonly string[]): number {
  const [form, ...rest] = test;
  const result = form === 'CMD-SHELL' ? spawnSync('/bin/sh', ['-c', rest[0]!]) : spawnSync(rest[0]!, rest.slice(1));
  return result.status ?? -1;
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 150));
}

afterEach(() => {
  for (const child of running.splice(0)) {
    if (child.exitCode !== null) continue;
    try {
      process.kill(-child.pid!, 'SIGKILL'); // a detached child leads its group
    } catch {
      child.kill('SIGKILL');
    }
  }
});

describe('HealthCheck.process against real processes', () => {
  const check = HealthCheck.process(unique).toDocker().test;

  it('runs pgrep directly (exec form), never through a shell', () => {
    expect(check).toEqual(['CMD', 'pgrep', '-f', processPattern(unique)]);
  });

  it('the old shell probe passed with nothing running: it matched its own shell', () => {
    const old = ['CMD-SHELL', `pgrep -f '${unique}' > /dev/null || exit 1`];
    expect(probe(old)).toBe(0);
    expect(probe(check)).toBe(1);
  });

  it('is healthy while the program runs, by bare name or full path, and unhealthy once it died', async () => {
    const byName = startProcess(unique);
    await settle();
    expect(probe(check)).toBe(0);
    byName.kill('SIGKILL');
    await settle();
    expect(probe(check)).toBe(1);
    startProcess(`/usr/local/sbin/${unique}`);
    await settle();
    expect(probe(check)).toBe(0);
  });

  it('is not fooled by a parent that only mentions the program (docker-init, a wrapper shell) or a longer name', async () => {
    startShell(`sleep 600; : ${unique}`);
    // tail keeps following /dev/null after failing to open the missing file named like the program.
    const dockerInit = spawn('bash', ['-c', `exec -a /sbin/docker-init tail -f /dev/null -- ${unique} 2>/dev/null`], { stdio: 'ignore' });
    running.push(dockerInit);
    startProcess(`${unique}-other`);
    await settle();
    expect(spawnSync('pgrep', ['-f', unique]).stdout.toString().trim().split('\n')).toHaveLength(3);
    expect(dockerInit.exitCode).toBeNull();
    expect(probe(check)).toBe(1);
  });

  it('matches a worker command with its arguments, metacharacters taken literally', async () => {
    startProcess(unique);
    await settle();
    expect(probe(HealthCheck.process(`${unique} -f /dev/null`).toDocker().test)).toBe(0);
    // Unescaped, "." would match the "/" and "+" would mean "one or more".
    expect(probe(HealthCheck.process(`${unique} -f /dev.null`).toDocker().test)).toBe(1);
    expect(probe(HealthCheck.process(`${unique}+ -f /dev/null`).toDocker().test)).toBe(1);
    expect(probe(HealthCheck.process(`${unique} -f /dev/null/more`).toDocker().test)).toBe(1);
  });

  it('refuses an empty or multi-line command', () => {
    expect(() => HealthCheck.process(' ')).toThrow(/non-empty and on one line/);
    expect(() => HealthCheck.process('crond\n-f')).toThrow(/non-empty and on one line/);
  });
});
