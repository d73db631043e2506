/**
 * Fieldnotes: a system of ordinary shape that is not Manacore's, built from
 * the entry point alone. It uses what a general containerized system needs:
 * an API with two replicas and a metrics port, an internal search service
 * with one port for its protocol and another for health, a scheduler whose
 * only port is its health endpoint, a PostgreSQL image with extensions and
 * its own tuning, an S3-compatible object store on a volume, on-failure
 * restarts, third-party images pinned by an immutable release scheme, and
 * probes that use the tool each image has.
 */
import { HealthCheck, type EnvironmentSpec, type ProductDeployment, type SystemSpec } from '../index';

/** MinIO's release tags (`RELEASE.<UTC timestamp>`) are never moved once published. */
const MINIO_RELEASE_TAGS = '^RELEASE\\.\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}Z$';

const ledger = (tag: string, replicas?: Record<string, number>): ProductDeployment => ({ product: 'ledger', imageTag: tag, replicas });

const shared = {
  location: 'hel1',
  adminSshCidrs: ['198.51.100.0/28'],
  sshKeys: [{ name: 'ops' }],
  acmeEmail: 'ops@fieldnotes.dev',
  immutableTags: MINIO_RELEASE_TAGS,
  accessories: [{ name: 'objects' }],
  cloudflare: { plan: 'free', caching: 'cache-rules' },
  // A Free zone has no Cloudflare health checks: an external monitor checks the public names.
  monitoring: {
    receivers: [
      { name: 'oncall', kind: 'pagerduty' },
      { name: 'team', kind: 'slack' },
    ],
    uptime: { mode: 'external', monitor: 'uptimerobot' },
  },
} as const;

const staging: EnvironmentSpec = {
  ...shared,
  name: 'staging',
  production: false,
  domainPrefix: 'staging-',
  hosts: [{ name: 'app-1', serverType: 'cx42' }],
  // One API replica is enough for test traffic.
  products: [ledger('main-3b1f2aa', { api: 1 })],
  protection: false,
  backups: false,
  privateNetwork: { ipRange: '10.30.0.0/16', subnetRange: '10.30.1.0/24' },
  data: {
    postgres: { mode: 'container', volumeSizeGiB: 20, image: 'ghcr.io/fieldnotes/postgres-pgvector:v16.4.0' },
    redis: { mode: 'external', provider: 'upstash' },
  },
  github: {},
};

const production: EnvironmentSpec = {
  ...shared,
  name: 'production',
  production: true,
  hosts: [{ name: 'app-1', serverType: 'ccx33' }],
  products: [ledger('v2.8.1')],
  protection: true,
  backups: true,
  privateNetwork: { ipRange: '10.40.0.0/16', subnetRange: '10.40.1.0/24' },
  data: {
    postgres: {
      mode: 'container',
      volumeSizeGiB: 200,
      image: 'ghcr.io/fieldnotes/postgres-pgvector:v16.4.0',
      resources: { memoryLimitMiB: 8192, memoryReservationMiB: 8192, cpuLimit: 2, cpuReservation: 2 },
      maxConnections: 200,
      // Bulk imports write in bursts: fewer forced checkpoints, and pgvector loaded at start.
      settings: { max_wal_size: '4GB', min_wal_size: '1GB', shared_preload_libraries: 'vector' },
    },
    redis: { mode: 'external', provider: 'upstash' },
    backupImageTag: 'v1.4.0',
    // Dumps encrypted to the operators' age public key; a dead-man's switch alerts when a night's dump is missing.
    backupEncryptionKey: { variable: 'backup_age_recipient' },
    backupHeartbeatUrl: { secret: 'backup_heartbeat_url' },
  },
  github: { reviewerTeams: ['platform'], waitTimerMinutes: 2 },
};

export const fieldnotes: SystemSpec = {
  name: 'fieldnotes',
  rootDomain: 'fieldnotes.dev',
  registry: { host: 'ghcr.io', owner: 'fieldnotes' },
  repository: { owner: 'fieldnotes', name: 'platform' },
  accessories: [
    {
      name: 'objects',
      imageRef: 'quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z',
      command: ['server', '/data', '--address', ':9000', '--console-address', ':9001'],
      ports: { api: 9000, console: 9001 },
      volumes: [{ name: 'blobs', mountPath: '/data', sizeGiB: 100 }],
      secrets: ['MINIO_ROOT_PASSWORD'],
      environment: { MINIO_ROOT_USER: 'fieldnotes', MINIO_BROWSER: 'off' },
      // The image ships `mc`, whose `ready` asks the server's own health API (MinIO docs, "Healthcheck API").
      healthCheck: HealthCheck.command(['mc', 'ready', 'local']),
      resources: { cpuLimit: 1, memoryLimitMiB: 1024, cpuReservation: 0.5, memoryReservationMiB: 1024 },
      writablePaths: ['/root/.mc'],
      connection: { S3_ENDPOINT: 'http://{host}:{port:api}', S3_REGION: 'us-east-1' },
      restart: { onFailure: { maxRetries: 5 } },
    },
  ],
  products: [
    {
      name: 'ledger',
      services: [
        {
          name: 'api',
          kind: 'api',
          port: 8080,
          ports: { metrics: 9464 },
          replicas: 2,
          subdomain: 'api',
          // A Debian-based image: curl, not wget.
          healthCheck: HealthCheck.http('/healthz', { client: 'curl' }),
          environment: { LOG_FORMAT: 'json', GREETING_TEMPLATE: 'Hello ${name}' },
          secrets: ['SESSION_SECRET'],
          uses: ['postgres', 'redis', 'objects'],
          links: { SEARCH_GRPC_ADDRESS: { target: 'search', port: 'grpc', form: 'host-port' } },
          restart: { onFailure: { maxRetries: 10 } },
        },
        {
          name: 'search',
          kind: 'internal',
          port: 7700,
          ports: { grpc: 50051, health: 8081 },
          healthPort: 'health',
          healthCheck: HealthCheck.http('/ready'),
          resources: { memoryLimitMiB: 1024, memoryReservationMiB: 768 },
        },
        {
          name: 'scheduler',
          kind: 'worker',
          command: ['node', 'dist/scheduler.js'],
          ports: { health: 8082 },
          healthPort: 'health',
          // Distroless Node image: no shell tools, so Node's own fetch probes.
          healthCheck: HealthCheck.http('/healthz', { client: 'node' }),
          uses: ['postgres'],
          restart: { onFailure: { maxRetries: 3 } },
        },
        { name: 'web', kind: 'web' },
      ],
    },
  ],
  environments: [staging, production],
};
