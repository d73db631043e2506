/**
 * What cloud-init adds on a host that runs PostgreSQL and Redis on Hetzner
 * volumes: the volumes mounted by their stable device ids before Docker
 * starts (and again whenever one is attached), a sentinel file written only
 * onto a mounted volume, and the kernel settings Redis asks for.
 *
 * Hetzner's automount is a udev rule with a short metadata call and an
 * fstab entry with `nofail`, not ordered before Docker: a late or missing
 * mount let Postgres initialize an empty cluster on the root disk. Here the
 * data containers bind the volume with a mount that fails when the path is
 * absent, and refuse to start unless the sentinel names their volume
 * (constructs/docker/data-scripts.ts, volumeGuardScript).
 */
import { VOLUME_SENTINEL } from '../docker/data-scripts';

/** A file cloud-init writes (`write_files` entry). */
export interface DataHostFile {
  readonly path: string;
  readonly content: string;
  readonly permissions: string;
}

export const DATA_VOLUMES_UNIT = 'data-volumes.service';
const MOUNT_SCRIPT = '/usr/local/sbin/mount-data-volumes';

/**
 * Mounts every attached Hetzner volume (`/dev/disk/by-id/scsi-0HC_Volume_<id>`)
 * at `/mnt/HC_Volume_<id>` and writes the sentinel onto it, checking first
 * that the mount point really is that device: never onto the root disk.
 */
export function mountDataVolumesScript(): string {
  return [
    '#!/bin/sh',
    'set -eu',
    'udevadm settle --timeout=30 || true',
    'for device in /dev/disk/by-id/scsi-0HC_Volume_*; do',
    '  [ -e "$device" ] || continue',
    // No shell ${...}: the script travels inside Terraform's user_data, where "${" starts an expression.
    '  name=$(basename "$device" | sed "s/^scsi-0//")',
    '  target=/mnt/$name',
    '  mkdir -p "$target"',
    '  mountpoint -q "$target" || mount -o discard,defaults "$device" "$target"',
    '  if [ "$(findmnt -n -o SOURCE --mountpoint "$target")" != "$(readlink -f "$device")" ]; then',
    '    echo "$target is not $device; no sentinel written" >&2',
    '    continue',
    '  fi',
    `  [ -f "$target/${VOLUME_SENTINEL}" ] || printf '%s' "$name" > "$target/${VOLUME_SENTINEL}"`,
    'done',
    '',
  ].join('\n');
}

/** The files a data host needs on top of every host's. */
export function dataHostFiles(): DataHostFile[] {
  return [
    {
      // Redis forks for the AOF rewrite and RDB snapshots; without overcommit the fork can fail under memory pressure.
      path: '/etc/sysctl.d/60-data-host.conf',
      content: 'vm.overcommit_memory = 1\n',
      permissions: '0644',
    },
    { path: MOUNT_SCRIPT, content: mountDataVolumesScript(), permissions: '0755' },
    {
      path: `/etc/systemd/system/${DATA_VOLUMES_UNIT}`,
      content: [
        '[Unit]',
        'Description=Mount the Hetzner data volumes by device id before Docker starts',
        'After=local-fs.target systemd-udev-settle.service',
        'Before=docker.service',
        '',
        '[Service]',
        'Type=oneshot',
        'RemainAfterExit=yes',
        `ExecStart=${MOUNT_SCRIPT}`,
        '',
        '[Install]',
        'WantedBy=multi-user.target docker.service',
        '',
      ].join('\n'),
      permissions: '0644',
    },
    {
      // A volume attached while the host runs (the data stack's first apply) is mounted and marked at once.
      path: '/etc/udev/rules.d/99-data-volumes.rules',
      content: `ACTION=="add", SUBSYSTEM=="block", ENV{ID_SERIAL}=="0HC_Volume_*", RUN+="/usr/bin/systemctl --no-block restart ${DATA_VOLUMES_UNIT}"\n`,
      permissions: '0644',
    },
  ];
}

/** Commands run before Docker is enabled: load the sysctl, enable the mount unit, reload udev. */
export function dataHostCommands(): string[][] {
  return [
    ['sysctl', '--system'],
    ['udevadm', 'control', '--reload'],
    ['systemctl', 'enable', '--now', DATA_VOLUMES_UNIT],
  ];
}
