import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

let storageDriver: 'overlay2' | 'vfs' | undefined;

/**
 * The storage driver of the daemons this process starts: overlay2 when an overlay mounts under the temporary
 * directory, else vfs. vfs copies every layer of an image into each container it creates (the PostgreSQL stand-in
 * is tens of megabytes), overlay2 shares them. The probe is a mount rather than a look at /proc/filesystems: the
 * kernel also refuses some file systems under an overlay (an overlay as the upper directory, for one), which only a
 * mount tells. Probed once per process.
 */
export function dockerdStorageDriver(): 'overlay2' | 'vfs' {
  if (storageDriver !== undefined) return storageDriver;
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'overlay-probe-'));
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((name) => path.join(probe, name));
  for (const directory of [lower, upper, work, merged]) fs.mkdirSync(directory);
  const mounted = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged], { stdio: 'ignore' }).status === 0;
  if (mounted) spawnSync('umount', [merged], { stdio: 'ignore' });
  fs.rmSync(probe, { recursive: true, force: true });
  storageDriver = mounted ? 'overlay2' : 'vfs';
  return storageDriver;
}
