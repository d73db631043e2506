#!/usr/bin/env bash
# Rehearses a rollback offline and times each step (issue 19), in a throwaway clone of HEAD:
# two staging releases of one product are committed, then the rollback runs as an operator (or
# rollback.yml) would: pick and write the previous tag, commit, synth, list the stacks the plan
# comment would show. Plan and apply need providers, which this machine cannot download; with the
# offline Terraform harness they are the next two steps.
#
#   scripts/release/rehearse-rollback.sh [product]     (default chat)
set -euo pipefail
product="${1:-chat}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q --local "$root" "$work/repo"
cd "$work/repo"
ln -s "$root/node_modules" node_modules
git config user.name rehearsal
git config user.email rehearsal@example.com
for tag in main-1111111 main-2222222; do
  npx tsx scripts/release/cli.ts record "$product" "$tag" > /dev/null
  git commit -q -m "release staging $product $tag" environments/tags/staging.json
done
CDKTF_OUTDIR="$work/before" node scripts/run-app.js > /dev/null

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
start="$(now)"
t0="$(now)"; npx tsx scripts/ops/cli.ts rollback staging "$product" > "$work/rollback.out"; t1="$(now)"
git commit -q -m "rollback staging $product" environments/tags/staging.json; t2="$(now)"
CDKTF_OUTDIR="$work/after" node scripts/run-app.js > /dev/null; t3="$(now)"
npx tsx scripts/plan-comment/cli.ts changed-stacks "$work/before" "$work/after" > "$work/changed.out"; t4="$(now)"

head -1 "$work/rollback.out"
echo "stacks the plan would show: $(tr '\n' ' ' < "$work/changed.out")"
echo "1. rollback (pick + write tag)  $(elapsed "$t0" "$t1") s"
echo "2. commit                       $(elapsed "$t1" "$t2") s"
echo "3. synth (all stacks)           $(elapsed "$t2" "$t3") s"
echo "4. changed stacks (plan list)   $(elapsed "$t3" "$t4") s"
echo "total                           $(elapsed "$start" "$t4") s"
