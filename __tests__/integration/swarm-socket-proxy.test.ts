/**
 * The socket proxy's Swarm configuration, run by the real HAProxy in front
 * of a real swarm manager (dockerd 20.10 in its own network namespace): the
 * calls Traefik's Swarm provider makes are answered, everything else
 * (the swarm's join tokens, secrets, containers, events, any write) is 403.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { DockerSocketProxy, SOCKET_PROXY_PORT, TRAEFIK_SWARM_API_CALLS } from '../../constructs/docker/docker-socket-proxy';
import { SwarmNodes } from '../helpers/swarm-nodes';

jest.setTimeout(120_000);

let nodes: SwarmNodes;
let haproxy: ChildProcess;
/** HAProxy's listening socket: a Unix socket in the test's directory, so no port of another process on the machine can clash. */
let listener: string;
let nodeId: string;

function request(method: string, route: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: listener, method, path: route, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  if (spawnSync('sh', ['-c', 'command -v haproxy']).status !== 0) throw new Error('haproxy is not installed: run scripts/install-test-tools.sh');
  nodes = new SwarmNodes();
  const manager = await nodes.start('app-1', 'app-1', 10);
  nodes.docker('app-1', ['swarm', 'init', '--advertise-addr', manager.address]);
  nodeId = nodes.docker('app-1', ['info', '--format', '{{.Swarm.NodeID}}']);
  // A service to list (its image need not exist: listing does not pull).
  nodes.docker('app-1', ['service', 'create', '--detach', '--name', 'web', '--label', 'traefik.enable=true', 'example.invalid/web:1']);
  listener = path.join(nodes.dir, 'haproxy.sock');
  const config = DockerSocketProxy.configuration(TRAEFIK_SWARM_API_CALLS)
    // A bind address starting with "/" is a Unix socket (HAProxy's configuration manual, "bind").
    .replace(`bind :${SOCKET_PROXY_PORT}`, `bind ${listener}`)
    .replace(/server socket \/var\/run\/docker\.sock/g, `server socket ${manager.socket}`);
  const file = path.join(nodes.dir, 'haproxy.cfg');
  fs.writeFileSync(file, config);
  expect(spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' })).toMatchObject({ status: 0, stderr: expect.not.stringMatching(/WARNING|ALERT/) });
  const log = path.join(nodes.dir, 'haproxy.log');
  const logFd = fs.openSync(log, 'w');
  haproxy = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  const deadline = Date.now() + 30_000;
  let answer: { status: number; body: string } | Error;
  while (!('status' in (answer = await request('GET', '/_ping').catch((error: Error) => error))) || answer.status !== 200) {
    if (Date.now() > deadline || haproxy.exitCode !== null || haproxy.signalCode !== null) {
      const last = answer instanceof Error ? answer.message : `${answer.status} ${answer.body}`;
      throw new Error(`haproxy did not answer /_ping (exit code ${haproxy.exitCode}, signal ${haproxy.signalCode}; last answer: ${last}); its log:\n${fs.readFileSync(log, 'utf8')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
});

afterAll(async () => {
  haproxy?.kill('SIGTERM');
  await nodes?.stop();
});

describe('the socket proxy on swarm, in front of a real manager', () => {
  it("answers every call of Traefik's Swarm provider, with or without the API version prefix", async () => {
    const filters = (value: object) => encodeURIComponent(JSON.stringify(value));
    for (const route of [
      '/_ping',
      '/v1.41/version',
      '/v1.41/services',
      `/v1.41/networks?filters=${filters({ scope: ['swarm'] })}`,
      `/v1.41/tasks?filters=${filters({ service: ['web'], 'desired-state': ['running'] })}`,
      `/v1.41/nodes/${nodeId}`,
      '/services',
    ]) {
      const answer = await request('GET', route);
      expect({ route, status: answer.status }).toEqual({ route, status: 200 });
    }
    const services = JSON.parse((await request('GET', '/v1.41/services')).body);
    expect(services.map((service: any) => service.Spec.Labels['traefik.enable'])).toEqual(['true']);
  });

  it('refuses the join tokens, secrets, containers, events, a node list, any single service and every write', async () => {
    for (const [method, route] of [
      ['GET', '/v1.41/swarm'],
      ['GET', '/swarm/unlockkey'],
      ['GET', '/v1.41/secrets'],
      ['GET', '/v1.41/configs'],
      ['GET', '/v1.41/containers/json'],
      ['GET', '/v1.41/events'],
      ['GET', '/v1.41/nodes'],
      ['GET', '/v1.41/services/web'],
      ['GET', '/v1.41/services/web/logs'],
      ['POST', '/v1.41/services/create'],
      ['POST', `/v1.41/nodes/${nodeId}/update`],
      ['DELETE', '/v1.41/services/web'],
      ['POST', '/v1.41/swarm/leave'],
      ['GET', '/v1.41/%73warm'],
    ] as const) {
      const answer = await request(method, route);
      expect({ method, route, status: answer.status }).toEqual({ method, route, status: 403 });
      expect(answer.body).not.toMatch(/SWMTKN/);
    }
  });
});
