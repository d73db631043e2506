/**
 * The documents hosts boot from and the socket proxy runs with, checked by
 * the real validators: `cloud-init schema` (Debian's cloud-init package) on
 * every network stack's user_data, and `haproxy -c` on the socket proxy's
 * configuration. `.ci/run` installs both; a missing tool fails the test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DockerSocketProxy } from '../../constructs/docker/docker-socket-proxy';
import { manacore } from '../../environments';
import { harbor } from '../../examples/harbor';
import { nutri } from '../../examples/nutri';
import { environmentOf, variant } from '../helpers/spec';
import { SynthesizedSystem, resourceList } from '../helpers/synth';

function requireTool(command: string, packageName: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
  if (!found) throw new Error(`${command} is not installed: run .ci/run, or apt-get install -y ${packageName}`);
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cloud-init-schema-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * user_data as the server receives it: Terraform has evaluated the
 * interpolations (an administrator's key variable, base64 of the agent
 * token), so they become values of the same shape here.
 */
function asDelivered(userData: string): string {
  return userData
    .replace(/\$\{var\.ssh_public_key_[a-z0-9_]+\}/g, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholderKeyForSchemaValidation0000000 admin')
    .replace(/\$\{base64encode\([^}]*\)\}/g, 'cGxhY2Vob2xkZXI=');
}

function schema(name: string, document: string): { status: number | null; output: string } {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, document);
  const result = spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('cloud-init schema', () => {
  beforeAll(() => requireTool('cloud-init', 'cloud-init'));

  const systems = {
    manacore,
    'manacore on an agent': variant(manacore, (system) => {
      environmentOf(system, 'staging').terraformCloud = { organization: 'acme' };
      environmentOf(system, 'production').terraformCloud = { organization: 'acme' };
    }),
    nutri,
    // Production forms a swarm: the swarm ports unit everywhere, the init commands on the first manager.
    harbor,
  };

  it.each(Object.keys(systems))('accepts the user_data of every host of %s', (name) => {
    const app = new SynthesizedSystem(systems[name as keyof typeof systems]);
    const networks = app.stackNames.filter((stack) => stack.endsWith('-network'));
    expect(networks.length).toBeGreaterThan(0);
    for (const network of networks) {
      for (const server of resourceList(app.synth(network), 'hcloud_server')) {
        const delivered = asDelivered(server.user_data);
        expect(delivered).not.toContain('${');
        const result = schema(`${name.replace(/\W+/g, '-')}-${network}`, delivered);
        expect({ network, ...result }).toEqual({ network, status: 0, output: expect.stringContaining('Valid cloud-config') });
      }
    }
  });

  it('rejects a broken document (the validator really validates)', () => {
    const result = schema('broken', '#cloud-config\n{"packages": 5, "write_files": [{"permissions": 644}]}\n');
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("packages: 5 is not of type 'array'");
  });
});

describe('haproxy -c', () => {
  beforeAll(() => requireTool('haproxy', 'haproxy'));

  it("accepts the socket proxy's configuration without warnings", () => {
    const file = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(file, DockerSocketProxy.configuration());
    const output = execFileSync('haproxy', ['-c', '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(output).toContain('Configuration file is valid');
    const check = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
    expect(check.stderr ?? '').not.toMatch(/WARNING|ALERT/);
  });

  it('rejects a broken configuration (the checker really checks)', () => {
    const file = path.join(dir, 'broken.cfg');
    fs.writeFileSync(file, DockerSocketProxy.configuration().replace('http-request deny unless METH_GET', 'http-request refuse unless METH_GET'));
    expect(spawnSync('haproxy', ['-c', '-f', file]).status).not.toBe(0);
  });
});
