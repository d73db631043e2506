/**
 * Data services and accessories publish no port, on one host or on a swarm:
 * each is reached by name on its network. So an accessory may serve
 * PostgreSQL's port, or Prometheus's, beside them.
 */
import { harbor } from '../examples/harbor';
import { resolveSystem } from '../system/resolve';
import { HealthCheck } from '../index';
import { environmentOf, variant } from './helpers/spec';
import { issueLines } from './helpers/issues';
import { SynthesizedSystem, resources } from './helpers/synth';

const pgbouncer = { name: 'pgbouncer', imageRef: 'edoburu/pgbouncer@sha256:' + 'a'.repeat(64), ports: { pg: 5432 }, healthCheck: HealthCheck.command(['pgbouncer', '--version']) };

it("accepts an accessory on PostgreSQL's port on the data host, and on Prometheus's on the monitoring host: nothing binds a host port", () => {
  const system = variant(harbor, (s) => {
    s.accessories = [pgbouncer, { ...pgbouncer, name: 'metrics-proxy', ports: { http: 9090 } }];
    environmentOf(s, 'production').accessories = [{ name: 'pgbouncer' }, { name: 'metrics-proxy', host: 'app-1' }];
  });
  expect(() => resolveSystem(system)).not.toThrow();
  const containers = resources(new SynthesizedSystem(system).synth('production-data'), 'docker_container');
  for (const name of ['pgbouncer', 'metrics-proxy', 'postgres']) expect(containers[name].ports).toBeUndefined();
});

it("refuses an accessory named like a platform container, which its host's daemon already runs", () => {
  const lines = issueLines(
    variant(harbor, (s) => {
      s.accessories = [{ ...pgbouncer, name: 'prometheus', ports: { http: 9999 } }];
      environmentOf(s, 'production').accessories = [{ name: 'prometheus', host: 'app-2' }];
    }),
  );
  expect(lines).toEqual([expect.stringMatching(/^catalog, field "accessories\.prometheus\.name": got "prometheus"; allowed: a name other than the platform's containers: edge-proxy, docker-socket-proxy, postgres, .*prometheus/)]);
});
