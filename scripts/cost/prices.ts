/**
 * Monthly list prices, net of VAT, in EUR, with the date and place each was taken from. Hetzner
 * Cloud bills by the hour up to a monthly cap and bills every resource that exists, running or
 * not (docs.hetzner.com/cloud/billing/faq); the cap is what is used here. Re-check before relying
 * on a number: `hcloud` users can read the live list with `GET https://api.hetzner.cloud/v1/pricing`.
 *
 * Sources (Hetzner's own price page could not be read from here; these are copies of Hetzner's
 * price API found through the project's search tools on 2026-11-29, each with its date):
 * - Server types: a snapshot of Hetzner's price API (`GET /v1/server_types`, location nbg1) dated
 *   2026-09-08, after the April/June 2026 CPX/CCX increases, kept as a fallback table in a public
 *   cost-estimate script; CCX13/CCX23/CCX33 agree with the moveinfra/eu-cloud-prices data set of
 *   2026-10-28 (server prices from Hetzner's price API). EU locations (fsn1, nbg1, hel1) only.
 * - Volumes: EUR 0.0572 per GB and month, read from Hetzner's price API (fsn1) on 2026-05-27
 *   (devantler-tech/platform commit cb791c6).
 * - Primary IPv4: about EUR 0.50 per month, as the same 2026-09-08 script states; primary IPv6 free.
 * - Automatic backups: 20% of the server price (the price API's `server_backup.percentage`, 20.0,
 *   as documented by WWW::Hetzner::Cloud::Pricing).
 * - Snapshots: EUR 0.01 per GB and month of image size (docs.cnap.tech's Hetzner page, 2026).
 * - Load balancers: no dated 2026 price was found; left unpriced, so a balancer is reported as
 *   such instead of being costed with a guess.
 * - R2: USD 0.015 per GB-month of standard storage, 10 GB-month free per account, no egress fee
 *   (developers.cloudflare.com/r2/pricing/); converted at the ECB reference rate of 2026-10-28,
 *   1.1133 USD per EUR.
 */

/** The date the table was last checked against its sources. */
export const PRICES_TAKEN_ON = '2026-11-29';
/** The date of the newest price in the table (the server-type snapshot). */
export const PRICES_AS_OF = '2026-09-08';

/** Monthly cap per Hetzner server type in EU locations, EUR net. */
export const SERVER_TYPE_MONTHLY_EUR: Readonly<Record<string, number>> = {
  cx23: 5.49,
  cx33: 8.49,
  cx43: 15.99,
  cx53: 29.49,
  cpx22: 19.49,
  cpx32: 35.49,
  cpx42: 69.49,
  cpx52: 100.49,
  cpx62: 129.99,
  ccx13: 42.99,
  ccx23: 85.99,
  ccx33: 138.49,
  ccx43: 275.99,
};

/** Locations the server-type prices hold for. */
export const PRICED_LOCATIONS: readonly string[] = ['fsn1', 'nbg1', 'hel1'];

export const VOLUME_EUR_PER_GB_MONTH = 0.0572;
export const PRIMARY_IPV4_EUR_MONTH = 0.5;
export const PRIMARY_IPV6_EUR_MONTH = 0;
/** Automatic backups cost this share of the server's price. */
export const BACKUP_SHARE_OF_SERVER = 0.2;
export const SNAPSHOT_EUR_PER_GB_MONTH = 0.01;
/** Monthly price per load balancer type; empty: no dated source (see the file comment). */
export const LOAD_BALANCER_MONTHLY_EUR: Readonly<Record<string, number>> = {};

export const R2_USD_PER_GB_MONTH = 0.015;
export const USD_PER_EUR = 1.1133;

/**
 * R2 is billed by what is stored, which the synthesized JSON does not know. The estimate assumes
 * these sizes; change them here when the real usage is known (the Cloudflare dashboard shows it).
 */
export const R2_ASSUMED_GB: Readonly<Record<'backups' | 'ota' | 'other', number>> = {
  // Nightly Postgres dumps kept 30 days plus Redis dumps kept 7: about 30 x 0.5 GB + 7 x 0.1 GB.
  backups: 16,
  // Expo OTA bundles of one app: a few releases of about 50 MB each.
  ota: 1,
  other: 1,
};
