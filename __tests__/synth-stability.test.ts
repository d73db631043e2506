/**
 * Every stack's Terraform JSON, pinned by a content digest: a refactor that
 * changes what Terraform would see fails here, naming the stacks. A deliberate
 * change of output (a new product, say) refreshes the record with
 * `npm run generate` (which runs this file with UPDATE_STACK_DIGESTS=1), and
 * the diff of `fixtures/stack-digests.json` shows which stacks it touched.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TerraformStack } from 'cdktf';
import { TerraformCloudBootstrapStack } from '../stacks/bootstrap-stack';
import { stacksOf } from '../stacks/system-stacks';
import { manacore } from '../environments';
import { fieldnotes } from '../examples/fieldnotes';
import { harbor } from '../examples/harbor';
import { nutri } from '../examples/nutri';
import { SynthesizedSystem, synthStack } from './helpers/synth';

const RECORD = join(__dirname, 'fixtures', 'stack-digests.json');

function digestsOf(system: SynthesizedSystem, variant: string, extra: TerraformStack[] = []): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const stack of [...system.stacks, ...extra]) {
    const json = JSON.stringify(synthStack(stack));
    digests[`${variant}/${stack.node.id}`] = createHash('sha256').update(json).digest('hex').slice(0, 16);
  }
  return digests;
}

function currentDigests(): Record<string, string> {
  const cloud = new SynthesizedSystem(manacore, { terraformCloudOrganization: 'acme' });
  const bootstrap = new TerraformCloudBootstrapStack(cloud.app, 'bootstrap', { organization: 'acme', stacks: cloud.environments.flatMap(stacksOf) });
  return {
    ...digestsOf(new SynthesizedSystem(manacore), 'manacore-local'),
    ...digestsOf(cloud, 'manacore-cloud'),
    ...digestsOf(new SynthesizedSystem(nutri), 'nutri-local'),
    ...digestsOf(new SynthesizedSystem(fieldnotes), 'fieldnotes-local'),
    ...digestsOf(new SynthesizedSystem(harbor), 'harbor-local'),
    [`manacore-cloud/bootstrap`]: createHash('sha256').update(JSON.stringify(synthStack(bootstrap))).digest('hex').slice(0, 16),
  };
}

test('every stack synthesizes to the recorded Terraform JSON', () => {
  const current = currentDigests();
  if (process.env.UPDATE_STACK_DIGESTS === '1') writeFileSync(RECORD, `${JSON.stringify(current, null, 2)}\n`);
  const recorded = JSON.parse(readFileSync(RECORD, 'utf8')) as Record<string, string>;
  const changed = Object.keys({ ...recorded, ...current }).filter((stack) => recorded[stack] !== current[stack]);
  if (changed.length > 0) {
    throw new Error(`${changed.length} stack(s) synthesize to other Terraform JSON than recorded: ${changed.join(', ')}.\nIf the change is intended (a new product, service or host), run \`npm run generate\` and commit what it wrote.`);
  }
});
