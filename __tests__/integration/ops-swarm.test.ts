/**
 * `npm run ops -- status|logs` on a swarm environment (Harbor production: app-1, app-2, data-1): services with their
 * tasks per node and `docker service logs`, through the manager; the plain containers (data, collectors) per host.
 * The parsing is checked on `docker service ls|ps --format '{{json .}}'` lines as the docker CLI 20.10 prints them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { harbor } from '../../examples/harbor';
import { main, type OpsIo } from '../../scripts/ops/cli';
import { dockerHosts, formatServiceStatus, parseServiceStatus } from '../../scripts/ops/docker-access';
import { gitRunner } from '../../scripts/ops/tags-file';
import { environmentTopology } from '../../scripts/graph/topology';
import { costReport } from '../../scripts/cost/estimate';
import { readSynthesizedApp } from '../../scripts/lib/synthesized';
import { synthToTemp } from '../helpers/synth-out';

const outdir = synthToTemp({ MANACORE_APP_ENTRY: '__tests__/fixtures/harbor-app.ts' });
const fakeDocker = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-bin-'));
fs.writeFileSync(path.join(fakeDocker, 'docker'), '#!/bin/sh\n', { mode: 0o755 });

const serviceLine = (name: string, replicas: string, image: string, mode = 'replicated') => JSON.stringify({ ID: `id-${name}`, Image: image, Mode: mode, Name: name, Ports: '', Replicas: replicas });
const taskLine = (name: string, node: string, state: string, error = '') =>
  JSON.stringify({ CurrentState: state, DesiredState: 'Running', Error: error, ID: `t-${name}`, Image: 'x', Name: name, Node: node, Ports: '' });
const catalog = new Map([
  ['booking-api', { product: 'booking', service: 'api' }],
  ['booking-web', { product: 'booking', service: 'web' }],
]);

function io(run: OpsIo['run']): OpsIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (text) => stdout.push(text),
    err: (text) => stderr.push(text),
    env: { PATH: fakeDocker },
    root: '/nonexistent',
    outdir,
    system: harbor,
    run,
    git: gitRunner('/nonexistent'),
    addressLookup: (_stack, output) => ({ host_app_1_ipv4: '203.0.113.1', host_app_2_ipv4: '203.0.113.2', host_data_1_ipv4: '203.0.113.3' })[output],
  };
}

test("a swarm's hosts: the endpoint named by the address its edge provider reads, every other host from the network stack's outputs", () => {
  expect(dockerHosts(readSynthesizedApp(outdir), 'production', () => '203.0.113.9').map((host) => host.name)).toEqual(['app-1', 'app-2', 'data-1']);
});

test('service ls and service ps lines become services with their tasks per node; a short service shows its running/desired and the error', () => {
  const services = parseServiceStatus(
    [serviceLine('booking-web', '2/2', 'ghcr.io/harbor/booking-web:v3.2.0@sha256:abc'), serviceLine('booking-api', '2/3 (max 2 per node)', 'ghcr.io/harbor/booking-api:v3.2.0'), serviceLine('edge-proxy', '2/2', 'traefik:v3.6.1', 'global')].join('\n'),
    [
      taskLine('booking-api.1', 'app-1', 'Running 3 hours ago'),
      taskLine('booking-api.2', 'app-2', 'Running 3 hours ago'),
      taskLine('booking-api.3', '', 'Pending 2 minutes ago', 'no suitable node (max replicas per node limit exceed)'),
      taskLine('booking-web.1', 'app-2', 'Running 1 hour ago'),
      taskLine('booking-web.2', 'app-1', 'Running 1 hour ago'),
      taskLine('edge-proxy.k2j3', 'app-1', 'Running 2 days ago'),
      taskLine('edge-proxy.q8w9', 'app-2', 'Running 2 days ago'),
      '',
    ].join('\n'),
    catalog,
  );
  expect(services.map((s) => [s.name, s.product, s.service, s.tag, s.running, s.desired, s.tasks.map((t) => t.node)])).toEqual([
    ['edge-proxy', '-', 'edge-proxy', 'v3.6.1', 2, 2, ['app-1', 'app-2']],
    ['booking-api', 'booking', 'api', 'v3.2.0', 2, 3, ['app-1', 'app-2', '']],
    ['booking-web', 'booking', 'web', 'v3.2.0', 2, 2, ['app-2', 'app-1']],
  ]);
  expect(formatServiceStatus(services).split('\n')).toEqual([
    'PRODUCT  SERVICE     TAG     REPLICAS    NODE   TASK             STATE',
    '-        edge-proxy  v3.6.1  2/2 global  app-1  edge-proxy.k2j3  Running 2 days ago',
    '-        edge-proxy  v3.6.1  2/2 global  app-2  edge-proxy.q8w9  Running 2 days ago',
    'booking  api         v3.2.0  2/3         app-1  booking-api.1    Running 3 hours ago',
    'booking  api         v3.2.0  2/3         app-2  booking-api.2    Running 3 hours ago',
    'booking  api         v3.2.0  2/3                booking-api.3    Pending 2 minutes ago: no suitable node (max replicas per node limit exceed)',
    'booking  web         v3.2.0  2/2         app-2  booking-web.1    Running 1 hour ago',
    'booking  web         v3.2.0  2/2         app-1  booking-web.2    Running 1 hour ago',
  ]);
});

test('status goes to the manager (data-1, the endpoint) for services and tasks, then to every host for its plain containers; --print shows the same', () => {
  const printed = io(() => ({ code: 0, stdout: '' }));
  expect(main(['status', 'production', '--print'], printed)).toBe(0);
  expect(printed.stdout.join('').split('\n')).toEqual([
    "docker --host ssh://deploy@203.0.113.3:22 service ls --filter label=system=harbor --filter label=env=production --format '{{json .}}'",
    "docker --host ssh://deploy@203.0.113.3:22 service ps --no-trunc --filter desired-state=running --format '{{json .}}' '<services from the line above>'",
    "docker --host ssh://deploy@203.0.113.1:22 ps --all --no-trunc --filter label=system=harbor --filter label=env=production --format '{{json .}}'",
    "docker --host ssh://deploy@203.0.113.2:22 ps --all --no-trunc --filter label=system=harbor --filter label=env=production --format '{{json .}}'",
    "docker --host ssh://deploy@203.0.113.3:22 ps --all --no-trunc --filter label=system=harbor --filter label=env=production --format '{{json .}}'",
    '',
  ]);

  const runs: string[][] = [];
  const ran = io((args) => {
    runs.push([...args]);
    if (args.includes('ls')) return { code: 0, stdout: `${serviceLine('booking-api', '2/3', 'x:v3.2.0')}\n` };
    if (args.includes('service')) return { code: 0, stdout: `${taskLine('booking-api.1', 'app-1', 'Running 1 minute ago')}\n${taskLine('booking-api.2', 'app-2', 'Running 1 minute ago')}\n` };
    return { code: 0, stdout: args.includes('ssh://deploy@203.0.113.3:22') ? `${JSON.stringify({ Names: 'postgres', Labels: 'role=data,service=postgres', Status: 'Up 2 days (healthy)', State: 'running', Image: 'postgres:15' })}\n` : '' };
  });
  expect(main(['status', 'production'], ran)).toBe(0);
  expect(runs[1]!.slice(-1)).toEqual(['booking-api']);
  const out = ran.stdout.join('');
  expect(out).toContain('booking  api      v3.2.0  2/3       app-2  booking-api.2  Running 1 minute ago');
  expect(out).toContain('1 service(s) run fewer tasks than their replicas: booking-api 2/3');
  expect(out).toMatch(/plain containers on each host:\nHOST +PRODUCT[^\n]*\ndata-1 +- +postgres +15 +running +healthy +postgres/);
});

test('logs of a product service are the Swarm service\'s, through the manager, with --tail, --since and --follow', () => {
  const runs: string[][] = [];
  const ran = io((args, inherit) => (runs.push([...args, `inherit=${inherit}`]), { code: 0, stdout: '' }));
  expect(main(['logs', 'production', 'booking/api', '--tail', '50', '--since', '10m', '--follow'], ran)).toBe(0);
  expect(runs).toEqual([['docker', '--host', 'ssh://deploy@203.0.113.3:22', 'service', 'logs', '--timestamps', '--tail', '50', '--since', '10m', '--follow', 'booking-api', 'inherit=true']]);
  expect(ran.stderr.join('')).toBe('data-1 (manager): service booking-api\n');
});

test('the topology shows Swarm services with their replicas and the nodes their placement allows, behind the global edge', () => {
  const text = environmentTopology(readSynthesizedApp(outdir), 'production');
  expect(text).toContain('subgraph swarm["Swarm services, scheduled over app-1, app-2, data-1"]');
  expect(text).toContain('s_production_booking_booking_api["booking/api<br/>v3.2.0<br/>x3 on app-1, app-2"]');
  expect(text).toContain('s_production_edge_edge_proxy["edge-proxy<br/>global on app-1, app-2"]');
  expect(text).toContain('s_production_edge_docker_socket_proxy["docker-socket-proxy<br/>x1 on node.role==manager"]');
  expect(text).toContain('lb_edge_load_balancer --> s_production_edge_edge_proxy');
  expect(text).toContain('s_production_edge_edge_proxy -->|"api-booking.harbor.travel"| s_production_booking_booking_api');
  // Data stays plain containers on the data host.
  expect(text).toMatch(/subgraph host_data_1[^\n]*\n(?:[^\n]*\n)*?\s+c_production_data_postgres\[\("postgres"\)\]/);
});

test('the cost report names the load balancer as unpriced (no dated price) instead of guessing', () => {
  const report = costReport(readSynthesizedApp(outdir));
  expect(report.unpriced).toContainEqual({ stack: 'production-network', address: 'hcloud_load_balancer.edge-load-balancer', reason: 'load balancer type "lb11" has no dated price in scripts/cost/prices.ts' });
  expect(report.environments.production!.stacks['production-network']!.items.map((item) => item.address)).not.toContain('hcloud_load_balancer.edge-load-balancer');
});
