import { manacore } from './environments';
import { synthesizeOptionsFromEnv, synthesizeSystem } from './index';

// TFC_ORGANIZATION and TFC_BOOTSTRAP choose Terraform Cloud (synthesizeOptionsFromEnv, stacks/app.ts).
// After synth, scripts/run-app.js writes cdktf.out/cost.json and prints the monthly cost (scripts/cost/after-synth.ts).
synthesizeSystem(manacore, synthesizeOptionsFromEnv(process.env));
