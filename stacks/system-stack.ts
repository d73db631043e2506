import { TfeProvider } from '@cdktf/provider-tfe/lib/provider';
import { DataTfeOutputs } from '@cdktf/provider-tfe/lib/data-tfe-outputs';
import {
  CloudBackend,
  DataTerraformRemoteStateLocal,
  DefaultTokenResolver,
  Lazy,
  LocalBackend,
  NamedCloudWorkspace,
  StringConcat,
  TerraformElement,
  TerraformOutput,
  TerraformStack,
  Token,
} from 'cdktf';
import { deepMerge } from 'cdktf/lib/util';
import type { IConstruct } from 'constructs';
import type { Construct } from 'constructs';
import type { BackendSettings, ResolvedEnvironment } from '../system/resolve';

export type { BackendSettings };
import { guardCrossStackReferences } from '../policy/cross-stack-guard';
import { groupByStage, stageIndex, stageOf, type DeployStage } from './deploy-order';
import { checkInvariants, InvariantError, type InvariantExemption, type InvariantViolation } from '../policy/invariants';
import { ConfigurationError } from '../constructs/core/configuration-error';
import { resolveTokens } from '../constructs/core/plain-resolve';

export interface SystemStackProps {
  /** The environment this stack belongs to; its `backend` decides where the stack keeps state. */
  readonly environment: ResolvedEnvironment;
}

/**
 * Terraform runs each stack in `cdktf.out/stacks/<stack>`; local state lives
 * three levels up, in the project root (where cdktf puts it by default), as a
 * relative path so the synthesized JSON is the same on every machine.
 */
const PROJECT_ROOT_FROM_STACK_DIR = '../../..';

export function localStatePath(stackName: string): string {
  return `${PROJECT_ROOT_FROM_STACK_DIR}/terraform.${stackName}.tfstate`;
}

export function workspaceName(backend: Extract<BackendSettings, { kind: 'cloud' }>, stackName: string): string {
  return `${backend.workspacePrefix}-${stackName}`;
}

interface PublishedOutput {
  readonly sensitive: boolean;
}

/**
 * A stack of one environment. Stacks talk to each other only through named
 * outputs: the producer `publish`es, the consumer reads with `outputsOf`.
 * Named outputs are a stable contract (cdktf's automatic cross-stack outputs
 * are hashed), and the reading side works under both backends: local remote
 * state, or `tfe_outputs` under Terraform Cloud, where cdktf's automatic
 * wiring fails with remote execution (terraform-cdk #1534).
 */
export class SystemStack extends TerraformStack {
  public readonly environment: ResolvedEnvironment;
  public readonly backend: BackendSettings;
  private readonly published = new Map<string, PublishedOutput>();
  private readonly readers = new Map<string, StackOutputs>();
  private readonly deployedAfter = new Map<string, SystemStack>();
  private tfeProvider?: TfeProvider;

  public constructor(scope: Construct, name: string, props: SystemStackProps) {
    super(scope, name);
    this.environment = props.environment;
    this.backend = props.environment.backend;
    guardCrossStackReferences(this);
    if (this.backend.kind === 'cloud') {
      new CloudBackend(this, {
        organization: this.backend.organization,
        workspaces: new NamedCloudWorkspace(workspaceName(this.backend, name)),
      });
    } else {
      new LocalBackend(this, { path: localStatePath(name) });
    }
  }

  /** The stack's name (`production-chat`): also its workspace suffix and GitHub environment. */
  public get stackName(): string {
    return this.node.id;
  }

  /** Labels every resource that takes them carries. */
  public labels(role: string): Record<string, string> {
    return { system: this.environment.systemName, env: this.environment.name, role, 'managed-by': 'cdktf' };
  }

  /** Publishes a value for other stacks under a stable output name. */
  public publish(name: string, value: string, options: { sensitive?: boolean; description?: string } = {}): void {
    if (this.published.has(name)) throw new Error(`Stack ${this.stackName} publishes output "${name}" twice`);
    const sensitive = options.sensitive ?? false;
    new TerraformOutput(this, name, { value, sensitive, description: options.description });
    this.published.set(name, { sensitive });
  }

  /** Whether `name` is published, and if so whether it is sensitive. */
  public publishedOutput(name: string): PublishedOutput | undefined {
    return this.published.get(name);
  }

  /** The names this stack publishes. */
  public get publishedNames(): string[] {
    return [...this.published.keys()];
  }

  /** Names of the stacks whose outputs this stack reads. */
  public get readsFrom(): string[] {
    return [...this.readers.keys()];
  }

  /** Reads another stack's published outputs; also orders deploys after it. */
  public outputsOf(producer: SystemStack): StackOutputs {
    let reader = this.readers.get(producer.stackName);
    if (reader === undefined) {
      this.deploysAfter(producer);
      reader = new StackOutputs(this, producer);
      this.readers.set(producer.stackName, reader);
    }
    return reader;
  }

  /** The stage this stack is deployed in (stacks/deploy-order.ts), from its kind: the name without `<env>-`. */
  public get deployStage(): DeployStage {
    return stageOf(this.stackName.slice(this.environment.name.length + 1));
  }

  /**
   * Deploys this stack after `upstream` (a product after the data stack that creates its database role, which it
   * never reads). Not a cdktf `addDependency`: that would make cdktf refuse `cdktf deploy <this stack>` alone. The
   * order every tool follows is DEPLOY_STAGES, so `upstream` must be of an earlier stage of the same environment.
   */
  public deploysAfter(upstream: SystemStack): void {
    if (this.deployedAfter.has(upstream.stackName)) return;
    if (upstream.environment.name !== this.environment.name || stageIndex(upstream.deployStage) >= stageIndex(this.deployStage)) {
      throw new Error(
        `Stack ${this.stackName} (stage ${this.deployStage}) cannot build on ${upstream.stackName} (stage ${upstream.deployStage}): ` +
          `a stack reads only from earlier stages of its own environment, in the order of DEPLOY_STAGES (stacks/deploy-order.ts)`,
      );
    }
    this.deployedAfter.set(upstream.stackName, upstream);
  }

  /**
   * @internal The read of another stack's outputs made before `reader`: reads go in deploy order, each after the one
   * before, so that when several upstream stacks are missing only the first stops the plan (Terraform skips whatever
   * depends on a failed data source) and the message is said once.
   */
  public readBefore(reader: StackOutputs): StackOutputs | undefined {
    const inOrder = [...this.readers.values()].sort(
      (a, b) => stageIndex(a.producer.deployStage) - stageIndex(b.producer.deployStage) || a.producer.stackName.localeCompare(b.producer.stackName),
    );
    return inOrder[inOrder.indexOf(reader) - 1];
  }

  /** Every stack deployed before this one, directly or not, in deploy order (stage, then name). */
  public get upstreamStacks(): SystemStack[] {
    const found = new Map<string, SystemStack>();
    const visit = (stack: SystemStack): void => {
      for (const upstream of stack.deployedAfter.values()) {
        if (found.has(upstream.stackName)) continue;
        found.set(upstream.stackName, upstream);
        visit(upstream);
      }
    };
    visit(this);
    return groupByStage(found.keys(), (name) => found.get(name)!.deployStage).flat().map((name) => found.get(name)!);
  }

  /**
   * What to run before this stack, as typed: one `cdktf deploy` line per stage (the stacks of a stage do not read
   * each other, so cdktf may run them together), or the whole environment through the ordering wrapper.
   */
  public deployFirstInstructions(): string[] {
    const upstream = new Map(this.upstreamStacks.map((stack) => [stack.stackName, stack] as const));
    return [
      'Deploy the stacks it builds on first, in this order (skip those already deployed):',
      ...groupByStage(upstream.keys(), (name) => upstream.get(name)!.deployStage).map((stage) => `  cdktf deploy ${stage.join(' ')}`),
      `then: cdktf deploy ${this.stackName}`,
      `Or deploy the whole environment in order: npm run deploy -- '${this.environment.name}-*'`,
    ];
  }

  /** May containers of this stack publish host ports? Only the edge stack's proxy does. */
  protected get publishesHostPorts(): boolean {
    return false;
  }

  /**
   * Exceptions the stack itself makes to the invariants, each with its
   * reason (written into the stack like the environment's).
   */
  protected get ownExemptions(): readonly InvariantExemption[] {
    return [];
  }

  /** Private addresses this stack itself publishes ports on, reachable over the private network only. @default - none */
  protected get privatePublishAddresses(): readonly string[] {
    return [];
  }

  /** Does this stack run app containers, held to the hardening rules? */
  protected get runsAppContainers(): boolean {
    return false;
  }

  /**
   * Skips cdktf's preparing pass. It resolves every value of the stack once
   * more before synth, only to turn implicit cross-stack references into
   * generated outputs; these stacks share values through named outputs alone
   * (`publish` / `outputsOf`), so the pass was a third of synth time spent on
   * nothing. A reference to another stack's resource cannot slip through
   * unwired: resolving it fails synth (`cross-stack-guard.ts`).
   */
  public override prepareStack(): void {
    this.ensureBackendExists();
  }

  /**
   * The final Terraform JSON, checked against the safety invariants: a
   * violation fails synth (and `Testing.synth`) naming stack, address and rule.
   */
  /** The JSON of the last synth, for checks across stacks (certificate orders). */
  public synthesizedJson?: any;

  public override toTerraform(): any {
    const tf = this.resolvedOnce();
    const environment = this.environment;
    const declared = environment.invariantExemptions.filter((exemption) => exemption.stack === this.stackName);
    const exemptions = [...declared, ...this.ownExemptions];
    const waived = new Map<InvariantExemption, InvariantViolation[]>();
    const violations = checkInvariants(tf, {
      stack: this.stackName,
      production: environment.production,
      adminSshCidrs: environment.adminSshCidrs,
      publicWeb: environment.loadBalancer === undefined,
      privatePublishAddresses: this.privatePublishAddresses,
      edgeServesIpv6: environment.ipv6,
      mayPublishPorts: this.publishesHostPorts,
      appContainers: this.runsAppContainers,
      exemptions,
      onWaived: (exemption, violation) => waived.set(exemption, [...(waived.get(exemption) ?? []), violation]),
    });
    if (violations.length > 0) throw new InvariantError(violations);
    // A waiver that waives nothing is stale or mistyped, and would hide a future violation nobody reviewed.
    const idle = declared.filter((exemption) => !waived.has(exemption));
    if (idle.length > 0) {
      throw new ConfigurationError(
        idle.map((exemption) => ({
          environment: environment.name,
          field: 'invariantExemptions',
          value: { rule: exemption.rule, stack: exemption.stack, resource: exemption.resource, ...(exemption.variable === undefined ? {} : { variable: exemption.variable }) },
          allowed: `an exemption that waives a violation: ${exemption.resource} does not break "${exemption.rule}" in ${exemption.stack}, so remove it`,
        })),
      );
    }
    // The deploy order for tools that read cdktf.out (the wrapper, the e2e harness): not in cdktf's manifest (deploy-order.ts).
    tf['//'] = { ...tf['//'], deploy: { stage: this.deployStage, after: [...this.deployedAfter.keys()].sort() } };
    this.synthesizedJson = tf;
    if (exemptions.length > 0) {
      // Visible in the synthesized file and so in every review of it.
      tf['//'] = {
        ...tf['//'],
        invariant_exemptions: exemptions.map((exemption) => ({
          rule: exemption.rule,
          resource: exemption.resource,
          ...(exemption.variable === undefined ? {} : { variable: exemption.variable }),
          reason: exemption.reason,
          waives: (waived.get(exemption) ?? []).map((violation) => `${violation.address}: ${violation.message}`),
        })),
      };
    }
    return tf;
  }

  /**
   * `TerraformStack.toTerraform` of cdktf 0.21.0 (lib/terraform-stack.js), less its last step: it resolves each
   * element's fragment, merges them, then resolves the merged document once more. The fragments hold no token
   * after the first pass (resolving is recursive), so the second pass walked every value of the stack (a fifth of
   * synth time) to change nothing; the stack's own overrides, merged last, are resolved on their own here.
   * The synthesized JSON is byte for byte the same (synth-stability.test.ts). Each fragment is resolved by
   * resolveTokens, which copies the token-free part of it without cdktf's per-value walk (plain-resolve.ts).
   */
  private resolvedOnce(): any {
    const resolve = <T>(value: T): T => resolveTokens(value, { scope: this, preparing: false, resolver: SYSTEM_STACK_RESOLVER }) as T;
    // Private in cdktf's typings; read exactly as its own toTerraform reads them.
    const { rawOverrides, cdktfVersion } = this as unknown as { readonly rawOverrides: Record<string, unknown>; readonly cdktfVersion: string };
    const elements = terraformElementsOf(this);
    const metadata = {
      version: cdktfVersion,
      stackName: this.node.id,
      backend: 'local',
      cloud: undefined,
      ...(Object.keys(rawOverrides).length > 0 ? { overrides: { stack: Object.keys(rawOverrides) } } : {}),
    };
    for (const element of elements) deepMerge(metadata, resolve(element.toMetadata()));
    const outputs = {};
    for (const element of elements) {
      if (!TerraformOutput.isTerraformOutput(element)) continue;
      const nested = element.node.path.split('/').reduceRight<any>((inner, part) => (Object.keys(inner).length === 0 ? { [part]: element.friendlyUniqueId } : { [part]: inner }), {});
      deepMerge(outputs, nested);
    }
    const tf: any = { '//': { metadata, outputs } };
    for (const element of elements) deepMerge(tf, resolve(element.toTerraform()));
    deepMerge(tf, resolve(rawOverrides));
    return tf;
  }

  /** @internal The tfe provider that `tfe_outputs` data sources need; one per stack. */
  public ensureTfeProvider(): void {
    // No token in the block: in a Terraform Cloud run it authenticates with the run's own token, which reads only
    // the states shared with this workspace (bootstrap-stack.ts sets no TFE_TOKEN on workspaces, on purpose).
    this.tfeProvider ??= new TfeProvider(this, 'tfe', {});
  }
}

const SYSTEM_STACK_RESOLVER = new DefaultTokenResolver(new StringConcat());

/** The Terraform elements of a stack, in construct order, not descending into nested stacks (as cdktf's own walk). */
function terraformElementsOf(node: IConstruct, into: TerraformElement[] = []): TerraformElement[] {
  if (TerraformElement.isTerraformElement(node)) into.push(node);
  for (const child of node.node.children) if (!TerraformStack.isStack(child)) terraformElementsOf(child, into);
  return into;
}

/** Typed access to one producer stack's outputs from inside a consumer stack. */
export class StackOutputs {
  private readonly localState?: DataTerraformRemoteStateLocal;
  private readonly tfeOutputs?: DataTfeOutputs;
  /** Output names read, for the check that the producer's state has them. */
  private readonly names = new Set<string>();

  public constructor(
    private readonly consumer: SystemStack,
    /** The stack whose outputs are read. */
    public readonly producer: SystemStack,
  ) {
    const id = `outputs-${producer.stackName}`;
    const backend = consumer.backend;
    if (backend.kind === 'cloud') {
      consumer.ensureTfeProvider();
      this.tfeOutputs = new DataTfeOutputs(consumer, id, {
        organization: backend.organization,
        workspace: workspaceName(backend, producer.stackName),
      });
    } else {
      this.localState = new DataTerraformRemoteStateLocal(consumer, id, { path: localStatePath(producer.stackName) });
    }
    this.guardMissingUpstream();
  }

  private get dataSource(): DataTerraformRemoteStateLocal | DataTfeOutputs {
    return this.localState ?? this.tfeOutputs!;
  }

  /** The Terraform address of the data source that reads the outputs. */
  public get address(): string {
    return this.localState !== undefined ? `data.terraform_remote_state.${this.localState.friendlyUniqueId}` : `data.tfe_outputs.${this.tfeOutputs!.friendlyUniqueId}`;
  }

  /** A published string output; fails at synth when the producer does not publish it. */
  public getString(name: string): string {
    const output = this.producer.publishedOutput(name);
    if (output === undefined) {
      throw new Error(
        `Stack ${this.consumer.stackName} reads output "${name}" of ${this.producer.stackName}, which publishes only: ${this.producer.publishedNames.join(', ') || '(nothing)'}`,
      );
    }
    this.names.add(name);
    if (this.localState !== undefined) return this.localState.getString(name);
    // tfe_outputs keeps sensitive outputs in `values` (itself sensitive) and the rest in `nonsensitive_values`.
    const map = output.sensitive ? this.tfeOutputs!.values : this.tfeOutputs!.nonsensitiveValues;
    return Token.asString(map.lookup(name));
  }


  /**
   * Stops the plan, before anything changes, with what to deploy first when the producer has not been
   * deployed, in place of Terraform's "Unable to find remote state" or "Unsupported attribute". Terraform checks a data
   * source's preconditions before reading it and its postconditions right after, and skips everything that uses a
   * data source whose condition failed (https://developer.hashicorp.com/terraform/language/expressions/custom-conditions#preconditions-and-postconditions).
   * Local state: the state file must exist (terraform_remote_state fails on a missing one, even with `defaults`:
   * internal/builtin/providers/terraform/data_source_state.go) and hold every output read (a destroyed stack's state
   * holds none). Terraform Cloud: tfe_outputs returns no outputs for a workspace without state (tfe 0.71
   * data_source_outputs.go), so the same output check applies; a workspace that does not exist at all is the
   * provider's "Unable to read workspace" (the bootstrap stack creates every workspace first).
   */
  private guardMissingUpstream(): void {
    // Lazy: what the consumer reads and builds on is complete only once every stack is constructed.
    const consumer = this.consumer;
    const producer = this.producer.stackName;
    const names = () => [...this.names].sort();
    const message = (first: string) => Lazy.stringValue({ produce: () => [first.replace('{names}', names().join(', ')), ...consumer.deployFirstInstructions()].join('\n') });
    const missingOutputs = (where: string) =>
      message(`${consumer.stackName} reads {names} from ${producer}, but ${where} does not hold them: ${producer} has not been deployed yet, was destroyed, or was deployed before it published them.`);
    const allPresent = (keys: string) => Lazy.stringValue({ produce: () => `\${alltrue([for name in ${JSON.stringify(names())} : contains(${keys}, name)])}` });
    const readBefore = () => consumer.readBefore(this);
    this.dataSource.addOverride('depends_on', Lazy.anyValue({ produce: () => (readBefore() === undefined ? undefined : [readBefore()!.address]) }));
    if (this.localState !== undefined) {
      const statePath = localStatePath(producer);
      // path.module (the stack's directory, where Terraform runs): a condition must refer to something, and the
      // local backend resolves the same relative path from there.
      this.localState.addOverride('lifecycle', {
        precondition: [
          {
            condition: `\${fileexists("\${path.module}/${statePath}")}`,
            error_message: message(`${consumer.stackName} reads outputs of ${producer}, which has not been deployed yet (no state file ${statePath}).`),
          },
        ],
        postcondition: [{ condition: allPresent('keys(self.outputs)'), error_message: missingOutputs('its state') }],
      });
    } else {
      // `values` holds every output, sensitive or not, and is itself sensitive: only its names are compared.
      this.tfeOutputs!.addOverride('lifecycle', {
        postcondition: [{ condition: allPresent('keys(nonsensitive(self.values))'), error_message: missingOutputs("its workspace's state") }],
      });
    }
  }

}
