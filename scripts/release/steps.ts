/**
 * The release commands over an environment's hosts (docs/releasing.md):
 * `run` takes each service of a product whose idle slot holds a new version
 * through the steps of rollout.ts; `rollback` switches back to the kept
 * version inside the window, or says how to re-deploy after it;
 * `close-window` removes kept versions whose window ended; `trafficLines`
 * is what ops shows. A service no release has put into slots is said so and
 * left alone: the apply already swapped its container.
 */
import { otherSlot, RELEASE_SLOTS, type ReleaseSlot } from '../../constructs/docker/traffic-split';
import type { ServiceSlots } from '../../system/model';
import type { ResolvedEnvironment, ResolvedService } from '../../system/resolve';
import { OperatorError } from '../lib/tools';
import { smokeRunFor, type ReleaseSite, type ReleaseSites } from './release-sites';
import { closeWindow, currentSplit, readRecord, releaseVersion, rollbackVersion, trafficState, type ReleaseOutcome, type StepOutput, type VersionContainer, type WatchTiming } from './rollout';

/** The services a command acts on: one named, or every container service of the product. */
export function releaseServices(environment: ResolvedEnvironment, product: string, service?: string): ResolvedService[] {
  const spec = environment.products.find((candidate) => candidate.name === product);
  if (spec === undefined) {
    throw new OperatorError(`environment "${environment.name}": product "${product}" does not run here; products: ${environment.products.map((p) => p.name).join(', ')}`);
  }
  const services = spec.services.filter((candidate) => candidate.runsContainer);
  if (service === undefined) return services;
  const named = services.find((candidate) => candidate.name === service);
  if (named === undefined) {
    throw new OperatorError(`environment "${environment.name}", product "${product}": no service "${service}" with a container; services: ${services.map((s) => s.name).join(', ')}`);
  }
  return [named];
}

/** What one service's release found on one host. */
export type ServiceRelease = { readonly site: string; readonly service: string } & ({ readonly skipped: string } | { readonly outcome: ReleaseOutcome });

/** The slot holding a version that is neither serving nor the kept one, with its tag; or why there is none. */
async function newVersionSlot(site: ReleaseSite, service: string): Promise<{ slot: ReleaseSlot; tag: string; first: boolean } | { skipped: string }> {
  const record = await readRecord(site.host, service);
  const bySlot = new Map<ReleaseSlot, VersionContainer[]>();
  for (const slot of RELEASE_SLOTS) bySlot.set(slot, await site.host.containers(service, slot));
  const tagOf = (slot: ReleaseSlot) => bySlot.get(slot)!.map((c) => c.tag).find(Boolean) ?? 'unknown';
  if (record === undefined) {
    const occupied = RELEASE_SLOTS.filter((slot) => bySlot.get(slot)!.length > 0);
    if (occupied.length === 0) return { skipped: 'not released through slots (no blue or green containers): the apply swapped its container' };
    if (occupied.length === 2) throw new OperatorError(`${service} on ${site.name}: both slots hold containers but the edge has no release record; remove the stale slot or write the record by hand (docs/releasing.md)`);
    return { slot: occupied[0]!, tag: tagOf(occupied[0]!), first: true };
  }
  const idle = otherSlot(record.live);
  const containers = bySlot.get(idle)!;
  if (containers.length === 0) return { skipped: `${record.live} serves ${record.tags[record.live] ?? 'its version'}; no new version in ${idle}` };
  const tag = tagOf(idle);
  if (tag === record.tags[idle] && containers.every((c) => !c.running)) return { skipped: `${record.live} serves ${record.tags[record.live] ?? 'its version'}; ${idle} holds the kept version ${tag}` };
  return { slot: idle, tag, first: false };
}

/** `release run`: every service of the product with a new version in its idle slot, on every host. */
export async function runRelease(sites: ReleaseSites, environment: ResolvedEnvironment, services: readonly ResolvedService[], out: StepOutput, timing?: WatchTiming): Promise<ServiceRelease[]> {
  const results: ServiceRelease[] = [];
  for (const service of services) {
    for (const site of sites.sites) {
      const found = await newVersionSlot(site, service.id);
      if ('skipped' in found) {
        if (service.host === site.name) out.line(`--- ${service.id} on ${site.name}: ${found.skipped}`);
        results.push({ site: site.name, service: service.id, skipped: found.skipped });
        continue;
      }
      const containers = await site.host.containers(service.id, found.slot);
      const target = await site.smokeTarget(containers[0]!.name);
      const smoke = sites.smokeChecks(service.product, service.name).map((check) => smokeRunFor(check, target));
      // The first release into slots has no old version beside it: nothing to compare a canary with, nothing to keep.
      const policy = found.first ? { ...environment.releases, canary: undefined } : environment.releases;
      out.line(`=== ${service.id} on ${site.name}: ${found.tag} in ${found.slot}${found.first ? ' (first release through slots: no canary)' : ''}`);
      const outcome = await releaseVersion(site.host, policy.canary === undefined ? noMetrics : sites.metrics(), { service: service.id, slot: found.slot, tag: found.tag, smoke, policy, timing }, out);
      results.push({ site: site.name, service: service.id, outcome });
    }
  }
  return results;
}

/** Never asked: a release without a canary reads no metrics. */
const noMetrics = {
  versionSignals: async () => {
    throw new Error('no canary: no metrics are read');
  },
};

/** `release rollback`: the kept version inside the window; after it, how to re-deploy the previous tag. */
export async function runRollback(sites: ReleaseSites, environment: ResolvedEnvironment, services: readonly ResolvedService[], out: StepOutput, timing?: WatchTiming): Promise<number> {
  let rolledBack = 0;
  for (const service of services) {
    for (const site of sites.sites) {
      if ((await readRecord(site.host, service.id)) === undefined) continue;
      const outcome = await rollbackVersion(site.host, service.id, out, timing);
      rolledBack += 1;
      if (outcome.path === 'window') {
        const record = await readRecord(site.host, service.id);
        out.line(`${service.id} on ${site.name}: switched back to ${record?.tags[outcome.to] ?? outcome.to} (kept version, no pull) in ${outcome.seconds.toFixed(1)} s`);
      } else {
        const tag = outcome.tag ?? '<previous tag>';
        out.line(
          [
            `${service.id} on ${site.name}: the rollback window is over, ${tag} is no longer on the host. Re-deploy it through the normal path (Terraform pulls it):`,
            `  npm run ops -- rollback ${environment.name} ${service.product}/${service.name} ${tag}   (writes the tag; commit it, then npm run deploy -- ${environment.name}-${service.product})`,
            `  or the "rollback" workflow (environment ${environment.name}, product ${service.product}, service ${service.name})`,
          ].join('\n'),
        );
      }
    }
  }
  if (rolledBack === 0) throw new OperatorError(`environment "${environment.name}": no release of ${services.map((s) => s.id).join(', ')} is recorded on its edge proxies; roll back with \`npm run ops -- rollback\` (re-deploys the previous tag)`);
  return rolledBack;
}

/** `release close-window`: removes the kept versions whose window ended; returns what it removed. */
export async function runCloseWindow(sites: ReleaseSites, services: readonly ResolvedService[], out: StepOutput): Promise<string[]> {
  const removed: string[] = [];
  for (const service of services) {
    for (const site of sites.sites) {
      const record = await readRecord(site.host, service.id);
      if (record?.windowEndsAt === undefined) continue;
      if (out.now() < new Date(record.windowEndsAt)) {
        out.line(`--- ${service.id} on ${site.name}: rollback window open until ${record.windowEndsAt}`);
        continue;
      }
      removed.push(...(await closeWindow(site.host, service.id, out)));
    }
  }
  return removed;
}

/**
 * `release record-slots`: per service released through slots, what its host's release record says: the serving
 * slot and the tags of the slots that still hold containers (a closed window removed the kept one). Services with
 * no record yet (never released through slots) are left out, so their pre-slot container stays.
 */
export async function recordedSlots(sites: ReleaseSites, services: readonly ResolvedService[]): Promise<Map<ResolvedService, ServiceSlots>> {
  const slots = new Map<ResolvedService, ServiceSlots>();
  for (const service of services) {
    if (service.slots === undefined) continue;
    const site = sites.sites.find((candidate) => candidate.name === service.host);
    const record = site === undefined ? undefined : await readRecord(site.host, service.id);
    if (site === undefined || record === undefined) continue;
    const held: Partial<Record<ReleaseSlot, string>> = {};
    for (const slot of RELEASE_SLOTS) {
      const tag = record.tags[slot];
      if (tag !== undefined && (slot === record.live || (await site.host.containers(service.id, slot)).length > 0)) held[slot] = tag;
    }
    slots.set(service, { live: record.live, ...held, ...(record.changedAt === undefined ? {} : { hostChangedAt: record.changedAt }) });
  }
  return slots;
}

/**
 * Why the tags file's slots of a service are behind what its host's release record says, or undefined when they
 * agree. Every change on the host (promote, rollback, close-window) stamps the record; record-slots copies the
 * stamp into the tags file. A stamp that differs means a release step's recording never reached the repository,
 * and an apply from that file would start or re-create an old version that `release run` would then take for a
 * new one: promoting it, or undoing a rollback. A newer tag in the idle slot is not drift: that is a release.
 */
export function slotsDrift(service: string, onHost: ServiceSlots, inFile: ServiceSlots | undefined): string | undefined {
  const hostState = `${onHost.live} serves ${onHost[onHost.live]} (host record changed ${onHost.hostChangedAt ?? 'at an unknown time'})`;
  if (inFile === undefined) return `${service}: the host records a release (${hostState}) that the tags file has no slots for`;
  if (inFile.hostChangedAt !== onHost.hostChangedAt) return `${service}: the host changed since the tags file recorded it (${hostState}; the tags file has ${inFile.live} serving ${inFile[inFile.live]}, as of ${inFile.hostChangedAt ?? 'no recorded change'})`;
  if (inFile.live !== onHost.live || inFile[inFile.live] !== onHost[onHost.live]) return `${service}: the tags file has ${inFile.live} serving ${inFile[inFile.live]}, the host ${hostState}`;
  return undefined;
}

/**
 * `release check-slots`, and the first thing `release run` does: refuses (OperatorError naming each service and
 * what to run) when the tags file is behind its hosts' release records (slotsDrift).
 */
export async function checkSlots(sites: ReleaseSites, environment: string, product: string, services: readonly ResolvedService[], inFile: Readonly<Record<string, ServiceSlots>> | undefined): Promise<void> {
  const onHosts = await recordedSlots(sites, services);
  const drift = [...onHosts].map(([service, recorded]) => slotsDrift(service.id, recorded, inFile?.[service.name])).filter((reason): reason is string => reason !== undefined);
  if (drift.length === 0) return;
  throw new OperatorError(
    [
      `environment "${environment}", product "${product}": environments/tags/${environment}.json is behind the hosts, so an apply would start or re-create an old version and \`release run\` would promote it or undo a rollback:`,
      ...drift.map((reason) => `  ${reason}`),
      `Record what the hosts run and commit it, then apply again: npm run release -- record-slots ${environment} ${product} && git commit environments/tags/${environment}.json (docs/releasing.md, "When the tags commit fails")`,
    ].join('\n'),
  );
}

/** One line per service and host: its traffic split, tags and rollback window (ops `traffic`). */
export async function trafficLines(sites: ReleaseSites, services: readonly ResolvedService[], now: Date): Promise<string[]> {
  const lines: string[] = [];
  for (const service of services) {
    for (const site of sites.sites) {
      if (service.host !== site.name) continue;
      const record = await readRecord(site.host, service.id);
      const kept = record === undefined ? [] : await site.host.containers(service.id, otherSlot(record.live));
      lines.push(`${site.name}  ${trafficState(service.id, await currentSplit(site.host, service.id), record, now, kept)}`);
    }
  }
  return lines;
}
