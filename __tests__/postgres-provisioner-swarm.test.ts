/**
 * The PostgreSQL provisioner on a swarm (constructs/docker/postgres-container.ts): a Swarm service on the data node
 * whose passwords are Swarm secrets mounted as files, so no `docker service inspect` or `docker inspect` of its task
 * shows one. The real engine and a real PostgreSQL 15 run it in __tests__/integration/postgres-provisioner-swarm.test.ts.
 */
import { App, TerraformStack } from 'cdktf';
import { PostgresContainer } from '../constructs/docker/postgres-container';
import { harbor } from '../examples/harbor';
import { lexicon } from '../examples/lexicon';
import { SynthesizedSystem, resources, synthStack } from './helpers/synth';

const harborSystem = new SynthesizedSystem(harbor);
const data = harborSystem.synth('production-data');
const provisioner = () => resources(data, 'docker_service')['postgres-provisioner'];
const EDGE_OUTPUT = '${data.terraform_remote_state.outputs-production-edge.outputs.host_data_1_docker_network_data}';

describe('on a swarm (Harbor production)', () => {
  it('runs the provisioner as a service on the data node, after the server, and no provisioner container', () => {
    expect(resources(data, 'docker_container')['postgres-provisioner']).toBeUndefined();
    expect(provisioner()).toMatchObject({
      name: 'postgres-provisioner',
      depends_on: ['docker_container.postgres'],
      task_spec: { placement: { constraints: ['node.labels.data==true'] }, networks_advanced: [{ name: EDGE_OUTPUT }], container_spec: { image: 'postgres:16-alpine', user: '1001', read_only: true } },
    });
    // The server itself stays a plain container (its volume, its data: docs/scaling.md "What is not Swarm yet").
    expect(resources(data, 'docker_container').postgres).toBeDefined();
  });

  it('runs the exporter as a service on the data node, reachable by the scraper under the same name, reading its password from the provisioner\'s secret file', () => {
    expect(resources(data, 'docker_container')['postgres-exporter']).toBeUndefined();
    expect(resources(data, 'docker_image')['postgres-exporter']).toBeUndefined();
    const exporter = resources(data, 'docker_service')['postgres-exporter'];
    // It logs in as the role the provisioner keeps: it waits for the service, which converges only when healthy.
    expect(exporter.depends_on).toEqual(['docker_service.postgres-provisioner']);
    expect(exporter).toMatchObject({
      name: 'postgres-exporter',
      task_spec: {
        placement: { constraints: ['node.labels.data==true'] },
        // The data overlay to the server; the backend overlay, where Prometheus's static target `postgres-exporter:9187` resolves the service's name.
        networks_advanced: [{ name: EDGE_OUTPUT }, { name: EDGE_OUTPUT.replace(/_data\}$/, '_backend}') }],
        container_spec: { image: 'prometheuscommunity/postgres-exporter:v0.20.1', user: '1001', read_only: true },
      },
    });
    const container = exporter.task_spec.container_spec;
    expect(container.env).toEqual({ DATA_SOURCE_URI: 'postgres:5432/postgres?sslmode=disable', DATA_SOURCE_USER: 'postgres_exporter', DATA_SOURCE_PASS_FILE: '/run/secrets/data_source_pass' });
    // The provisioner's secret (one secret, one revision per value): a new password rolls both services.
    expect(container.secrets).toEqual([
      { secret_id: '${docker_secret.postgres-exporter-password-secret.id}', secret_name: '${docker_secret.postgres-exporter-password-secret.name}', file_name: 'data_source_pass', file_uid: '1001', file_gid: '0', file_mode: 0o400 },
    ]);
    expect(Object.keys(resources(data, 'docker_secret')).filter((name) => name.includes('exporter'))).toEqual(['postgres-exporter-password-secret']);
    // The scrape configuration still names it `postgres-exporter:9187`: the monitoring stack's Prometheus file.
    const monitoring = harborSystem.synth('production-monitoring');
    expect(JSON.stringify(monitoring)).toContain('postgres-exporter:9187');
  });

  it('mounts the superuser, each role and the exporter password as Swarm secrets, 0400 for its user, and holds only their paths', () => {
    const container = provisioner().task_spec.container_spec;
    expect(container.env).toEqual({
      PGHOST: 'postgres',
      PGUSER: 'postgres',
      PGDATABASE: 'postgres',
      PGPASSWORD_FILE: '/run/secrets/pgpassword',
      ROLE_PASSWORD_BOOKING_FILE: '/run/secrets/role_password_booking',
      ROLE_PASSWORD_ACCOUNTS_FILE: '/run/secrets/role_password_accounts',
      EXPORTER_PASSWORD_FILE: '/run/secrets/exporter_password',
    });
    expect(container.secrets).toEqual(
      ['exporter-password', 'superuser-password', 'role-accounts', 'role-booking'].map((name) => ({
        secret_id: `\${docker_secret.postgres-${name}-secret.id}`,
        secret_name: `\${docker_secret.postgres-${name}-secret.name}`,
        file_name: expect.any(String),
        file_uid: '1001',
        file_gid: '0',
        file_mode: 0o400,
      })),
    );
    const secrets = resources(data, 'docker_secret');
    expect(secrets['postgres-superuser-password-secret'].data).toBe('${base64encode(random_password.postgres-superuser-password.result)}');
    expect(secrets['postgres-role-booking-secret'].data).toBe('${base64encode(data.terraform_remote_state.outputs-production-booking-credentials.outputs.postgres_password)}');
    expect(secrets['postgres-exporter-password-secret'].data).toBe('${base64encode(random_password.postgres-exporter-password.result)}');
    for (const secret of Object.values<any>(secrets)) expect(secret.lifecycle).toEqual({ create_before_destroy: true });
  });

  it('reads the passwords from the files in a subshell that only psql runs in, and idles without init after', () => {
    const script: string = provisioner().task_spec.container_spec.args[2];
    expect(script).toMatch(/^set -eu\n\(\nPGPASSWORD=\$\(cat "\$PGPASSWORD_FILE"\); export PGPASSWORD\n/);
    expect(script).toContain('ROLE_PASSWORD_BOOKING=$(cat "$ROLE_PASSWORD_BOOKING_FILE"); export ROLE_PASSWORD_BOOKING');
    expect(script).toMatch(/\nSQL\n\)\ntouch \/tmp\/provisioned\ntrap 'exit 0' TERM INT\nsleep 2147483647 & wait$/);
  });

  it.each([
    ['harbor', harbor],
    ['lexicon', lexicon],
  ] as const)('%s: no service of a swarm data stack carries a password, or any Terraform value, in its environment', (_name, system) => {
    const synthesized = system === harbor ? harborSystem : new SynthesizedSystem(system);
    const swarmDataStacks = synthesized.environments.filter((stacks) => stacks.environment.engine === 'swarm').map((stacks) => `${stacks.environment.name}-data`);
    expect(swarmDataStacks.length).toBeGreaterThan(0);
    for (const stack of swarmDataStacks) {
      const services = Object.values<any>(resources(synthesized.synth(stack), 'docker_service'));
      expect(services.map((service) => service.name)).toEqual(expect.arrayContaining(['postgres-provisioner', 'postgres-exporter']));
      for (const service of services) {
        for (const [variable, value] of Object.entries<string>(service.task_spec.container_spec.env ?? {})) {
          expect([variable, /\$\{/.test(value) || /PASSWORD$/.test(variable)]).toEqual([variable, false]);
        }
      }
    }
  });
});

describe('on plain containers', () => {
  it('keeps the provisioner and the exporter containers with their passwords in their environment (a container cannot mount a Swarm secret)', () => {
    const staging = harborSystem.synth('staging-data');
    expect(resources(staging, 'docker_service')).toEqual({});
    expect(resources(staging, 'docker_secret')).toEqual({});
    const env: string[] = resources(staging, 'docker_container')['postgres-provisioner'].env;
    expect(env).toEqual(expect.arrayContaining(['PGPASSWORD=${random_password.postgres-superuser-password.result}']));
    expect(resources(staging, 'docker_container')['postgres-exporter'].env).toEqual(expect.arrayContaining(['DATA_SOURCE_PASS=${random_password.postgres-exporter-password.result}']));
  });
});

it('refuses on a swarm a database whose password secret name Swarm would refuse, naming the database', () => {
  const stack = new TerraformStack(new App(), 'data');
  const long = 'a'.repeat(42);
  const make = (swarm: boolean) =>
    new PostgresContainer(stack, swarm ? 'pg-swarm' : 'pg', {
      dataPath: '/mnt/HC_Volume_1',
      volumeName: 'HC_Volume_1',
      network: 'data',
      databases: [long],
      swarm: swarm ? { nodeLabels: { data: 'true' } } : undefined,
    });
  expect(() => make(true)).toThrow(`PostgresContainer pg-swarm: database "${long}" is too long on a swarm: its password's Swarm secret "postgres-role-${long}" may have at most 55 characters; shorten the product's databaseName`);
  expect(() => make(false)).not.toThrow();
  expect(Object.keys(resources(synthStack(stack), 'docker_container'))).toContain('postgres-provisioner');
});
