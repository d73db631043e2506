#!/usr/bin/env bash
# Rehearses a rollback offline and times each step (issue 19), in a throwaway clone of HEAD:
# two staging releases of one product are committed, then the rollback runs as an operator (or
# rollback.yml) would: pick and write the previous tag, commit, synth, list the stacks the plan
# comment would show. Plan and apply need providers, which this machine cannot download; with the
# offline Terraform harness they are the next two steps.
#
#   scripts/release/rehearse-rollback.sh [staging|production] [product]     (default staging chat)
#
# production: each staging release is applied (refs/applied/staging-<product> written as
# deploy-stage.yml writes it) and promoted, then production is rolled back; the placeholder check
# of the production plan and apply runs as a step too.
set -euo pipefail
environment="${1:-staging}"
product="${2:-chat}"
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
  if [ "$environment" = production ]; then
    commit="$(git rev-parse HEAD)"
    git tag -f -a "applied-staging-$product" -m "{\"stack\":\"staging-$product\",\"commit\":\"$commit\"}" "$commit"
    git update-ref "refs/applied/staging-$product" "$(git rev-parse "refs/tags/applied-staging-$product")"
    npx tsx scripts/release/cli.ts promote "$product" > /dev/null
    git commit -q -m "promote production $product $tag" environments/tags/production.json
  fi
done
CDKTF_OUTDIR="$work/before" node scripts/run-app.js > /dev/null

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
start="$(now)"
t0="$(now)"; npx tsx scripts/ops/cli.ts rollback "$environment" "$product" > "$work/rollback.out"; t1="$(now)"
git commit -q -m "rollback $environment $product" "environments/tags/$environment.json"; t2="$(now)"
CDKTF_OUTDIR="$work/after" node scripts/run-app.js > /dev/null; t3="$(now)"
npx tsx scripts/plan-comment/cli.ts changed-stacks "$work/before" "$work/after" > "$work/changed.out"; t4="$(now)"
# Production's plan and apply refuse placeholders first (deploy-stage.yml); this is that step.
npx tsx scripts/release/cli.ts check-placeholders "$work/after" "$environment-$product"; t5="$(now)"

head -1 "$work/rollback.out"
echo "stacks the plan would show: $(tr '\n' ' ' < "$work/changed.out")"
echo "1. rollback (pick + write tag)  $(elapsed "$t0" "$t1") s"
echo "2. commit                       $(elapsed "$t1" "$t2") s"
echo "3. synth (all stacks)           $(elapsed "$t2" "$t3") s"
echo "4. changed stacks (plan list)   $(elapsed "$t3" "$t4") s"
echo "5. placeholder check            $(elapsed "$t4" "$t5") s"
echo "total                           $(elapsed "$start" "$t5") s"
