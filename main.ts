import { manacore } from './environments';
import { synthesizeOptionsFromEnv, synthesizeSystem } from './index';

// `TFC_ORGANIZATION=acme` moves every stack to Terraform Cloud; `TFC_BOOTSTRAP=1` adds the stack that creates its workspaces.
// After synth, scripts/run-app.js writes cdktf.out/cost.json and prints the monthly cost (scripts/cost/after-synth.ts).
synthesizeSystem(manacore, synthesizeOptionsFromEnv(process.env));
