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
import { TerraformStack, Testing } from 'cdktf';
import { TerraformCloudBootstrapStack } from '../stacks/bootstrap-stack';
import { stacksOf } from '../stacks/system-stacks';
import { manacore } from '../environments';
import { fieldnotes } from '../examples/fieldnotes';
import { harbor } from '../examples/harbor';
import { nutri } from '../examples/nutri';
import { SynthesizedSystem, synthStack, type TerraformJson } from './helpers/synth';

const RECORD = join(__dirname, 'fixtures', 'stack-digests.json');

const digest = (json: TerraformJson): string => createHash('sha256').update(JSON.stringify(json)).digest('hex').slice(0, 16);

function digestsOf(system: SynthesizedSystem, variant: string): Record<string, string> {
  return Object.fromEntries(system.stackNames.map((name) => [`${variant}/${name}`, digest(system.synth(name))]));
}

/** Manacore's App with local state, and with Terraform Cloud and its bootstrap stack (one of the App's stacks). */
const manacoreLocal = new SynthesizedSystem(manacore);
const manacoreCloud = new SynthesizedSystem(manacore, { terraformCloudOrganization: 'acme' });
const bootstrap = new TerraformCloudBootstrapStack(manacoreCloud.app, 'bootstrap', { organization: 'acme', stacks: manacoreCloud.environments.flatMap(stacksOf) });

function currentDigests(): Record<string, string> {
  return {
    ...digestsOf(manacoreLocal, 'manacore-local'),
    ...digestsOf(manacoreCloud, 'manacore-cloud'),
    ...digestsOf(new SynthesizedSystem(nutri), 'nutri-local'),
    ...digestsOf(new SynthesizedSystem(fieldnotes), 'fieldnotes-local'),
    ...digestsOf(new SynthesizedSystem(harbor), 'harbor-local'),
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

/** Equal values, types and key order (JSON.stringify sees the order; toStrictEqual sees the rest). */
function expectSameJson(actual: unknown, expected: unknown): void {
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
  expect(actual).toStrictEqual(expected);
}

describe('synthStack', () => {
  it('reads every stack of the App as JSON.parse(Testing.synth(stack)) does', () => {
    // The App as main.ts builds it, and the bootstrap stack (no SystemStack) of its Terraform Cloud variant.
    for (const stack of [...manacoreLocal.stacks, bootstrap]) {
      expectSameJson(synthStack(stack), JSON.parse(Testing.synth(stack)));
    }
  });

  it('reads what JSON cannot hold as JSON.parse(Testing.synth(stack)) does', () => {
    const stack = new TerraformStack(Testing.app(), 'odd-values');
    stack.addOverride('locals', {
      '//': 'metadata, left out',
      b: [1, -0, NaN, Infinity, undefined, Symbol('s'), null, 'x', 2.5e-7],
      a: { nested: { '//': 'also left out', z: 1, '10': 'integer keys first', '9': 'in numeric order', _: true } },
      date: new Date(0),
      'Zed': 'upper case sorts first',
      'éclair': 'after ASCII',
    });
    expectSameJson(synthStack(stack), JSON.parse(Testing.synth(stack)));
    stack.addOverride('locals.big', BigInt(1));
    expect(() => Testing.synth(stack)).toThrow(/BigInt/);
    expect(() => synthStack(stack)).toThrow(/BigInt/);
  });
});
