/**
 * What the processes on the machine were started with, for tests that show a secret never becomes a process argument
 * (visible to any user in ps and /proc/<pid>/cmdline), and the shape of the secret they look for most.
 */
import * as fs from 'node:fs';

/** The process ids in /proc now. */
function processIds(): string[] {
  return fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
}

/** `pid`'s argument vector joined with spaces, or undefined once it is gone. */
function commandLineOf(pid: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined; // gone meanwhile
  }
}

/**
 * Repeated scans of every process's arguments while something runs, at a fraction of the cost of reading them all
 * each time (the machine's hundred-odd processes every 5 ms cost a join test 4 s of CPU): a process started after
 * the watch began (everything the watched command, its SSH hops or a daemon start) is read on every scan, for as
 * long as it lives, so an exec with new arguments is seen; a process already running is read on every
 * `FULL_SCAN_EVERY`-th scan, the first included (only an exec could give it new arguments, and it is not the
 * watched command's). A pid counts as already running only until a scan misses it: a reused pid is read as new.
 */
export class ArgumentWatch {
  private static readonly FULL_SCAN_EVERY = 20;
  private readonly runningBefore: Set<string>;
  private scans = 0;

  /** Start it before the command it watches, so that command and all it starts are new processes. */
  public constructor() {
    this.runningBefore = new Set(processIds());
  }

  /** The argument vectors this scan reads (joined with spaces). */
  public scan(): string[] {
    const full = this.scans++ % ArgumentWatch.FULL_SCAN_EVERY === 0;
    const listed = processIds();
    const present = new Set(listed);
    for (const pid of this.runningBefore) if (!present.has(pid)) this.runningBefore.delete(pid);
    return listed.flatMap((pid) => (full || !this.runningBefore.has(pid) ? (commandLineOf(pid) ?? []) : []));
  }
}

/**
 * A join token as SwarmKit prints it (`SWMTKN-1-<digest>-<secret>`, lower-case base 36): the bare prefix would also
 * match the join script's own redaction pattern when another test runs it at the same time.
 */
export const JOIN_TOKEN_SHAPE = /SWMTKN-1-[0-9a-z]{20,}-[0-9a-z]{10,}/;

/** The digest part of the control tokens tests start processes with, to show their scan sees a token at all. */
const CONTROL_DIGEST = '0a'.repeat(25);

/** A token-shaped control argument (`tag`: a few base-36 characters telling controls apart); never a real swarm's. */
export function controlToken(tag: string): string {
  return `SWMTKN-1-${CONTROL_DIGEST}-${'b1'.repeat(12)}${tag}`;
}

/**
 * Whether an argument vector carries a join token: one of the token's shape that is not a control. Another test
 * file's control process may run during a join (jest runs files side by side), and is not a leak.
 */
export function showsJoinToken(line: string): boolean {
  const found = JOIN_TOKEN_SHAPE.exec(line);
  return found !== null && !found[0].startsWith(`SWMTKN-1-${CONTROL_DIGEST}-`);
}
