/**
 * The parts of the plan comment that compare the base and head synth outputs rather than plans:
 * the monthly cost delta (scripts/cost/) and the topology diagram of every environment whose
 * topology changed (scripts/graph/). Both are computed from the synthesized JSON of each side, so
 * a base that predates cost.json still compares.
 */
import { costChanges, costReport, eur, signedEur, type CostReport } from '../cost/estimate';
import { topologyMarkdown, environmentTopology } from '../graph/topology';
import { environmentsOf, readSynthesizedApp, type SynthesizedApp } from '../lib/synthesized';

/** Markdown section with the monthly cost before and after, per environment and per changed stack. */
export function costSection(before: CostReport, after: CostReport): string {
  const changes = costChanges(before, after);
  const note = `<sub>List prices of ${after.pricesAsOf}, net of VAT (scripts/cost/prices.ts); R2 storage is an estimate from assumed sizes.</sub>`;
  if (changes.environments.length === 0) {
    return ['### Monthly cost', '', `No change: ${eur(after.monthlyEur)} per month in all (${Object.entries(after.environments).map(([name, environment]) => `${name} ${eur(environment.monthlyEur)}`).join(', ')}).`, '', note].join('\n');
  }
  const row = (name: string, beforeEur: number, afterEur: number) => `| ${name} | ${eur(beforeEur)} | ${eur(afterEur)} | ${signedEur(afterEur - beforeEur)} |`;
  return [
    '### Monthly cost',
    '',
    `**${signedEur(changes.totalAfter - changes.totalBefore)} per month** (${eur(changes.totalBefore)} → ${eur(changes.totalAfter)}).`,
    '',
    '| environment / stack | before | after | change |',
    '| --- | ---: | ---: | ---: |',
    ...changes.environments.map((change) => row(`**${change.name}**`, change.beforeEur, change.afterEur)),
    ...changes.stacks.map((change) => row(`\`${change.name}\``, change.beforeEur, change.afterEur)),
    '',
    note,
  ].join('\n');
}

/** Markdown section with the diagram of each environment whose topology differs; empty when none does. */
export function topologySection(base: SynthesizedApp, head: SynthesizedApp): string {
  const changed = environmentsOf(head)
    .sort()
    .filter((environment) => !environmentsOf(base).includes(environment) || environmentTopology(base, environment) !== environmentTopology(head, environment));
  if (changed.length === 0) return '';
  return [
    '### Topology changed',
    '',
    ...changed.map((environment) =>
      [`<details><summary>${environment} after this change</summary>`, '', topologyMarkdown(head, environment).split('\n').slice(4).join('\n').trim(), '', '</details>'].join('\n'),
    ),
  ].join('\n\n');
}

/** Both sections for two cdktf.out directories. */
export function operatorSections(baseOut: string, headOut: string): string[] {
  const base = readSynthesizedApp(baseOut);
  const head = readSynthesizedApp(headOut);
  return [costSection(costReport(base), costReport(head)), topologySection(base, head)].filter((section) => section !== '');
}
