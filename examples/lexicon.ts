/**
 * Lexicon: a Python product as a new user writes it, from the entry point
 * alone: a Django-style web app on `python:3.12-slim` (no curl, wget or
 * pgrep), a Celery queue worker, a Celery beat scheduler that must run
 * once, a Go gRPC suggestion service on a scratch image (no shell at all),
 * a static documentation site, and Meilisearch as an accessory whose master
 * key the web app must know too. Every probe uses what its image has.
 */
import { HealthCheck, type EnvironmentSpec, type SystemSpec } from '../index';

/** The web app answers its health route; Python's standard library asks it, no HTTP client needed in the image. */
const PYTHON_HTTP_PROBE = [
  'python',
  '-c',
  "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=5).status == 200 else 1)",
];

const shared = {
  location: 'nbg1',
  adminSshCidrs: ['198.51.100.0/28'],
  sshKeys: [{ name: 'ops' }],
  acmeEmail: 'ops@lexicon.dev',
  accessories: [{ name: 'search' }],
  cloudflare: { plan: 'free', caching: 'cache-rules' },
  monitoring: {
    receivers: [
      { name: 'oncall', kind: 'pagerduty' },
      { name: 'team', kind: 'slack' },
    ],
  },
} as const;

const staging: EnvironmentSpec = {
  ...shared,
  name: 'staging',
  production: false,
  domainPrefix: 'staging-',
  hosts: [{ name: 'app-1', serverType: 'cx42' }],
  products: [{ product: 'lexicon', imageTag: 'main-4f2a9b1' }],
  protection: false,
  backups: false,
  privateNetwork: { ipRange: '10.70.0.0/16', subnetRange: '10.70.1.0/24' },
  data: { postgres: { mode: 'container', volumeSizeGiB: 20 }, redis: { mode: 'container', volumeSizeGiB: 10 } },
};

const production: EnvironmentSpec = {
  ...shared,
  name: 'production',
  production: true,
  // The data host runs PostgreSQL, Redis and the search engine; the app host reaches them over the private network.
  hosts: [
    { name: 'app-1', serverType: 'ccx33' },
    { name: 'data-1', serverType: 'ccx23', group: 'data' },
  ],
  products: [{ product: 'lexicon', imageTag: 'v2.3.0', host: 'app-1' }],
  protection: true,
  backups: true,
  privateNetwork: { ipRange: '10.80.0.0/16', subnetRange: '10.80.1.0/24' },
  data: {
    host: 'data-1',
    postgres: { mode: 'container', volumeSizeGiB: 100 },
    redis: { mode: 'container', volumeSizeGiB: 20 },
    backupImageTag: 'v1.4.0',
    backupEncryptionKey: { variable: 'backup_age_recipient' },
    backupHeartbeatUrl: { secret: 'backup_heartbeat_url' },
  },
  github: { reviewerTeams: ['platform'] },
};

export const lexicon: SystemSpec = {
  name: 'lexicon',
  rootDomain: 'lexicon.dev',
  registry: { host: 'ghcr.io', owner: 'lexicon' },
  repository: { owner: 'lexicon', name: 'infrastructure' },
  accessories: [
    {
      name: 'search',
      imageRef: 'getmeili/meilisearch:v1.10.3',
      ports: { http: 7700 },
      volumes: [{ name: 'index', mountPath: '/meili_data', sizeGiB: 20 }],
      environment: { MEILI_ENV: 'production', MEILI_NO_ANALYTICS: 'true' },
      // The search engine refuses to start in production without it, and the web app signs its queries with it.
      sharedSecrets: ['MEILI_MASTER_KEY'],
      // The image is Alpine-based: busybox wget, exec form.
      healthCheck: HealthCheck.command(['wget', '-q', '--spider', 'http://127.0.0.1:7700/health']),
      connection: { MEILI_URL: 'http://{host}:{port:http}' },
    },
  ],
  products: [
    {
      name: 'lexicon',
      services: [
        {
          name: 'web',
          kind: 'web',
          port: 8000,
          uses: ['postgres', 'redis', 'search'],
          secrets: ['DJANGO_SECRET_KEY'],
          links: { SUGGEST_ADDRESS: { target: 'suggest', form: 'host-port' } },
          healthCheck: HealthCheck.command(PYTHON_HTTP_PROBE),
        },
        {
          name: 'worker',
          kind: 'worker',
          image: 'lexicon-web',
          command: ['celery', '-A', 'lexicon', 'worker', '--loglevel=info'],
          uses: ['postgres', 'redis', 'search'],
          secrets: ['DJANGO_SECRET_KEY'],
          // Debian slim has a shell (dash) but no pgrep: the worker answers Celery's own ping.
          healthCheck: HealthCheck.shell('celery -A lexicon inspect ping --timeout 5 -d "celery@$HOSTNAME"'),
        },
        {
          name: 'scheduler',
          kind: 'worker',
          image: 'lexicon-web',
          command: ['celery', '-A', 'lexicon', 'beat', '--loglevel=info'],
          // Celery beat fires every periodic task it holds: two of them would fire each task twice.
          singleton: true,
          uses: ['postgres', 'redis'],
          secrets: ['DJANGO_SECRET_KEY'],
          healthCheck: HealthCheck.none('celery beat has no health endpoint and pgrep is not in the image: a crash restarts it, and the queue-age alert notices a hang'),
          resources: { cpuLimit: 0.25, memoryLimitMiB: 256, cpuReservation: 0.1, memoryReservationMiB: 128 },
        },
        {
          name: 'suggest',
          kind: 'internal',
          port: 50051,
          // A Go binary on scratch: no shell, only the health probe binary copied in beside it.
          healthCheck: HealthCheck.command(['/bin/grpc_health_probe', '-addr=127.0.0.1:50051']),
          resources: { cpuLimit: 0.5, memoryLimitMiB: 128, cpuReservation: 0.25, memoryReservationMiB: 64 },
        },
        {
          name: 'docs',
          kind: 'landing',
          subdomain: 'docs',
          // nginx:alpine keeps the landing default probe (sh and busybox wget) and its caching: HTML briefly, hashed assets long.
        },
      ],
    },
  ],
  environments: [staging, production],
};
