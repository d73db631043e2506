/**
 * Stand-in images: no registry is reachable, so every image a stack names is replaced by one imported from a
 * small root filesystem (`docker import`, Engine API POST /images/create?fromSrc=-). Each one holds busybox
 * (static, Debian busybox-static), the real tools the synthesized health checks and commands exec where they
 * exist on this machine (procps pgrep, bash, node, PostgreSQL 15, Redis, each with its shared libraries), and
 * small scripts for the tools that do not (traefik, haproxy, curl, mc, clickhouse-client, python's urllib probe,
 * celery's ping). An image probed only through a scratch image's own probe binary gets no shell and no busybox at
 * all (node serves). What an image serves comes from the synthesized containers: the ports its health check, its
 * Traefik label and its command name, and those other containers' URLs give it; the stand-in app
 * listens there (busybox httpd) and answers the usual health paths, so a health check passes only when the
 * container's own options (user, read-only root, capabilities, tmpfs, networks) let it serve.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EngineClient } from './api';

/** Where scripts/install-test-tools.sh puts busybox-static's binary (the package itself would replace Debian's busybox). */
export const E2E_BUSYBOX = '/usr/local/lib/manacore-e2e/busybox';
/** Where scripts/install-test-tools.sh puts Debian's postgres_exporter (0.11.1; the package itself would start a daemon). */
export const E2E_POSTGRES_EXPORTER = '/usr/local/lib/manacore-e2e/postgres_exporter';

/** What one image reference must provide, gathered from every container that runs it. */
export interface StandInSpec {
  readonly image: string;
  readonly ports: number[];
  /** Real binaries beyond the base set: node, PostgreSQL, Redis. */
  readonly extras: Set<'node' | 'postgres' | 'redis'>;
  /** Image environment beyond the ports: STANDIN_TASK_EXIT makes its release tasks fail (release-tasks.ts). @default - none */
  readonly env?: Readonly<Record<string, string>>;
  /** No shell at all (a scratch image): every container of it probes through a binary the image ships (SCRATCH_PROBES). */
  shellLess: boolean;
  /**
   * Seconds the stand-in app keeps serving after SIGTERM before it exits 0: its containers' shortest
   * destroy_grace_seconds less 3, at most DRAIN_CAP_SECONDS, so an exit 0 after that long shows the engine waited
   * the grace it was given and not its own default (10 s, or SIGKILL at once with a timeout of 0).
   */
  drainSeconds: number;
}

/**
 * Probe binaries that scratch images ship beside their program (grpc-ecosystem/grpc-health-probe). An image whose
 * every container probes through one of them gets a stand-in without any shell: node serves, and the probe is a
 * node script (a TCP connect to -addr; the real probe also asks the gRPC health service, which the stand-in lacks).
 */
const SCRATCH_PROBES = ['/bin/grpc_health_probe'];

/** Longer than Docker's default stop timeout (10 s), short enough that stops do not dominate the run. */
const DRAIN_CAP_SECONDS = 12;

/** A synthesized container that probes through a scratch image's own probe binary (and so runs without a shell). */
export function probesLikeScratch(container: any): boolean {
  const probe: string[] = container.healthcheck?.test ?? [];
  return probe[0] === 'CMD' && SCRATCH_PROBES.includes(probe[1]) && !container.command && !container.entrypoint;
}

/** The paths the stand-in answers with 200: every health path the library's services and tools use. */
const HEALTH_PATHS = ['health', 'api/health', 'ready', 'healthz', '-/healthy', '-/ready', 'metrics', '_ping', 'ping', 'minio/health/live'];

const BASE_TOOLS = ['/usr/bin/pgrep', '/bin/bash', '/usr/bin/setpriv'];
const EXTRA_TOOLS: Record<'node' | 'postgres' | 'redis', string[]> = {
  node: ['/usr/bin/node'],
  postgres: ['/usr/lib/postgresql/15/bin/postgres', '/usr/lib/postgresql/15/bin/initdb', '/usr/lib/postgresql/15/bin/pg_isready', '/usr/lib/postgresql/15/bin/psql', '/usr/lib/postgresql/15/bin/pg_ctl'],
  redis: ['/usr/bin/redis-server', '/usr/bin/redis-cli'],
};

/** The image reference a synthesized container runs: its docker_image's name, or the literal reference. */
export function imageName(stack: any, container: any): string | undefined {
  const ref = /^\$\{docker_image\.([^.]+)\.image_id\}$/.exec(container.image)?.[1];
  return ref ? stack.resource?.docker_image?.[ref]?.name : container.image;
}

/** Collects the stand-in specs from synthesized (and resolved) docker_container and docker_image blocks. */
export function standInSpecs(stackJsons: readonly any[]): Map<string, StandInSpec> {
  const specs = new Map<string, StandInSpec>();
  // The ports other containers' URLs name a container by (an accessory publishes none: ANALYTICS_URL=http://analytics:8123).
  const urlPorts = new Map<string, number[]>();
  for (const stack of stackJsons) {
    for (const container of Object.values<any>(stack.resource?.docker_container ?? {})) {
      for (const entry of container.env ?? []) {
        const url = /^[A-Z_]+=[a-z]+:\/\/(?:[^@/]*@)?([a-z][a-z0-9.-]*):(\d+)/.exec(entry);
        if (url) urlPorts.set(url[1], [...(urlPorts.get(url[1]) ?? []), Number(url[2])]);
      }
    }
  }
  for (const stack of stackJsons) {
    for (const container of Object.values<any>(stack.resource?.docker_container ?? {})) {
      const image = imageName(stack, container);
      if (!image) throw new Error(`e2e: container ${container.name} runs image ${container.image}, which names no docker_image of its stack`);
      const names: string[] = [container.name, ...(container.networks_advanced ?? []).flatMap((n: any) => n.aliases ?? [])];
      const scratch = probesLikeScratch(container);
      const drain = Math.min(DRAIN_CAP_SECONDS, Math.max(0, (container.destroy_grace_seconds ?? 0) - 3));
      const known = specs.get(image);
      const spec: StandInSpec = known ?? { image, ports: [], extras: new Set(), shellLess: scratch, drainSeconds: drain };
      spec.shellLess &&= scratch;
      spec.drainSeconds = Math.min(spec.drainSeconds, drain);
      specs.set(image, spec);
      const words = [...(container.healthcheck?.test ?? []), ...(container.command ?? []), ...(container.entrypoint ?? [])].join(' ');
      for (const m of words.matchAll(/(?:127\.0\.0\.1|localhost)[:/](\d+)/g)) spec.ports.push(Number(m[1])); // also bash /dev/tcp/<host>/<port>
      for (const m of (container.command ?? []).join(' ').matchAll(/address[= ]\S*?:(\d+)\b/g)) spec.ports.push(Number(m[1]));
      for (const m of words.matchAll(/-addr=\S*?:(\d+)\b/g)) spec.ports.push(Number(m[1])); // grpc_health_probe -addr=:50051
      for (const label of container.labels ?? []) if (/loadbalancer\.server\.port$/.test(label.label)) spec.ports.push(Number(label.value));
      for (const name of names) spec.ports.push(...(urlPorts.get(name) ?? []));
      if (/(^|\s)node\s/.test(words)) spec.extras.add('node');
      if (/pg_isready|postgres|psql/.test(words)) spec.extras.add('postgres');
      if (/redis-(server|cli)/.test(words)) spec.extras.add('redis');
    }
  }
  for (const spec of specs.values()) spec.ports.splice(0, spec.ports.length, ...[...new Set(spec.ports)].sort((a, b) => a - b));
  return specs;
}

/** Copies a binary and the shared libraries ldd names into the root filesystem, at their own paths. */
function copyWithLibraries(binary: string, root: string): void {
  let linked = '';
  try {
    linked = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    // a static binary: ldd says "not a dynamic executable" and fails
  }
  const files = [binary, ...linked.split('\n').flatMap((line) => /(\/\S+) \(0x/.exec(line)?.[1] ?? [])];
  for (const file of files) {
    const target = path.join(root, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(fs.realpathSync(file), target);
    fs.chmodSync(target, 0o755);
  }
}

function script(root: string, file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), `#!/bin/sh\n${text}\n`, { mode: 0o755 });
}

/** The base root filesystem every stand-in shares. */
function writeBase(root: string): void {
  // busybox-static's binary, extracted by scripts/install-test-tools.sh: it has every applet the synthesized
  // commands run (crond for the backup job), which Debian's dynamic busybox lacks.
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.copyFileSync(E2E_BUSYBOX, path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  for (const applet of execFileSync(path.join(root, 'bin', 'busybox'), ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    if (applet !== 'busybox' && !fs.existsSync(path.join(root, 'bin', applet))) fs.symlinkSync('busybox', path.join(root, 'bin', applet));
  }
  fs.symlinkSync('bin', path.join(root, 'busybox')); // grafana/loki's health check runs /busybox/wget
  for (const dir of ['tmp', 'etc', 'proc', 'sys', 'dev', 'app', 'var/run', 'var/lib', 'usr/local/bin']) fs.mkdirSync(path.join(root, dir), { recursive: true });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.writeFileSync(path.join(root, 'etc/passwd'), ['root:x:0:0:root:/root:/bin/sh', 'postgres:x:999:999:postgres:/var/lib/postgresql:/bin/sh', 'redis:x:998:998:redis:/data:/bin/sh', 'app:x:1001:1001:app:/app:/bin/sh', 'haproxy:x:99:99:haproxy:/:/bin/sh', 'nobody:x:65534:65534:nobody:/:/bin/sh', ''].join('\n'));
  fs.writeFileSync(path.join(root, 'etc/group'), ['root:x:0:', 'postgres:x:999:', 'redis:x:998:', 'app:x:1001:', 'haproxy:x:99:', 'nogroup:x:65534:', ''].join('\n'));
  for (const tool of BASE_TOOLS) copyWithLibraries(tool, root);
  for (const p of HEALTH_PATHS) {
    fs.mkdirSync(path.dirname(path.join(root, 'srv/www', p)), { recursive: true });
    fs.writeFileSync(path.join(root, 'srv/www', p), 'ok\n');
  }
  fs.writeFileSync(path.join(root, 'srv/www/index.html'), 'ok\n');
  // The app: busybox httpd on every port of $STANDIN_PORTS; SIGTERM is logged, the app keeps serving for
  // $STANDIN_DRAIN_SECONDS and then exits 0, so a stop with grace is visible (exit 0 that long after the SIGTERM)
  // against a SIGKILL at a shorter timeout (exit 137).
  // As the images' own entrypoints do (docker-library's "if the first argument is a program, run it"): a command
  // naming a program runs; flags (prometheus --config.file=...) go to the app, which the stand-in replaces.
  script(root, 'usr/local/bin/standin', [
    'case "${1:-}" in -*|"") ;; *) command -v "$1" >/dev/null && exec "$@" ;; esac',
    'pids=""',
    'for port in $STANDIN_PORTS; do httpd -f -p "$port" -h /srv/www & pids="$pids $!"; done',
    '[ -n "$pids" ] || { sleep 2147483647 & pids=$!; }',
    'trap \'echo "stand-in: SIGTERM received, draining ${STANDIN_DRAIN_SECONDS:-0} s"; sleep "${STANDIN_DRAIN_SECONDS:-0}"; kill $pids; exit 0\' TERM INT',
    'echo "stand-in: serving on ports ${STANDIN_PORTS:-none} as $(id -u):$(id -g)"',
    'wait',
  ].join('\n'));
  // traefik healthcheck --ping --entryPoints.ping.address=H:P asks H:P/ping (traefik cmd/healthcheck); else serve.
  script(root, 'usr/local/bin/traefik', [
    'if [ "$1" = healthcheck ]; then',
    '  for a; do case "$a" in --entryPoints.ping.address=*) address=${a#*=} ;; esac; done',
    '  exec wget -q -O /dev/null "http://${address:-127.0.0.1:8080}/ping"',
    'fi',
    'exec /usr/local/bin/standin',
  ].join('\n'));
  script(root, 'usr/local/bin/haproxy', 'exec /usr/local/bin/standin');
  // curl --fail ... URL: the last argument is the URL; wget -q fails on an HTTP error as curl --fail does.
  script(root, 'usr/local/bin/curl', 'for url; do :; done\nexec wget -q -O /dev/null "$url"');
  // clickhouse-client --query 'SELECT 1' asks the local server; the stand-in asks its HTTP interface's /ping (8123).
  script(root, 'usr/local/bin/clickhouse-client', 'exec wget -q -O /dev/null http://127.0.0.1:8123/ping');
  // mc ready local: MinIO's client asks the local server's health endpoint (minio/health/live on :9000).
  script(root, 'usr/local/bin/mc', '[ "$1" = ready ] || exit 2\nexec wget -q -O /dev/null http://127.0.0.1:9000/minio/health/live');
  for (const name of ['minio', 'docker-entrypoint.sh']) script(root, `usr/local/bin/${name}`, 'exec /usr/local/bin/standin');
  // A release task's migration tools (pnpm migration:run, npx prisma migrate deploy): a few lines of output, then
  // the exit code the image was built with (STANDIN_TASK_EXIT, 0 unless a scenario builds a failing release).
  for (const name of ['pnpm', 'npx']) {
    script(root, `usr/local/bin/${name}`, [
      'echo "stand-in migration: ${0##*/} $* as $(id -u)"',
      'echo "stand-in migration: applying 0002_add_column"',
      'if [ "${STANDIN_TASK_EXIT:-0}" != 0 ]; then echo "stand-in migration: error: column email contains null values" >&2; exit "$STANDIN_TASK_EXIT"; fi',
      'echo "stand-in migration: done"',
    ].join('\n'));
  }
  // python -c "...urlopen('http://127.0.0.1:8000/healthz')...": the probe of a Python image without an HTTP client
  // (examples/lexicon.ts) asks the URL in its code; python as a program (a command) runs the app.
  script(root, 'usr/local/bin/python', [
    'if [ "$1" = -c ]; then url=$(printf "%s" "$2" | grep -o "http://[^\'\\"]*" | head -n 1); exec wget -q -O /dev/null "$url"; fi',
    'exec /usr/local/bin/standin',
  ].join('\n'));
  // celery ... inspect ping answers while the worker (the stand-in app, PID 1) runs; celery worker/beat is the app.
  script(root, 'usr/local/bin/celery', 'case "$*" in *"inspect ping"*) exec pgrep -f /usr/local/bin/standin >/dev/null ;; esac\nexec /usr/local/bin/standin');
  // node's stand-in apps: dist/<name>.js in /app serves the ports (node's own http module).
  fs.mkdirSync(path.join(root, 'app/dist'), { recursive: true });
  fs.writeFileSync(path.join(root, 'app/dist/standin.js'), NODE_APP);
}

/** The node stand-in app: serves $STANDIN_PORTS, and on SIGTERM logs, keeps serving $STANDIN_DRAIN_SECONDS, exits 0. */
const NODE_APP = [
  "const http = require('http');",
  "const ports = (process.env.STANDIN_PORTS || '').split(' ').filter(Boolean);",
  "for (const port of ports) http.createServer((q, s) => s.end('ok')).listen(Number(port));",
  "const drain = Number(process.env.STANDIN_DRAIN_SECONDS || 0);",
  "process.on('SIGTERM', () => { console.log(`stand-in: SIGTERM received, draining ${drain} s`); setTimeout(() => process.exit(0), drain * 1000); });",
  "console.log(`stand-in: serving on ports ${ports.join(' ') || 'none'} as ${process.getuid()}:${process.getgid()}`);",
  'setInterval(() => {}, 1 << 30);',
].join('\n');

/**
 * A scratch image's stand-in: no shell, no busybox; node (with its libraries) runs the app, and the probe binary is
 * a node script (the kernel runs its #! line, no shell involved) that connects to its -addr.
 */
function writeShellLess(root: string): void {
  for (const dir of ['tmp', 'etc', 'proc', 'sys', 'dev', 'app', 'bin']) fs.mkdirSync(path.join(root, dir), { recursive: true });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/:/nonexistent\napp:x:1001:1001:app:/app:/nonexistent\nnobody:x:65534:65534:nobody:/:/nonexistent\n');
  fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\napp:x:1001:\nnogroup:x:65534:\n');
  copyWithLibraries('/usr/bin/node', root);
  fs.writeFileSync(path.join(root, 'app/standin.js'), NODE_APP);
  fs.writeFileSync(path.join(root, 'bin/grpc_health_probe'), [
    '#!/usr/bin/node',
    "const arg = process.argv.find((a) => a.startsWith('-addr=')) || '-addr=127.0.0.1:50051';",
    "const [host, port] = arg.slice(6).split(':');",
    "const socket = require('net').connect(Number(port), host || '127.0.0.1', () => process.exit(0));",
    "socket.on('error', (e) => { console.error(`status: not serving (${e.message})`); process.exit(1); });",
    'setTimeout(() => process.exit(1), 5000);',
  ].join('\n'), { mode: 0o755 });
}
/**
 * The redis image's docker-entrypoint.sh (docker-library/redis 7): as root, it hands the working directory to
 * redis (`find . \! -user redis -exec chown redis '{}' +`) and runs redis-server as redis.
 */
const REDIS_AS_REDIS = "[ \"$1\" = redis-server ] && [ \"$(id -u)\" = 0 ] && { find . \\! -user redis -exec chown redis '{}' +; exec /usr/bin/setpriv --reuid=redis --regid=redis --init-groups \"$@\"; }";

function writeExtras(root: string, extras: ReadonlySet<'node' | 'postgres' | 'redis'>): void {
  for (const extra of extras) for (const tool of EXTRA_TOOLS[extra]) copyWithLibraries(tool, root);
  if (extras.has('node')) {
    for (const name of ['scheduler', 'reminders', 'worker', 'main', 'server', 'index']) fs.copyFileSync(path.join(root, 'app/dist/standin.js'), path.join(root, `app/dist/${name}.js`));
  }
  if (extras.has('postgres')) {
    // The server's modules ($libdir: snowball dictionaries initdb loads, pgvector where installed), not the JIT bitcode.
    fs.cpSync('/usr/lib/postgresql/15/lib', path.join(root, 'usr/lib/postgresql/15/lib'), { recursive: true, filter: (source) => !source.includes('/bitcode') });
    fs.mkdirSync(path.join(root, 'usr/share/postgresql'), { recursive: true });
    execFileSync('cp', ['-a', '/usr/share/postgresql/15', path.join(root, 'usr/share/postgresql/')], { stdio: 'ignore' });
    for (const tool of ['pg_isready', 'psql', 'postgres', 'initdb']) fs.symlinkSync(`/usr/lib/postgresql/15/bin/${tool}`, path.join(root, 'usr/local/bin', tool));
    // The postgres image's docker-entrypoint.sh (docker-library/postgres 15): as root, create PGDATA owned by
    // postgres, initdb with POSTGRES_USER/POSTGRES_PASSWORD (scram) and POSTGRES_DB, then run postgres as postgres.
    script(root, 'usr/local/bin/docker-entrypoint.sh', [
      ...(extras.has('redis') ? [REDIS_AS_REDIS] : []),
      'set -eu',
      '[ "$1" = postgres ] || exec "$@"',
      'if [ "$(id -u)" = 0 ]; then',
      '  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"',
      '  exec /usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"',
      'fi',
      'if [ ! -s "$PGDATA/PG_VERSION" ]; then',
      '  printf "%s" "$POSTGRES_PASSWORD" > /tmp/pwfile',
      '  initdb -D "$PGDATA" -U "${POSTGRES_USER:-postgres}" --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 >/dev/null',
      '  rm -f /tmp/pwfile',
      '  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"',
      '  postgres -D "$PGDATA" -c listen_addresses="" -c shared_buffers=16MB & pid=$!',
      '  until pg_isready -q; do sleep 0.2; done',
      '  db=${POSTGRES_DB:-postgres}',
      '  [ "$db" = postgres ] || psql -q -U "${POSTGRES_USER:-postgres}" -d postgres -c "CREATE DATABASE \\"$db\\""',
      '  kill -INT $pid; wait $pid || true',
      'fi',
      'exec "$@" -c listen_addresses="*"',
    ].join('\n'));
  }
  if (extras.has('redis')) {
    for (const tool of ['redis-server', 'redis-cli']) fs.symlinkSync(`/usr/bin/${tool}`, path.join(root, 'usr/local/bin', tool));
    if (!extras.has('postgres')) script(root, 'usr/local/bin/docker-entrypoint.sh', [REDIS_AS_REDIS, 'exec "$@"'].join('\n'));
  }
}

/** Builds the root filesystems (one per set of extras) and imports one stand-in image per spec. */
export async function importStandIns(client: EngineClient, specs: Iterable<StandInSpec>, workDir: string): Promise<number> {
  const tars = new Map<string, Buffer>();
  let count = 0;
  for (const spec of specs) {
    const key = spec.shellLess ? 'scratch' : [...spec.extras].sort().join('+') || 'base';
    if (!tars.has(key)) {
      const root = path.join(workDir, `rootfs-${key}`);
      fs.rmSync(root, { recursive: true, force: true });
      if (spec.shellLess) writeShellLess(root);
      else {
        writeBase(root);
        writeExtras(root, spec.extras);
      }
      tars.set(key, execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 1 << 30 }));
    }
    await importRoot(client, spec.image, tars.get(key)!, [
      `ENV STANDIN_PORTS="${spec.ports.join(' ')}"`,
      `ENV STANDIN_DRAIN_SECONDS=${spec.drainSeconds}`,
      ...Object.entries(spec.env ?? {}).map(([name, value]) => `ENV ${name}="${value}"`),
      'WORKDIR /app',
      'ENV PATH=/usr/local/bin:/bin:/usr/bin',
      spec.shellLess ? 'ENTRYPOINT ["/usr/bin/node", "/app/standin.js"]' : 'ENTRYPOINT ["/usr/local/bin/standin"]',
    ]);
    count += 1;
  }
  return count;
}

/** Imports a root filesystem (a tar) as `image`, with Dockerfile instructions (`changes`) applied. */
async function importRoot(client: EngineClient, image: string, tar: Buffer, changes: readonly string[]): Promise<void> {
  const [repo, tag] = splitReference(image);
  const query = `fromSrc=-&repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}${changes.map((c) => `&changes=${encodeURIComponent(c)}`).join('')}`;
  await client.request('POST', `/images/create?${query}`, undefined, { raw: tar, contentType: 'application/x-tar', timeoutMs: 300_000 });
}

/**
 * The postgres exporter's image as its Dockerfile builds it (prometheus-community/postgres_exporter: busybox, the
 * binary at /bin/postgres_exporter as the entrypoint, user nobody), holding the real exporter: Debian's build
 * (0.11.1), whose cmd/postgres_exporter/datasource.go reads DATA_SOURCE_PASS_FILE as v0.20.1's exporter/datasource.go
 * does. Imported under `image` (the pinned reference), so a synthesized service runs it unchanged.
 */
export async function importPostgresExporter(client: EngineClient, image: string, workDir: string): Promise<void> {
  const root = path.join(workDir, 'rootfs-postgres-exporter');
  fs.rmSync(root, { recursive: true, force: true });
  writeBase(root);
  copyWithLibraries(E2E_POSTGRES_EXPORTER, root);
  fs.renameSync(path.join(root, E2E_POSTGRES_EXPORTER), path.join(root, 'bin/postgres_exporter'));
  await importRoot(client, image, execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 1 << 30 }), ['USER nobody', 'EXPOSE 9187', 'ENTRYPOINT ["/bin/postgres_exporter"]']);
}

/**
 * The dump job's image (`db-backup`: alpine with busybox crond, pg_dump, redis-cli, age and the aws CLI) with the real
 * pg_dump (PostgreSQL 15), redis-cli and age of this machine, GNU wget (Debian's busybox 1.35 wget crashes on `-T`,
 * which alpine's applet and the heartbeat take) and, for the aws CLI, a stand-in of `aws s3 cp - s3://<bucket>/<key>`
 * alone: it stores the stream under /tmp/r2/<bucket>/<key> and the credentials it was handed in
 * /tmp/r2/.credentials (access key id, then secret key), so a test sees what reached it. No registry or R2 here.
 */
export async function importBackupJob(client: EngineClient, image: string, workDir: string): Promise<void> {
  const root = path.join(workDir, 'rootfs-backup-job');
  fs.rmSync(root, { recursive: true, force: true });
  writeBase(root);
  for (const tool of ['/usr/lib/postgresql/15/bin/pg_dump', '/usr/bin/redis-cli', '/usr/bin/age', '/usr/bin/wget']) copyWithLibraries(tool, root);
  for (const tool of ['pg_dump', 'wget']) fs.symlinkSync(tool === 'pg_dump' ? '/usr/lib/postgresql/15/bin/pg_dump' : '/usr/bin/wget', path.join(root, 'usr/local/bin', tool));
  script(root, 'usr/local/bin/aws', [
    '[ "$1 $2 $3" = "s3 cp -" ] && [ "${4#s3://}" != "$4" ] || { echo "stand-in aws: only s3 cp - s3://<bucket>/<key> is stood in for; got: $*" >&2; exit 2; }',
    'key=/tmp/r2/${4#s3://}',
    'mkdir -p "${key%/*}" && cat > "$key"',
    'printf "%s\\n%s\\n" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" > /tmp/r2/.credentials',
  ].join('\n'));
  await importRoot(client, image, execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 1 << 30 }), ['WORKDIR /', 'ENV PATH=/usr/local/bin:/bin:/usr/bin']);
}

/** `registry/repo:tag` -> [registry/repo, tag] (a port in the registry host is not a tag). */
export function splitReference(image: string): [string, string] {
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? [image.slice(0, colon), image.slice(colon + 1)] : [image, 'latest'];
}
