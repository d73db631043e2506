/**
 * The edge stack's synthesized Swarm objects for Harbor's production sent to
 * a real single-node swarm (dockerd 20.10): the two encrypted overlay
 * networks, the DNS token's secret, the socket proxy and the global edge
 * service. Images stand in (busybox; Traefik and HAProxy are not pulled
 * here); everything else is the synthesized spec. The edge task lands on the node labelled edge=true only, publishes
 * 80 and 443 in host mode, and reads the token from its secret file. The
 * daemon runs in its own network namespace (SwarmNodes): 2377 and 80/443
 * stay off the machine's own, where other swarms of the test lane run.
 */
import { randomBytes } from 'node:crypto';
import { harbor } from '../../examples/harbor';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SwarmEngine, serviceSpecOf } from '../helpers/swarm-engine';
import { SwarmNodes } from '../helpers/swarm-nodes';
import { resources, SynthesizedSystem } from '../helpers/synth';

jest.setTimeout(180_000);

const IMAGE = 'swarm-test/busybox:1';
let nodes: SwarmNodes;
let engine: SwarmEngine;
const references = new Map<string, string>();
const edge = new SynthesizedSystem(harbor).synth('production-edge');
const hostPaths = new Map<string, string>();

beforeAll(async () => {
  nodes = new SwarmNodes();
  const manager = await nodes.start('app-1', 'app-1', 10);
  nodes.docker('app-1', ['swarm', 'init', '--advertise-addr', manager.address]);
  // SwarmEngine's client (Engine API, busybox import, task polling) on this daemon; SwarmNodes owns its lifecycle.
  engine = Object.create(SwarmEngine.prototype, { dir: { value: path.dirname(manager.socket) } }) as SwarmEngine;
  engine.importBusybox(IMAGE);
  const root = path.dirname(manager.socket);
  // The host directories cloud-init creates for the proxy's user (ACME storage, the file provider's directory).
  for (const dir of ['acme', 'dynamic']) {
    fs.mkdirSync(path.join(root, dir), { mode: 0o700 });
    fs.chownSync(path.join(root, dir), 1001, 1001);
  }
  fs.writeFileSync(path.join(root, 'origin-pull-ca.pem'), 'stand-in\n');
  hostPaths.set('/opt/edge/acme', path.join(root, 'acme')).set('/opt/edge/dynamic', path.join(root, 'dynamic')).set('/opt/edge/cloudflare/origin-pull-ca.pem', path.join(root, 'origin-pull-ca.pem')).set('/var/run/docker.sock', manager.socket);
  for (const [id, network] of Object.entries(resources(edge, 'docker_network')).filter(([, body]: [string, any]) => body.driver === 'overlay')) {
    const { Id } = await engine.api('POST', '/networks/create', { Name: network.name, Driver: network.driver, Options: network.options, Internal: network.internal, Attachable: network.attachable });
    references.set(`\${docker_network.${id}.name}`, network.name);
    references.set(`\${docker_network.${id}.id}`, Id);
  }
  const token = `cf-${randomBytes(8).toString('hex')}`;
  const { ID } = await engine.api('POST', '/secrets/create', { Name: 'edge-cloudflare-dns-token-1', Data: Buffer.from(token).toString('base64') });
  references.set('${docker_secret.edge-proxy-cloudflare-dns-token.id}', ID);
  references.set('${docker_secret.edge-proxy-cloudflare-dns-token.name}', 'edge-cloudflare-dns-token-1');
});
afterAll(async () => nodes?.stop());

/** The ServiceSpec of a synthesized service with a stand-in process: an HTTP server when the secret file is readable. */
function standIn(name: string, body: any): any {
  const spec = serviceSpecOf(body, (reference) => references.get(reference) ?? (() => { throw new Error(`no engine object for ${reference}`); })());
  const container = spec.TaskTemplate.ContainerSpec;
  container.Image = IMAGE;
  container.Command = ['sh', '-c', name === 'edge-proxy' ? 'test -s "$CF_DNS_API_TOKEN_FILE" && mkdir -p /tmp/www && exec httpd -f -p 8080 -h /tmp/www' : 'exec sleep 1000'];
  container.Args = undefined;
  container.Healthcheck = undefined;
  // Host paths cloud-init makes on every host (Swarm rejects a task whose bind source is missing), here under the node's directory.
  for (const mount of container.Mounts) if (mount.Type === 'bind') mount.Source = hostPaths.get(mount.Source) ?? mount.Source;
  if (body.endpoint_spec) {
    spec.EndpointSpec = {
      Ports: body.endpoint_spec.ports.map((mapping: any) => ({ Protocol: mapping.protocol, PublishMode: mapping.publish_mode, TargetPort: mapping.target_port, PublishedPort: mapping.published_port })),
    };
  }
  return spec;
}

const manager = (): string => engine.cli(['info', '--format', '{{.Swarm.NodeAddr}}']);

describe('the edge on a real swarm', () => {
  it('runs the global edge service only on edge nodes, in host mode, with the DNS token as a file', async () => {
    const services = resources(edge, 'docker_service');
    for (const name of ['docker-socket-proxy', 'edge-proxy']) await engine.api('POST', '/services/create', standIn(name, services[name]));
    // Not yet an edge node: the global service places no task.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await engine.tasks('edge-proxy')).filter((task) => task.DesiredState === 'running')).toEqual([]);
    const nodeId = await engine.labelNode({ edge: 'true' });
    const started = Date.now();
    await engine.until('the edge task runs', async () => (await engine.tasks('edge-proxy')).some((task) => task.Status.State === 'running'), 60).catch(async (error: Error) => {
      const tasks = await engine.tasks('edge-proxy');
      throw new Error(`${error.message}; tasks: ${JSON.stringify(tasks.slice(0, 3).map((task) => task.Status))}`);
    });
    console.log(`edge task running ${((Date.now() - started) / 1000).toFixed(1)} s after the node was labelled edge=true`);
    await engine.until('the socket proxy runs on the manager', async () => (await engine.tasks('docker-socket-proxy')).some((task) => task.Status.State === 'running'), 60);
    const [task] = (await engine.tasks('edge-proxy')).filter((candidate) => candidate.Status.State === 'running');
    expect(task.NodeID).toBe(nodeId);
    // One binding per address family (0.0.0.0 and ::), each reported.
    const bindings = [...new Set(task.Status.PortStatus.Ports.map((binding: unknown) => JSON.stringify(binding)))].map((binding) => JSON.parse(binding as string));
    expect(bindings.sort((a: any, b: any) => a.PublishedPort - b.PublishedPort)).toEqual([
      { Protocol: 'tcp', TargetPort: 8080, PublishedPort: 80, PublishMode: 'host' },
      { Protocol: 'tcp', TargetPort: 8443, PublishedPort: 443, PublishMode: 'host' },
    ]);
    const inspected = await engine.api('GET', '/services/edge-proxy');
    expect(inspected.Spec.Mode).toEqual({ Global: {} });
    expect(inspected.Spec.UpdateConfig.Order).toBe('stop-first');
    // The stand-in only serves once it could read the token file; host mode answers on the node's own port.
    const answer = nodes.inNamespace(10, ['wget', '-S', '-O', '/dev/null', `http://${manager()}:80/`]);
    expect(answer.stderr).toMatch(/HTTP\/1\.[01] 404/);
  });
});
