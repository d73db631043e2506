/**
 * The catalog refuses a service or accessory whose container would take a platform container's name
 * (system/validation/products.ts PLATFORM_CONTAINER_NAMES). That list is written by hand: this keeps it equal to
 * what the platform stacks really name their containers, so a renamed construct cannot slip past it.
 */
import { manacore } from '../environments';
import { harbor } from '../examples/harbor';
import { PLATFORM_CONTAINER_NAMES } from '../system/validation';
import { SynthesizedSystem, resources } from './helpers/synth';

it('lists exactly the containers the edge, data and monitoring stacks run (one-shot setup tasks, named by digest, aside)', () => {
  const names = new Set<string>();
  for (const system of [manacore, harbor]) {
    const app = new SynthesizedSystem(system);
    for (const stack of app.stackNames.filter((name) => /-(edge|data|monitoring)$/.test(name))) {
      for (const container of Object.values(resources(app.synth(stack), 'docker_container'))) names.add(container.name as string);
    }
  }
  const platform = [...names].filter((name) => !/-monitoring-setup-[0-9a-f]+$/.test(name));
  expect(platform.sort()).toEqual([...PLATFORM_CONTAINER_NAMES].sort());
});
