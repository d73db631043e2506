/**
 * What every process on the machine was started with, for tests that show a secret never becomes a process argument
 * (visible to any user in ps and /proc/<pid>/cmdline), and the shape of the secret they look for most.
 */
import * as fs from 'node:fs';

/** Every process's argument vector on the machine, joined with spaces. */
export function commandLines(): string[] {
  const lines: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      lines.push(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      // gone meanwhile
    }
  }
  return lines;
}

/**
 * A join token as SwarmKit prints it (`SWMTKN-1-<digest>-<secret>`, lower-case base 36): the bare prefix would also
 * match the join script's own redaction pattern when another test runs it at the same time.
 */
export const JOIN_TOKEN_SHAPE = /SWMTKN-1-[0-9a-z]{20,}-[0-9a-z]{10,}/;
