/**
 * The product stack's release slots (docs/releasing.md): a routed service declaring `smoke`
 * (Manacore's hub web app) runs a version per slot behind the edge's split, with its release
 * steps on its labels and its smoke checks synthesized for `release run`, never run by
 * Terraform; every other service keeps its one set of containers.
 */
import { ConfigurationError } from '../constructs/core/configuration-error';
import { manacore as catalogManacore } from '../environments';
import { parseTagsFile, serializeTagsFile, slotsWithTag, withSlots, withSlotsSnapshot, withTag } from '../scripts/ops/tags-file';
import type { ReleaseSites } from '../scripts/release/release-sites';
import type { ReleaseHost, VersionContainer } from '../scripts/release/rollout';
import { checkSlots, recordedSlots, slotsDrift } from '../scripts/release/steps';
import { closeWindow } from '../scripts/release/rollout';
import { main as releaseMain } from '../scripts/release/cli';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveSystem } from '../system/resolve';
import { synthesizedSmokeChecks } from '../scripts/release/release-sites';
import { labelsOf, type SynthesizedApp } from '../scripts/lib/synthesized';
import type { ProductDeployment, ServiceSlots, SystemSpec } from '../system/model';
import { releasedThroughSlots } from '../system/releases';
import { resources, SynthesizedSystem, type TerraformJson } from './helpers/synth';

const labels = (block: any): Record<string, string> => labelsOf(block);

/** Manacore with its hub web app opted into the release steps (environments/catalog.ts says why it is not yet). */
const manacore: SystemSpec = {
  ...catalogManacore,
  products: catalogManacore.products.map((product) =>
    product.name !== 'manacore'
      ? product
      : { ...product, services: product.services.map((service) => (service.name === 'web' ? { ...service, smoke: { home: { http: { path: '/' } } } } : service)) },
  ),
};

/** Manacore with `slots` recorded for manacore/web in `environment` (its imageTag set to `imageTag`). */
function manacoreWithSlots(environment: string, slots: ServiceSlots, imageTag: string): SystemSpec {
  return {
    ...manacore,
    environments: manacore.environments.map((spec) =>
      spec.name !== environment
        ? spec
        : { ...spec, products: spec.products.map((deployment): ProductDeployment => (deployment.product === 'manacore' ? { ...deployment, imageTag, slots: { web: slots } } : deployment)) },
    ),
  };
}

const asApp = (name: string, json: TerraformJson): SynthesizedApp => ({ outdir: '', stacks: new Map([[name, { name, dependencies: [], workingDirectory: '', json: json as any }]]) });

describe('a service moving to slots (no slots recorded yet)', () => {
  const system = new SynthesizedSystem(manacore);
  const staging = system.synth('staging-manacore');
  const production = system.synth('production-manacore');
  const containers = resources(staging, 'docker_container');

  it('keeps the pre-slot container as it was, serving beside the blue slot', () => {
    const legacy = containers['manacore-web'];
    expect(legacy).toBeDefined();
    expect(labels(legacy)['release.slot']).toBeUndefined();
    expect(labels(legacy)['traefik.http.routers.manacore-web.service']).toBe('manacore-web');
    expect(legacy.must_run).toBeUndefined();
    const blue = containers['manacore-web-blue'];
    expect(labels(blue)).toMatchObject({
      // What `release run` finds a version by (scripts/release/docker-host.ts); `service` stays the catalog's name.
      'release.service': 'manacore-web',
      service: 'web',
      'release.slot': 'blue',
      'release.smoke': 'home',
      'release.canary': 'none',
      'release.window-minutes': '60',
      // Its own router: the pre-slot container's differs, and Traefik drops a router two containers define differently.
      'traefik.http.routers.manacore-web-split.service': 'manacore-web@file',
      'traefik.http.services.manacore-web-blue.loadbalancer.server.port': '3000',
    });
    expect(Object.keys(labels(blue)).some((key) => key.startsWith('traefik.http.routers.manacore-web.'))).toBe(false);
    // The serving slot must run; there is no green version yet.
    expect(blue.must_run).toBeUndefined();
    expect(blue.image).toBe(legacy.image);
    expect(containers['manacore-web-green']).toBeUndefined();
    // DNS still waits on the pre-slot container, which serves.
    expect(resources(staging, 'cloudflare_dns_record')['dns-manacore-web-a'].depends_on).toEqual(['docker_container.manacore-web']);
  });

  it("labels production's slots with its canary", () => {
    expect(labels(resources(production, 'docker_container')['manacore-web-blue'])['release.canary']).toBe('10% for 10 min');
  });

  it('synthesizes the smoke checks for `release run`, with count 0 so Terraform never runs them', () => {
    const checks = synthesizedSmokeChecks(asApp('staging-manacore', staging), 'staging-manacore', 'manacore-web');
    expect(checks.map((check) => check.name)).toEqual(['home']);
    const block = checks[0]!.block;
    expect(block.count).toBe(0);
    expect(labels(block)).toMatchObject({ 'release.step': 'smoke', task: 'smoke-home', service: 'web' });
    expect(String(block.name)).toMatch(/^manacore-web-smoke-home-/);
    expect((block.command as string[]).join(' ')).toContain('http://${docker_container.manacore-web-blue.name}:3000/');
  });

  it('leaves every service that declares no smoke checks as it was', () => {
    for (const id of ['manacore-landing']) {
      expect(containers[id]).toBeDefined();
      expect(containers[`${id}-blue`]).toBeUndefined();
    }
    const chat = resources(system.synth('staging-chat'), 'docker_container');
    expect(Object.values(chat).some((block) => labels(block)['release.slot'] !== undefined || labels(block)['release.step'] !== undefined)).toBe(false);
  });
});

describe('a service with its slots recorded', () => {
  const system = new SynthesizedSystem(manacoreWithSlots('staging', { live: 'green', blue: 'main-1111111', green: 'main-2222222' }, 'main-2222222'));
  const staging = system.synth('staging-manacore');
  const containers = resources(staging, 'docker_container');

  it('runs both versions, drops the pre-slot container, and lets the kept version stay stopped', () => {
    expect(containers['manacore-web']).toBeUndefined();
    expect(containers['manacore-web-green'].must_run).toBeUndefined();
    expect(labels(containers['manacore-web-green'])['image.tag']).toBe('main-2222222');
    expect(containers['manacore-web-blue'].must_run).toBe(false);
    expect(labels(containers['manacore-web-blue'])['image.tag']).toBe('main-1111111');
    expect(containers['manacore-web-blue'].name).toMatch(/^manacore-web-blue-main-1111111-/);
    // The routers are identical on both versions (or Traefik drops them).
    const routers = (block: any) => Object.entries(labels(block)).filter(([key]) => key.startsWith('traefik.http.routers.'));
    expect(routers(containers['manacore-web-blue'])).toEqual(routers(containers['manacore-web-green']));
    // The smoke checks name the serving slot; `release run` puts the new version in its place.
    const [check] = synthesizedSmokeChecks(asApp('staging-manacore', staging), 'staging-manacore', 'manacore-web');
    expect((check!.block.command as string[]).join(' ')).toContain('${docker_container.manacore-web-green.name}');
    expect(resources(staging, 'cloudflare_dns_record')['dns-manacore-web-a'].depends_on).toEqual(['docker_container.manacore-web-green']);
  });

  it("moves the pre-slot image resource to blue's, so removing the pre-slot container leaves the serving blue one as it is", () => {
    const moving = new SynthesizedSystem(manacore).synth('staging-manacore');
    const recorded = new SynthesizedSystem(manacoreWithSlots('staging', { live: 'blue', blue: 'main-0000000' }, 'main-0000000')).synth('staging-manacore');
    expect((recorded as any).moved).toEqual([{ from: 'docker_image.manacore-web', to: 'docker_image.manacore-web-blue' }]);
    expect((moving as any).moved).toBeUndefined();
    const blue = (json: TerraformJson) => ({ ...resources(json, 'docker_container')['manacore-web-blue'], image: undefined });
    expect(blue(recorded)).toEqual(blue(moving));
    expect(resources(recorded, 'docker_image')['manacore-web-blue'].name).toBe(resources(moving, 'docker_image')['manacore-web'].name);
    expect(resources(recorded, 'docker_container')['manacore-web']).toBeUndefined();
  });

  it('refuses slots for a service not released through them, a serving slot without a tag, and a released tag in no slot', () => {
    const chat = (slots: ServiceSlots): SystemSpec => ({
      ...manacore,
      environments: manacore.environments.map((spec) =>
        spec.name !== 'staging' ? spec : { ...spec, products: spec.products.map((d) => (d.product === 'chat' ? { ...d, slots: { web: slots } } : d)) },
      ),
    });
    expect(() => new SynthesizedSystem(chat({ live: 'blue', blue: 'main-0000000' }))).toThrow(/product "chat", field "slots.web".*only a routed service declaring `smoke`/s);
    expect(() => new SynthesizedSystem(manacoreWithSlots('staging', { live: 'green', blue: 'main-1111111' }, 'main-1111111'))).toThrow(/field "slots.web.green".*the tag the serving slot runs/s);
    expect(() => new SynthesizedSystem(manacoreWithSlots('staging', { live: 'blue', blue: 'main-1111111' }, 'main-3333333'))).toThrow(/field "slots.web".*a slot holding main-3333333/s);
    expect(() => new SynthesizedSystem(manacoreWithSlots('staging', { live: 'red' as 'blue', blue: 'main-1111111' }, 'main-1111111'))).toThrow(ConfigurationError);
  });
});

describe('the tags file and the slots', () => {
  const context = { environment: 'staging', production: false, products: manacore.products };

  it('writes a released tag into the idle slot and keeps the slots through a rewrite', () => {
    const file = parseTagsFile(JSON.stringify({ environment: 'staging', products: { manacore: { imageTag: 'main-1111111', slots: { web: { live: 'blue', blue: 'main-1111111' } } } } }), context);
    const released = withTag(file, context, 'manacore', undefined, 'main-2222222');
    expect(released.products.manacore).toEqual({ imageTag: 'main-2222222', slots: { web: { live: 'blue', blue: 'main-1111111', green: 'main-2222222' } } });
    expect(JSON.parse(serializeTagsFile(released)).products.manacore.slots.web.green).toBe('main-2222222');
    // The tag already serving changes no slot; a release of another service leaves this one's alone.
    expect(slotsWithTag({ web: { live: 'blue', blue: 'main-1111111' } }, undefined, 'main-1111111')).toEqual({ web: { live: 'blue', blue: 'main-1111111' } });
    expect(slotsWithTag({ web: { live: 'blue', blue: 'main-1111111' } }, 'landing', 'main-2222222')).toEqual({ web: { live: 'blue', blue: 'main-1111111' } });
  });

  it('keeps Swarm environments and services without smoke checks off slots', () => {
    const routed = { routed: true, container: true };
    expect(releasedThroughSlots({ smoke: {} }, routed, 'containers')).toBe(true);
    expect(releasedThroughSlots({ smoke: {} }, routed, 'swarm')).toBe(false);
    expect(releasedThroughSlots({}, routed, 'containers')).toBe(false);
    expect(releasedThroughSlots({ smoke: {} }, { routed: false, container: true }, 'containers')).toBe(false);
  });
});

describe('release record-slots: the hosts\' records into the tags file', () => {
  const context = { environment: 'staging', production: false, products: manacore.products };
  /** A host whose files and containers are maps: `release-<service>.json` is the record rollout.ts writes. */
  function host(files: Record<string, string>, containers: Record<string, VersionContainer[]>): ReleaseHost {
    const unused = async () => {
      throw new Error('not used by record-slots');
    };
    return {
      containers: async (service, slot) => containers[`${service}/${slot}`] ?? [],
      readFile: async (name) => files[name],
      start: unused,
      stop: unused,
      remove: unused,
      runSmokeCheck: unused,
      writeFile: unused,
    };
  }
  const staging = resolveSystem(manacore).environments.find((environment) => environment.name === 'staging')!;
  const services = staging.products.find((product) => product.name === 'manacore')!.services;
  const sites = (releaseHost: ReleaseHost): ReleaseSites => ({ sites: [{ name: 'app-1', host: releaseHost, smokeTarget: unusedTarget }], metrics: () => ({ versionSignals: unusedTarget }), smokeChecks: () => [] });
  const unusedTarget = async (): Promise<never> => {
    throw new Error('not used');
  };
  const kept: VersionContainer = { name: 'manacore-web-blue-x', running: false, health: 'none', restarts: 0, tag: 'main-1111111' };

  it('records the serving slot and the kept one while it is on the host; nothing for services never released through slots', async () => {
    const record = { live: 'green', tags: { blue: 'main-1111111', green: 'main-2222222' }, windowEndsAt: '2026-12-07T13:00:00Z' };
    const during = await recordedSlots(sites(host({ 'release-manacore-web.json': JSON.stringify(record) }, { 'manacore-web/blue': [kept] })), services);
    expect([...during].map(([service, slots]) => [service.name, slots])).toEqual([['web', { live: 'green', blue: 'main-1111111', green: 'main-2222222' }]]);
    // After close-window the kept containers are gone: the next apply must not create them again.
    const after = await recordedSlots(sites(host({ 'release-manacore-web.json': JSON.stringify({ live: 'green', tags: record.tags }) }, {})), services);
    expect(after.get(services.find((service) => service.name === 'web')!)).toEqual({ live: 'green', green: 'main-2222222' });
    expect((await recordedSlots(sites(host({}, {})), services)).size).toBe(0);
  });

  it('writes them into the product, and a service rolled back past its window gets the serving tag as its own', () => {
    const file = parseTagsFile(JSON.stringify({ environment: 'staging', products: { manacore: { imageTag: 'main-2222222' } } }), context);
    expect(withSlots(file, context, 'manacore', { web: { live: 'green', blue: 'main-1111111', green: 'main-2222222' } }).products.manacore).toEqual({
      imageTag: 'main-2222222',
      slots: { web: { live: 'green', blue: 'main-1111111', green: 'main-2222222' } },
    });
    expect(withSlots(file, context, 'manacore', { web: { live: 'blue', blue: 'main-1111111' } }).products.manacore).toEqual({
      imageTag: 'main-2222222',
      imageTags: { web: 'main-1111111' },
      slots: { web: { live: 'blue', blue: 'main-1111111' } },
    });
    expect(() => withSlots(file, context, 'chat', {})).toThrow(/product "chat", field "products"/);
  });

  const web = () => services.find((service) => service.name === 'web')!;
  const promoted = { live: 'green', tags: { blue: 'main-1111111', green: 'main-2222222' }, windowEndsAt: '2026-12-07T13:00:00Z', changedAt: '2026-12-07T12:00:00.000Z' };
  const promotedHost = () => host({ 'release-manacore-web.json': JSON.stringify(promoted) }, { 'manacore-web/blue': [kept] });

  it('carries the host record\'s change time into the tags file, so a later check can tell a missed recording', async () => {
    expect((await recordedSlots(sites(promotedHost()), services)).get(web())).toEqual({ live: 'green', blue: 'main-1111111', green: 'main-2222222', hostChangedAt: '2026-12-07T12:00:00.000Z' });
  });

  describe('a tags file behind the hosts (the commit after a release step failed) is refused before it can do harm', () => {
    const onHost = { live: 'green', blue: 'main-1111111', green: 'main-2222222', hostChangedAt: '2026-12-07T12:00:00.000Z' } as const;

    it('agrees when the file holds what the host recorded, and when a newer tag waits in the idle slot (a release)', () => {
      expect(slotsDrift('manacore-web', onHost, onHost)).toBeUndefined();
      expect(slotsDrift('manacore-web', onHost, { ...onHost, blue: 'main-3333333' })).toBeUndefined();
    });

    it('refuses a promotion or rollback the file missed: the apply would start the old version and `release run` promote it', () => {
      // Before the promotion: blue served; the file still says so.
      const beforePromotion = { live: 'blue', blue: 'main-1111111', green: 'main-2222222', hostChangedAt: '2026-12-07T11:00:00.000Z' } as const;
      expect(slotsDrift('manacore-web', onHost, beforePromotion)).toMatch(/^manacore-web: the host changed since the tags file recorded it \(green serves main-2222222 \(host record changed 2026-12-07T12:00:00.000Z\); the tags file has blue serving main-1111111, as of 2026-12-07T11:00:00.000Z\)$/);
      // The first release through slots, never recorded.
      expect(slotsDrift('manacore-web', onHost, undefined)).toMatch(/the host records a release \(green serves main-2222222 .*\) that the tags file has no slots for/);
      // Same stamp but another serving slot: edited by hand.
      expect(slotsDrift('manacore-web', onHost, { ...onHost, live: 'blue' })).toMatch(/the tags file has blue serving main-1111111, the host green serves main-2222222/);
    });

    it('refuses a close-window the file missed: the apply would re-create the removed version', async () => {
      // The window closed on the host (kept containers gone, the record re-stamped); the file still lists blue.
      const closed = host({ 'release-manacore-web.json': JSON.stringify({ live: 'green', tags: promoted.tags, changedAt: '2026-12-07T13:07:00.000Z' }) }, {});
      const error = await checkSlots(sites(closed), 'staging', 'manacore', services, { web: onHost }).catch((caught: Error) => caught);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain('environment "staging", product "manacore": environments/tags/staging.json is behind the hosts');
      expect((error as Error).message).toContain('npm run release -- record-slots staging manacore');
      await expect(checkSlots(sites(promotedHost()), 'staging', 'manacore', services, { web: onHost })).resolves.toBeUndefined();
    });
  });

  describe('a saved snapshot written later, onto a main that moved (the pipeline\'s commit job)', () => {
    const file = parseTagsFile(JSON.stringify({ environment: 'staging', products: { manacore: { imageTag: 'main-2222222', slots: { web: { live: 'blue', blue: 'main-1111111', green: 'main-2222222', hostChangedAt: '2026-12-07T11:00:00.000Z' } } } } }), context);
    const snapshot = { environment: 'staging', product: 'manacore', slots: { web: { live: 'green' as const, blue: 'main-1111111', green: 'main-2222222', hostChangedAt: '2026-12-07T12:00:00.000Z' } }, releasedTags: { web: 'main-2222222' } };

    it('records the snapshot', () => {
      expect(withSlotsSnapshot(file, context, snapshot)).toEqual({ file: withSlots(file, context, 'manacore', snapshot.slots), skipped: [] });
    });

    it('never overwrites a newer host change with an older snapshot', () => {
      const newer = withSlots(file, context, 'manacore', { web: { live: 'blue', blue: 'main-1111111', green: 'main-2222222', hostChangedAt: '2026-12-07T12:30:00.000Z' } });
      const result = withSlotsSnapshot(newer, context, snapshot);
      expect(result.file).toBe(newer);
      expect(result.skipped).toEqual(['web: the tags file already records a newer host change (2026-12-07T12:30:00.000Z) than this snapshot (2026-12-07T12:00:00.000Z)']);
    });

    it('keeps a tag released after the snapshot, in the idle slot of the recorded state', () => {
      const released = withTag(file, context, 'manacore', undefined, 'main-4444444');
      expect(withSlotsSnapshot(released, context, snapshot).file.products.manacore).toEqual({
        imageTag: 'main-4444444',
        imageTags: { web: 'main-4444444' },
        slots: { web: { live: 'green', blue: 'main-4444444', green: 'main-2222222', hostChangedAt: '2026-12-07T12:00:00.000Z' } },
      });
    });
  });

  it('close-window leaves a running container in the kept slot alone: a release is taking it through the steps', async () => {
    const written: Record<string, string> = {};
    const removed: string[] = [];
    const releasing: VersionContainer = { name: 'manacore-web-blue-new', running: true, health: 'healthy', restarts: 0, tag: 'main-3333333' };
    const busy: ReleaseHost = { ...host({ 'release-manacore-web.json': JSON.stringify(promoted) }, { 'manacore-web/blue': [releasing, kept] }), remove: async (name) => void removed.push(name), writeFile: async (name, text) => void (written[name] = text) };
    const lines: string[] = [];
    expect(await closeWindow(busy, 'manacore-web', { line: (text) => lines.push(text), now: () => new Date('2026-12-07T13:07:00Z') })).toEqual([kept.name]);
    expect(removed).toEqual([kept.name]);
    expect(JSON.parse(written['release-manacore-web.json']!)).toEqual({ live: 'green', tags: promoted.tags, changedAt: '2026-12-07T13:07:00.000Z' });
  });

  it('the commands: record-slots --save reads the hosts, --from writes the file later without them, and check-slots then agrees', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'release-slots-'));
    fs.mkdirSync(path.join(root, 'environments', 'tags'), { recursive: true });
    const tagsPath = path.join(root, 'environments', 'tags', 'staging.json');
    fs.writeFileSync(tagsPath, JSON.stringify({ environment: 'staging', products: { manacore: { imageTag: 'main-2222222', slots: { web: { live: 'blue', blue: 'main-1111111', green: 'main-2222222', hostChangedAt: '2026-12-07T11:00:00.000Z' } } } } }));
    const printed: string[] = [];
    const io = { out: (text: string) => printed.push(text), err: (text: string) => printed.push(text), root, system: manacore, git: () => '', sites: () => sites(promotedHost()), steps: { line: (text: string) => printed.push(`${text}\n`), now: () => new Date('2026-12-07T12:10:00Z') } };
    // The apply job: the file is behind (the host promoted green at 12:00), so check-slots refuses, exit 1.
    expect(await releaseMain(['check-slots', 'staging', 'manacore'], io)).toBe(1);
    expect(printed.join('')).toContain('error: environment "staging", product "manacore": environments/tags/staging.json is behind the hosts');
    expect(await releaseMain(['run', 'staging', 'manacore'], io)).toBe(1);
    const saved = path.join(root, 'manacore.json');
    const before = fs.readFileSync(tagsPath, 'utf8');
    expect(await releaseMain(['record-slots', 'staging', 'manacore', '--save', saved], io)).toBe(0);
    // The commit job, with no host access: restore main's file and write the snapshot onto it.
    fs.writeFileSync(tagsPath, before);
    const noHosts = { ...io, sites: () => { throw new Error('the commit job has no host access'); } };
    printed.length = 0;
    expect(await releaseMain(['record-slots', 'staging', 'manacore', '--from', saved], noHosts)).toBe(0);
    expect(printed.join('')).toBe('recorded the slots of web in environments/tags/staging.json\n');
    expect(JSON.parse(fs.readFileSync(tagsPath, 'utf8')).products.manacore.slots.web).toEqual({ live: 'green', blue: 'main-1111111', green: 'main-2222222', hostChangedAt: '2026-12-07T12:00:00.000Z' });
    expect(await releaseMain(['check-slots', 'staging', 'manacore'], io)).toBe(0);
    expect(await releaseMain(['record-slots', 'staging', 'chat', '--from', saved], noHosts)).toBe(1);
    expect(printed.join('')).toContain('holds the slots of staging manacore, not of staging chat');
  });
});
