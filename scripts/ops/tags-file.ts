/**
 * The image tags an environment runs, as data: `environments/tags/<env>.json`, written by
 * machines (the release and rollback commands) and reviewed like any change (issue 19). This
 * module reads, validates and writes the file, and reads its history from git, which is the
 * release history: every commit that changed the file is a release or a rollback.
 *
 * File format (keys sorted, two-space indent, final newline, so diffs stay one line per change):
 *   { "environment": "staging",
 *     "products": { "chat": { "imageTag": "main-4f2c9e1", "imageTags": { "backend": "main-0a1b2c3" } } } }
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigurationError, type ConfigurationIssue } from '../../constructs/core/configuration-error';
import type { ProductSpec, ServiceSlots } from '../../system/model';
import { otherSlot } from '../../constructs/docker/traffic-split';
// The environment's own tag rules, so a tags file is judged exactly as synth judges it.
import { DOCKER_TAG, PRODUCTION_TAG } from '../../system/validation';

/** One product's tags: `imageTag` for every service, `imageTags` overriding single services. */
export interface ProductTags {
  readonly imageTag: string;
  readonly imageTags?: Readonly<Record<string, string>>;
  /** Release slots of services released through them (docs/releasing.md); kept as they are by every rewrite. @default - none */
  readonly slots?: Readonly<Record<string, ServiceSlots>>;
}

/** The content of one environment's tags file. */
export interface TagsFile {
  readonly environment: string;
  readonly products: Readonly<Record<string, ProductTags>>;
}

/** Where the tags files live, relative to the project root. */
export const TAGS_DIRECTORY = path.join('environments', 'tags');

export function tagsFilePath(root: string, environment: string): string {
  return path.join(root, TAGS_DIRECTORY, `${environment}.json`);
}


/**
 * The tag of a product that was never released: `main-` and only zeros (NEVER_RELEASED_TAG, which
 * an environment also runs for a listed product without a tag). Valid syntax, so the stacks
 * synthesize, but no image was ever pushed under it: production refuses to apply it
 * (scripts/release/release.ts) and no command writes it into production's file.
 */
export function isPlaceholderTag(tag: string): boolean {
  return /^main-0{7,40}$/.test(tag);
}

/** What validation needs to know about the environment and the catalog. */
export interface TagsContext {
  readonly environment: string;
  readonly production: boolean;
  readonly products: readonly ProductSpec[];
  /**
   * The products the environment runs (its PRODUCTS list); a listed product may have no tag yet.
   * @default - the products the tags file names
   */
  readonly runs?: readonly string[];
}

function tagIssues(context: TagsContext, product: string, field: string, tag: unknown): ConfigurationIssue[] {
  const base = { environment: context.environment, product, field };
  if (typeof tag !== 'string' || !DOCKER_TAG.test(tag)) {
    return [{ ...base, value: tag, allowed: 'a Docker tag: letters, digits, "_", "." and "-", at most 128 characters' }];
  }
  if (context.production && !PRODUCTION_TAG.test(tag)) {
    return [{ ...base, value: tag, allowed: 'an immutable tag: "main-<7 to 40 hex digits>" or "v<major>.<minor>.<patch>"', why: 'production never runs a moving tag' }];
  }
  return [];
}

/** Every problem of a parsed tags file (unknown product or service, bad tag, wrong environment). */
export function tagsFileIssues(value: unknown, context: TagsContext): ConfigurationIssue[] {
  const issues: ConfigurationIssue[] = [];
  const file = value as Partial<TagsFile> | null;
  if (file === null || typeof file !== 'object' || typeof file.products !== 'object' || file.products === null) {
    return [{ environment: context.environment, field: 'tags file', value, allowed: '{"environment": "<name>", "products": {"<product>": {"imageTag": "<tag>"}}}' }];
  }
  if (file.environment !== context.environment) {
    issues.push({ environment: context.environment, field: 'environment', value: file.environment, allowed: [context.environment] });
  }
  const known = new Map(context.products.map((product) => [product.name, product]));
  for (const [product, tags] of Object.entries(file.products)) {
    const spec = known.get(product);
    if (spec === undefined) {
      issues.push({ environment: context.environment, product, field: 'products', value: product, allowed: [...known.keys()] });
      continue;
    }
    issues.push(...tagIssues(context, product, 'imageTag', tags?.imageTag));
    for (const [service, tag] of Object.entries(tags?.imageTags ?? {})) {
      const services = spec.services.map((s) => s.name);
      if (!services.includes(service)) issues.push({ environment: context.environment, product, field: `imageTags.${service}`, value: service, allowed: services });
      else issues.push(...tagIssues(context, product, `imageTags.${service}`, tag));
    }
  }
  return issues;
}

/** Parses and validates; throws ConfigurationError listing every problem. */
export function parseTagsFile(text: string, context: TagsContext): TagsFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError([{ environment: context.environment, field: 'tags file', value: text.slice(0, 80), allowed: `valid JSON (${(error as Error).message})` }]);
  }
  const issues = tagsFileIssues(value, context);
  if (issues.length > 0) throw new ConfigurationError(issues);
  return value as TagsFile;
}

export function readTagsFile(root: string, context: TagsContext): TagsFile {
  const file = tagsFilePath(root, context.environment);
  if (!fs.existsSync(file)) {
    throw new ConfigurationError([{ environment: context.environment, field: 'tags file', value: path.relative(root, file), allowed: 'an existing file (one per environment)' }]);
  }
  return parseTagsFile(fs.readFileSync(file, 'utf8'), context);
}

function sortedObject<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/** The file's text: sorted keys, two-space indent, final newline. */
export function serializeTagsFile(file: TagsFile): string {
  const products = Object.fromEntries(
    Object.entries(sortedObject(file.products)).map(([name, tags]) => [
      name,
      {
        imageTag: tags.imageTag,
        ...(tags.imageTags !== undefined && Object.keys(tags.imageTags).length > 0 ? { imageTags: sortedObject(tags.imageTags) } : {}),
        ...(tags.slots !== undefined && Object.keys(tags.slots).length > 0 ? { slots: sortedObject(tags.slots) } : {}),
      },
    ]),
  );
  return `${JSON.stringify({ environment: file.environment, products }, null, 2)}\n`;
}

/** The tag a service runs: its own override, else the product's tag. */
export function effectiveTag(tags: ProductTags | undefined, service?: string): string | undefined {
  if (tags === undefined) return undefined;
  return (service !== undefined ? tags.imageTags?.[service] : undefined) ?? tags.imageTag;
}

/**
 * Sets a tag: for the whole product (drops per-service overrides, so every service runs it) or
 * for one service (an override). Validates the result; throws ConfigurationError.
 */
export function withTag(file: TagsFile, context: TagsContext, product: string, service: string | undefined, tag: string): TagsFile {
  const current = file.products[product];
  const next: ProductTags =
    service === undefined
      ? { imageTag: tag }
      : { imageTag: current?.imageTag ?? tag, imageTags: { ...(current?.imageTags ?? {}), [service]: tag } };
  const slots = slotsWithTag(current?.slots, service, tag);
  if (slots !== undefined) Object.assign(next, { slots });
  const updated: TagsFile = { environment: file.environment, products: { ...file.products, [product]: next } };
  const issues = tagsFileIssues(updated, context);
  if (context.production && isPlaceholderTag(tag)) {
    issues.push({ environment: context.environment, product, field: service === undefined ? 'imageTag' : `imageTags.${service}`, value: tag, allowed: 'a released tag', why: 'production never gets the placeholder of a product that was never released' });
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
  return updated;
}

/**
 * The slots after releasing `tag` (to `service`, or to every service when undefined): the tag
 * goes into each affected service's idle slot, where Terraform creates it beside the serving
 * version and `release run` takes it through the steps; a tag already serving changes nothing.
 */
export function slotsWithTag(slots: Readonly<Record<string, ServiceSlots>> | undefined, service: string | undefined, tag: string): Record<string, ServiceSlots> | undefined {
  if (slots === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(slots).map(([name, current]) => {
      if ((service !== undefined && name !== service) || current[current.live] === tag) return [name, current];
      return [name, { ...current, [otherSlot(current.live)]: tag }];
    }),
  );
}

/**
 * The tags file with the slots the hosts recorded for services of `product` (`release record-slots`): which slot
 * serves and the tags of the slots still holding containers, so the next apply keeps what the release did (the
 * serving slot must run, the other may stay stopped, a removed kept version is not created again). A service whose
 * tag is in no remaining slot (rolled back, then its window closed) gets the serving slot's tag as its own.
 */
export function withSlots(file: TagsFile, context: TagsContext, product: string, slots: Readonly<Record<string, ServiceSlots>>): TagsFile {
  const current = file.products[product];
  if (current === undefined) throw new ConfigurationError([{ environment: context.environment, product, field: 'products', value: product, allowed: Object.keys(file.products), why: 'no tag was ever released for it' }]);
  let imageTags = { ...(current.imageTags ?? {}) };
  for (const [service, recorded] of Object.entries(slots)) {
    const tag = effectiveTag(current, service)!;
    if (recorded.blue !== tag && recorded.green !== tag) imageTags = { ...imageTags, [service]: recorded[recorded.live]! };
  }
  const next: ProductTags = { imageTag: current.imageTag, ...(Object.keys(imageTags).length > 0 ? { imageTags } : {}), slots: { ...(current.slots ?? {}), ...slots } };
  const updated: TagsFile = { environment: file.environment, products: { ...file.products, [product]: next } };
  const issues = tagsFileIssues(updated, context);
  if (issues.length > 0) throw new ConfigurationError(issues);
  return updated;
}

/**
 * What `release record-slots --save` read from the hosts, for a job without host access to commit later
 * (`record-slots --from`): the slots per service and the tag each service was released with in the tags file
 * the apply used, so a release recorded after the snapshot is told apart from the one it is of.
 */
export interface SlotsSnapshot {
  readonly environment: string;
  readonly product: string;
  readonly slots: Readonly<Record<string, ServiceSlots>>;
  /** Per service, the tag the tags file released when the hosts were read. */
  readonly releasedTags: Readonly<Record<string, string>>;
}

/**
 * The tags file with a saved snapshot of the hosts' slots, applied to a tags file that may have moved on since
 * (commit-tags.sh re-runs this on the newest main): a service whose file already records a newer host change
 * keeps it (an older snapshot never overwrites a newer one), and a tag released after the snapshot goes on
 * into the idle slot of the recorded state, as `release record` would have put it there.
 */
export function withSlotsSnapshot(file: TagsFile, context: TagsContext, snapshot: SlotsSnapshot): { readonly file: TagsFile; readonly skipped: readonly string[] } {
  const current = file.products[snapshot.product];
  const skipped: string[] = [];
  const slots: Record<string, ServiceSlots> = {};
  for (const [service, recorded] of Object.entries(snapshot.slots)) {
    const inFile = current?.slots?.[service]?.hostChangedAt;
    if (inFile !== undefined && (recorded.hostChangedAt === undefined || inFile > recorded.hostChangedAt)) skipped.push(`${service}: the tags file already records a newer host change (${inFile}) than this snapshot (${recorded.hostChangedAt ?? 'none'})`);
    else slots[service] = recorded;
  }
  if (Object.keys(slots).length === 0) return { file, skipped };
  let next = withSlots(file, context, snapshot.product, slots);
  for (const service of Object.keys(slots)) {
    const released = effectiveTag(current, service);
    if (released !== undefined && released !== snapshot.releasedTags[service]) next = withTag(next, context, snapshot.product, service, released);
  }
  return { file: next, skipped };
}

export function writeTagsFile(root: string, file: TagsFile): string {
  const target = tagsFilePath(root, file.environment);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, serializeTagsFile(file));
  return target;
}

/** One entry of the release history: the tag a service ran from a commit on. */
export interface TagRelease {
  readonly commit: string;
  /** Committer date, ISO 8601. */
  readonly date: string;
  readonly subject: string;
  readonly tag: string;
}

/** Runs git and returns stdout; injected in tests. */
export type GitRunner = (args: readonly string[]) => string;

export function gitRunner(root: string): GitRunner {
  return (args) => {
    const result = spawnSync('git', [...args], { cwd: root, encoding: 'utf8' });
    if (result.error !== undefined) throw new Error(`git could not be run: ${result.error.message}`);
    if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr.trim()}`);
    return result.stdout;
  };
}

/**
 * The tags a product (or one service) ran in an environment, newest first, from the committed
 * history of its tags file; consecutive commits with the same tag are one release.
 */
export function tagHistory(git: GitRunner, environment: string, product: string, service?: string): TagRelease[] {
  const file = path.posix.join('environments', 'tags', `${environment}.json`);
  const log = git(['log', '--format=%H%x09%cI%x09%s', '--', file]).trim();
  const releases: TagRelease[] = [];
  for (const line of log === '' ? [] : log.split('\n')) {
    const [commit, date, ...subject] = line.split('\t');
    let tags: TagsFile;
    try {
      tags = JSON.parse(git(['show', `${commit}:${file}`])) as TagsFile;
    } catch {
      continue; // a commit that deleted or broke the file is not a release
    }
    const tag = effectiveTag(tags.products?.[product], service);
    if (tag === undefined) continue;
    const newer = releases[releases.length - 1];
    if (newer !== undefined && newer.tag === tag) {
      releases[releases.length - 1] = { commit, date, subject: subject.join('\t'), tag };
    } else {
      releases.push({ commit, date, subject: subject.join('\t'), tag });
    }
  }
  return releases;
}

/** The newest tag in the history that differs from the current one; what a rollback without a tag goes back to. */
export function previousTag(history: readonly TagRelease[], current: string): TagRelease | undefined {
  const index = history.findIndex((release) => release.tag === current);
  const older = index === -1 ? history : history.slice(index + 1);
  return older.find((release) => release.tag !== current);
}
