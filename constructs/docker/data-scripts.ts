/**
 * The shell the data containers and the dump job run, kept here as text so
 * the restore drill (`__tests__/integration/restore-drill.test.ts`) runs exactly these
 * scripts against real PostgreSQL and Redis servers. Every script is POSIX
 * sh plus `set -o pipefail` (busybox ash in the alpine images, which the
 * drill uses too).
 */

/** File at the root of every data volume, written by the host only onto the mounted volume (see `hetzner/data-host.ts`). */
export const VOLUME_SENTINEL = '.manacore-volume';

/** Where a data container sees the root of its volume. */
export const VOLUME_MOUNT_POINT = '/volume';

/** Exit code of a data container started without its volume (EX_CONFIG): Docker restarts it until the volume is there. */
export const VOLUME_MISSING_EXIT_CODE = 78;

/**
 * Shell run before a data service starts: the volume root must carry the
 * sentinel naming this very volume (`HC_Volume_<id>`, in $DATA_VOLUME), or
 * the service would initialize an empty cluster on the root disk under an
 * unmounted mount point. Then `exec "$@"`.
 */
export function volumeGuardScript(mountPoint: string = VOLUME_MOUNT_POINT): string {
  const sentinel = `${mountPoint}/${VOLUME_SENTINEL}`;
  return [
    `found=$(cat '${sentinel}' 2>/dev/null || true)`,
    'if [ "$found" != "$DATA_VOLUME" ]; then',
    `  echo "refusing to start: ${sentinel} holds '$found', expected '$DATA_VOLUME' (volume not mounted?)" >&2`,
    `  exit ${VOLUME_MISSING_EXIT_CODE}`,
    'fi',
    'exec "$@"',
  ].join('\n');
}

/** Rights a product's Redis user has beyond keys and channels under `<name>:` and every command outside @dangerous. */
export interface RedisUserAccess {
  /** Commands of the @dangerous category it may run after all (`info`: BullMQ's version check on connect). @default - none */
  readonly commands?: readonly string[];
  /**
   * Channel patterns it may PSUBSCRIBE, each under `<name>:`. Redis admits a
   * pattern subscription only when the pattern literally equals an allowed
   * channel pattern (acl.c, ACLCheckChannelAgainstList), so `&chat:*` admits
   * `PSUBSCRIBE chat:*` but not `PSUBSCRIBE chat:socket.io#/#*`.
   * @default - none
   */
  readonly patternSubscriptions?: readonly string[];
}

/** One product's Redis ACL user: its name, key and channel prefix `<name>:`, the variable holding its password's hash, and further rights. */
export interface RedisAclUser {
  readonly name: string;
  /** Variable holding the SHA-256 of its password (64 lowercase hex digits), never the password. */
  readonly passwordHashVariable: string;
  /** Rights beyond its prefix. @default - none */
  readonly access?: RedisUserAccess;
}

/** A channel pattern or command name safe inside the ACL script's double quotes and Terraform text (no `$`, quote, backslash, brace or space). */
export const REDIS_ACL_TOKEN = /^[A-Za-z0-9:_#/*?.\[\]|-]+$/;

/**
 * The ACL user of the dump job and the operators: every key, channel and command. Its name has an underscore,
 * which no product name has (redis-container.ts), so no product's user can take it.
 */
export const REDIS_ADMIN_USER = 'ops_admin';

/** The variable the Redis server receives the admin user's password hash in. */
export const REDIS_ADMIN_PASSWORD_HASH_VARIABLE = 'REDIS_ADMIN_PASSWORD_HASH';

/**
 * What the `default` user may do: PING, and nothing else. A connection starts as `default`, so with `nopass` the
 * health check (`redis-cli ping`) needs no password; a key, channel or any other command is refused (NOPERM).
 * AUTH and HELLO carry Redis's no-auth flag and stay open to every connection, so clients still log in as their
 * own user (redis.io ACL docs, "nopass"; src/acl.c, ACLSelectorCheckCmd admits CMD_NO_AUTH commands to anyone).
 */
export const REDIS_DEFAULT_USER_RULES = 'on nopass resetkeys resetchannels -@all +ping';

/**
 * Writes the Redis ACL file to `file` (the script's first argument unless given) from password hashes in the
 * environment (`#<hash>` rules), so neither the file, a command line nor the server's environment holds a
 * password. Redis takes a `#` rule only as 64 lowercase hex digits (redis.io ACL docs, "#<hash>"; src/acl.c,
 * ACLSetSelector), which the script checks first, so a variable can add no rule of its own. `default` may
 * only PING (the health check, unauthenticated); REDIS_ADMIN_USER (the dump job, the operators) keeps every
 * right; each product may touch only keys and channels under `<product>:` and no command of the @dangerous
 * category (FLUSHALL, KEYS, CONFIG, ACL, DEBUG, SHUTDOWN, ...), except the rights its `access` names. Every
 * user starts from nothing: a user an ACL file defines starts with no password and no right (src/acl.c,
 * ACLLoadFromFile creates each user afresh), so no `resetpass` is needed.
 */
export function redisAclScript(users: readonly RedisAclUser[], file = '$1'): string {
  const variables = [REDIS_ADMIN_PASSWORD_HASH_VARIABLE, ...users.map((user) => user.passwordHashVariable)];
  return [
    'set -eu',
    'is_sha256() { case "$1" in *[!0-9a-f]*) return 1 ;; esac; [ ${#1} -eq 64 ]; }',
    ...variables.map((variable) => `is_sha256 "\${${variable}:-}" || { echo "${variable} must be a SHA-256 hash: 64 lowercase hex digits" >&2; exit 1; }`),
    `acl_file=${file}`,
    'umask 077',
    '{',
    `  echo "user default ${REDIS_DEFAULT_USER_RULES}"`,
    `  echo "user ${REDIS_ADMIN_USER} on #$${REDIS_ADMIN_PASSWORD_HASH_VARIABLE} ~* &* +@all"`,
    ...users.map((user) => {
      const channels = [`&${user.name}:*`, ...(user.access?.patternSubscriptions ?? []).map((pattern) => `&${pattern}`)];
      const commands = ['-@all', '+@all', '-@dangerous', ...(user.access?.commands ?? []).map((command) => `+${command}`)];
      return `  echo "user ${user.name} on #$${user.passwordHashVariable} resetkeys ~${user.name}:* resetchannels ${channels.join(' ')} ${commands.join(' ')}"`;
    }),
    '} > "$acl_file"',
  ].join('\n');
}

/**
 * Idempotent SQL for psql: every role and database created only where
 * missing, the password and the connection limit set every time, and no
 * role but the owner may connect to a database. Passwords come from the
 * environment (`\getenv`, psql 15+), never from the script.
 */
export function postgresProvisioningSql(databases: readonly string[], connectionLimit: number, passwordVariable: (database: string) => string): string {
  return databases
    .flatMap((db) => [
      `\\getenv password ${passwordVariable(db)}`,
      `SELECT 'CREATE ROLE "${db}" LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${db}')\\gexec`,
      `ALTER ROLE "${db}" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE CONNECTION LIMIT ${connectionLimit} PASSWORD :'password';`,
      `SELECT 'CREATE DATABASE "${db}" OWNER "${db}"' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${db}')\\gexec`,
      `REVOKE ALL ON DATABASE "${db}" FROM PUBLIC;`,
    ])
    .join('\n');
}

/** The login role a metrics exporter reads server statistics as (`pg_monitor`), never a product's data. */
export const POSTGRES_EXPORTER_ROLE = 'postgres_exporter';

/** The variable the exporter role's password is handed to the provisioner in. */
export const EXPORTER_PASSWORD_VARIABLE = 'EXPORTER_PASSWORD';

/**
 * Connections the exporter role may hold: postgres_exporter v0.20.1 keeps one open and opens another per
 * /metrics request (exporter/server.go, collector/instance.go), and two scrapes may overlap.
 */
export const POSTGRES_EXPORTER_CONNECTIONS = 3;

/**
 * Idempotent SQL for the exporter's role: login, `pg_monitor` (statistics of
 * every session and database; PostgreSQL 10+, as postgres_exporter's README
 * recommends), a connection limit, and nothing else. It may connect to the
 * `postgres` database only: every product database revokes CONNECT from PUBLIC.
 */
export function postgresExporterRoleSql(): string {
  const role = POSTGRES_EXPORTER_ROLE;
  return [
    `\\getenv password ${EXPORTER_PASSWORD_VARIABLE}`,
    `SELECT 'CREATE ROLE ${role} LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}')\\gexec`,
    `ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE CONNECTION LIMIT ${POSTGRES_EXPORTER_CONNECTIONS} PASSWORD :'password';`,
    // Granting a membership held already only raises a notice; asking first keeps a re-run silent.
    `SELECT 'GRANT pg_monitor TO ${role}' WHERE NOT pg_has_role('${role}', 'pg_monitor', 'MEMBER')\\gexec`,
  ].join('\n');
}

/** The variable a product role's password is handed to the provisioner in. */
export function rolePasswordVariable(database: string): string {
  return `ROLE_PASSWORD_${database.toUpperCase()}`;
}

/** The provisioner's options beyond its databases. */
export interface PostgresProvisionerOptions {
  /** Also keep the `postgres_exporter` role (its password in EXPORTER_PASSWORD_VARIABLE). @default false */
  readonly exporterRole?: boolean;
  /**
   * Read every password from the file its `<VAR>_FILE` names (Swarm secrets under /run/secrets) instead of the
   * environment: `PGPASSWORD`, each role's and the exporter's. @default false - from the environment
   */
  readonly passwordsFromFiles?: boolean;
}

/** The passwords the provisioner reads: the superuser's (libpq's PGPASSWORD), each role's, the exporter's. */
export function postgresProvisionerPasswordVariables(databases: readonly string[], options: PostgresProvisionerOptions = {}): string[] {
  return ['PGPASSWORD', ...databases.map(rolePasswordVariable), ...(options.exporterRole ? [EXPORTER_PASSWORD_VARIABLE] : [])];
}

/**
 * The provisioner's shell: the SQL above through psql, stopping at the first error (PG* variables name the server).
 * With `passwordsFromFiles` it runs in a subshell that first reads each password from its file (`$(cat "$X_FILE")`:
 * the path is an argument, never the value) and exports it to psql alone: what runs after the subshell (the idle
 * process that reports health) holds none of them, and no process argument or container environment does.
 */
export function postgresProvisionerScript(databases: readonly string[], connectionLimit: number, options: PostgresProvisionerOptions = {}): string {
  const sql = [postgresProvisioningSql(databases, connectionLimit, rolePasswordVariable), ...(options.exporterRole ? [postgresExporterRoleSql()] : [])].filter((part) => part !== '');
  const psql = [`psql -X -q -v ON_ERROR_STOP=1 <<'SQL'`, ...sql, 'SQL'];
  if (!options.passwordsFromFiles) return ['set -eu', ...psql].join('\n');
  const reads = postgresProvisionerPasswordVariables(databases, options).map((variable) => `${variable}=$(cat "$${variable}_FILE"); export ${variable}`);
  return ['set -eu', '(', ...reads, ...psql, ')'].join('\n');
}

/** Under the Postgres prefix: where pre-migration dumps go, apart from the nightly `<prefix><database>/` ones. */
export const PRE_MIGRATION_DIRECTORY = 'pre-migration';

/** The variables the `pre-migration` run reads besides the bucket's and the recipient. */
export const PRE_MIGRATION_VARIABLES = { product: 'BACKUP_PRODUCT', tag: 'BACKUP_RELEASE_TAG', databaseUrl: 'DATABASE_URL' } as const;

/**
 * The dump job's run: every database with `pg_dump --format=custom`, or
 * Redis with `redis-cli --rdb -` as $REDIS_USER (its password in REDISCLI_AUTH), each stream encrypted with `age` to the
 * environment's public key ($BACKUP_AGE_RECIPIENT) and streamed to
 * `s3://$S3_BUCKET/<prefix><name>/<UTC time>.<ext>.age` (nothing touches
 * the disk). Only when every dump of the run succeeded is the heartbeat URL
 * called: a dead-man's switch alerts when that call stops coming.
 * `$BACKUP_TARGET_DIR`, when set, receives the files instead of the bucket
 * (a local drill).
 *
 * `pre-migration` dumps one product's database as that product's own role
 * ($DATABASE_URL, the connection string its services get; never the
 * superuser) to `<prefix>pre-migration/<product>/<release tag>-<UTC time>.dump.age`,
 * right before its release tasks run (constructs/docker/pre-migration-backup.ts).
 * It calls no heartbeat: that switch watches the nightly runs.
 */
export function backupRunScript(options: BackupScriptOptions = {}): string {
  // With the secrets in files, each tool gets its own in a subshell: `$(cat "$X_FILE")` puts the path on cat's
  // command line, never the value, and the value leaves with the subshell.
  const withSecrets = (variables: readonly string[], command: string): string =>
    options.secretsFromFiles ? `( ${variables.map((variable) => `${variable}=$(cat "$${variable}_FILE"); export ${variable}; `).join('')}${command} )` : command;
  const heartbeat = options.secretsFromFiles ? '"$(cat "$BACKUP_HEARTBEAT_URL_FILE")"' : '"$BACKUP_HEARTBEAT_URL"';
  return [
    'set -eu',
    'set -o pipefail',
    'what=$1',
    'stamp=$(date -u +%Y%m%dT%H%M%SZ)',
    'upload() {',
    '  if [ -n "${BACKUP_TARGET_DIR:-}" ]; then',
    '    mkdir -p "$(dirname "$BACKUP_TARGET_DIR/$1")" && cat > "$BACKUP_TARGET_DIR/$1"',
    '  else',
    `    ${withSecrets(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'], 'aws s3 cp - "s3://$S3_BUCKET/$1" --endpoint-url "$S3_ENDPOINT" --only-show-errors')}`,
    '  fi',
    '}',
    'encrypt() { age --encrypt --recipient "$BACKUP_AGE_RECIPIENT"; }',
    'case "$what" in',
    '  pre-migration)',
    `    key="\${BACKUP_POSTGRES_PREFIX}${PRE_MIGRATION_DIRECTORY}/\${${PRE_MIGRATION_VARIABLES.product}}/\${${PRE_MIGRATION_VARIABLES.tag}}-\${stamp}.dump.age"`,
    // The URL stays in the environment: pg_dump reads it from its argument, which only this container's processes see.
    `    pg_dump --format=custom --dbname="\$${PRE_MIGRATION_VARIABLES.databaseUrl}" | encrypt | upload "$key"`,
    '    echo "pre-migration backup done: $key"',
    '    exit 0 ;;',
    '  postgres)',
    '    for db in $BACKUP_POSTGRES_DATABASES; do',
    `      ${withSecrets(['PGPASSWORD'], 'pg_dump --format=custom --dbname="$db"')} | encrypt | upload "\${BACKUP_POSTGRES_PREFIX}\${db}/\${stamp}.dump.age"`,
    '    done ;;',
    '  redis)',
    `    ${withSecrets(['REDISCLI_AUTH'], 'redis-cli -h "$REDIS_HOST" -p "${REDIS_PORT:-6379}" --user "$REDIS_USER" --rdb - 2>/dev/null')} | encrypt | upload "\${BACKUP_REDIS_PREFIX}\${stamp}.rdb.age" ;;`,
    '  *) echo "usage: backup-run postgres|redis|pre-migration" >&2; exit 64 ;;',
    'esac',
    `if [ -n "\${BACKUP_HEARTBEAT_URL${options.secretsFromFiles ? '_FILE' : ''}:-}" ]; then`,
    `  wget -q -T 30 -O /dev/null ${heartbeat} || echo "heartbeat failed (the monitor will alert)" >&2`,
    'fi',
    'echo "backup of $what done: $stamp"',
  ].join('\n');
}

/** How the dump job's scripts get their credentials. */
export interface BackupScriptOptions {
  /**
   * Read each credential (PGPASSWORD, REDISCLI_AUTH, the R2 token's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
   * BACKUP_HEARTBEAT_URL) from the file its `<VAR>_FILE` names (Swarm secrets under /run/secrets) at dump time,
   * exported to its one tool in a subshell, and run crond under a shell that stays PID 1 (a Swarm task has no init).
   * @default false - from the environment, crond as PID 1 under Docker's init
   */
  readonly secretsFromFiles?: boolean;
}

/** What the stopping scheduler waits for: a dump under way (the crontab's and an operator's `sh /tmp/backup-run ...`). */
const RUNNING_DUMP = '^/bin/sh /tmp/backup-run ';

/**
 * The dump job's entrypoint: writes the run script and a crontab into /tmp
 * (the root filesystem is read-only) and runs busybox crond in the
 * foreground, so crond is the process the health check looks for.
 *
 * With `secretsFromFiles` (a Swarm task, which has no init) the shell stays
 * PID 1 above crond: the stop signal ends crond, so no dump starts, and the
 * shell waits until no dump runs any more (a dump's processes, orphaned by
 * crond, are its children then) before it exits 0; its waits reap them
 * (busybox ash waits with waitpid(-1), any child). The service's stop grace
 * (BACKUP_STOP_GRACE_SECONDS) bounds the wait.
 */
export function backupSchedulerScript(schedules: Readonly<Partial<Record<'postgres' | 'redis', string>>>, options: BackupScriptOptions = {}): string {
  const entries = Object.entries(schedules).map(([what, cron]) => `${cron} /bin/sh /tmp/backup-run ${what} >> /proc/1/fd/1 2>&1`);
  const scheduler = options.secretsFromFiles
    ? [
        // The trap first: PID 1 ignores a signal it has no handler for, and one could come before crond starts.
        "crond=''",
        `trap 'kill $crond 2>/dev/null || true; while pgrep -f "${RUNNING_DUMP}" >/dev/null; do sleep 1; done; exit 0' TERM INT`,
        'crond -f -l 8 -c /tmp/crontabs & crond=$!',
        'wait $crond',
      ]
    : ['exec crond -f -l 8 -c /tmp/crontabs'];
  return [
    'set -eu',
    `cat > /tmp/backup-run <<'RUN'\n${backupRunScript(options)}\nRUN`,
    'mkdir -p /tmp/crontabs',
    `cat > /tmp/crontabs/root <<'CRON'\n${entries.join('\n')}\nCRON`,
    ...scheduler,
  ].join('\n');
}
