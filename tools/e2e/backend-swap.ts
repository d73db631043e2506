/**
 * Terraform Cloud configuration, run offline: a stack synthesized for Terraform Cloud has a `cloud` block and
 * reads other stacks through `tfe_outputs` (organization + workspace). For the harness the `cloud` block becomes
 * the local backend, and each `tfe_outputs` becomes a `terraform_remote_state` of that workspace's local state,
 * with `.values` / `.nonsensitive_values` read as `.outputs` (tfe_outputs marks every value of `values`
 * sensitive; terraform_remote_state keeps each output's own sensitivity); each read keeps its order and conditions.
 */

/** Where a workspace's state lives in the run, and which stack a workspace belongs to. */
export interface SwapOptions {
  /** The stack being swapped (its own state file is statePath(stack)). */
  readonly stack: string;
  /** Stack name for a Terraform Cloud workspace name; throws for a workspace the run does not have. */
  readonly stackOfWorkspace: (workspace: string) => string;
  /** Local state file of a stack. */
  readonly statePath: (stack: string) => string;
}

/** Returns a copy of the stack JSON with the cloud block and tfe_outputs replaced (see the file comment). */
export function swapCloudForLocal(stackJson: any, options: SwapOptions): any {
  const swapped = JSON.parse(JSON.stringify(stackJson));
  const terraform = swapped.terraform ?? {};
  if (!terraform.cloud) throw new Error(`e2e: stack ${options.stack} has no cloud block to swap`);
  if (terraform.backend) throw new Error(`e2e: stack ${options.stack} has both a cloud block and a backend`);
  delete terraform.cloud;
  terraform.backend = { local: { path: options.statePath(options.stack) } };
  const outputs = swapped.data?.tfe_outputs ?? {};
  // A stack that reads no other stack has no data block, and Terraform refuses an empty one ("Missing block label").
  const remote = swapped.data?.terraform_remote_state ?? {};
  for (const [name, source] of Object.entries<any>(outputs)) {
    if (name in remote) throw new Error(`e2e: stack ${options.stack} already has data.terraform_remote_state.${name}`);
    const { lifecycle, depends_on: dependsOn } = source;
    remote[name] = { backend: 'local', config: { path: options.statePath(options.stackOfWorkspace(source.workspace)) }, ...(dependsOn ? { depends_on: dependsOn } : {}), ...(lifecycle ? { lifecycle } : {}) };
  }
  if (Object.keys(outputs).length > 0) {
    swapped.data.terraform_remote_state = remote;
    delete swapped.data.tfe_outputs;
  }
  // The reads' conditions (StackOutputs in stacks/system-stack.ts) check the names in `nonsensitive(self.values)`.
  return rewriteStrings(swapped, (text) =>
    text
      .replace(/\bdata\.tfe_outputs\.([A-Za-z0-9_-]+)\.(?:nonsensitive_values|values)\b/g, 'data.terraform_remote_state.$1.outputs')
      .replace(/^data\.tfe_outputs\.([A-Za-z0-9_-]+)$/, 'data.terraform_remote_state.$1')
      .replace(/\bnonsensitive\(self\.values\)/g, 'self.outputs'),
  );
}

function rewriteStrings(value: any, rewrite: (text: string) => string): any {
  if (typeof value === 'string') return rewrite(value);
  if (Array.isArray(value)) return value.map((element) => rewriteStrings(element, rewrite));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, element]) => [key, rewriteStrings(element, rewrite)]));
  }
  return value;
}
