/**
 * The App that `npm run synth` builds, read without synthesizing it: each stack's JSON is rendered when a check
 * first reads it, alone (`toTerraform()`, what cdktf's synth writes for it). The deploy wrapper's refusals read only
 * the selected stacks and their upstream stacks, so they come from a fraction of a synth (0.2-0.4 s of CPU instead
 * of 1.1 s for the whole App) and leave cdktf.out as it was.
 */
import * as path from 'node:path';
import { Manifest, TerraformStack, type App } from 'cdktf';
import type { StackJson, SynthesizedApp, SynthesizedStack } from '../lib/synthesized';

/** `app`'s stacks as readSynthesizedApp would read them from `outdir` after a synth, each rendered on first use. */
export function previewApp(app: App, outdir: string): SynthesizedApp {
  const stacks = new Map<string, SynthesizedStack>();
  // The stacks App.synth synthesizes (cdktf 0.21 lib/app.js), in its order.
  for (const stack of app.node.findAll().filter(TerraformStack.isStack)) {
    const name = stack.node.id;
    let rendered: StackJson | undefined;
    const json = (): StackJson => {
      if (rendered === undefined) {
        // What App.synth does to each stack before its synthesizer writes `toTerraform()` (lib/synthesize/synthesizer.js).
        stack.prepareStack();
        // Its keys in the order of the written file (json-stable-stringify), which orders lists such as missing credentials.
        rendered = JSON.parse(JSON.stringify(stack.toTerraform(), keysSorted)) as StackJson;
      }
      return rendered;
    };
    stacks.set(name, {
      name,
      // As readSynthesizedApp: the manifest's dependencies (Manifest.forStack), then the stack's "//".deploy.after.
      get dependencies() {
        return [...stack.dependencies.map((dependency) => dependency.node.path), ...(json()['//']?.deploy?.after ?? [])];
      },
      get stage() {
        return json()['//']?.deploy?.stage;
      },
      workingDirectory: path.join(outdir, Manifest.stacksFolder, name),
      get json() {
        return json();
      },
    });
  }
  return { outdir, stacks };
}

/** A JSON.stringify replacer that writes each object's keys sorted as json-stable-stringify sorts them (by code unit). */
function keysSorted(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
