/**
 * The Fieldnotes example (examples/fieldnotes.ts): a system of ordinary
 * shape, built with no escape hatch, proves each general capability in the
 * synthesized JSON: replicas, named ports and link forms, worker health
 * ports, probe clients, restart policies, third-party images under an
 * immutable release scheme, PostgreSQL image and settings, an accessory on
 * its own volume, and Terraform-escaped user strings.
 */
import { fieldnotes } from '../examples/fieldnotes';
import { planCapacity } from '../system/capacity';
import { resolveSystem } from '../system/resolve';
import { environmentOf, variant } from './helpers/spec';
import { SynthesizedSystem, resources, type TerraformJson } from './helpers/synth';

let app: SynthesizedSystem;
let ledger: TerraformJson;
let data: TerraformJson;
beforeAll(() => {
  app = new SynthesizedSystem(fieldnotes);
  ledger = app.synth('production-ledger');
  data = app.synth('production-data');
});

const container = (json: TerraformJson, address: string) => {
  const found = resources(json, 'docker_container')[address];
  if (found === undefined) throw new Error(`no docker_container.${address}; have ${Object.keys(resources(json, 'docker_container')).join(', ')}`);
  return found;
};
const traefikLabels = (body: any) => (body.labels as Array<{ label: string; value: string }>).filter((entry) => entry.label.startsWith('traefik.'));

describe('replicas', () => {
  it('runs two API containers in production and one in staging, where the deployment overrides the catalog', () => {
    expect(Object.keys(resources(ledger, 'docker_container')).filter((address) => address.startsWith('ledger-api'))).toEqual(['ledger-api', 'ledger-api-2']);
    expect(Object.keys(resources(app.synth('staging-ledger'), 'docker_container')).filter((address) => address.startsWith('ledger-api'))).toEqual(['ledger-api']);
  });

  it('gives each replica its own name and revision, and both the service alias on every network', () => {
    const first = container(ledger, 'ledger-api');
    const second = container(ledger, 'ledger-api-2');
    expect(second.name).toBe('ledger-api-2-v2.8.1-${random_id.ledger-api-2-revision.hex}');
    expect(first.name).toBe('ledger-api-v2.8.1-${random_id.ledger-api-revision.hex}');
    for (const network of [...first.networks_advanced, ...second.networks_advanced]) {
      expect(network.aliases).toEqual(network.name === '${docker_network.product-network.name}' ? ['ledger-api', 'api'] : ['ledger-api']);
    }
    expect(Object.keys(resources(ledger, 'random_id'))).toEqual(expect.arrayContaining(['ledger-api-revision', 'ledger-api-2-revision']));
  });

  it('routes both as one Traefik service: byte-identical routing labels, or Traefik drops the service', () => {
    // traefik/traefik pkg/provider/configuration.go (Merge): a service defined by several containers keeps all their
    // servers when the definitions are equal, and is deleted ("defined multiple times with different configurations") when not.
    const first = traefikLabels(container(ledger, 'ledger-api'));
    expect(first.length).toBeGreaterThan(3);
    expect(traefikLabels(container(ledger, 'ledger-api-2'))).toEqual(first);
  });

  it('pulls the image once for both replicas', () => {
    expect(Object.keys(resources(ledger, 'docker_image')).filter((address) => address.startsWith('ledger-api'))).toEqual(['ledger-api']);
    expect(container(ledger, 'ledger-api-2').image).toBe('${docker_image.ledger-api.image_id}');
  });

  it('plans capacity for every replica', () => {
    const production = resolveSystem(fieldnotes).environments.find((environment) => environment.name === 'production')!;
    const names = planCapacity(production).hosts[0]!.consumers.map((consumer) => consumer.name);
    expect(names).toEqual(expect.arrayContaining(['ledger-api', 'ledger-api-2', 'objects', 'postgres']));
  });
});

describe('ports, links and probes', () => {
  it("links to a named port in host:port form, by short name on the product's network", () => {
    expect(container(ledger, 'ledger-api').env).toContain('SEARCH_GRPC_ADDRESS=search:50051');
  });

  it('probes the health port where one is named, with the client the image has', () => {
    expect(container(ledger, 'ledger-search').healthcheck.test).toEqual(['CMD-SHELL', 'wget -q --spider http://127.0.0.1:8081/ready || exit 1']);
    expect(container(ledger, 'ledger-api').healthcheck.test).toEqual(['CMD', 'curl', '--fail', '--silent', '--show-error', '--output', '/dev/null', 'http://127.0.0.1:8080/healthz']);
    expect(container(ledger, 'ledger-scheduler').healthcheck.test[1]).toBe('node');
    expect(container(ledger, 'ledger-scheduler').healthcheck.test[3]).toContain("fetch('http://127.0.0.1:8082/healthz')");
  });

  it('lets a worker declare a health port without any route', () => {
    expect(traefikLabels(container(ledger, 'ledger-scheduler'))).toEqual([]);
    expect(container(ledger, 'ledger-scheduler').ports).toBeUndefined();
  });
});

describe('restart policies', () => {
  it('restarts on failure with a retry limit where the catalog says so', () => {
    expect(container(ledger, 'ledger-api')).toMatchObject({ restart: 'on-failure', max_retry_count: 10 });
    expect(container(ledger, 'ledger-scheduler')).toMatchObject({ restart: 'on-failure', max_retry_count: 3 });
    expect(container(ledger, 'ledger-web').restart).toBe('unless-stopped');
    expect(container(ledger, 'ledger-web').max_retry_count).toBeUndefined();
  });
});

describe('the object store accessory', () => {
  it('runs on its own protected volume, owned by its user before it starts', () => {
    const volume = resources(data, 'hcloud_volume')['objects-blobs-volume'];
    expect(volume).toMatchObject({ size: 100, delete_protection: true, lifecycle: { prevent_destroy: true } });
    const owner = container(data, 'objects-data-owner');
    expect(owner).toMatchObject({ user: '0', capabilities: { add: ['CHOWN'], drop: ['ALL'] }, must_run: false, attach: true, restart: 'no' });
    expect(owner.entrypoint).toEqual(['chown', '-R', '1001:1001', '/data']);
    const server = container(data, 'objects');
    expect(server.depends_on).toEqual(['docker_container.objects-data-owner']);
    expect(server).toMatchObject({ user: '1001', read_only: true, restart: 'on-failure', max_retry_count: 5 });
    expect(server.volumes).toEqual([{ host_path: '/mnt/HC_Volume_${hcloud_volume.objects-blobs-volume.id}/data', container_path: '/data', read_only: false }]);
    expect(server.networks_advanced[0].aliases).toEqual(['objects']);
  });

  it('takes its secrets from sensitive variables of the data stack', () => {
    expect(container(data, 'objects').env).toContain('MINIO_ROOT_PASSWORD=${var.minio_root_password}');
    expect(data.variable?.minio_root_password).toMatchObject({ sensitive: true });
  });

  it('hands its connection only to the services that use it', () => {
    expect(container(ledger, 'ledger-api').env).toEqual(expect.arrayContaining(['S3_ENDPOINT=http://objects:9000', 'S3_REGION=us-east-1']));
    expect(container(ledger, 'ledger-web').env.some((entry: string) => entry.startsWith('S3_'))).toBe(false);
  });
});

describe('images and data services', () => {
  it('runs the third-party image under its immutable release scheme, and refuses it without the scheme in production', () => {
    expect(resources(data, 'docker_image').objects.name).toBe('quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z');
    const withoutScheme = variant(fieldnotes, (system) => {
      delete environmentOf(system, 'production').immutableTags;
    });
    expect(() => resolveSystem(withoutScheme)).toThrow(/environment "production", field "accessories\.objects\.imageRef": got "quay\.io\/minio\/minio:RELEASE/);
  });

  it('runs PostgreSQL from the given image with its settings over the memory tuning', () => {
    expect(resources(data, 'docker_image').postgres.name).toBe('ghcr.io/fieldnotes/postgres-pgvector:v16.4.0');
    const command: string[] = container(data, 'postgres').command;
    expect(command).toEqual(expect.arrayContaining(['max_connections=200', 'max_wal_size=4GB', 'shared_preload_libraries=vector']));
  });
});

describe('user strings reach Terraform as text', () => {
  it('escapes ${ in a plain environment value, so Terraform does not evaluate it', () => {
    expect(container(ledger, 'ledger-api').env).toContain('GREETING_TEMPLATE=Hello $${name}');
  });

  it('escapes %{ directives and ${ in commands too', () => {
    const system = variant(fieldnotes, (copy) => {
      const scheduler = copy.products[0]!.services.find((service) => service.name === 'scheduler')!;
      scheduler.command = ['sh', '-c', 'echo ${HOME} %{if x}'];
    });
    const json = new SynthesizedSystem(system).synth('production-ledger');
    expect(container(json, 'ledger-scheduler').command).toEqual(['sh', '-c', 'echo $${HOME} %%{if x}']);
  });
});
