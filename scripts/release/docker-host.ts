/**
 * ReleaseHost over the docker CLI (`docker --host <url> ...`, the way ops
 * reaches a host's daemon: scripts/ops/docker-access.ts), and the smoke
 * check's synthesized container turned into the `docker run` that creates it.
 *
 * The edge's split files are written with `docker cp` into the edge proxy's
 * file provider directory, a bind mount of the host: Docker refuses a copy
 * into a read-only root filesystem but not into a mounted volume
 * (moby daemon/archive.go, checkIfPathIsInAVolume before ErrRootFSReadOnly).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RELEASE_LABELS, type ReleaseSlot } from '../../constructs/docker/traffic-split';
import type { ReleaseHost, SmokeRun, VersionContainer } from './rollout';

/** The label carrying a container's slot (blue or green); `service` carries `<product>-<service>`. */
export const SLOT_LABEL = RELEASE_LABELS.slot;

/** Where the host keeps the edge's split files: in the edge proxy container, at its file provider directory. */
export interface EdgeFiles {
  /** The edge proxy's container name. */
  readonly container: string;
  /** Its file provider directory (a bind mount of the host). */
  readonly directory: string;
}

/** A smoke check's container as `docker run` arguments (after `run`). */
export interface SmokeRunArgs extends SmokeRun {
  readonly container: { readonly args: readonly string[] };
}

export class DockerCliHost implements ReleaseHost {
  /** `docker`: the command prefix reaching the host (`dockerPrefix` of scripts/ops/docker-access.ts: `docker --host <url> [--tlsverify ...]`). */
  public constructor(
    private readonly docker: readonly string[],
    private readonly edge: EdgeFiles,
  ) {}

  private spawn(args: readonly string[], input?: Buffer) {
    return spawnSync(this.docker[0]!, [...this.docker.slice(1), ...args], { input, maxBuffer: 16 * 1024 * 1024 });
  }

  private run(args: readonly string[], input?: Buffer): string {
    const result = this.spawn(args, input);
    if (result.status !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr.toString().trim()}`);
    return result.stdout.toString();
  }

  public async containers(service: string, slot: ReleaseSlot): Promise<VersionContainer[]> {
    const names = this.run(['ps', '--all', '--filter', `label=${RELEASE_LABELS.service}=${service}`, '--filter', `label=${SLOT_LABEL}=${slot}`, '--format', '{{.Names}}']).split('\n').filter(Boolean);
    if (names.length === 0) return [];
    const inspected = JSON.parse(this.run(['inspect', ...names])) as Array<{ Name: string; RestartCount: number; State: { Running: boolean; Health?: { Status: string } }; Config: { Labels?: Record<string, string> } }>;
    return inspected.map((c) => ({ name: c.Name.replace(/^\//, ''), running: c.State.Running, health: c.State.Health?.Status ?? 'none', restarts: c.RestartCount, tag: c.Config.Labels?.['image.tag'] }));
  }

  public async start(container: string): Promise<void> {
    this.run(['start', container]);
  }

  public async stop(container: string): Promise<void> {
    // Without --time the container's own StopTimeout (the Docker provider's destroy_grace_seconds) applies.
    this.run(['stop', container]);
  }

  public async remove(container: string): Promise<void> {
    this.run(['rm', '--force', container]);
  }

  public async runSmokeCheck(check: SmokeRun): Promise<{ exitCode: number; output: string }> {
    const { args } = (check as SmokeRunArgs).container;
    const name = `smoke-${check.name}-${process.pid}-${Date.now()}`;
    // Attached, output and exit code of the check's own process; removed afterwards.
    const result = await new Promise<{ exitCode: number; output: string }>((resolve) => {
      const child = spawn(this.docker[0]!, [...this.docker.slice(1), 'run', '--name', name, ...args]);
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('close', (code) => resolve({ exitCode: code ?? 1, output }));
    });
    this.spawn(['rm', '--force', name]);
    return result;
  }

  public async readFile(name: string): Promise<string | undefined> {
    const result = this.spawn(['cp', `${this.edge.container}:${path.posix.join(this.edge.directory, name)}`, '-']);
    if (result.status !== 0) return undefined;
    const extracted = fs.mkdtempSync(path.join(os.tmpdir(), 'release-read-'));
    try {
      spawnSync('tar', ['-x', '-C', extracted], { input: result.stdout });
      return fs.readFileSync(path.join(extracted, name), 'utf8');
    } finally {
      fs.rmSync(extracted, { recursive: true, force: true });
    }
  }

  public async writeFile(name: string, text: string): Promise<void> {
    const staged = fs.mkdtempSync(path.join(os.tmpdir(), 'release-write-'));
    try {
      fs.writeFileSync(path.join(staged, name), text, { mode: 0o644 });
      const archive = spawnSync('tar', ['-c', '-C', staged, '--owner=0', '--group=0', name]);
      this.run(['cp', '-', `${this.edge.container}:${this.edge.directory}`], archive.stdout);
    } finally {
      fs.rmSync(staged, { recursive: true, force: true });
    }
  }
}

/**
 * The `docker run` arguments of a synthesized smoke check container (the
 * `docker_container` block SmokeCheck writes), with its Terraform references
 * resolved by `resolve` (the image, the network, the target's name): the
 * same user, read-only root, tmpfs, dropped capabilities and limits.
 */
export function smokeRunArgs(block: any, resolve: (text: string) => string): string[] {
  const args = ['--user', String(block.user), '--security-opt', 'no-new-privileges:true', '--cap-drop', 'ALL'];
  if (block.read_only) args.push('--read-only');
  for (const [mount, options] of Object.entries<string>(block.tmpfs ?? {})) args.push('--tmpfs', `${mount}:${options}`);
  if (block.memory !== undefined) args.push('--memory', `${block.memory}m`);
  if (block.cpus !== undefined) args.push('--cpus', String(block.cpus));
  for (const network of block.networks_advanced ?? []) args.push('--network', resolve(network.name));
  for (const entry of block.env ?? []) args.push('--env', resolve(entry));
  const [program, ...entrypointArgs] = block.entrypoint as string[];
  // Terraform's `$${` escape is one literal `$` once applied.
  const unescape = (text: string) => resolve(text).replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
  args.push('--entrypoint', program!, resolve(block.image), ...entrypointArgs, ...(block.command as string[]).map(unescape));
  return args;
}
