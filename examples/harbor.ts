/**
 * Harbor: a booking system that has outgrown one host. Production runs as
 * one Docker Swarm of three hosts: two app nodes behind a Hetzner Load
 * Balancer and a data node of its own. Swarm spreads every service's
 * replicas over the app nodes and reschedules a lost node's on the other,
 * which synth checks has room for them (N-1). Staging stays on one host with
 * plain containers, where nothing of that is needed. Built from the entry
 * point alone.
 */
import { HealthCheck, type EnvironmentSpec, type SystemSpec } from '../index';

const common = {
  adminSshCidrs: ['198.51.100.16/28'],
  sshKeys: [{ name: 'ops' }],
  acmeEmail: 'ops@harbor.travel',
  cloudflare: { plan: 'pro', caching: 'cache-rules' },
  // Alerts: critical to PagerDuty, everything to Slack; public names checked from Cloudflare's edge.
  monitoring: {
    receivers: [
      { name: 'oncall', kind: 'pagerduty' },
      { name: 'ops', kind: 'slack', channel: '#harbor-alerts' },
    ],
    uptime: { mode: 'cloudflare' },
  },
} as const;

const staging: EnvironmentSpec = {
  ...common,
  name: 'staging',
  production: false,
  domainPrefix: 'staging-',
  location: 'fsn1',
  hosts: [{ name: 'app-1', serverType: 'cx42' }],
  products: [
    // One host: replicas stay at one each.
    { product: 'booking', imageTag: 'main-9d8c7b6', replicas: { api: 1, web: 1 } },
    { product: 'accounts', imageTag: 'main-1a2b3c4', replicas: { api: 1 } },
  ],
  protection: false,
  backups: false,
  privateNetwork: { ipRange: '10.50.0.0/16', subnetRange: '10.50.1.0/24' },
  data: {
    postgres: { mode: 'container', volumeSizeGiB: 20 },
    redis: { mode: 'container', volumeSizeGiB: 10 },
  },
  github: {},
};

const production: EnvironmentSpec = {
  ...common,
  name: 'production',
  production: true,
  location: 'fsn1',
  hosts: [
    { name: 'app-1', serverType: 'ccx33' },
    { name: 'app-2', serverType: 'ccx33' },
    // Its own group (node label role=data): products placed on `app` never land here.
    { name: 'data-1', serverType: 'ccx33', group: 'data' },
  ],
  // More than one host: a swarm (engine 'swarm' is the default); Swarm places the products on the nodes labelled role=app.
  products: [
    { product: 'booking', imageTag: 'v3.2.0', group: 'app' },
    { product: 'accounts', imageTag: 'v1.9.4', group: 'app' },
  ],
  loadBalancer: { type: 'lb11' },
  // harbor.travel answers with the booking app; www redirects to it.
  apexService: 'booking/web',
  protection: true,
  backups: true,
  privateNetwork: { ipRange: '10.60.0.0/16', subnetRange: '10.60.1.0/24' },
  data: {
    host: 'data-1',
    postgres: { mode: 'container', volumeSizeGiB: 100, resources: { memoryLimitMiB: 8192, memoryReservationMiB: 8192, cpuLimit: 2, cpuReservation: 2 } },
    redis: { mode: 'container', volumeSizeGiB: 10, maxMemoryMiB: 512, resources: { memoryLimitMiB: 768 } },
    backupImageTag: 'v2.0.1',
    // Dumps encrypted to the operators' age public key; a dead-man's switch alerts when a night's dump is missing.
    backupEncryptionKey: { variable: 'backup_age_recipient' },
    backupHeartbeatUrl: { secret: 'backup_heartbeat_url' },
  },
  github: { reviewerTeams: ['sre'], waitTimerMinutes: 5 },
};

export const harbor: SystemSpec = {
  name: 'harbor',
  rootDomain: 'harbor.travel',
  registry: { host: 'ghcr.io', owner: 'harbor' },
  repository: { owner: 'harbor', name: 'infrastructure' },
  products: [
    {
      name: 'booking',
      services: [
        {
          name: 'api',
          kind: 'api',
          port: 8080,
          replicas: 3,
          healthCheck: HealthCheck.http('/health'),
          uses: ['postgres', 'redis'],
          secrets: ['STRIPE_API_KEY'],
          // Harbor's apps read each of these from `<VAR>_FILE` when it is set, else from the variable: on the swarm
          // they are Swarm secrets mounted as files, in staging's plain containers environment values.
          secretFiles: ['DATABASE_URL', 'REDIS_URL', 'STRIPE_API_KEY'],
          links: { ACCOUNTS_URL: 'accounts/api' },
        },
        { name: 'web', kind: 'web', replicas: 2, publicUrls: { PUBLIC_API_URL: 'api' } },
        // One replica: a scheduler must not run twice; Swarm moves it to the other app node when its node is lost.
        { name: 'reminders', kind: 'worker', command: ['node', 'dist/reminders.js'], uses: ['postgres', 'redis'], secretFiles: ['DATABASE_URL', 'REDIS_URL'] },
      ],
    },
    {
      name: 'accounts',
      services: [{ name: 'api', kind: 'api', port: 8090, replicas: 2, subdomain: 'accounts', healthCheck: HealthCheck.http('/health'), uses: ['postgres'], secretFiles: ['DATABASE_URL'] }],
    },
  ],
  environments: [staging, production],
};
