#!/bin/sh
# Restores one dump written by the backup job (constructs/docker/data-scripts.ts, backupRunScript).
# Steps and the order of a full recovery: docs/data-recovery.md. The private key never enters the project:
# pass the path of the age identity file the operator holds (AGE-SECRET-KEY-...).
#
#   restore-backup.sh postgres <dump.age> <identity> <database>
#       Decrypts, checks the archive (pg_restore --list) and restores into <database> on the server the
#       PG* environment names (PGHOST, PGPORT, PGUSER=postgres, PGPASSWORD). The database and its owner
#       role must exist (run the provisioner first); objects are restored with their owner, in one
#       transaction, and any error aborts it.
#   restore-backup.sh redis <dump.rdb.age> <identity> <output.rdb>
#       Decrypts to <output.rdb> and checks it (redis-check-rdb). Start Redis on it with
#       `--appendonly no`, then `CONFIG SET appendonly yes` writes a fresh AOF before the normal start.
set -eu

usage() { echo "usage: $0 postgres <dump.age> <identity> <database> | redis <dump.rdb.age> <identity> <output.rdb>" >&2; exit 64; }
[ $# -eq 4 ] || usage
what=$1 dump=$2 identity=$3 target=$4
[ -r "$dump" ] || { echo "cannot read dump $dump" >&2; exit 66; }
[ -r "$identity" ] || { echo "cannot read identity $identity" >&2; exit 66; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

case "$what" in
  postgres)
    age --decrypt --identity "$identity" --output "$work/dump" "$dump"
    pg_restore --list "$work/dump" > /dev/null
    pg_restore --exit-on-error --single-transaction --dbname="$target" "$work/dump"
    echo "restored $dump into database $target" ;;
  redis)
    age --decrypt --identity "$identity" --output "$work/dump.rdb" "$dump"
    redis-check-rdb "$work/dump.rdb" > "$work/check.log" 2>&1 || { cat "$work/check.log" >&2; exit 65; }
    mv "$work/dump.rdb" "$target"
    echo "decrypted and checked $dump into $target" ;;
  *) usage ;;
esac
