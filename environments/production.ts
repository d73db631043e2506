import type { EnvironmentSpec } from '../index';
import { MANACORE_PRODUCTS } from './catalog';
import { deploymentsFromTags } from './tags';
// Written by the release, promotion and rollback commands (docs/deploying.md); read, never hand-edited.
import productionTags from './tags/production.json';

/** The products running in production: listed here, so adding one to the catalog deploys it nowhere until an environment names it. */
const PRODUCTS = [
  'mana-core-auth',
  'chat',
  'maerchenzauber',
  'manadeck',
  'memoro',
  'manacore',
  'picture',
  'uload',
  'nutriphi',
  'news',
  'wisekeep',
  'quote',
  'bauntown',
];

/**
 * Production: protected and backed up, image tags pinned to commits, every
 * deploy approved by the platform team.
 */
export const production: EnvironmentSpec = {
  name: 'production',
  production: true,
  domainPrefix: '',
  location: 'nbg1',
  // The source documents' "CCX42" class; Hetzner's current name is ccx43 (16 dedicated vCPU, 64 GB).
  hosts: [{ name: 'app-1', serverType: 'ccx43' }],
  products: deploymentsFromTags('production', PRODUCTS, productionTags, MANACORE_PRODUCTS),
  adminSshCidrs: ['203.0.113.10/32', '2001:db8:10::/48'],
  sshKeys: [{ name: 'platform_admin' }],
  protection: true,
  backups: true,
  privateNetwork: { ipRange: '10.20.0.0/16', subnetRange: '10.20.1.0/24' },
  data: {
    // The nightly dump job (Postgres 03:00, Redis 04:00 UTC) into the backup bucket.
    backupImageTag: 'main-0000000',
    // Dumps are encrypted to the operators' age public key (TF_VAR_backup_age_recipient); the private key stays offline.
    backupEncryptionKey: { variable: 'backup_age_recipient' },
    // Dead-man's switch: the monitor alerts when a day passes without this URL being called (TF_VAR_backup_heartbeat_url).
    backupHeartbeatUrl: { secret: 'backup_heartbeat_url' },
    postgres: { mode: 'container', volumeSizeGiB: 100 },
    // maxmemory 512mb from the sources; the container limit leaves room for the AOF rewrite.
    redis: { mode: 'container', volumeSizeGiB: 10, maxMemoryMiB: 512, resources: { memoryLimitMiB: 768 } },
  },
  snapshots: [],
  // Page rules do not fit: each environment needs 34 (12 landings x 2 + 10 APIs) and staging shares
  // the zone, so 68 against pro's 20 (business 50). Cache rules need 2 plus 1 configuration rule
  // for the whole zone; pro keeps Polish for landing images. The zone has one plan: keep staging's equal.
  cloudflare: { plan: 'pro', caching: 'cache-rules' },
  github: { reviewerTeams: ['platform'], waitTimerMinutes: 5 },
  acmeEmail: 'ops@manacore.app',
  // manacore.app (and www, redirected to it) is the platform's landing page.
  apexService: 'manacore/landing',
  // Seed 002: PagerDuty for critical alerts only, Slack for all. Keys: TF_VAR_alert_pagerduty_oncall, TF_VAR_alert_slack_ops.
  // The documents' own monitoring host (a CX32) is not declared yet: a second host puts app-1 into a spread placement
  // group, which Hetzner changes only on a stopped server; plan that move on its own (docs/observability.md).
  monitoring: {
    receivers: [
      { name: 'oncall', kind: 'pagerduty' },
      { name: 'ops', kind: 'slack', channel: '#alerts' },
    ],
    // 35 public names per environment: more standalone health checks than a Pro zone is known to allow; seed 003 names Better Stack.
    uptime: { mode: 'external', monitor: 'better-stack' },
  },
};
