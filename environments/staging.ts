import type { EnvironmentSpec } from '../index';
import { MANACORE_PRODUCTS } from './catalog';
import { deploymentsFromTags } from './tags';
// Written by the release, promotion and rollback commands (docs/deploying.md); read, never hand-edited.
import stagingTags from './tags/staging.json';

/** The products running in staging: listed here, so adding one to the catalog deploys it nowhere until an environment names it. */
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
 * Staging: one host, every product, deploys on merge to main without review.
 * Image tags come from environments/tags/staging.json, written by the release workflow; `latest` is tolerated here only.
 */
export const staging: EnvironmentSpec = {
  name: 'staging',
  production: false,
  domainPrefix: 'staging-',
  location: 'fsn1',
  // The source documents' "CCX32" class; Hetzner's current name is ccx33 (8 dedicated vCPU, 32 GB).
  hosts: [{ name: 'app-1', serverType: 'ccx33' }],
  products: deploymentsFromTags('staging', PRODUCTS, stagingTags, MANACORE_PRODUCTS),
  // Documentation ranges (RFC 5737 / 3849) until the real office and VPN egress are filled in.
  adminSshCidrs: ['203.0.113.10/32', '2001:db8:10::/48'],
  sshKeys: [{ name: 'platform_admin' }],
  protection: false,
  // Staging carries test traffic only: reserving half of production's share fits every product on one host.
  reservationScale: 0.5,
  backups: false,
  privateNetwork: { ipRange: '10.10.0.0/16', subnetRange: '10.10.1.0/24' },
  data: {
    // The nightly dump job (Postgres 03:00, Redis 04:00 UTC) into the backup bucket.
    backupImageTag: 'main-0000000',
    postgres: { mode: 'container', volumeSizeGiB: 20 },
    redis: { mode: 'container', volumeSizeGiB: 10, maxMemoryMiB: 256 },
  },
  // Staging shares the zone manacore.app with production, so it states production's plan (a zone has
  // one); its cache rules live in production-network's zone rulesets (see system/cloudflare-plan.ts).
  cloudflare: { plan: 'pro', caching: 'cache-rules' },
  github: {},
  acmeEmail: 'ops@manacore.app',
  // Staging pages nobody: every alert goes to its Slack channel (TF_VAR_alert_slack_ops).
  monitoring: {
    receivers: [{ name: 'ops', kind: 'slack', channel: '#alerts-staging' }],
    uptime: { mode: 'external', monitor: 'better-stack' },
  },
};
