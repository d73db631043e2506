import { App } from 'cdktf';
import { manacore } from './environments';
import { createSystemStacks } from './stacks/system-stacks';

const app = new App();
createSystemStacks(app, manacore, { terraformCloudOrganization: process.env.TFC_ORGANIZATION });
app.synth();
