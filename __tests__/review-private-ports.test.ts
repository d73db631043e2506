/**
 * With several hosts, data services and accessories publish their ports on
 * their host's private address; two publishers of one port on one host cannot
 * both bind it (Docker: "Bind for 10.60.1.12:5432 failed: port is already allocated").
 */
import { harbor } from '../examples/harbor';
import { HealthCheck } from '../index';
import { environmentOf, variant } from './helpers/spec';
import { issueLines } from './helpers/issues';

const pgbouncer = { name: 'pgbouncer', imageRef: 'edoburu/pgbouncer@sha256:' + 'a'.repeat(64), ports: { pg: 5432 }, healthCheck: HealthCheck.command(['pgbouncer', '--version']) };

it('refuses an accessory publishing a port PostgreSQL already publishes on the data host', () => {
  const lines = issueLines(
    variant(harbor, (s) => {
      s.accessories = [pgbouncer];
      environmentOf(s, 'production').accessories = [{ name: 'pgbouncer' }];
    }),
  );
  expect(lines).toEqual([
    'environment "production", field "accessories.pgbouncer.host": got "data-1"; allowed: a host where port 5432 is free (postgres publishes 5432 on data-1\'s private address) (with several hosts every data service and accessory, and the monitoring host\'s Prometheus and Loki, publish their ports on their host\'s private address)',
  ]);
});

it('accepts the same accessory on another host, and on one host where nothing is published', () => {
  expect(() =>
    issueLines(
      variant(harbor, (s) => {
        s.accessories = [pgbouncer];
        environmentOf(s, 'production').accessories = [{ name: 'pgbouncer', host: 'app-1' }];
        // Staging (one host) publishes nothing: containers reach each other by name.
        environmentOf(s, 'staging').accessories = [{ name: 'pgbouncer' }];
      }),
    ),
  ).toThrow('expected a ConfigurationError, but the system was accepted');
});

it("refuses an accessory publishing the port Prometheus takes on the monitoring host's private address", () => {
  const proxy = { ...pgbouncer, name: 'metrics-proxy', ports: { http: 9090 } };
  const lines = issueLines(
    variant(harbor, (s) => {
      s.accessories = [proxy];
      environmentOf(s, 'production').accessories = [{ name: 'metrics-proxy', host: 'app-1' }];
    }),
  );
  expect(lines).toEqual([
    'environment "production", field "accessories.metrics-proxy.host": got "app-1"; allowed: a host where port 9090 is free (monitoring publishes 9090 on app-1\'s private address) (with several hosts every data service and accessory, and the monitoring host\'s Prometheus and Loki, publish their ports on their host\'s private address)',
  ]);
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
