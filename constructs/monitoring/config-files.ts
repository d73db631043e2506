import { createHash } from 'node:crypto';
import type { ITerraformDependable, TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { HardenedContainer, type ContainerNetwork } from '../docker/hardened-container';
import { MONITORING_IMAGES, MONITORING_USER_ID } from './images';

/** A file the setup task writes. */
export interface ConfigFile {
  /** Path relative to the host's configuration directory (`prometheus/prometheus.yml`). */
  readonly path: string;
  /** Plain content; for objects, JSON (which every YAML reader accepts). */
  readonly content: string;
}

/** A secret file: only the monitoring user may read it. */
export interface SecretFile {
  readonly path: string;
  /** A token of a sensitive variable; never a literal. */
  readonly value: string;
}

export interface ConfigFilesProps {
  /** Host directory the files are written under; containers bind-mount parts of it read-only. */
  readonly hostDir: string;
  readonly files: readonly ConfigFile[];
  /** @default - none */
  readonly secrets?: readonly SecretFile[];
  /**
   * A mounted data volume: the task refuses to run until it is mounted (its
   * `lost+found` exists), then hands these subdirectories to the monitoring user.
   * @default - no data volume on this host
   */
  readonly dataVolume?: { readonly mountPath: string; readonly directories: readonly string[] };
  /** Any network (the task talks to nobody; Docker wants one). */
  readonly network: ContainerNetwork;
  readonly provider?: TerraformProvider;
  /** @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** What must exist first (the volume attachment). @default - none */
  readonly dependsOn?: readonly ITerraformDependable[];
}

const PATH = /^[a-z0-9][a-z0-9._/-]*$/;

/**
 * A one-shot task that writes a host's monitoring configuration files (and
 * alert receiver secrets, readable by the monitoring user only) and gives
 * the data directories to that user: Docker creates missing bind-mount
 * sources as root, and the monitoring containers never run as root. It runs
 * as root with CHOWN only (root owns what it writes, so no DAC override).
 * `digest` changes with any file; containers carry it as a label, so a new
 * configuration replaces them after the task has written it.
 */
export class ConfigFiles extends Construct {
  public readonly task: HardenedContainer;
  /** sha256 of every file's path and content (secrets by path). */
  public readonly digest: string;

  public constructor(scope: Construct, id: string, props: ConfigFilesProps) {
    super(scope, id);
    const all = [...props.files.map((f) => f.path), ...(props.secrets ?? []).map((s) => s.path)];
    for (const path of all) {
      if (!PATH.test(path) || path.includes('..')) throw new Error(`ConfigFiles ${id}: "${path}" must be a relative path of lowercase letters, digits, ".", "_", "-" and "/"`);
    }
    if (new Set(all).size !== all.length) throw new Error(`ConfigFiles ${id}: a path is written twice: ${all.join(', ')}`);
    const hash = createHash('sha256');
    const environment: Record<string, string> = {};
    const secretEnvironment: Record<string, string> = {};
    const dirname = (path: string) => path.split('/').slice(0, -1).join('/');
    const directories = new Set(all.map(dirname).filter((d) => d !== ''));
    const lines = ['set -eu', 'umask 022'];
    const volume = props.dataVolume;
    if (volume) {
      // An unmounted volume is an empty directory Docker made on the root disk: data written there would vanish at the next mount.
      lines.push('[ -d /data/lost+found ] || { echo "monitoring volume is not mounted at /data" >&2; exit 1; }');
      lines.push(`mkdir -p ${volume.directories.map((d) => `/data/${d}`).join(' ')}`);
      lines.push(`chown ${MONITORING_USER_ID}:${MONITORING_USER_ID} ${volume.directories.map((d) => `/data/${d}`).join(' ')}`);
    }
    if (directories.size > 0) lines.push(`mkdir -p ${[...directories].sort().map((d) => `/target/${d}`).join(' ')}`);
    props.files.forEach((file, index) => {
      environment[`CONFIG_FILE_${index}`] = file.content;
      lines.push(`printf '%s' "$CONFIG_FILE_${index}" > /target/${file.path}`);
      hash.update(`${file.path}\n${file.content}\n`);
    });
    (props.secrets ?? []).forEach((secret, index) => {
      secretEnvironment[`CONFIG_SECRET_${index}`] = secret.value;
      lines.push(`rm -f /target/${secret.path}`, `(umask 077; printf '%s' "$CONFIG_SECRET_${index}" > /target/${secret.path})`, `chown ${MONITORING_USER_ID} /target/${secret.path}`);
      // The path only: the value is a token, different in every synth. A new value reaches the file through the
      // task's environment (which replaces the task); Alertmanager reads `*_file` secrets when it sends.
      hash.update(`${secret.path}\n`);
    });
    this.digest = hash.digest('hex').slice(0, 16);
    this.task = new HardenedContainer(this, id, {
      name: `${id}-${this.digest}`,
      image: MONITORING_IMAGES.setup,
      entrypoint: ['/bin/sh', '-c'],
      command: [lines.join('\n')],
      environment,
      secretEnvironment,
      user: '0',
      capabilities: ['CHOWN'],
      resources: { cpuLimit: 0.1, memoryLimitMiB: 32, cpuReservation: 0.01, memoryReservationMiB: 8 },
      networks: [props.network],
      bindMounts: [
        { hostPath: props.hostDir, containerPath: '/target' },
        ...(volume ? [{ hostPath: volume.mountPath, containerPath: '/data' }] : []),
      ],
      runOnce: true,
      labels: { ...props.labels, service: 'monitoring-setup' },
      provider: props.provider,
      dependsOn: props.dependsOn,
    });
  }
}

/** A plain object as file content. */
export function jsonFile(path: string, value: unknown): ConfigFile {
  return { path, content: `${JSON.stringify(value, null, 2)}\n` };
}
