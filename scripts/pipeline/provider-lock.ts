/**
 * Pinned provider lock files for the synthesized stacks.
 *
 * `terraform/providers.lock.hcl` is one dependency lock file for every provider the stacks use
 * (written by `scripts/pipeline/lock-providers.sh`, which needs the registry). cdktf writes each
 * stack into its own directory, so the workflows copy into it a lock file with exactly the
 * providers that stack requires, and run `terraform init -lockfile=readonly`: Terraform then
 * installs only packages whose checksums are in the lock file and fails instead of changing it.
 * (Terraform compares the set of locked providers with the required ones, so extra entries
 * would count as a change; hence one file per stack.)
 */
import { isObject } from '../plan-comment/json';

/** One `provider "<address>" { ... }` block of a lock file. */
export interface LockedProvider {
  /** Registry address (`registry.terraform.io/hetznercloud/hcloud`). */
  readonly address: string;
  /** `version = "..."` of the block. */
  readonly version: string;
  /** The block as written, from `provider` to its closing brace. */
  readonly text: string;
}

const HEADER = '# This file is maintained automatically by "terraform init".\n# Manual edits may be lost in future updates.\n';

/** Splits a lock file into its provider blocks. */
export function parseLockFile(text: string): Map<string, LockedProvider> {
  const providers = new Map<string, LockedProvider>();
  const block = /^provider "([^"]+)" \{\n([\s\S]*?)^\}\n?/gm;
  for (const match of text.matchAll(block)) {
    const version = /^\s*version\s*=\s*"([^"]+)"/m.exec(match[2])?.[1];
    if (version === undefined) throw new Error(`lock file: provider "${match[1]}" has no version`);
    providers.set(match[1], { address: match[1], version, text: match[0].endsWith('\n') ? match[0] : `${match[0]}\n` });
  }
  return providers;
}

/** `cloudflare/cloudflare` -> `registry.terraform.io/cloudflare/cloudflare`, as lock files name providers. */
export function registryAddress(source: string): string {
  return source.split('/').length === 3 ? source.toLowerCase() : `registry.terraform.io/${source.toLowerCase()}`;
}

/**
 * The lock file for one stack: the blocks of the providers it requires, in Terraform's order
 * (by address). Fails, naming the stack, provider and versions, when a provider is not locked
 * or is locked at another version than the stack pins.
 */
export function lockFileForStack(stack: string, synthesized: unknown, master: string): string {
  const terraform = isObject(synthesized) && isObject(synthesized.terraform) ? synthesized.terraform : {};
  const required = isObject(terraform.required_providers) ? terraform.required_providers : {};
  const locked = parseLockFile(master);
  const blocks: string[] = [];
  for (const [name, requirement] of Object.entries(required)) {
    const source = isObject(requirement) && typeof requirement.source === 'string' ? requirement.source : `hashicorp/${name}`;
    const version = isObject(requirement) && typeof requirement.version === 'string' ? requirement.version : undefined;
    const address = registryAddress(source);
    const entry = locked.get(address);
    if (entry === undefined) {
      throw new Error(`${stack}: provider ${address} is not in terraform/providers.lock.hcl (locked: ${[...locked.keys()].join(', ') || 'none'}); run scripts/pipeline/lock-providers.sh`);
    }
    if (version !== undefined && version !== entry.version) {
      throw new Error(`${stack}: provider ${address} is pinned to ${version} but locked at ${entry.version}; run scripts/pipeline/lock-providers.sh`);
    }
    blocks.push(entry.text);
  }
  const sorted = blocks.sort((a, b) => (a < b ? -1 : 1));
  return `${HEADER}\n${sorted.join('\n')}`;
}

/** Every provider source and pinned version the stacks require: what lock-providers.sh must lock. */
export function requiredProviderPins(stacks: Iterable<unknown>): Map<string, string> {
  const pins = new Map<string, string>();
  for (const synthesized of stacks) {
    const terraform = isObject(synthesized) && isObject(synthesized.terraform) ? synthesized.terraform : {};
    const required = isObject(terraform.required_providers) ? terraform.required_providers : {};
    for (const [name, requirement] of Object.entries(required)) {
      const source = isObject(requirement) && typeof requirement.source === 'string' ? requirement.source : `hashicorp/${name}`;
      const version = isObject(requirement) && typeof requirement.version === 'string' ? requirement.version : '';
      const seen = pins.get(source);
      if (seen !== undefined && seen !== version) throw new Error(`provider ${source} is pinned to ${seen} in one stack and ${version} in another`);
      pins.set(source, version);
    }
  }
  return new Map([...pins].sort(([a], [b]) => (a < b ? -1 : 1)));
}
