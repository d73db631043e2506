#!/usr/bin/env bash
# Writes a tags file with a command and pushes it to main, for release.yml, promote.yml and rollback.yml.
#
#   scripts/release/commit-tags.sh <tags file> <commit message> -- <command> [args...]
#
# Each attempt starts from the newest origin/main, runs <command> there (it rewrites <tags file>)
# and pushes one commit. When main moved meanwhile (another product's release pushed first), the
# push is refused as non-fast-forward and the attempt starts over from the new main, so releases of
# different products never block each other and never overwrite each other's line of the file.
# No change (the tag is already there): nothing is committed. Prints the commit to apply.
# It commits a tags file and nothing else: a path outside environments/tags/, or a command that
# changed another tracked file, is refused before anything is committed or pushed.
set -euo pipefail
[ "${3:-}" = "--" ] || { echo "usage: $0 <tags file> <commit message> -- <command> [args...]" >&2; exit 2; }
file="$1"
message="$2"
shift 3
case "$file" in
  environments/tags/*.json) ;;
  *) echo "refusing to commit $file: only a tags file (environments/tags/<environment>.json) is committed by the pipeline" >&2; exit 2 ;;
esac
branch="${RELEASE_BRANCH:-main}"
for attempt in 1 2 3 4 5; do
  git fetch -q --no-tags origin "$branch"
  git checkout -q -B "$branch" "origin/$branch"
  # The command validates its input and says why it refuses; nothing is pushed then.
  "$@" >&2
  others="$(git status --porcelain --untracked-files=no | awk -v file="$file" '{ path = substr($0, 4) } path != file { print path }')"
  if [ -n "$others" ]; then
    echo "refusing to commit: the command changed more than $file:" >&2
    echo "$others" >&2
    git checkout -q -- . 2> /dev/null || true
    exit 1
  fi
  if git diff --quiet -- "$file"; then
    echo "$file already says so; nothing to commit" >&2
    git rev-parse HEAD
    exit 0
  fi
  git add -- "$file"
  git commit -q -m "$message" -- "$file"
  if git push -q origin "HEAD:refs/heads/$branch"; then
    git rev-parse HEAD
    exit 0
  fi
  echo "attempt $attempt: $branch moved while committing $file; starting again from the new $branch" >&2
  sleep "$attempt"
done
echo "gave up after 5 attempts: $branch keeps moving" >&2
exit 1
