/**
 * Mounts that fail closed: the data containers' volume guard run for real
 * (busybox sh, the alpine images' shell) against directories with and
 * without the sentinel, and the data host's cloud-init (mount by device id
 * before Docker, vm.overcommit_memory=1) on the data host only.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VOLUME_MISSING_EXIT_CODE, VOLUME_SENTINEL, volumeGuardScript } from '../../constructs/docker/data-scripts';
import { mountDataVolumesScript } from '../../constructs/hetzner/data-host';
import { manacore } from '../../environments';
import { environmentOf, keepOnly, variant } from '../helpers/spec';
import { SynthesizedSystem, resources } from '../helpers/synth';

const dirs: string[] = [];
function volumeDir(sentinel?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'volume-guard-'));
  dirs.push(dir);
  if (sentinel !== undefined) writeFileSync(join(dir, VOLUME_SENTINEL), sentinel);
  return dir;
}
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Runs the guard as the container does (`sh -c <guard> volume-guard <command...>`), the service being `echo started`. */
function guard(mountPoint: string, volume: string) {
  return spawnSync('busybox', ['sh', '-c', volumeGuardScript(mountPoint), 'volume-guard', 'echo', 'started'], { env: { DATA_VOLUME: volume, PATH: process.env.PATH }, encoding: 'utf8' });
}

describe('the volume guard in front of Postgres and Redis', () => {
  it('starts the service when the sentinel names this volume', () => {
    const result = guard(volumeDir('HC_Volume_42'), 'HC_Volume_42');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('started\n');
  });

  it('refuses on an unmounted mount point (the empty directory on the root disk)', () => {
    const result = guard(volumeDir(), 'HC_Volume_42');
    expect(result.status).toBe(VOLUME_MISSING_EXIT_CODE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/refusing to start: .*\.manacore-volume holds '', expected 'HC_Volume_42' \(volume not mounted\?\)/);
  });

  it("refuses another volume's data", () => {
    const result = guard(volumeDir('HC_Volume_7'), 'HC_Volume_42');
    expect(result.status).toBe(VOLUME_MISSING_EXIT_CODE);
    expect(result.stderr).toMatch(/holds 'HC_Volume_7', expected 'HC_Volume_42'/);
  });
});

describe("the data host's cloud-init", () => {
  const twoHosts = variant(manacore, (system) => {
    keepOnly(system, ['staging'], ['mana-core-auth', 'chat']);
    const staging = environmentOf(system, 'staging');
    staging.hosts.push({ name: 'app-2', serverType: 'ccx23' });
    staging.data.host = 'app-2';
  });
  const servers = resources(new SynthesizedSystem(twoHosts).synth('staging-network'), 'hcloud_server');
  const cloudConfig = (address: string) => JSON.parse((servers[address].user_data as string).replace('#cloud-config\n', ''));

  it('mounts the volumes by device id before Docker and sets vm.overcommit_memory=1, on the data host only', () => {
    const data = cloudConfig('host-app-2');
    const files = Object.fromEntries(data.write_files.map((file: any) => [file.path, file.content]));
    expect(files['/etc/sysctl.d/60-data-host.conf']).toBe('vm.overcommit_memory = 1\n');
    expect(files['/etc/systemd/system/data-volumes.service']).toMatch(/Before=docker\.service[\s\S]*ExecStart=\/usr\/local\/sbin\/mount-data-volumes[\s\S]*WantedBy=multi-user\.target docker\.service/);
    expect(files['/etc/udev/rules.d/99-data-volumes.rules']).toContain('ENV{ID_SERIAL}=="0HC_Volume_*"');
    const commands = data.runcmd.map((command: string[]) => command.join(' '));
    expect(commands.indexOf('systemctl enable --now data-volumes.service')).toBeGreaterThan(-1);
    expect(commands.indexOf('systemctl enable --now data-volumes.service')).toBeLessThan(commands.indexOf('systemctl enable --now docker'));
    expect(commands).toContain('sysctl --system');

    const app = cloudConfig('host-app-1');
    expect(app.write_files.map((file: any) => file.path)).not.toContain('/etc/sysctl.d/60-data-host.conf');
    expect(app.runcmd.map((command: string[]) => command.join(' '))).not.toContain('systemctl enable --now data-volumes.service');
  });

  it('writes the sentinel only after checking the mount point is the volume device, and parses as sh', () => {
    const script = mountDataVolumesScript();
    expect(script.indexOf('findmnt -n -o SOURCE --mountpoint')).toBeLessThan(script.indexOf(`> "$target/${VOLUME_SENTINEL}"`));
    expect(spawnSync('sh', ['-n', '-c', script]).status).toBe(0);
  });
});
