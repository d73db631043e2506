#!/usr/bin/env bash
# Writes terraform/providers.lock.hcl: checksums of every provider the stacks pin, for the
# platforms the pipeline and developers run on. Needs the Terraform registry, so it is run by
# a person (or a workflow with network access) after a provider upgrade, and committed; the
# workflows then install providers with `terraform init -lockfile=readonly` and fail rather
# than accept a package whose checksum is not in this file.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Terraform Cloud mode adds the tfe provider; synthesize in that mode so it is locked too.
TFC_ORGANIZATION="${TFC_ORGANIZATION:-lock-providers}" node scripts/run-app.js > /dev/null
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# A configuration requiring every pinned provider (what the workflows warm the plugin cache with).
node -e '
  const fs = require("fs");
  const pins = fs.readFileSync(0, "utf8").trim().split("\n").map((line) => line.split(" "));
  const required = Object.fromEntries(pins.map(([source, version]) => [source.split("/").pop(), { source, version }]));
  fs.writeFileSync(process.argv[1] + "/main.tf.json", JSON.stringify({ terraform: { required_providers: required } }, null, 2));
' "$scratch" < <(npx tsx scripts/pipeline/cli.ts provider-pins cdktf.out)
terraform -chdir="$scratch" providers lock -platform=linux_amd64 -platform=linux_arm64 -platform=darwin_amd64 -platform=darwin_arm64
cp "$scratch/.terraform.lock.hcl" terraform/providers.lock.hcl
# Back to the default synth (local backend).
node scripts/run-app.js > /dev/null
echo "wrote terraform/providers.lock.hcl; commit it" >&2
