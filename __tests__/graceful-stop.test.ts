/**
 * Issue 30: every container the library creates, in every stack of every system (the monitoring
 * ones, exporters and one-shot jobs included), is stopped with SIGTERM and a grace period before
 * the provider removes it: `destroy_grace_seconds` (without it the Docker provider removes with
 * Force, a SIGKILL) and the same `stop_timeout` for Docker's own stops; no `stop_signal` other
 * than SIGTERM.
 */
import { manacore } from '../environments';
import { fieldnotes } from '../examples/fieldnotes';
import { harbor } from '../examples/harbor';
import { nutri } from '../examples/nutri';
import { resources, SynthesizedSystem } from './helpers/synth';

describe.each([
  ['manacore', manacore],
  ['nutri', nutri],
  ['fieldnotes', fieldnotes],
  ['harbor', harbor],
])('%s', (_name, system) => {
  it('stops every container with SIGTERM and a grace period of at least 10 s', () => {
    const app = new SynthesizedSystem(system);
    const containers = app.stackNames.flatMap((stack) => Object.entries(resources(app.synth(stack), 'docker_container')).map(([id, c]) => ({ address: `${stack} ${id}`, c })));
    expect(containers.length).toBeGreaterThan(0);
    const ungraceful = containers
      .filter(({ c }) => !(c.destroy_grace_seconds >= 10 && c.stop_timeout === c.destroy_grace_seconds && (c.stop_signal ?? 'SIGTERM') === 'SIGTERM'))
      .map(({ address, c }) => `${address}: destroy_grace_seconds=${c.destroy_grace_seconds} stop_timeout=${c.stop_timeout} stop_signal=${c.stop_signal}`);
    expect(ungraceful).toEqual([]);
  });
});
