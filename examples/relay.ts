/**
 * Relay: a typical Node SaaS as a new user writes it, from the entry point
 * alone: a queue-backed API with websockets, a cron scheduler that must run
 * once, queue workers, a static frontend (nginx) that proxies `/api` and
 * `/socket.io` to the API, an internal rules service spoken to over gRPC,
 * and a third-party analytics database image. It needs what the kind
 * defaults alone do not give: caching that leaves the proxied paths alone,
 * nginx paths of its own image, a stop-first scheduler, least-privilege
 * reachability, links with a path and a bare host:port.
 */
import { Duration, HealthCheck, type EnvironmentSpec, type SystemSpec } from '../index';

const shared = {
  location: 'fsn1',
  adminSshCidrs: ['203.0.113.0/28'],
  sshKeys: [{ name: 'ops' }],
  acmeEmail: 'ops@relay.chat',
  accessories: [{ name: 'analytics' }],
  cloudflare: { plan: 'pro', caching: 'cache-rules' },
  monitoring: {
    receivers: [
      { name: 'oncall', kind: 'pagerduty' },
      { name: 'team', kind: 'slack' },
    ],
  },
  // ClickHouse releases (`25.3.2.39`) are never moved once published.
  immutableTags: '^\\d+\\.\\d+\\.\\d+\\.\\d+$',
} as const;

const staging: EnvironmentSpec = {
  ...shared,
  name: 'staging',
  production: false,
  domainPrefix: 'staging-',
  hosts: [{ name: 'app-1', serverType: 'cx42' }],
  products: [{ product: 'relay', imageTag: 'main-9c1d2e3', replicas: { api: 1, worker: 1 } }],
  protection: false,
  backups: false,
  privateNetwork: { ipRange: '10.50.0.0/16', subnetRange: '10.50.1.0/24' },
  data: { postgres: { mode: 'container', volumeSizeGiB: 20 }, redis: { mode: 'container', volumeSizeGiB: 10 } },
};

const production: EnvironmentSpec = {
  ...shared,
  name: 'production',
  production: true,
  hosts: [{ name: 'app-1', serverType: 'ccx33' }],
  products: [{ product: 'relay', imageTag: 'v1.12.0' }],
  protection: true,
  backups: true,
  privateNetwork: { ipRange: '10.60.0.0/16', subnetRange: '10.60.1.0/24' },
  data: {
    postgres: { mode: 'container', volumeSizeGiB: 100 },
    redis: { mode: 'container', volumeSizeGiB: 20 },
    backupImageTag: 'v1.4.0',
    backupEncryptionKey: { variable: 'backup_age_recipient' },
    backupHeartbeatUrl: { secret: 'backup_heartbeat_url' },
  },
  github: { reviewerTeams: ['platform'] },
};

export const relay: SystemSpec = {
  name: 'relay',
  rootDomain: 'relay.chat',
  registry: { host: 'ghcr.io', owner: 'relay' },
  repository: { owner: 'relay', name: 'infrastructure' },
  accessories: [
    {
      name: 'analytics',
      imageRef: 'clickhouse/clickhouse-server:25.3.2.39',
      ports: { http: 8123, native: 9000 },
      volumes: [{ name: 'tables', mountPath: '/var/lib/clickhouse', sizeGiB: 50 }],
      secrets: ['CLICKHOUSE_PASSWORD'],
      environment: { CLICKHOUSE_USER: 'relay', CLICKHOUSE_DB: 'events' },
      // The image's own client asks the server; no curl or wget needed.
      healthCheck: HealthCheck.command(['clickhouse-client', '--query', 'SELECT 1']),
      user: '101',
      writablePaths: ['/var/log/clickhouse-server'],
      resources: { cpuLimit: 1, memoryLimitMiB: 2048, cpuReservation: 0.5, memoryReservationMiB: 1024 },
      connection: { ANALYTICS_URL: 'http://{host}:{port:http}' },
    },
  ],
  products: [
    {
      name: 'relay',
      // The frontend reaches the API only; the scheduler, the workers and the rules service are out of its reach.
      reachability: 'linked',
      services: [
        {
          name: 'api',
          kind: 'api',
          port: 3002,
          replicas: 2,
          // Queues (BullMQ) and the websocket fan-out (Socket.IO's Redis adapter) share the product's Redis.
          uses: ['postgres', 'redis', 'analytics'],
          secrets: ['JWT_SECRET'],
          links: { RULES_ADDRESS: { target: 'rules', form: 'host-port' } },
        },
        {
          name: 'rules',
          kind: 'internal',
          port: 50051,
          // A gRPC server on a distroless image: the health probe binary it ships, no shell.
          healthCheck: HealthCheck.command(['/bin/grpc_health_probe', '-addr=:50051']),
          resources: { cpuLimit: 0.5, memoryLimitMiB: 256, cpuReservation: 0.25, memoryReservationMiB: 128 },
        },
        {
          name: 'scheduler',
          kind: 'worker',
          command: ['node', 'dist/scheduler.js'],
          singleton: true,
          // Never two at once, not even during a release: the old one stops before the new one starts.
          updateOrder: 'stop-first',
          uses: ['postgres', 'redis'],
          resources: { cpuLimit: 0.5, memoryLimitMiB: 256, cpuReservation: 0.1, memoryReservationMiB: 128 },
        },
        {
          name: 'worker',
          kind: 'worker',
          command: ['node', 'dist/worker.js'],
          replicas: 2,
          uses: ['postgres', 'redis', 'analytics'],
          // Reports for the API's /v1 routes are built by calling it back.
          links: { API_BASE_URL: { target: 'api', path: '/v1' } },
        },
        {
          name: 'frontend',
          kind: 'landing',
          subdomain: 'app',
          // nginx proxies /api and /socket.io to this upstream (envsubst fills its template at start).
          links: { API_UPSTREAM: 'api' },
          // The official nginx image writes its templates into conf.d at start, besides its cache and pid.
          writablePaths: ['/var/cache/nginx', '/var/run', '/etc/nginx/conf.d'],
          caching: {
            mode: 'everything',
            edgeTtl: Duration.days(30),
            browserTtl: Duration.minutes(10),
            neverCache: ['/api/*', '/auth/*', '/socket.io/*'],
          },
        },
      ],
    },
  ],
  environments: [staging, production],
};
