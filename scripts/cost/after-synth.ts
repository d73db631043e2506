/**
 * Run by scripts/run-app.js after the app synthesized: writes <outdir>/cost.json and prints the
 * one-line monthly cost. Kept out of main.ts, which imports only the library and the system.
 */
import { costSummaryLine, writeCostReport } from './estimate';

/** Writes the cost report of `outdir` and prints its summary line on stdout (cdktf shows stdout as it is). */
export function reportCost(outdir: string): void {
  console.log(costSummaryLine(writeCostReport(outdir)));
}
