/**
 * Secrets as files (`secretFiles`): on a swarm each declared variable is a Swarm secret mounted under /run/secrets
 * and the service receives only `<VAR>_FILE`; the other secrets stay environment values, plain containers keep
 * every value in the environment, and a bad declaration is a ConfigurationError naming product, field and what is
 * allowed. Harbor (examples/harbor.ts) declares its database and Redis connections and its Stripe key.
 */
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { ConfigurationError } from '../constructs/core/configuration-error';
import { SwarmSecret } from '../constructs/docker/swarm-secret';
import { SwarmService } from '../constructs/docker/swarm-service';
import { harbor } from '../examples/harbor';
import { HealthCheck } from '../index';
import type { SystemSpec } from '../system/model';
import { resolveSystem } from '../system/resolve';
import { knownImageSecretFiles } from '../system/secret-files';
import { serviceOf, variant, type WritableService } from './helpers/spec';
import { resources, SynthesizedSystem, synthStack } from './helpers/synth';

/** Harbor with booking's api changed by `change`. */
function bookingApi(change: (api: WritableService) => void): SystemSpec {
  return variant(harbor, (system) => change(serviceOf(system, 'booking', 'api')));
}

/** The configuration issues resolving `system` reports. */
function issuesOf(system: SystemSpec): ConfigurationError['issues'] {
  try {
    resolveSystem(system);
  } catch (error) {
    if (error instanceof ConfigurationError) return error.issues;
    throw error;
  }
  return [];
}

describe("Harbor's production (a swarm)", () => {
  const app = new SynthesizedSystem(bookingApi(() => undefined));
  const booking = () => app.synth('production-booking');
  const api = () => resources(booking(), 'docker_service')['booking-api'].task_spec.container_spec;

  it('gives booking/api the paths of its database and Redis URLs and Stripe key, and none of their values', () => {
    expect(api().env).toMatchObject({
      DATABASE_URL_FILE: '/run/secrets/database_url',
      REDIS_URL_FILE: '/run/secrets/redis_url',
      STRIPE_API_KEY_FILE: '/run/secrets/stripe_api_key',
    });
    for (const variable of ['DATABASE_URL', 'REDIS_URL', 'STRIPE_API_KEY']) expect(api().env[variable]).toBeUndefined();
    expect(JSON.stringify(api().env)).not.toMatch(/credentials|var\.stripe/);
  });

  it('mounts one Swarm secret per variable, readable by the service user alone, referenced by id and revisioned name', () => {
    expect(api().secrets).toEqual(
      ['database_url', 'redis_url', 'stripe_api_key'].map((file) => {
        const id = `booking-api-${file.replace(/_/g, '-')}-secret`;
        return { secret_id: `\${docker_secret.${id}.id}`, secret_name: `\${docker_secret.${id}.name}`, file_name: file, file_uid: '1001', file_gid: '0', file_mode: 0o400 };
      }),
    );
    const secret = resources(booking(), 'docker_secret')['booking-api-database-url-secret'];
    expect(secret).toEqual({
      name: 'booking-api-database-url-${random_id.booking-api-database-url-secret-revision.hex}',
      data: '${base64encode(data.terraform_remote_state.outputs-production-booking-credentials.outputs.database_url)}',
      lifecycle: { create_before_destroy: true },
      provider: 'docker',
    });
    // A new password gives a new revision, so a new secret the service rolls onto before the old one goes.
    expect(resources(booking(), 'random_id')['booking-api-database-url-secret-revision'].keepers).toEqual({
      value: '${data.terraform_remote_state.outputs-production-booking-credentials.outputs.database_url}',
    });
  });

  it('keeps no secret value in a label of a service or secret', () => {
    for (const body of [...Object.values(resources(booking(), 'docker_service')), ...Object.values(resources(booking(), 'docker_secret'))]) {
      expect(JSON.stringify(body.labels ?? [])).not.toMatch(/credentials|var\./);
    }
  });

  it('declares the files per service: booking/web, which declares none, gets no secret', () => {
    expect(resources(booking(), 'docker_service')['booking-web'].task_spec.container_spec.secrets).toBeUndefined();
    expect(Object.keys(resources(booking(), 'docker_secret')).sort()).toEqual([
      'booking-api-database-url-secret',
      'booking-api-redis-url-secret',
      'booking-api-stripe-api-key-secret',
      'booking-reminders-database-url-secret',
      'booking-reminders-redis-url-secret',
    ]);
  });

  it("keeps staging's plain containers on environment values: a container cannot mount a Swarm secret", () => {
    const staging = app.synth('staging-booking');
    expect(resources(staging, 'docker_secret')).toEqual({});
    const env: string[] = resources(staging, 'docker_container')['booking-api'].env;
    expect(env).toContain('DATABASE_URL=${data.terraform_remote_state.outputs-staging-booking-credentials.outputs.database_url}');
    expect(env.some((entry) => entry.startsWith('DATABASE_URL_FILE='))).toBe(false);
  });
});

describe('only what is declared becomes a file', () => {
  it('keeps a secret the service does not list in secretFiles as an environment value', () => {
    const app = new SynthesizedSystem(bookingApi((api) => (api.secretFiles = ['DATABASE_URL'])));
    const env = resources(app.synth('production-booking'), 'docker_service')['booking-api'].task_spec.container_spec.env;
    expect(env.DATABASE_URL_FILE).toBe('/run/secrets/database_url');
    expect(env.STRIPE_API_KEY).toBe('${var.stripe_api_key}');
    expect(env.REDIS_URL).toBe('${data.terraform_remote_state.outputs-production-booking-credentials.outputs.redis_url}');
  });

  it("names each file's variable as the image reads it when given as an object (Grafana's __FILE)", () => {
    const app = new SynthesizedSystem(bookingApi((api) => (api.secretFiles = { STRIPE_API_KEY: 'STRIPE_API_KEY__FILE' })));
    const env = resources(app.synth('production-booking'), 'docker_service')['booking-api'].task_spec.container_spec.env;
    expect(env.STRIPE_API_KEY__FILE).toBe('/run/secrets/stripe_api_key');
    expect(env.STRIPE_API_KEY_FILE).toBeUndefined();
    expect(env.STRIPE_API_KEY).toBeUndefined();
  });
});

describe('images whose convention is known', () => {
  it('knows the official postgres image reads four variables from <VAR>_FILE, by any spelling of its name', () => {
    for (const ref of ['postgres:16', 'docker.io/library/postgres:16.4', `postgres@sha256:${'a'.repeat(64)}`]) {
      const image = knownImageSecretFiles(ref)!;
      expect([image.reads('POSTGRES_PASSWORD'), image.reads('PGPASSWORD'), image.fileVariable('POSTGRES_PASSWORD')]).toEqual([true, false, 'POSTGRES_PASSWORD_FILE']);
    }
    expect(knownImageSecretFiles('ghcr.io/acme/postgres:16')).toBeUndefined();
  });

  it('gives a Grafana service its GF_* secrets as files named by GF_<X>__FILE without a declaration, and no other secret', () => {
    const system = bookingApi((api) => {
      api.imageRef = `grafana/grafana-oss:11.2.0@sha256:${'b'.repeat(64)}`;
      api.secrets = ['GF_SECURITY_ADMIN_PASSWORD', 'STRIPE_API_KEY'];
      delete api.secretFiles;
    });
    const resolved = resolveSystem(system).environments.find((environment) => environment.name === 'production')!;
    expect(resolved.products[0]!.services.find((service) => service.name === 'api')!.secretFiles).toEqual({ GF_SECURITY_ADMIN_PASSWORD: 'GF_SECURITY_ADMIN_PASSWORD__FILE' });
  });
});

describe('a bad declaration', () => {
  it('names a variable that is no secret of the service, with the secret variables it has', () => {
    const [issue, ...rest] = issuesOf(bookingApi((api) => (api.secretFiles = ['DATABASE_URL', 'NODE_ENV'])));
    expect(rest).toEqual([]);
    expect(issue!.environment).toBeUndefined();
    expect(issue).toMatchObject({ product: 'booking', field: 'services.api.secretFiles', value: 'NODE_ENV', allowed: ['STRIPE_API_KEY', 'DATABASE_URL', 'REDIS_URL'] });
    expect(new ConfigurationError([issue!]).message).toContain('catalog, product "booking", field "services.api.secretFiles": got "NODE_ENV"; allowed: STRIPE_API_KEY, DATABASE_URL, REDIS_URL');
  });

  it('refuses a file whose variable the service already sets', () => {
    const issues = issuesOf(bookingApi((api) => (api.environment = { DATABASE_URL_FILE: '/etc/app/db' })));
    expect(issues).toEqual([
      expect.objectContaining({ product: 'booking', field: 'services.api.secretFiles', value: 'DATABASE_URL', allowed: expect.stringContaining('DATABASE_URL_FILE the service does not set already (environment sets it)') }),
    ]);
  });

  it('refuses a file variable that is no variable name, or the variable itself', () => {
    const issues = issuesOf(bookingApi((api) => (api.secretFiles = { DATABASE_URL: 'DATABASE_URL', REDIS_URL: 'redis-url-file' })));
    expect(issues.map((issue) => [issue.field, issue.value])).toEqual([
      ['services.api.secretFiles.DATABASE_URL', 'DATABASE_URL'],
      ['services.api.secretFiles.REDIS_URL', 'redis-url-file'],
    ]);
  });

  it('refuses secretFiles on a service without a container', () => {
    const system = variant(harbor, (copy) => {
      copy.products[0]!.services.push({ name: 'app', kind: 'mobile', secretFiles: ['X'] });
    });
    expect(issuesOf(system)).toContainEqual(expect.objectContaining({ product: 'booking', field: 'services.app.secretFiles', allowed: 'nothing (a mobile service has no container)' }));
  });

  it('refuses a variable whose Swarm secret name would pass 55 characters', () => {
    const long = 'A_VERY_LONG_SECRET_VARIABLE_NAME_FOR_STRIPE_KEYS';
    const issues = issuesOf(bookingApi((api) => ((api.secrets = [long]), (api.secretFiles = [long]))));
    expect(issues).toEqual([expect.objectContaining({ field: 'services.api.secretFiles', value: long, why: expect.stringContaining('at most 64 characters') })]);
  });
});

describe('SwarmService', () => {
  const stack = () => {
    const scope = new TerraformStack(Testing.app(), 'swarm');
    new DockerProvider(scope, 'docker', {});
    const secret = new SwarmSecret(scope, 'admin', { name: 'admin', value: new TerraformVariable(scope, 'admin_password', { type: 'string', sensitive: true }).stringValue });
    return { scope, secret };
  };
  const props = { name: 'grafana', image: 'grafana/grafana-oss:11', resources: { cpuLimit: 1, memoryLimitMiB: 64, cpuReservation: 0.1, memoryReservationMiB: 32 }, networks: [{ name: 'n' }], healthCheck: HealthCheck.none('a stand-in for the test').toDocker() };

  it('names the file in the variable the image reads', () => {
    const { scope, secret } = stack();
    new SwarmService(scope, 'grafana', { ...props, secretFiles: { GF_SECURITY_ADMIN_PASSWORD: secret }, secretFileVariables: { GF_SECURITY_ADMIN_PASSWORD: 'GF_SECURITY_ADMIN_PASSWORD__FILE' } });
    expect(resources(synthStack(scope), 'docker_service').grafana.task_spec.container_spec.env).toEqual({ GF_SECURITY_ADMIN_PASSWORD__FILE: '/run/secrets/gf_security_admin_password' });
  });

  it('refuses a file variable the environment sets too, and a file variable for no secret', () => {
    const { scope, secret } = stack();
    expect(() => new SwarmService(scope, 'a', { ...props, environment: { X__FILE: '/x' }, secretFiles: { X: secret }, secretFileVariables: { X: 'X__FILE' } })).toThrow(/X is given both as a secret file \(X__FILE\)/);
    expect(() => new SwarmService(scope, 'b', { ...props, secretFileVariables: { X: 'X__FILE' } })).toThrow(/secretFileVariables names X, which is no secret file/);
  });
});
