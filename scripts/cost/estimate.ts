/**
 * Monthly cost of every environment and stack, computed from the synthesized JSON (what Terraform
 * will create), priced with the dated table in prices.ts. Written to cdktf.out/cost.json after
 * every synth (main.ts) and compared between two synth outputs in the pull-request comment.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HETZNER_SERVER_TYPES } from '../../constructs/hetzner/server-types';
import {
  BACKUP_SHARE_OF_SERVER,
  LOAD_BALANCER_MONTHLY_EUR,
  PRICED_LOCATIONS,
  PRICES_AS_OF,
  PRIMARY_IPV4_EUR_MONTH,
  PRIMARY_IPV6_EUR_MONTH,
  R2_ASSUMED_GB,
  R2_USD_PER_GB_MONTH,
  SERVER_TYPE_MONTHLY_EUR,
  SNAPSHOT_EUR_PER_GB_MONTH,
  USD_PER_EUR,
  VOLUME_EUR_PER_GB_MONTH,
} from './prices';
import {
  environmentOf,
  environmentsOf,
  readSynthesizedApp,
  resourcesOf,
  type ResourceBlock,
  type SynthesizedApp,
  type SynthesizedStack,
} from '../lib/synthesized';

/** One priced resource. */
export interface CostItem {
  /** Terraform address within its stack, e.g. `hcloud_server.host-app-1`. */
  readonly address: string;
  /** What was priced, e.g. `ccx43 in nbg1` or `100 GB volume`. */
  readonly what: string;
  readonly monthlyEur: number;
  /** True when the amount rests on an assumption (R2 usage, snapshot size), stated in `what`. */
  readonly estimate: boolean;
}

/** A resource that costs money but has no price in the table; reported, never guessed. */
export interface UnpricedItem {
  readonly stack: string;
  readonly address: string;
  readonly reason: string;
}

export interface StackCost {
  readonly monthlyEur: number;
  readonly items: readonly CostItem[];
}

export interface EnvironmentCost {
  readonly monthlyEur: number;
  readonly stacks: Readonly<Record<string, StackCost>>;
}

/** The content of cdktf.out/cost.json. */
export interface CostReport {
  readonly currency: 'EUR';
  /** Date of the newest price in the table (prices.ts). */
  readonly pricesAsOf: string;
  readonly note: string;
  readonly environments: Readonly<Record<string, EnvironmentCost>>;
  readonly unpriced: readonly UnpricedItem[];
  readonly monthlyEur: number;
}

export const COST_FILE = 'cost.json';

const round2 = (value: number): number => Math.round(value * 100) / 100;

function serverItem(address: string, block: ResourceBlock, stack: string, unpriced: UnpricedItem[]): CostItem[] {
  const type = String(block.server_type);
  const location = String(block.location ?? '');
  const price = SERVER_TYPE_MONTHLY_EUR[type];
  if (price === undefined || !PRICED_LOCATIONS.includes(location)) {
    unpriced.push({
      stack,
      address,
      reason:
        price === undefined
          ? `server type "${type}" has no price in scripts/cost/prices.ts (priced: ${Object.keys(SERVER_TYPE_MONTHLY_EUR).join(', ')})`
          : `location "${location}" has no price in scripts/cost/prices.ts (priced: ${PRICED_LOCATIONS.join(', ')})`,
    });
    return [];
  }
  const items: CostItem[] = [{ address, what: `${type} in ${location}`, monthlyEur: price, estimate: false }];
  if (block.backups === true) {
    items.push({ address: `${address} (backups)`, what: `automatic backups, ${BACKUP_SHARE_OF_SERVER * 100}% of ${type}`, monthlyEur: round2(price * BACKUP_SHARE_OF_SERVER), estimate: false });
  }
  return items;
}

/** The disk size of the server a snapshot's `server_id` points to, when it is a server of the same stack. */
function snapshotDiskGiB(stack: SynthesizedStack, block: ResourceBlock): number | undefined {
  const match = /^\$\{hcloud_server\.([A-Za-z0-9_-]+)\.id\}$/.exec(String(block.server_id ?? ''));
  const server = match === null ? undefined : stack.json.resource?.hcloud_server?.[match[1]];
  const facts = server === undefined ? undefined : HETZNER_SERVER_TYPES[String(server.server_type)];
  return facts?.diskGiB;
}

function r2Kind(block: ResourceBlock): keyof typeof R2_ASSUMED_GB {
  const name = String(block.name ?? '');
  if (name.endsWith('-backups')) return 'backups';
  if (name.endsWith('-mobile') || name.includes('-ota')) return 'ota';
  return 'other';
}

/** Prices every resource of one stack; resources without a table entry go to `unpriced`. */
export function stackCost(stack: SynthesizedStack, unpriced: UnpricedItem[]): StackCost {
  const items: CostItem[] = [];
  for (const [name, block] of resourcesOf(stack, 'hcloud_server')) items.push(...serverItem(`hcloud_server.${name}`, block, stack.name, unpriced));
  for (const [name, block] of resourcesOf(stack, 'hcloud_primary_ip')) {
    const ipv4 = block.type === 'ipv4';
    items.push({ address: `hcloud_primary_ip.${name}`, what: `primary ${ipv4 ? 'IPv4' : 'IPv6'}`, monthlyEur: ipv4 ? PRIMARY_IPV4_EUR_MONTH : PRIMARY_IPV6_EUR_MONTH, estimate: false });
  }
  for (const [name, block] of resourcesOf(stack, 'hcloud_volume')) {
    const size = Number(block.size);
    items.push({ address: `hcloud_volume.${name}`, what: `${size} GB volume`, monthlyEur: round2(size * VOLUME_EUR_PER_GB_MONTH), estimate: false });
  }
  for (const [name, block] of resourcesOf(stack, 'hcloud_snapshot')) {
    const disk = snapshotDiskGiB(stack, block);
    if (disk === undefined) {
      unpriced.push({ stack: stack.name, address: `hcloud_snapshot.${name}`, reason: 'the snapshotted server is not in this stack, so its disk size is unknown' });
    } else {
      items.push({ address: `hcloud_snapshot.${name}`, what: `snapshot, assumed as large as the server's ${disk} GB disk (an upper bound)`, monthlyEur: round2(disk * SNAPSHOT_EUR_PER_GB_MONTH), estimate: true });
    }
  }
  for (const [name, block] of resourcesOf(stack, 'hcloud_load_balancer')) {
    const price = LOAD_BALANCER_MONTHLY_EUR[String(block.load_balancer_type)];
    if (price === undefined) unpriced.push({ stack: stack.name, address: `hcloud_load_balancer.${name}`, reason: `load balancer type "${String(block.load_balancer_type)}" has no dated price in scripts/cost/prices.ts` });
    else items.push({ address: `hcloud_load_balancer.${name}`, what: String(block.load_balancer_type), monthlyEur: price, estimate: false });
  }
  for (const [name, block] of resourcesOf(stack, 'cloudflare_r2_bucket')) {
    const kind = r2Kind(block);
    const gb = R2_ASSUMED_GB[kind];
    items.push({
      address: `cloudflare_r2_bucket.${name}`,
      what: `R2 bucket, assumed ${gb} GB stored (${kind}), USD ${R2_USD_PER_GB_MONTH}/GB-month, free tier not deducted`,
      monthlyEur: round2((gb * R2_USD_PER_GB_MONTH) / USD_PER_EUR),
      estimate: true,
    });
  }
  return { monthlyEur: round2(items.reduce((sum, item) => sum + item.monthlyEur, 0)), items };
}

/** The cost report of one synth output. */
export function costReport(app: SynthesizedApp): CostReport {
  const unpriced: UnpricedItem[] = [];
  const environments: Record<string, EnvironmentCost> = {};
  for (const environment of [...environmentsOf(app)].sort()) {
    const stacks: Record<string, StackCost> = {};
    for (const stack of app.stacks.values()) {
      if (environmentOf(app, stack.name) === environment) stacks[stack.name] = stackCost(stack, unpriced);
    }
    environments[environment] = { monthlyEur: round2(Object.values(stacks).reduce((sum, stack) => sum + stack.monthlyEur, 0)), stacks };
  }
  return {
    currency: 'EUR',
    pricesAsOf: PRICES_AS_OF,
    note: 'Monthly list prices net of VAT (scripts/cost/prices.ts). R2 and snapshots are estimates from assumed sizes; Cloudflare plans, domains and traffic are not included.',
    environments,
    unpriced,
    monthlyEur: round2(Object.values(environments).reduce((sum, environment) => sum + environment.monthlyEur, 0)),
  };
}

/** `12.5` -> `EUR 12.50`. */
export function eur(amount: number): string {
  return `EUR ${amount.toFixed(2)}`;
}

/** The line printed after synth: one amount per environment, the total, and the price date. */
export function costSummaryLine(report: CostReport): string {
  const parts = Object.entries(report.environments).map(([name, environment]) => `${name} ${eur(environment.monthlyEur)}`);
  const unpriced = report.unpriced.length > 0 ? `; ${report.unpriced.length} resource(s) unpriced, see ${COST_FILE}` : '';
  return `Monthly cost: ${parts.join(', ')} (total ${eur(report.monthlyEur)}; prices of ${report.pricesAsOf}, R2 estimated${unpriced})`;
}

/** Computes the report of `outdir`, writes `<outdir>/cost.json` and returns the report. */
export function writeCostReport(outdir: string): CostReport {
  const report = costReport(readSynthesizedApp(outdir));
  fs.writeFileSync(path.join(outdir, COST_FILE), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** One environment's or stack's change between two reports. */
export interface CostChange {
  readonly name: string;
  readonly beforeEur: number;
  readonly afterEur: number;
}

/** Environments and stacks whose monthly cost differs between two reports (added or removed ones count from 0). */
export function costChanges(before: CostReport, after: CostReport): { environments: CostChange[]; stacks: CostChange[]; totalBefore: number; totalAfter: number } {
  const pairs = (a: Record<string, number>, b: Record<string, number>): CostChange[] =>
    [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .sort()
      .map((name) => ({ name, beforeEur: a[name] ?? 0, afterEur: b[name] ?? 0 }))
      .filter((change) => round2(change.afterEur - change.beforeEur) !== 0);
  const environmentTotals = (report: CostReport): Record<string, number> =>
    Object.fromEntries(Object.entries(report.environments).map(([name, environment]) => [name, environment.monthlyEur]));
  const stackTotals = (report: CostReport): Record<string, number> =>
    Object.fromEntries(Object.values(report.environments).flatMap((environment) => Object.entries(environment.stacks).map(([name, stack]) => [name, stack.monthlyEur])));
  return {
    environments: pairs(environmentTotals(before), environmentTotals(after)),
    stacks: pairs(stackTotals(before), stackTotals(after)),
    totalBefore: before.monthlyEur,
    totalAfter: after.monthlyEur,
  };
}

/** `+EUR 1.20` / `-EUR 0.50` / `EUR 0.00`. */
export function signedEur(amount: number): string {
  const rounded = round2(amount);
  return `${rounded > 0 ? '+' : rounded < 0 ? '-' : ''}${eur(Math.abs(rounded))}`;
}
