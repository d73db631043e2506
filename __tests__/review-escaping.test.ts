/**
 * Health-check commands are user text like environment values and commands:
 * Terraform reads `${...}` in any string as an interpolation, so a shell probe
 * such as `test -n "${MINIO_ROOT_USER}"` must reach Docker as written, i.e.
 * synthesize as `$${` (Terraform docs, "Strings and Templates": `$${` is a literal `${`).
 */
import { fieldnotes } from '../examples/fieldnotes';
import { HealthCheck } from '../index';
import { variant } from './helpers/spec';
import { SynthesizedSystem, resources } from './helpers/synth';

it('escapes an accessory health-check command for Terraform', () => {
  const system = variant(fieldnotes, (s) => {
    s.accessories![0]!.healthCheck = HealthCheck.command(['sh', '-c', 'mc ready "${MC_ALIAS:-local}" && test 100%{x}']);
  });
  const data = new SynthesizedSystem(system).synth('production-data');
  const objects = resources(data, 'docker_container')['objects'];
  expect(objects.healthcheck.test).toEqual(['CMD', 'sh', '-c', 'mc ready "$${MC_ALIAS:-local}" && test 100%%{x}']);
});

it("escapes a service's health-check command for Terraform", () => {
  const system = variant(fieldnotes, (s) => {
    const scheduler = s.products[0]!.services.find((service) => service.name === 'scheduler')!;
    scheduler.healthCheck = HealthCheck.command(['sh', '-c', 'test -f "${STATE_DIR}/alive"']);
  });
  const ledger = new SynthesizedSystem(system).synth('production-ledger');
  const scheduler = Object.entries(resources(ledger, 'docker_container')).find(([address]) => address.startsWith('ledger-scheduler'))![1];
  expect(scheduler.healthcheck.test).toEqual(['CMD', 'sh', '-c', 'test -f "$${STATE_DIR}/alive"']);
});
