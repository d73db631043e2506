#!/usr/bin/env bash
# Plans one stack of a pull request that passed the gate (.github/workflows/pr-plan.yml), from a
# checkout of the base commit: <gated dir>/stacks/<stack>/ holds only the checked cdk.tf.json and
# the lock file written from the base's terraform/providers.lock.hcl. Writes plans/<stack>.plan.txt
# (Terraform Cloud: speculative, cannot be applied) or plans/<stack>.plan.json (local: redacted),
# and on failure errors/<stack>.error.txt (redacted log tail). The credentials are the caller's
# environment: TF_TOKEN_app_terraform_io, or read-only HCLOUD/CLOUDFLARE/GITHUB tokens.
set -uo pipefail
stack="$1"
gated="$2"
dir="$gated/stacks/$stack"
mkdir -p plans errors
log="$(mktemp)"
if jq -e '.terraform.cloud' "$dir/cdk.tf.json" > /dev/null; then
  # Speculative: `terraform plan` without -out cannot be applied by anyone.
  { terraform -chdir="$dir" init -input=false -lockfile=readonly &&
    terraform -chdir="$dir" plan -input=false -no-color; } > "$log" 2>&1
  rc=$?
  [ "$rc" -eq 0 ] && cp "$log" "plans/$stack.plan.txt"
else
  raw="$(mktemp)"
  # -lock=false: a pull request never holds the state lock.
  { terraform -chdir="$dir" init -input=false -lockfile=readonly &&
    terraform -chdir="$dir" plan -input=false -no-color -lock=false -out=tfplan &&
    terraform -chdir="$dir" show -json tfplan > "$raw"; } > "$log" 2>&1
  rc=$?
  # The raw JSON holds sensitive values in clear text and artifacts are readable by anyone who
  # can read the repository: upload only the redacted copy.
  [ "$rc" -eq 0 ] && npx tsx scripts/plan-comment/cli.ts redact "$raw" "plans/$stack.plan.json"
  rc=$(( rc || $? ))
  rm -f "$raw" "$dir/tfplan"
fi
cat "$log"
if [ "$rc" -ne 0 ]; then
  npx tsx scripts/plan-comment/cli.ts error-tail "$log" "errors/$stack.error.txt" \
    --secret-env TF_TOKEN_app_terraform_io,HCLOUD_TOKEN,CLOUDFLARE_API_TOKEN,GITHUB_TOKEN
fi
rm -f "$log"
exit "$rc"
