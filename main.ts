import { manacore } from './environments';
import { synthesizeSystem } from './index';
import { costSummaryLine, writeCostReport } from './scripts/cost/estimate';
import { printWarning } from './scripts/lib/console';

// `TFC_ORGANIZATION=acme` moves every stack to Terraform Cloud; `TFC_BOOTSTRAP=1` adds the stack that creates its workspaces.
const { app } = synthesizeSystem(manacore, {
  terraformCloudOrganization: process.env.TFC_ORGANIZATION || undefined,
  bootstrap: process.env.TFC_BOOTSTRAP === '1',
  onWarning: printWarning,
});
// Issue 17: the monthly cost of what was just synthesized, from the JSON itself (scripts/cost/).
console.log(costSummaryLine(writeCostReport(app.outdir)));
