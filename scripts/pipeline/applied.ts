/**
 * What the apply workflow remembers about each stack, and how it decides what to apply.
 *
 * After a stack is applied, the workflow records `refs/applied/<stack>` in the repository: an
 * annotated tag object whose message is an {@link AppliedRecord} (JSON) and which points at
 * the applied commit. Git refs outlive workflow runs, caches and artifacts, cannot be cancelled
 * away with a pending run, and anyone can read them with
 * `git fetch origin 'refs/applied/*:refs/applied/*'` and `git cat-file tag refs/applied/<stack>`.
 *
 * A run applies every stack whose synthesized config differs from the one last applied, that
 * was never applied, or that read outputs of an upstream stack which have changed since; so a
 * cancelled, failed or skipped run leaves its stacks for the next run instead of losing them.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { normalizeSynthesizedStack } from '../plan-comment/changed-stacks';
import { canonicalJson, isObject } from '../plan-comment/json';
import { SAFE_STACK_NAME, sortStacks } from '../plan-comment/stack-order';

/** Namespace of the per-stack refs. */
export const APPLIED_REF_PREFIX = 'refs/applied/';

/** The record kept in `refs/applied/<stack>`. */
export interface AppliedRecord {
  /** Stack name (`production-chat`). */
  readonly stack: string;
  /** Commit whose synthesized config was applied (40 hex digits). */
  readonly commit: string;
  /** sha256 of the stack's normalized synthesized config ({@link configDigest}). */
  readonly configDigest: string;
  /** sha256 of `terraform output -json` after the apply ({@link outputsDigest}). */
  readonly outputsDigest: string;
  /** outputsDigest of each upstream stack as it was when this stack was applied. */
  readonly upstreamOutputs: Readonly<Record<string, string>>;
  /** ISO time of the apply. */
  readonly appliedAt: string;
  /** Link to the workflow run that applied it. @default - none */
  readonly runUrl?: string;
}

const SHA256 = /^[0-9a-f]{64}$/;
const COMMIT = /^[0-9a-f]{40}$/;

/** sha256 of a stack's config after dropping cdktf's `//` metadata and ordering keys. */
export function configDigest(synthesized: unknown): string {
  return createHash('sha256').update(canonicalJson(normalizeSynthesizedStack(synthesized))).digest('hex');
}

/**
 * sha256 of `terraform output -json`: name, sensitivity, type and value of every output. Only
 * the digest is stored, never a value, so sensitive outputs stay in state.
 */
export function outputsDigest(outputs: unknown): string {
  if (!isObject(outputs)) throw new Error(`terraform output -json must print an object; got ${JSON.stringify(outputs)?.slice(0, 80)}`);
  return createHash('sha256').update(canonicalJson(outputs)).digest('hex');
}

/**
 * The stacks a synthesized stack reads outputs from: its `outputs-<stack>` data sources
 * (`terraform_remote_state` with local state, `tfe_outputs` under Terraform Cloud), the only
 * way stacks share values here (stacks/system-stack.ts `StackOutputs`).
 */
export function upstreamsOf(synthesized: unknown): string[] {
  const data = isObject(synthesized) && isObject(synthesized.data) ? synthesized.data : {};
  const names = new Set<string>();
  for (const type of ['terraform_remote_state', 'tfe_outputs']) {
    const block = data[type];
    if (!isObject(block)) continue;
    for (const id of Object.keys(block)) if (id.startsWith('outputs-')) names.add(id.slice('outputs-'.length));
  }
  return sortStacks(names);
}

/** Reads and checks a record; the message names the stack, the field and the value. */
export function parseAppliedRecord(text: string, expectedStack?: string): AppliedRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`applied record${expectedStack ? ` of ${expectedStack}` : ''} is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(value)) throw new Error('applied record must be a JSON object');
  const where = `applied record of ${typeof value.stack === 'string' ? value.stack : '(no stack)'}`;
  const field = (name: string, pattern: RegExp, allowed: string): string => {
    const item = value[name];
    if (typeof item !== 'string' || !pattern.test(item)) throw new Error(`${where}: ${name} is ${JSON.stringify(item)}; allowed: ${allowed}`);
    return item;
  };
  const stack = field('stack', SAFE_STACK_NAME, 'a stack name');
  if (expectedStack !== undefined && stack !== expectedStack) throw new Error(`${where}: stored under refs/applied/${expectedStack} but names ${stack}`);
  const upstream = value.upstreamOutputs;
  if (!isObject(upstream) || Object.values(upstream).some((digest) => typeof digest !== 'string' || !SHA256.test(digest))) {
    throw new Error(`${where}: upstreamOutputs is ${JSON.stringify(upstream)}; allowed: an object of stack -> sha256 hex`);
  }
  return {
    stack,
    commit: field('commit', COMMIT, '40 hex digits'),
    configDigest: field('configDigest', SHA256, 'sha256 hex'),
    outputsDigest: field('outputsDigest', SHA256, 'sha256 hex'),
    upstreamOutputs: upstream as Record<string, string>,
    appliedAt: field('appliedAt', /^\d{4}-\d\d-\d\dT/, 'an ISO time'),
    ...(typeof value.runUrl === 'string' ? { runUrl: value.runUrl } : {}),
  };
}

/** One stack of the head commit, as selection needs it. */
export interface HeadStack {
  readonly configDigest: string;
  readonly upstreams: readonly string[];
}

/** A stack to plan and apply, and why. */
export interface SelectedStack {
  readonly stack: string;
  readonly reason: string;
}

/** Inputs of {@link selectStacks}. */
export interface SelectionInput {
  /** Every stack of the head commit. */
  readonly head: ReadonlyMap<string, HeadStack>;
  /** The last applied record of each stack that has one. */
  readonly applied: ReadonlyMap<string, AppliedRecord>;
  /** Only these stacks are considered (one stage of the rollout). @default - every head stack */
  readonly candidates?: readonly string[];
  /** `all`, or stacks to plan even when nothing changed (a manual re-run). @default - none */
  readonly force?: 'all' | readonly string[];
}

/**
 * The stacks to plan, in rollout order, with the reason. A stack is selected when it was never
 * applied, when its config digest differs from the applied one, when an upstream's outputs
 * differ from those it was applied against, or when forced.
 */
export function selectStacks(input: SelectionInput): SelectedStack[] {
  const candidates = input.candidates ?? [...input.head.keys()];
  const unknown = candidates.filter((stack) => !input.head.has(stack));
  if (unknown.length > 0) throw new Error(`unknown stack(s) ${unknown.join(', ')}; allowed: ${sortStacks(input.head.keys()).join(', ')}`);
  const forced = input.force === 'all' ? new Set(candidates) : new Set(input.force ?? []);
  const unknownForced = [...forced].filter((stack) => !input.head.has(stack));
  if (unknownForced.length > 0) throw new Error(`cannot force unknown stack(s) ${unknownForced.join(', ')}; allowed: all, ${sortStacks(input.head.keys()).join(', ')}`);
  const selected: SelectedStack[] = [];
  for (const stack of sortStacks(candidates)) {
    const head = input.head.get(stack)!;
    const record = input.applied.get(stack);
    let reason: string | undefined;
    if (record === undefined) reason = 'never applied';
    else if (record.configDigest !== head.configDigest) reason = `config changed since ${record.commit.slice(0, 12)}`;
    else {
      const moved = head.upstreams.filter((upstream) => {
        const now = input.applied.get(upstream)?.outputsDigest;
        return now !== undefined && now !== record.upstreamOutputs[upstream];
      });
      if (moved.length > 0) reason = `outputs of ${moved.join(', ')} changed since it was applied`;
    }
    if (reason === undefined && forced.has(stack)) reason = 'requested by hand (workflow_dispatch)';
    if (reason !== undefined) selected.push({ stack, reason });
  }
  return selected;
}

/** Reads `<dir>/<stack>.json` records written by `git cat-file tag` (see the workflows). */
export function readAppliedRecords(dir: string): Map<string, AppliedRecord> {
  const records = new Map<string, AppliedRecord>();
  if (!fs.existsSync(dir)) return records;
  for (const file of fs.readdirSync(dir).filter((name) => name.endsWith('.json')).sort()) {
    const stack = file.slice(0, -'.json'.length);
    records.set(stack, parseAppliedRecord(fs.readFileSync(`${dir}/${file}`, 'utf8'), stack));
  }
  return records;
}
