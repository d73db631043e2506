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
set -euo pipefail
file="$1"
message="$2"
[ "${3:-}" = "--" ] || { echo "usage: $0 <tags file> <commit message> -- <command> [args...]" >&2; exit 2; }
shift 3
branch="${RELEASE_BRANCH:-main}"
for attempt in 1 2 3 4 5; do
  git fetch -q --no-tags origin "$branch"
  git checkout -q -B "$branch" "origin/$branch"
  # The command validates its input and says why it refuses; nothing is pushed then.
  "$@" >&2
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
