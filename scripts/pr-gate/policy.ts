/**
 * The pull-request gate: what a pull request's synthesized stacks may contain before anything
 * plans them (issue 30).
 *
 * A speculative plan evaluates data sources and configures providers from the configuration it
 * is given, inside a workspace (or job) that holds credentials. The pull request writes that
 * configuration, so it is checked first against a shape derived from the BASE branch's own
 * synth, by code from the base branch (.github/workflows/pr-plan.yml runs this from a checkout
 * of the base commit; nothing of the pull request's checkout runs there). The attacker controls
 * every byte of the head synth and its directory; they control neither this code nor the base
 * synth it compares with.
 *
 * The shape, per stack: provider sources and versions pinned by the base; provider blocks equal
 * to one the base writes for a stack of the same environment and kind (a product may move to
 * another host of its environment; no new endpoint, host, credential or alias); the backend of
 * that stack as the base writes it; resource and data-source types the base uses for that kind,
 * never `external`, `http`, `local_*`, `null_*`, `terraform_data` or a provisioner; remote-state
 * and `tfe_outputs` reads only of the producers the base lets that kind read, configured as the
 * base configures such reads; only top-level blocks and functions the base uses; every new
 * variable sensitive; no file but cdk.tf.json in a stack's directory.
 */
import { parseStackName, PLATFORM_STACK_KINDS, CREDENTIALS_KIND_SUFFIX } from '../plan-comment/stack-order';
import { isObject } from '../plan-comment/json';
import { functionsCalled, stringsOf } from './expressions';

/** One refusal: the stack, the Terraform address and the rule it breaks. */
export interface GateViolation {
  readonly stack: string;
  /** Terraform address or block (`data.external.x`, `provider.docker[0]`, `terraform.cloud`). */
  readonly address: string;
  readonly rule: GateRule;
  /** What was found and what is allowed. */
  readonly detail: string;
}

export type GateRule =
  | 'unknown-stack-kind'
  | 'extra-file'
  | 'top-level-block'
  | 'terraform-block'
  | 'backend'
  | 'provider-pin'
  | 'provider-config'
  | 'forbidden-type'
  | 'provisioner'
  | 'resource-type'
  | 'data-type'
  | 'producer'
  | 'function'
  | 'variable-sensitive'
  | 'data-argument';

/** One stack as read from cdktf.out: its parsed cdk.tf.json and the files of its directory. */
export interface GateStack {
  readonly json: unknown;
  /** File names in the stack's directory (cdk.tf.json, .terraform.lock.hcl, ...). */
  readonly files: readonly string[];
}

/** Files a stack directory may hold: the configuration, and the lock file the pipeline writes over from the base's lock. */
const ALLOWED_FILES = new Set(['cdk.tf.json', '.terraform.lock.hcl']);

/** Types refused whatever the base uses: they run commands, read local files or call arbitrary URLs while planning. */
const FORBIDDEN_TYPE = /^(external|http|local_.*|null_.*|terraform_data|tls_.*|dns_.*)$/;

/** Data sources that read another stack's outputs. */
const REMOTE_STATE_TYPES = ['terraform_remote_state', 'tfe_outputs'];

/** Producer ids are `outputs-<stack>` (stacks/system-stack.ts `outputsOf`). */
const PRODUCER_PREFIX = 'outputs-';

/**
 * The kind of stack, for the shape: `network`, `edge`, `data`, `monitoring`, `credentials`,
 * `product`, or the whole name for a stack outside `<env>-<kind>` (`bootstrap`).
 */
export function stackClass(name: string): string {
  const { kind } = parseStackName(name);
  if (kind === '') return name;
  if (kind.endsWith(CREDENTIALS_KIND_SUFFIX)) return 'credentials';
  if ([...PLATFORM_STACK_KINDS, 'monitoring'].includes(kind)) return kind;
  return 'product';
}

/** How a reader relates to a producer: the producer's kind, or own/other credentials. */
function producerRole(reader: string, producer: string): string {
  const readerName = parseStackName(reader);
  const producerName = parseStackName(producer);
  if (readerName.env !== producerName.env) return 'another-environment';
  const producerClass = stackClass(producer);
  if (producerClass !== 'credentials') return producerClass;
  return producerName.kind === `${readerName.kind}${CREDENTIALS_KIND_SUFFIX}` ? 'own-credentials' : 'other-credentials';
}

/** JSON with sorted keys and cdktf's `//` metadata removed (Terraform ignores `//` keys). */
export function canonical(value: unknown): string {
  const strip = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(strip);
    if (!isObject(item)) return item;
    return Object.fromEntries(
      Object.keys(item)
        .filter((key) => key !== '//')
        .sort()
        .map((key) => [key, strip(item[key])]),
    );
  };
  return JSON.stringify(strip(value));
}

/** `canonical(value)` with every occurrence of a stack name as a placeholder, to compare blocks of different stacks. */
function templated(value: unknown, name: string, placeholder: string): string {
  return canonical(value).split(name).join(placeholder);
}

const objectAt = (value: unknown, key: string): Record<string, unknown> => (isObject(value) && isObject(value[key]) ? value[key] : {});

/** What the base branch's synth allows, derived from it alone. */
export interface GateShape {
  /** Provider local name -> `source@version` the base requires. */
  readonly pins: Map<string, Set<string>>;
  /** `<env>/<class>` -> provider name -> canonical blocks. */
  readonly providers: Map<string, Map<string, Set<string>>>;
  /** `<class>` -> templated `terraform` block without required_providers (backend or cloud). */
  readonly backends: Map<string, Set<string>>;
  /** `<class>` -> resource types. */
  readonly resourceTypes: Map<string, Set<string>>;
  /** `<class>` -> data-source types other than remote-state reads. */
  readonly dataTypes: Map<string, Set<string>>;
  /** `<class>` -> producer roles its remote-state reads have. */
  readonly producerRoles: Map<string, Set<string>>;
  /** Remote-state type -> templated blocks (producer name as a placeholder). */
  readonly producerReads: Map<string, Set<string>>;
  readonly topLevelBlocks: Set<string>;
  readonly functions: Set<string>;
  /** Variables the base declares sensitive somewhere. */
  readonly sensitiveVariables: Set<string>;
  /** Every variable the base declares. */
  readonly declaredVariables: Set<string>;
}

function add<K>(map: Map<K, Set<string>>, key: K, ...values: string[]): void {
  const set = map.get(key) ?? new Set<string>();
  values.forEach((value) => set.add(value));
  map.set(key, set);
}

/** The terraform block minus required_providers: the backend or cloud block, as synth writes it. */
function backendOf(json: unknown): Record<string, unknown> {
  const { required_providers: _pins, ...rest } = objectAt(json, 'terraform');
  return rest;
}

/** Derives the allowed shape from every stack of the base branch's synth. */
export function shapeOf(base: ReadonlyMap<string, unknown>): GateShape {
  const shape: GateShape = {
    pins: new Map(),
    providers: new Map(),
    backends: new Map(),
    resourceTypes: new Map(),
    dataTypes: new Map(),
    producerRoles: new Map(),
    producerReads: new Map(),
    topLevelBlocks: new Set(),
    functions: new Set(),
    sensitiveVariables: new Set(),
    declaredVariables: new Set(),
  };
  for (const [name, json] of base) {
    const kind = stackClass(name);
    const envKind = `${parseStackName(name).env}/${kind}`;
    if (isObject(json)) Object.keys(json).forEach((key) => shape.topLevelBlocks.add(key));
    for (const [local, requirement] of Object.entries(objectAt(objectAt(json, 'terraform'), 'required_providers'))) {
      add(shape.pins, local, canonical(requirement));
    }
    const providers = shape.providers.get(envKind) ?? new Map<string, Set<string>>();
    shape.providers.set(envKind, providers);
    for (const [provider, blocks] of Object.entries(objectAt(json, 'provider'))) {
      for (const block of Array.isArray(blocks) ? blocks : [blocks]) add(providers, provider, canonical(block));
    }
    add(shape.backends, kind, templated(backendOf(json), name, '<stack>'));
    add(shape.resourceTypes, kind, ...Object.keys(objectAt(json, 'resource')));
    for (const [type, blocks] of Object.entries(objectAt(json, 'data'))) {
      if (!REMOTE_STATE_TYPES.includes(type)) {
        add(shape.dataTypes, kind, type);
        continue;
      }
      for (const [id, block] of Object.entries(isObject(blocks) ? blocks : {})) {
        const producer = id.slice(PRODUCER_PREFIX.length);
        add(shape.producerRoles, kind, producerRole(name, producer));
        add(shape.producerReads, type, templated(block, producer, '<producer>'));
      }
    }
    for (const [, text] of stringsOf(withoutProducerReads(json))) functionsCalled(text).forEach((fn) => shape.functions.add(fn));
    for (const [variable, declaration] of Object.entries(objectAt(json, 'variable'))) {
      shape.declaredVariables.add(variable);
      if (isObject(declaration) && declaration.sensitive === true) shape.sensitiveVariables.add(variable);
    }
  }
  return shape;
}

const list = (values: Iterable<string> | undefined) => [...(values ?? [])].sort().join(', ') || 'none';

/** Every violation of one head stack against the base's shape. */
export function checkStack(name: string, stack: GateStack, shape: GateShape, headStacks: ReadonlySet<string>): GateViolation[] {
  const violations: GateViolation[] = [];
  const refuse = (address: string, rule: GateRule, detail: string) => violations.push({ stack: name, address, rule, detail });
  const { json } = stack;
  const kind = stackClass(name);
  const envKind = `${parseStackName(name).env}/${kind}`;

  for (const file of stack.files) {
    if (!ALLOWED_FILES.has(file)) refuse(file, 'extra-file', `Terraform reads every *.tf, *.tf.json and *.tfvars file of the directory; allowed: ${list(ALLOWED_FILES)}`);
  }
  if (!shape.resourceTypes.has(kind) || !shape.providers.has(envKind)) {
    refuse(name, 'unknown-stack-kind', `the base branch has no ${kind} stack in environment ${parseStackName(name).env}, so nothing says what it may contain; merge its first version without a pull-request plan`);
    return violations;
  }
  if (!isObject(json)) {
    refuse(name, 'top-level-block', 'cdk.tf.json is not a JSON object');
    return violations;
  }
  for (const key of Object.keys(json)) {
    if (!shape.topLevelBlocks.has(key)) refuse(key, 'top-level-block', `block "${key}" is not one the base branch writes (${list(shape.topLevelBlocks)})`);
  }

  // Terraform settings: pinned providers, and the backend exactly as the base writes it for this stack.
  const terraform = objectAt(json, 'terraform');
  for (const [local, requirement] of Object.entries(objectAt(terraform, 'required_providers'))) {
    if (!shape.pins.get(local)?.has(canonical(requirement))) {
      refuse(`terraform.required_providers.${local}`, 'provider-pin', `${canonical(requirement)}; allowed: ${list(shape.pins.get(local))}`);
    }
  }
  if (!shape.backends.get(kind)!.has(templated(backendOf(json), name, '<stack>'))) {
    refuse('terraform', 'backend', `backend or cloud block ${canonical(backendOf(json))} is not the one the base branch writes for ${name}`);
  }

  const allowedProviders = shape.providers.get(envKind)!;
  for (const [provider, blocks] of Object.entries(objectAt(json, 'provider'))) {
    for (const [index, block] of (Array.isArray(blocks) ? blocks : [blocks]).entries()) {
      if (!allowedProviders.get(provider)?.has(canonical(block))) {
        refuse(`provider.${provider}[${index}]`, 'provider-config', `configuration ${canonical(block)} is not one the base branch writes for a ${kind} stack of this environment (endpoints, hosts, credentials and aliases are fixed)`);
      }
    }
  }

  for (const [type, blocks] of Object.entries(objectAt(json, 'resource'))) {
    for (const id of Object.keys(isObject(blocks) ? blocks : {})) {
      const address = `${type}.${id}`;
      if (FORBIDDEN_TYPE.test(type)) refuse(address, 'forbidden-type', `${type} can run commands, read local files or reach any address while planning`);
      else if (!shape.resourceTypes.get(kind)!.has(type)) refuse(address, 'resource-type', `${type} is not a resource type of ${kind} stacks; allowed: ${list(shape.resourceTypes.get(kind))}`);
    }
  }
  for (const [path] of stringsOf(json)) {
    // Provisioners (local-exec, remote-exec, file) and connection blocks anywhere, whatever the type.
    const segment = /(^|\.)(provisioner|connection)(\.|\[|$)/.exec(path);
    if (segment) refuse(path.slice(0, segment.index + segment[0].length).replace(/[.[]$/, ''), 'provisioner', 'provisioners and connections run commands; none is allowed');
  }

  for (const [type, blocks] of Object.entries(objectAt(json, 'data'))) {
    for (const [id, block] of Object.entries(isObject(blocks) ? blocks : {})) {
      const address = `data.${type}.${id}`;
      if (FORBIDDEN_TYPE.test(type)) {
        refuse(address, 'forbidden-type', `${type} can run commands, read local files or reach any address while planning`);
      } else if (REMOTE_STATE_TYPES.includes(type)) {
        checkProducerRead(name, type, id, block, shape, headStacks, (detail) => refuse(address, 'producer', detail));
      } else if (!shape.dataTypes.get(kind)?.has(type)) {
        refuse(address, 'data-type', `${type} is not a data source of ${kind} stacks; allowed: ${list(shape.dataTypes.get(kind))}`);
      } else {
        for (const reference of secretReferences(block)) {
          refuse(address, 'data-argument', `reads ${reference}: a data source's arguments are sent to its API while planning, so they may not carry variables or other stacks' outputs`);
        }
      }
    }
  }

  for (const [path, text] of stringsOf(withoutProducerReads(json))) {
    for (const fn of functionsCalled(text)) {
      if (!shape.functions.has(fn)) refuse(path, 'function', `${fn}() is not called anywhere in the base branch's synth; allowed: ${list(shape.functions)}`);
    }
  }
  for (const [variable, declaration] of Object.entries(objectAt(json, 'variable'))) {
    const sensitive = isObject(declaration) && declaration.sensitive === true;
    if (!sensitive && (shape.sensitiveVariables.has(variable) || !shape.declaredVariables.has(variable))) {
      refuse(`var.${variable}`, 'variable-sensitive', 'a variable the base declares sensitive, or a new one, must be sensitive: its workspace value would print in the plan');
    }
  }
  return violations;
}

/**
 * A stack without its reads of other stacks: those are compared whole with the base's (checkProducerRead), and the
 * functions their guards call (`nonsensitive` in the tfe_outputs postcondition) must not become allowed elsewhere,
 * where `nonsensitive(var.x)` in an output would print a secret into the plan comment.
 */
function withoutProducerReads(json: unknown): unknown {
  if (!isObject(json) || !isObject(json.data)) return json;
  const data = Object.fromEntries(Object.entries(json.data).filter(([type]) => !REMOTE_STATE_TYPES.includes(type)));
  return { ...json, data };
}

/** References to variables and to other stacks' outputs in a block: values a data source would send out while planning. */
function secretReferences(block: unknown): string[] {
  const found = new Set<string>();
  for (const [, text] of stringsOf(block)) {
    for (const match of text.matchAll(/\b(var\.[A-Za-z0-9_-]+|data\.(?:terraform_remote_state|tfe_outputs)\.[A-Za-z0-9_-]+)/g)) found.add(match[1]);
  }
  return [...found].sort();
}

function checkProducerRead(reader: string, type: string, id: string, block: unknown, shape: GateShape, headStacks: ReadonlySet<string>, refuse: (detail: string) => void): void {
  if (!id.startsWith(PRODUCER_PREFIX)) return refuse(`a ${type} read must be named ${PRODUCER_PREFIX}<stack>`);
  const producer = id.slice(PRODUCER_PREFIX.length);
  const role = producerRole(reader, producer);
  const kind = stackClass(reader);
  if (!headStacks.has(producer)) return refuse(`${producer} is not a stack of this synth`);
  if (!shape.producerRoles.get(kind)?.has(role)) {
    return refuse(`a ${kind} stack may not read ${producer} (${role}); the base lets ${kind} stacks read: ${list(shape.producerRoles.get(kind))}`);
  }
  if (!shape.producerReads.get(type)?.has(templated(block, producer, '<producer>'))) {
    refuse(`the read of ${producer} is not configured as the base branch configures ${type} (${canonical(block)})`);
  }
}

/** Checks every stack of the head synth; an empty list means the gate passes. */
export function checkSynth(base: ReadonlyMap<string, unknown>, head: ReadonlyMap<string, GateStack>): GateViolation[] {
  const shape = shapeOf(base);
  const names = new Set(head.keys());
  return [...head].flatMap(([name, stack]) => checkStack(name, stack, shape, names));
}

/** One line per violation: `stack address [rule] detail`. */
export function formatViolation(violation: GateViolation): string {
  return `${violation.stack} ${violation.address} [${violation.rule}] ${violation.detail}`;
}
