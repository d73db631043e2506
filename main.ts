import { App } from 'cdktf';
import { configureTokenStackTraces } from './constructs/core/token-stack-traces';
import { manacore } from './environments';
import { TerraformCloudBootstrapStack } from './stacks/bootstrap-stack';
import { createSystemStacks, stacksOf } from './stacks/system-stacks';

// Stack traces in every resource's metadata and on every token cost time and megabytes; construct paths locate
// resources, and CDKTF_TOKEN_STACK_TRACES=1 brings token traces back when one does not resolve.
configureTokenStackTraces();
const app = new App({ stackTraces: false });
const organization = process.env.TFC_ORGANIZATION;
const environments = createSystemStacks(app, manacore, { terraformCloudOrganization: organization });

// Opt-in: `TFC_ORGANIZATION=acme TFC_BOOTSTRAP=1 npx cdktf deploy bootstrap` creates the workspaces.
if (process.env.TFC_BOOTSTRAP === '1') {
  if (!organization) throw new Error('TFC_BOOTSTRAP=1 needs TFC_ORGANIZATION: the bootstrap stack creates Terraform Cloud workspaces');
  new TerraformCloudBootstrapStack(app, 'bootstrap', { organization, stacks: environments.flatMap(stacksOf) });
}

app.synth();
