/**
 * The PostgreSQL provisioner on a swarm (constructs/docker/postgres-container.ts): a Swarm service on the data node
 * whose passwords are Swarm secrets mounted as files, so no `docker service inspect` or `docker inspect` of its task
 * shows one. The real engine and a real PostgreSQL 15 run it in __tests__/integration/postgres-provisioner-swarm.test.ts.
 */
import { App, TerraformStack } from 'cdktf';
import { PostgresContainer } from '../constructs/docker/postgres-container';
import { fieldnotes } from '../examples/fieldnotes';
import { harbor } from '../examples/harbor';
import { lexicon } from '../examples/lexicon';
import { SynthesizedSystem, resources, synthStack } from './helpers/synth';

const harborSystem = new SynthesizedSystem(harbor);
const data = harborSystem.synth('production-data');
const provisioner = () => resources(data, 'docker_service')['postgres-provisioner'];
/** The only Terraform values a swarm data service may hold in its environment: none is secret. */
const PUBLIC_VALUES = ['var.backup_age_recipient', 'cloudflare_r2_bucket.backup-bucket.name', 'var.cloudflare_account_id'];
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

  it('runs the backup job as a service on the data node, its credentials Swarm secret files (the superuser\'s the provisioner\'s secret), no backup container', () => {
    expect(resources(data, 'docker_container')['backup-job']).toBeUndefined();
    expect(resources(data, 'docker_image')['backup-job']).toBeUndefined();
    const job = resources(data, 'docker_service')['backup-job'];
    expect(job).toMatchObject({
      name: 'backup-job',
      task_spec: {
        placement: { constraints: ['node.labels.data==true'] },
        // The data overlay to the servers; the backend overlay, which reaches R2.
        networks_advanced: [{ name: EDGE_OUTPUT }, { name: EDGE_OUTPUT.replace(/_data\}$/, '_backend}') }],
        container_spec: { image: 'ghcr.io/harbor/db-backup:v2.0.1', user: '0', read_only: true, cap_add: ['SETGID', 'SETUID'], stop_grace_period: '900s' },
      },
    });
    const container = job.task_spec.container_spec;
    const fileVariables = Object.keys(container.env).filter((variable) => variable.endsWith('_FILE'));
    expect(fileVariables.sort()).toEqual(['AWS_ACCESS_KEY_ID_FILE', 'AWS_SECRET_ACCESS_KEY_FILE', 'BACKUP_HEARTBEAT_URL_FILE', 'PGPASSWORD_FILE', 'REDISCLI_AUTH_FILE']);
    for (const variable of ['PGPASSWORD', 'REDISCLI_AUTH', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'BACKUP_HEARTBEAT_URL']) expect(container.env[variable]).toBeUndefined();
    const secretOf = (file: string) => container.secrets.find((secret: any) => secret.file_name === file);
    // One secret per value: the superuser's password is the provisioner's secret, which a new password rolls both onto.
    expect(secretOf('pgpassword')).toEqual({ secret_id: '${docker_secret.postgres-superuser-password-secret.id}', secret_name: '${docker_secret.postgres-superuser-password-secret.name}', file_name: 'pgpassword', file_uid: '0', file_gid: '0', file_mode: 0o400 });
    const secrets = resources(data, 'docker_secret');
    expect(Object.values<any>(secrets).filter((secret) => secret.data === '${base64encode(random_password.postgres-superuser-password.result)}')).toHaveLength(1);
    expect(secrets['backup-redis-password-secret'].data).toBe('${base64encode(random_password.redis-password.result)}');
    expect(secrets['backup-r2-secret-access-key-secret'].data).toBe('${base64encode(var.backup_r2_secret_access_key)}');
    expect(container.secrets.map((secret: any) => [secret.file_name, secret.file_uid, secret.file_mode])).toEqual(
      ['aws_access_key_id', 'aws_secret_access_key', 'backup_heartbeat_url', 'pgpassword', 'rediscli_auth'].map((file) => [file, '0', 0o400]),
    );
  });

  it('reads each credential from its file at dump time in a subshell that exports it to its one tool, under a PID 1 shell that waits for a running dump on stop', () => {
    const script: string = resources(data, 'docker_service')['backup-job'].task_spec.container_spec.args[2];
    expect(script).toContain('( PGPASSWORD=$(cat "$PGPASSWORD_FILE"); export PGPASSWORD; pg_dump --format=custom --dbname="$db" ) | encrypt | upload');
    expect(script).toContain('( REDISCLI_AUTH=$(cat "$REDISCLI_AUTH_FILE"); export REDISCLI_AUTH; redis-cli ');
    expect(script).toContain('( AWS_ACCESS_KEY_ID=$(cat "$AWS_ACCESS_KEY_ID_FILE"); export AWS_ACCESS_KEY_ID; AWS_SECRET_ACCESS_KEY=$(cat "$AWS_SECRET_ACCESS_KEY_FILE"); export AWS_SECRET_ACCESS_KEY; aws s3 cp ');
    expect(script).not.toMatch(/exec crond/);
    expect(script).toMatch(/\ncrond=''\ntrap '[^\n]+' TERM INT\ncrond -f -l 8 -c \/tmp\/crontabs & crond=\$!\nwait \$crond$/);
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
      expect(services.map((service) => service.name)).toEqual(expect.arrayContaining(['postgres-provisioner', 'postgres-exporter', 'backup-job']));
      for (const service of services) {
        for (const [variable, value] of Object.entries<string>(service.task_spec.container_spec.env ?? {})) {
          // The Terraform values allowed are public: the age public key, the bucket's name and the account's R2 endpoint.
          const references = [...value.matchAll(/\$\{([^}]*)\}/g)].map((match) => match[1]!).filter((reference) => !PUBLIC_VALUES.includes(reference));
          expect([variable, references, /(PASSWORD|AUTH|SECRET_ACCESS_KEY|KEY_ID|URL)$/.test(variable)]).toEqual([variable, [], false]);
        }
      }
    }
  });
});

describe('on plain containers', () => {
  it('keeps the provisioner, the exporter and the backup job containers with their passwords in their environment (a container cannot mount a Swarm secret)', () => {
    const staging = harborSystem.synth('staging-data');
    expect(resources(staging, 'docker_service')).toEqual({});
    expect(resources(staging, 'docker_secret')).toEqual({});
    const env: string[] = resources(staging, 'docker_container')['postgres-provisioner'].env;
    expect(env).toEqual(expect.arrayContaining(['PGPASSWORD=${random_password.postgres-superuser-password.result}']));
    expect(resources(staging, 'docker_container')['postgres-exporter'].env).toEqual(expect.arrayContaining(['DATA_SOURCE_PASS=${random_password.postgres-exporter-password.result}']));
    // Harbor's staging has no dump job; Fieldnotes' production (one host, plain containers) has.
    const job = resources(new SynthesizedSystem(fieldnotes).synth('production-data'), 'docker_container')['backup-job'];
    expect(job.env).toEqual(expect.arrayContaining(['PGPASSWORD=${random_password.postgres-superuser-password.result}', 'AWS_SECRET_ACCESS_KEY=${var.backup_r2_secret_access_key}']));
    expect(job.init).toBe(true);
    expect(job.command[2]).toMatch(/\nexec crond -f -l 8 -c \/tmp\/crontabs$/);
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
