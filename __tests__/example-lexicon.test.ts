/**
 * The Lexicon example (examples/lexicon.ts): a Python product on slim,
 * scratch and third-party images. Each test shows one thing a first deploy
 * needs that synth used to get wrong: probes the images can run, a singleton
 * that never runs twice, a secret shared by an accessory and its users,
 * browser TTLs short enough for a release, and the edge purged on release.
 */
import { HealthCheck } from '../constructs/core/health-check';
import { checkInvariants } from '../policy/invariants';
import { lexicon } from '../examples/lexicon';
import { SERVICE_KIND_BEHAVIOUR } from '../system/kinds';
import { resolveSystem } from '../system/resolve';
import { renderPlanComment } from '../scripts/plan-comment/render';
import { releasePurge } from '../scripts/release/purge';
import { environmentOf, serviceOf, variant } from './helpers/spec';
import { resources, SynthesizedSystem, type TerraformJson } from './helpers/synth';

let app: SynthesizedSystem;
let product: TerraformJson;
beforeAll(() => {
  app = new SynthesizedSystem(lexicon);
  product = app.synth('staging-lexicon');
});

/** Staging runs the product as plain containers on its one host (production, of two hosts, as Swarm services). */
const containerOf = (json: TerraformJson, address: string) => {
  const found = resources(json, 'docker_container')[address];
  if (found === undefined) throw new Error(`no docker_container.${address}; have ${Object.keys(resources(json, 'docker_container')).join(', ')}`);
  return found;
};
const service = (name: string) => containerOf(product, `lexicon-${name}`);
const env = (container: { env: string[] }, name: string) => container.env.find((entry) => entry.startsWith(`${name}=`))?.slice(name.length + 1);

describe('probes that real images pass', () => {
  it('runs the web app\'s python -c probe and the scratch image\'s gRPC probe in exec form, without a shell', () => {
    expect(service('web').healthcheck.test.slice(0, 3)).toEqual(['CMD', 'python', '-c']);
    expect(service('suggest').healthcheck.test).toEqual(['CMD', '/bin/grpc_health_probe', '-addr=127.0.0.1:50051']);
  });

  it('runs a shell command through the image\'s sh, and waits for every probed container to turn healthy', () => {
    expect(service('worker').healthcheck.test).toEqual(['CMD-SHELL', 'celery -A lexicon inspect ping --timeout 5 -d "celery@$HOSTNAME"']);
    for (const name of ['web', 'worker', 'suggest']) expect(service(name).wait).toBe(true);
  });

  it('turns the probe off only with a reason, kept on the container, and does not wait for a health status that never comes', () => {
    const scheduler = service('scheduler');
    expect(scheduler.healthcheck.test).toEqual(['NONE']);
    expect(scheduler.wait).toBe(false);
    expect(scheduler.labels).toContainEqual({ label: 'health-check.disabled', value: expect.stringContaining('celery beat has no health endpoint') });
    expect(() => HealthCheck.none('')).toThrow(/give the reason the service has no probe/);
  });

  it('accepts any probe form on every container kind, the routed ones included', () => {
    const probes = [HealthCheck.command(['python', '-c', 'pass']), HealthCheck.shell('true'), HealthCheck.none('the vendor image exposes no health route')];
    for (const probe of probes) {
      const system = variant(lexicon, (copy) => {
        serviceOf(copy, 'lexicon', 'docs').healthCheck = probe;
        serviceOf(copy, 'lexicon', 'web').healthCheck = probe;
      });
      expect(() => resolveSystem(system)).not.toThrow();
    }
  });

  it('names in the kind table exactly the programs each default probe needs inside the image', () => {
    for (const [kind, behaviour] of Object.entries(SERVICE_KIND_BEHAVIOUR)) {
      const probe = behaviour.healthCheck ?? (behaviour.probesCommand ? HealthCheck.process('worker') : undefined);
      expect([kind, probe?.requiredTools ?? []]).toEqual([kind, behaviour.probeTools]);
    }
    expect(SERVICE_KIND_BEHAVIOUR.web.probeTools).toEqual(['sh', 'wget']);
    expect(SERVICE_KIND_BEHAVIOUR.worker.probeTools).toEqual(['pgrep']);
  });

  it('refuses a disabled probe without its reason label at the safety invariants', () => {
    const scheduler = service('scheduler');
    const check = (labels: unknown[]) =>
      checkInvariants(
        { resource: { docker_container: { scheduler: { ...scheduler, labels } } } },
        { stack: 'production-lexicon', production: true, adminSshCidrs: [], exemptions: [], appContainers: true, mayPublishPorts: false },
      ).filter((violation) => violation.rule === 'hardened-container').map((violation) => violation.message);
    expect(check(scheduler.labels)).toEqual([]);
    expect(check(scheduler.labels.filter((label: { label: string }) => label.label !== 'health-check.disabled'))).toEqual([
      'health check disabled (NONE) without a health-check.disabled label giving the reason',
    ]);
  });
});

describe('a singleton never runs twice', () => {
  it('replaces the scheduler stop-first without being told, and the others start-first', () => {
    expect(resolveSystem(lexicon).environments[1]!.products[0]!.services.find((s) => s.name === 'scheduler')!.updateOrder).toBe('stop-first');
    expect(service('scheduler').lifecycle?.create_before_destroy).toBeUndefined();
    expect(resources(product, 'random_id')['lexicon-scheduler-revision'].lifecycle.create_before_destroy).toBe(false);
    expect(service('worker').lifecycle.create_before_destroy).toBe(true);
    // On production's swarm the same: Swarm stops the old task first, the others start first.
    const services = resources(app.synth('production-lexicon'), 'docker_service');
    expect(services['lexicon-scheduler'].update_config.order).toBe('stop-first');
    expect(services['lexicon-scheduler'].rollback_config.order).toBe('stop-first');
    expect(services['lexicon-worker'].update_config.order).toBe('start-first');
  });

  it('refuses a singleton told to start first', () => {
    const twice = variant(lexicon, (copy) => {
      serviceOf(copy, 'lexicon', 'scheduler').updateOrder = 'start-first';
    });
    expect(() => resolveSystem(twice)).toThrow(/field "services\.scheduler\.updateOrder": got "start-first"; allowed: "stop-first" \(the default of a singleton\), or drop singleton/);
  });

  it('states the gap of a stop-first replacement in the plan comment, with the plan\'s own figures', () => {
    const scheduler = service('scheduler');
    const change = {
      address: 'docker_container.lexicon-scheduler-app-1',
      mode: 'managed',
      type: 'docker_container',
      name: 'lexicon-scheduler-app-1',
      provider_name: 'registry.terraform.io/kreuzwerker/docker',
      change: {
        actions: ['delete', 'create'],
        before: { destroy_grace_seconds: scheduler.destroy_grace_seconds, wait: false },
        after: { destroy_grace_seconds: scheduler.destroy_grace_seconds, wait: true, wait_timeout: 190 },
        after_unknown: {},
        before_sensitive: false,
        after_sensitive: false,
      },
      action_reason: 'replace_because_cannot_update',
    };
    const { body } = renderPlanComment([{ stack: 'production-lexicon', plan: { format_version: '1.2', terraform_version: '1.11.4', resource_changes: [change], output_changes: {} } }]);
    expect(body).toContain(`replace (destroy, then create); a gap with no container: the old one's stop (up to ${scheduler.destroy_grace_seconds} s), then the new one's start until healthy (up to 190 s), at most ${scheduler.destroy_grace_seconds + 190} s`);
  });
});

describe('a secret shared by an accessory and the services that use it', () => {
  const sharedOutput = '${data.terraform_remote_state.outputs-staging-lexicon-credentials.outputs.shared_search_meili_master_key}';

  it('is generated once in the product\'s credentials stack, unless its variable supplies one', () => {
    const credentials = app.synth('production-lexicon-credentials') as TerraformJson & { output: Record<string, any>; variable: Record<string, any> };
    expect(Object.keys(resources(credentials, 'random_password'))).toContain('search-meili-master-key');
    expect(credentials.output.shared_search_meili_master_key).toMatchObject({
      sensitive: true,
      value: '${coalesce(var.meili_master_key, random_password.search-meili-master-key.result)}',
    });
    expect(credentials.variable.meili_master_key).toMatchObject({ sensitive: true, default: '' });
  });

  it('reaches the accessory and every service using it from that one output, and no other service', () => {
    expect(env(containerOf(app.synth('staging-data'), 'search'), 'MEILI_MASTER_KEY')).toBe(sharedOutput);
    expect(env(service('web'), 'MEILI_MASTER_KEY')).toBe(sharedOutput);
    expect(env(service('worker'), 'MEILI_MASTER_KEY')).toBe(sharedOutput);
    expect(env(service('scheduler'), 'MEILI_MASTER_KEY')).toBeUndefined();
  });

  it('gives a product a credentials stack for a shared secret alone, without any data container', () => {
    const searchOnly = variant(lexicon, (copy) => {
      for (const name of ['web', 'worker', 'scheduler']) serviceOf(copy, 'lexicon', name).uses = name === 'scheduler' ? [] : ['search'];
    });
    const resolved = resolveSystem(searchOnly).environments[1]!.products[0]!;
    expect(resolved.data).toEqual({});
    expect(resolved.credentialsStackName).toBe('production-lexicon-credentials');
    expect(resolved.sharedSecrets).toEqual([{ accessory: 'search', name: 'MEILI_MASTER_KEY' }]);
  });

  it('refuses an accessory with shared secrets used by two products, since neither may read the other\'s credentials', () => {
    const two = variant(lexicon, (copy) => {
      copy.products.push({ name: 'atlas', services: [{ name: 'api', kind: 'api', port: 3000, uses: ['search'] }] });
      environmentOf(copy, 'staging').products.push({ product: 'atlas', imageTag: 'main-1a2b3c4' });
    });
    expect(() => resolveSystem(two)).toThrow(/environment "staging", field "accessories\.search": got "used by lexicon, atlas"; allowed: exactly one product using it, since it has sharedSecrets \(MEILI_MASTER_KEY\)/);
  });
});

describe('no stale pages after a release', () => {
  it('caches the docs site at the edge for a month but in browsers for 5 minutes', () => {
    const docs = resolveSystem(lexicon).environments[1]!.products[0]!.services.find((s) => s.name === 'docs')!;
    expect(docs.caching[0]).toMatchObject({ path: '/*', setting: { type: 'cache-everything' } });
    const setting = docs.caching[0]!.setting as { edgeTtl: { toSeconds(): number }; browserTtl: { toSeconds(): number } };
    expect([setting.edgeTtl.toSeconds(), setting.browserTtl.toSeconds()]).toEqual([30 * 86400, 300]);
  });

  it('purges the cached hostnames of a release by hostname, which every plan offers', () => {
    const production = resolveSystem(lexicon).environments[1]!;
    const purge = releasePurge(production, { product: 'lexicon' });
    // docs (cache everything) and web (Cloudflare's static-asset caching) are proxied and cached; suggest has no public name.
    expect(purge.requests).toEqual([{ hosts: ['app-lexicon.lexicon.dev', 'docs.lexicon.dev'] }]);
    expect(purge.summary).toBe('purge: by hostname on the free plan: app-lexicon.lexicon.dev, docs.lexicon.dev');
    expect(releasePurge(production, { product: 'lexicon', service: 'suggest' }).requests).toEqual([]);
  });

  it('falls back to purging the zone, and says so when no method fits', () => {
    const production = resolveSystem(lexicon).environments[1]!;
    expect(releasePurge(production, { product: 'lexicon', service: 'docs' }, ['url', 'everything']).requests).toEqual([{ purge_everything: true }]);
    const none = releasePurge(production, { product: 'lexicon', service: 'docs' }, ['url']);
    expect(none.requests).toEqual([]);
    expect(none.summary).toMatch(/^purge: NOT DONE: the free plan offers neither purge by hostname nor purge everything; docs\.lexicon\.dev serve their cached copies until the edge TTL ends$/);
  });
});
