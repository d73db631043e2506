/**
 * Bad input gets a clear message: catalog mistakes from resolveSystem (the
 * environment, product, field and what is allowed), construct misuse from
 * the Docker constructs' constructors.
 */
import { Testing, TerraformStack, TerraformVariable } from 'cdktf';
import { DockerConnection } from '../constructs/docker/docker-host-provider';
import { EdgeProxy } from '../constructs/docker/edge-proxy';
import { EdgeRoute } from '../constructs/docker/edge-route';
import { HardenedContainer, type HardenedContainerProps } from '../constructs/docker/hardened-container';
import { PostgresContainer } from '../constructs/docker/postgres-container';
import { RedisContainer } from '../constructs/docker/redis-container';
import { ServiceContainer, type ServiceContainerProps } from '../constructs/docker/service-container';
import { HealthCheck } from '../constructs/core/health-check';
import { resolveSystem } from '../system/resolve';
import type { HostNetwork } from '../system/model';
import { nutri } from '../examples/nutri';
import { serviceOf, productOf, variant } from './helpers/spec';

const stack = () => new TerraformStack(Testing.app(), 'test');

describe('catalog mistakes', () => {
  it('refuses a service that asks to publish a host port, and says only the edge proxy does', () => {
    const bad = variant(nutri, (system) => {
      serviceOf(system, 'nutri', 'api').hostPorts = [3000];
    });
    expect(() => resolveSystem(bad)).toThrow(/product "nutri", field "services\.api\.hostPorts": got \[3000\]; allowed: none \(only the edge proxy publishes host ports/);
  });

  it('refuses a worker with a domain', () => {
    const bad = variant(nutri, (system) => {
      productOf(system, 'nutri').services.push({ name: 'jobs', kind: 'worker', command: ['node', 'jobs.js'], subdomain: 'jobs' });
    });
    expect(() => resolveSystem(bad)).toThrow(/field "services\.jobs\.subdomain": got "jobs"; allowed: no subdomain \(a worker service is not routed by the edge proxy/);
  });

  it('refuses a memory limit below the reservation', () => {
    const bad = variant(nutri, (system) => {
      serviceOf(system, 'nutri', 'ml').resources = { cpuLimit: 2, memoryLimitMiB: 1024, memoryReservationMiB: 2048 };
    });
    expect(() => resolveSystem(bad)).toThrow(/field "services\.ml\.resources\.memoryLimitMiB": got 1024; allowed: at least the memory reservation \(2048 MiB\)/);
  });

  it('refuses an unknown network and lists the host networks', () => {
    const bad = variant(nutri, (system) => {
      serviceOf(system, 'nutri', 'ml').extraNetworks = ['dmz' as HostNetwork];
    });
    expect(() => resolveSystem(bad)).toThrow(/field "services\.ml\.extraNetworks": got "dmz"; allowed: frontend, backend, data/);
  });

  it('refuses to put an internal service on the frontend network, where the proxy could reach it', () => {
    const bad = variant(nutri, (system) => {
      serviceOf(system, 'nutri', 'ml').extraNetworks = ['frontend'];
    });
    expect(() => resolveSystem(bad)).toThrow(/services\.ml\.extraNetworks": got "frontend".*must have no route from the edge proxy/);
  });
});

describe('construct misuse', () => {
  const token = (scope: TerraformStack, name: string) => new TerraformVariable(scope, name, { sensitive: true }).stringValue;
  const containerProps = (overrides: Partial<HardenedContainerProps> = {}): HardenedContainerProps => ({
    name: 'svc',
    image: 'ghcr.io/acme/svc:v1.0.0',
    resources: { cpuLimit: 1, memoryLimitMiB: 512, cpuReservation: 0.5, memoryReservationMiB: 256 },
    networks: [{ name: 'backend' }],
    ...overrides,
  });

  it('refuses a container whose memory limit is below its reservation', () => {
    expect(() => new HardenedContainer(stack(), 'svc', containerProps({ resources: { cpuLimit: 1, memoryLimitMiB: 128, cpuReservation: 0.5, memoryReservationMiB: 256 } }))).toThrow(
      /HardenedContainer svc: memory limit \(128 MiB\) is below its reservation \(256 MiB\)/,
    );
  });

  it('refuses a literal secret value', () => {
    expect(() => new HardenedContainer(stack(), 'svc', containerProps({ secretEnvironment: { JWT_SECRET: 'hunter2' } }))).toThrow(
      /secret JWT_SECRET is a literal; it must come from a sensitive variable/,
    );
  });

  it('refuses a container on no network', () => {
    expect(() => new HardenedContainer(stack(), 'svc', containerProps({ networks: [] }))).toThrow(/must join at least one network/);
  });

  const props = (overrides: Partial<ServiceContainerProps>): ServiceContainerProps => ({
    serviceName: 'acme-jobs',
    image: 'ghcr.io/acme/acme-jobs:v1.0.0',
    imageTag: 'v1.0.0',
    healthCheck: HealthCheck.process('node jobs.js'),
    resources: { cpuLimit: 1, memoryLimitMiB: 512, cpuReservation: 0.5, memoryReservationMiB: 256 },
    networks: [{ role: 'backend', name: 'backend' }],
    ...overrides,
  });

  it('refuses a route without a port', () => {
    expect(() => new ServiceContainer(stack(), 'jobs', props({ route: { domain: 'jobs.acme.app' } }))).toThrow(
      /ServiceContainer acme-jobs: is routed on jobs.acme.app but declares no port/,
    );
  });

  it('refuses a service name that cannot be a network alias', () => {
    expect(() => new ServiceContainer(stack(), 'jobs', props({ serviceName: 'Acme Jobs' }))).toThrow(/serviceName must be lowercase letters, digits and "-"/);
  });

  it('refuses a literal PEM for the Docker TLS client', () => {
    expect(() => DockerConnection.tls('203.0.113.5', { client: { caMaterial: '-----BEGIN CERTIFICATE-----', certMaterial: 'x', keyMaterial: 'y' } })).toThrow(
      /client\.caMaterial must come from a sensitive variable/,
    );
  });

  it('refuses SSH as root', () => {
    expect(() => DockerConnection.ssh('203.0.113.5', { user: 'root' })).toThrow(/non-root Unix user/);
  });

  it('refuses a route with a bad domain, and an edge proxy without an ACME e-mail', () => {
    expect(() => new EdgeRoute({ name: 'acme-api', domain: 'API.acme', port: 3000 })).toThrow(/EdgeRoute acme-api: domain must be a lowercase DNS name; got "API.acme"/);
    expect(
      () =>
        new EdgeProxy(stack(), 'proxy', {
          acmeEmail: 'ops',
          acmeStorageDir: '/opt/edge/acme',
          frontendNetwork: 'frontend',
          dockerEndpoint: 'tcp://docker-socket-proxy:2375',
          dockerApiNetwork: 'docker-api',
          certificates: { cloudflareDnsToken: '${var.acme_dns_token}' },
        }),
    ).toThrow(/acmeEmail must be an e-mail address/);
  });

  it("refuses a Redis maxmemory at or above the container's memory limit, and explains why", () => {
    expect(() => new RedisContainer(stack(), 'redis', { dataPath: '/mnt/data', volumeName: 'HC_Volume_1', users: ['chat'], network: 'data', maxMemoryMiB: 384 })).toThrow(
      /maxMemoryMiB must be a whole number from 16 to below the memory limit \(384 MiB\); got 384\. Redis needs headroom/,
    );
  });

  it('refuses max_connections below the products\' connection limits plus the reserved ones, and a Redis user named default', () => {
    expect(() => new PostgresContainer(stack(), 'postgres', { dataPath: '/mnt/data', volumeName: 'HC_Volume_1', network: 'data', databases: ['chat', 'quiz'], maxConnections: 40 })).toThrow(
      /maxConnections 40 is below the 2 products' limits \(2 x 20\) plus 10 reserved = 50/,
    );
    expect(() => new RedisContainer(stack(), 'redis', { dataPath: '/mnt/data', volumeName: 'HC_Volume_1', users: ['default'], network: 'data' })).toThrow(/user "default" must be a unique lowercase product name/);
  });

  it('refuses a database name PostgreSQL would need quoting for, or a reserved one', () => {
    expect(() => new PostgresContainer(stack(), 'postgres', { dataPath: '/mnt/data', volumeName: 'HC_Volume_1', network: 'data', databases: ['Chat-DB'] })).toThrow(/database "Chat-DB" must be lowercase/);
    expect(() => new PostgresContainer(stack(), 'postgres', { dataPath: '/mnt/data', volumeName: 'HC_Volume_1', network: 'data', databases: ['postgres'] })).toThrow(/and not postgres, template0/);
  });

  it('takes role and user passwords from another stack only when they name exactly its databases and users', () => {
    const base = { dataPath: '/mnt/data', volumeName: 'HC_Volume_1', network: 'data' };
    expect(() => new PostgresContainer(stack(), 'postgres', { ...base, databases: ['chat', 'quiz'], rolePasswords: { chat: 'x', news: 'y' } })).toThrow(
      'PostgresContainer postgres: rolePasswords must name exactly chat, quiz; missing: quiz, unknown: news (one per database)',
    );
    expect(() => new RedisContainer(stack(), 'redis', { ...base, users: ['chat'], userPasswords: {} })).toThrow(
      'RedisContainer redis: userPasswords must name exactly chat; missing: chat, unknown: none (one per user)',
    );
    const scope = stack();
    const postgres = new PostgresContainer(scope, 'postgres', { ...base, databases: ['chat'], rolePasswords: { chat: token(scope, 'chat_password') } });
    const json = JSON.parse(Testing.synth(scope));
    // Only the superuser's password is generated here; chat's is the given one.
    expect(Object.keys(json.resource.random_password)).toEqual(['postgres-superuser-password']);
    expect(postgres.connectionUrl('chat')).toContain('postgresql://chat:');
  });

  it('accepts secrets that are tokens', () => {
    const scope = stack();
    expect(() => new HardenedContainer(scope, 'svc', containerProps({ secretEnvironment: { JWT_SECRET: token(scope, 'jwt_secret') } }))).not.toThrow();
  });
});
