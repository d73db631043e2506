/**
 * The monthly cost table of README.md "Topology and cost", computed from the cost report so the
 * README cannot drift from what synth prices (`npm run generate` writes it; a test compares it).
 */
import type { CostItem, CostReport } from './estimate';

/** The rows of the table, in order, and which priced items each one sums. */
const ROWS: readonly { readonly label: string; readonly matches: (item: CostItem) => boolean }[] = [
  { label: 'server', matches: (item) => item.address.startsWith('hcloud_server.') && !item.address.endsWith('(backups)') },
  { label: 'automatic backups (+20% of the server)', matches: (item) => item.address.startsWith('hcloud_server.') && item.address.endsWith('(backups)') },
  { label: 'primary IPs', matches: (item) => item.address.startsWith('hcloud_primary_ip.') },
  { label: 'volumes (Postgres, Redis, monitoring)', matches: (item) => item.address.startsWith('hcloud_volume.') },
  { label: 'R2 buckets (backups, OTA; estimate)', matches: (item) => item.address.startsWith('cloudflare_r2_bucket.') },
];

const amount = (value: number): string => value.toFixed(2);

/** A Markdown table: one column per environment, one row per kind of cost, and the total. */
export function costTable(report: CostReport): string {
  const environments = Object.keys(report.environments).sort();
  const items = (environment: string): CostItem[] => Object.values(report.environments[environment]!.stacks).flatMap((stack) => [...stack.items]);
  const sum = (values: readonly number[]): number => Math.round(values.reduce((total, value) => total + value, 0) * 100) / 100;
  const rows = [...ROWS, { label: 'other', matches: (item: CostItem) => !ROWS.some((row) => row.matches(item)) }]
    .map((row) => ({ label: row.label, amounts: environments.map((environment) => sum(items(environment).filter(row.matches).map((item) => item.monthlyEur))) }))
    .filter((row) => row.label !== 'other' || row.amounts.some((value) => value > 0));
  return [
    `| EUR per month (prices of ${report.pricesAsOf}, net of VAT) | ${environments.join(' | ')} |`,
    `| --- |${environments.map(() => ' ---: |').join('')}`,
    ...rows.map((row) => `| ${row.label} | ${row.amounts.map(amount).join(' | ')} |`),
    `| **total** | ${environments.map((environment) => `**${amount(report.environments[environment]!.monthlyEur)}**`).join(' | ')} |`,
    '',
    `All environments: **EUR ${amount(report.monthlyEur)}** per month.`,
  ].join('\n');
}
