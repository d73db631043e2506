/**
 * What switching an environment's engine from `containers` to `swarm` asks Terraform to replace
 * (docs/scaling.md, "Moving an environment from containers to Swarm"): two syntheses of one system, compared
 * resource by resource with the attributes that force a replacement (the providers' ForceNew lists the e2e mock
 * plans with, tools/e2e/mock-provider/curated.ts) and each resource's `ignore_changes`.
 */
import { fieldnotes } from '../examples/fieldnotes';
import { harbor } from '../examples/harbor';
import type { SystemSpec } from '../index';
import { FORCE_NEW } from '../tools/e2e/mock-provider/curated';
import { SynthesizedSystem } from './helpers/synth';

const onSwarm = (system: SystemSpec, environment: string): SystemSpec => ({
  ...system,
  environments: system.environments.map((env) => (env.name === environment ? { ...env, engine: 'swarm' } : env)),
});

/** Per resource address: created, destroyed, replaced (a ForceNew attribute changed, not ignored) or updated in place. */
function planned(before: any, after: any): Record<string, string> {
  const actions: Record<string, string> = {};
  const types = new Set([...Object.keys(before.resource ?? {}), ...Object.keys(after.resource ?? {})]);
  for (const type of types) {
    const [old, next] = [before.resource?.[type] ?? {}, after.resource?.[type] ?? {}];
    for (const name of new Set([...Object.keys(old), ...Object.keys(next)])) {
      const address = `${type}.${name}`;
      if (!(name in old)) actions[address] = 'create';
      else if (!(name in next)) actions[address] = 'destroy';
      else {
        const ignored: string[] = next[name].lifecycle?.ignore_changes ?? [];
        const changed = [...new Set([...Object.keys(old[name]), ...Object.keys(next[name])])].filter(
          (attribute) => !['//', 'depends_on', 'lifecycle'].includes(attribute) && !ignored.includes(attribute) && JSON.stringify(old[name][attribute]) !== JSON.stringify(next[name][attribute]),
        );
        const forceNew = FORCE_NEW[type] ?? [];
        if (changed.some((attribute) => forceNew.includes('*') || forceNew.includes(attribute))) actions[address] = `replace (${changed.join(', ')})`;
        else if (changed.length > 0) actions[address] = `update (${changed.join(', ')})`;
      }
    }
  }
  return actions;
}

/** The Docker name of each network an edge stack publishes (`host_app_1_docker_network_data` -> `harbor-data`). */
function publishedNetworkNames(edge: any): Record<string, string> {
  return Object.fromEntries(
    Object.entries<any>(edge.output ?? {})
      .filter(([name]) => /_docker_network_/.test(name))
      .map(([name, output]) => {
        const resource = /^\$\{docker_network\.([^.]+)\.name\}$/.exec(output.value)![1];
        return [name, edge.resource.docker_network[resource].name];
      }),
  );
}

describe.each([
  // The stateless helpers of each data stack: Fieldnotes' production runs the dump job, Harbor's staging has none.
  ['fieldnotes', 'production', fieldnotes, ['backup-job', 'postgres-exporter', 'postgres-provisioner']],
  ['harbor', 'staging', harbor, ['postgres-exporter', 'postgres-provisioner']],
] as const)('%s %s: containers to swarm', (_name, environment, system, helpers) => {
  const before = new SynthesizedSystem(system);
  const after = new SynthesizedSystem(onSwarm(system, environment));
  const stack = (synthesized: SynthesizedSystem, kind: string) => synthesized.synth(`${environment}-${kind}`);

  it('replaces nothing stateful of the data stack: volumes, attachments, data containers and passwords stay; only the provisioner, the exporter and the dump job become services', () => {
    const dataStack = stack(before, 'data');
    expect(Object.keys(dataStack.resource?.docker_container ?? {}).length).toBeGreaterThan(0);
    const actions = planned(dataStack, stack(after, 'data'));
    // The provisioner (its SQL is idempotent), the metrics exporter and the dump job (its schedule restarts with it)
    // are stateless: their containers go (and the exporter's and the job's image records, keep_locally: the images
    // stay on the host), services on the data node with their passwords as Swarm secrets come, and the SQL runs once
    // more. PostgreSQL, Redis, their volumes and every password are not touched.
    const [moved, created] = [Object.entries(actions).filter(([, action]) => action !== 'create'), Object.entries(actions).filter(([, action]) => action === 'create').map(([address]) => address)];
    const imaged = helpers.filter((helper) => helper !== 'postgres-provisioner');
    expect(moved).toEqual([...helpers.map((helper) => [`docker_container.${helper}`, 'destroy']), ...imaged.map((helper) => [`docker_image.${helper}`, 'destroy'])]);
    for (const helper of imaged) expect(dataStack.resource?.docker_image?.[helper]?.keep_locally).toBe(true);
    const secrets = created.filter((address) => address.startsWith('docker_secret.'));
    expect(secrets).toEqual(expect.arrayContaining(['docker_secret.postgres-superuser-password-secret', 'docker_secret.postgres-exporter-password-secret']));
    // The dump job's superuser password is the provisioner's secret: one secret per value.
    expect(secrets.filter((address) => /superuser|postgres-password/.test(address))).toEqual(['docker_secret.postgres-superuser-password-secret']);
    expect(created.sort()).toEqual([...helpers.map((helper) => `docker_service.${helper}`), ...secrets, ...secrets.map((address) => address.replace(/^docker_secret\.(.+)$/, 'random_id.$1-revision'))].sort());
  });

  it('publishes the overlays under the bridges’ names, so the data containers’ networks read the same', () => {
    const names = publishedNetworkNames(stack(before, 'edge'));
    expect(Object.keys(names).length).toBeGreaterThan(0);
    expect(publishedNetworkNames(stack(after, 'edge'))).toEqual(names);
    const drivers = Object.values<any>(stack(after, 'edge').resource?.docker_network ?? {}).map((network) => network.driver);
    expect(new Set(drivers)).toEqual(new Set(['overlay']));
  });

  it('turns the product containers into services and replaces the bridges with overlays', () => {
    const product = system.environments.find((env) => env.name === environment)!.products[0].product;
    const actions = planned(stack(before, product), stack(after, product));
    const addressed = (action: string, type: string) => Object.entries(actions).filter(([address, what]) => address.startsWith(`${type}.`) && what === action).map(([address]) => address.split('.')[1]);
    const services = addressed('create', 'docker_service');
    expect(services.length).toBeGreaterThan(0);
    // Each service takes the place of the container of its name; no container of the product is kept or replaced.
    expect(addressed('destroy', 'docker_container')).toEqual(expect.arrayContaining(services));
    expect(Object.entries(actions).filter(([address, what]) => address.startsWith('docker_container.') && what !== 'destroy')).toEqual([]);
    const edgeActions = planned(stack(before, 'edge'), stack(after, 'edge'));
    expect(Object.entries(edgeActions).filter(([address, action]) => address.startsWith('docker_network.') && action === 'create').length).toBeGreaterThan(0);
  });
});

describe('the host itself', () => {
  it('keeps a protected host (user_data ignored): the swarm init is a step of the procedure there', () => {
    const actions = planned(new SynthesizedSystem(fieldnotes).synth('production-network'), new SynthesizedSystem(onSwarm(fieldnotes, 'production')).synth('production-network'));
    expect(Object.entries(actions).filter(([address]) => address.startsWith('hcloud_server.'))).toEqual([]);
    expect(actions['terraform_data.swarm-join-app-1']).toBe('create');
  });

  it('rebuilds an unprotected host: its user_data changes, which forces a new server', () => {
    const actions = planned(new SynthesizedSystem(harbor).synth('staging-network'), new SynthesizedSystem(onSwarm(harbor, 'staging')).synth('staging-network'));
    expect(actions['hcloud_server.host-app-1']).toBe('replace (user_data)');
  });
});
