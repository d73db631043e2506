/**
 * Who forms the swarm: one manager, or three from three hosts on, taken
 * after the data host, which initializes; every other host joins in the
 * apply. No join token anywhere in what boots a host.
 */
import { initializerCommands, managerCount, planSwarmFormation, SWARM_PORTS_UNIT, swarmNodeLabels, swarmPortsUnit, type SwarmHost } from '../constructs/hetzner/swarm-formation';
import * as fs from 'node:fs';
import { SWARM_JOIN_SCRIPT } from '../constructs/hetzner/swarm-join-script';
import { harbor } from '../examples/harbor';
import { SWARM_JOIN_MODULE, SWARM_JOIN_SOURCE, swarmJoinModule } from '../scripts/swarm/script-module';
import { nutri } from '../examples/nutri';
import { environmentOf, variant } from './helpers/spec';
import { resources, SynthesizedSystem, type TerraformJson } from './helpers/synth';

const host = (name: string, role: string, last: number): SwarmHost => ({ name, role, privateIp: `10.60.1.${last}` });

describe('planSwarmFormation', () => {
  it('runs one manager for one or two hosts, three from three on (an odd count keeps quorum)', () => {
    expect([1, 2, 3, 4, 7].map(managerCount)).toEqual([1, 1, 3, 3, 3]);
  });

  it("makes the data host (data=true) the initializer, the environment's endpoint, then joins managers before workers, each labelled", () => {
    const dataHost = { ...host('data-1', 'data', 12), labels: { role: 'data', data: 'true' } };
    const formation = planSwarmFormation('production', [host('app-1', 'app', 10), host('app-2', 'app', 11), host('edge-1', 'edge', 13), dataHost, host('app-3', 'app', 14)]);
    expect(formation.initializer).toBe('data-1');
    expect(formation.managers).toEqual(['data-1', 'app-1', 'app-2']);
    expect(formation.initializerLabels).toEqual({ role: 'data', data: 'true' });
    expect(formation.joins).toEqual([
      { host: 'app-1', as: 'manager', labels: { role: 'app' } },
      { host: 'app-2', as: 'manager', labels: { role: 'app' } },
      { host: 'edge-1', as: 'worker', labels: { role: 'edge' } },
      { host: 'app-3', as: 'worker', labels: { role: 'app' } },
    ]);
    // A group named "data" is not the data host: only the label says where the volumes are.
    expect(planSwarmFormation('production', [host('app-1', 'app', 10), host('data-1', 'data', 12)]).initializer).toBe('app-1');
  });

  it('makes the data host the one manager when it is the only host', () => {
    expect(planSwarmFormation('staging', [host('app-1', 'data', 10)]).managers).toEqual(['app-1']);
  });

  it('refuses duplicate names, bad roles and addresses with every problem at once', () => {
    expect(() => planSwarmFormation('production', [host('a', 'App', 1), { name: 'a', role: 'app', privateIp: 'x' }])).toThrow(
      /3 problems[\s\S]*field "hosts": got "a"; allowed: unique host names[\s\S]*field "hosts.a.role": got "App"[\s\S]*field "hosts.a.privateIp": got "x"/,
    );
  });
});

describe('initializerCommands', () => {
  it('initializes on the private address only when not yet in a swarm, and keeps the join command out of every log', () => {
    const [init, label] = initializerCommands(host('app-1', 'app', 10));
    expect(init![2]).toBe(
      "docker info --format '{{.Swarm.LocalNodeState}}' | grep -qx active || docker swarm init --advertise-addr 10.60.1.10 --data-path-addr 10.60.1.10 --listen-addr 10.60.1.10:2377 > /dev/null",
    );
    expect(label![2]).toMatch(/until docker node update --label-add role=app /);
    expect(JSON.stringify(initializerCommands(host('app-1', 'app', 10)))).not.toMatch(/join-token|SWMTKN/);
  });
});

describe('the join script the network stack inlines', () => {
  it('is scripts/swarm/join as it is now (else: npm run generate)', () => {
    expect(SWARM_JOIN_SCRIPT).toBe(fs.readFileSync(SWARM_JOIN_SOURCE, 'utf8'));
    expect(fs.readFileSync(SWARM_JOIN_MODULE, 'utf8')).toBe(swarmJoinModule());
  });
});

describe('swarmNodeLabels', () => {
  it('labels a host by its group, the data host data=true, and the hosts of routed services edge=true', () => {
    expect(swarmNodeLabels({ name: 'app-2', group: 'app' }, 'data-1')).toEqual({ role: 'app' });
    expect(swarmNodeLabels({ name: 'data-1', group: 'storage' }, 'data-1')).toEqual({ role: 'storage', data: 'true' });
    expect(swarmNodeLabels({ name: 'app-2', group: 'app' }, 'data-1', new Set(['app-2']))).toEqual({ role: 'app', edge: 'true' });
  });
});

describe('swarmPortsUnit', () => {
  const unit = swarmPortsUnit('10.60.1.11', '10.60.1.0/24');
  it('admits each swarm port and ESP from the subnet to the private address only, and drops it from anywhere else', () => {
    for (const match of ['-p tcp --dport 2377', '-p tcp --dport 7946', '-p udp --dport 7946', '-p udp --dport 4789', '-p esp']) {
      expect(unit).toContain(`ExecStart=/usr/sbin/iptables -A SWARM-PORTS ${match} -s 10.60.1.0/24 -d 10.60.1.11 -j RETURN\nExecStart=/usr/sbin/iptables -A SWARM-PORTS ${match} -j DROP\n`);
      expect(unit).toContain(`ExecStart=/usr/sbin/ip6tables -A SWARM-PORTS ${match} -j DROP\n`);
    }
    // The chain is refilled on every start, and INPUT jumps to it once.
    expect(unit).toMatch(/iptables -F SWARM-PORTS[\s\S]*iptables -C INPUT -j SWARM-PORTS 2>\/dev\/null \|\| iptables -I INPUT -j SWARM-PORTS/);
    expect(unit).toContain('Before=docker.service');
  });
});

describe('a swarm environment in the network stack', () => {
  const system = new SynthesizedSystem(harbor);
  const network = system.synth('production-network');
  const userData = (json: TerraformJson, host: string): any => JSON.parse(resources(json, 'hcloud_server')[`host-${host}`].user_data.replace(/^#cloud-config\n/, ''));

  it('boots every host with the swarm ports unit, started before Docker; only the initializer inits the swarm', () => {
    for (const host of ['app-1', 'app-2', 'data-1']) {
      const config = userData(network, host);
      const address = { 'app-1': '10.60.1.10', 'app-2': '10.60.1.11', 'data-1': '10.60.1.12' }[host];
      expect(config.write_files).toContainEqual({ path: `/etc/systemd/system/${SWARM_PORTS_UNIT}`, content: swarmPortsUnit(address!, '10.60.1.0/24'), permissions: '0644' });
      const commands = config.runcmd.map((command: string[]) => command.join(' '));
      expect(commands.indexOf(`systemctl enable --now ${SWARM_PORTS_UNIT}`)).toBeLessThan(commands.indexOf('systemctl enable --now docker'));
      const inits = commands.filter((command: string) => command.includes('swarm init'));
      expect(inits).toHaveLength(host === 'data-1' ? 1 : 0);
    }
    const commands = userData(network, 'data-1').runcmd.map((command: string[]) => command.join(' '));
    // After Docker and the metadata block, so no task of the swarm ever reaches user_data.
    expect(commands.findIndex((command: string) => command.includes('swarm init'))).toBeGreaterThan(commands.indexOf('systemctl enable --now docker-metadata-block.service'));
    const initializer = { name: 'data-1', role: 'data', privateIp: '10.60.1.12', labels: { role: 'data', data: 'true' } };
    expect(commands).toContain(`sh -c ${initializerCommands(initializer)[0]![2]}`);
    expect(commands).toContain(`sh -c ${initializerCommands(initializer)[1]![2]}`);
    expect(initializerCommands(initializer)[1]![2]).toMatch(/until docker node update --label-add role=data --label-add data=true /);
  });

  it('joins every other host with a terraform_data replaced with its server or its labels, managers first, each after the one before', () => {
    const joins = resources(network, 'terraform_data');
    // The initializer's only labels it: a label change reaches it too.
    expect(Object.keys(joins).sort()).toEqual(['swarm-join-app-1', 'swarm-join-app-2', 'swarm-join-data-1']);
    // A role change (a third host makes the second a manager) runs the join again, which promotes or demotes the node.
    expect(joins['swarm-join-app-1'].triggers_replace).toEqual({ server: '${hcloud_server.host-app-1.id}', labels: 'role=app,edge=true', role: 'manager' });
    expect(joins['swarm-join-app-2'].triggers_replace).toEqual({ server: '${hcloud_server.host-app-2.id}', labels: 'role=app,edge=true', role: 'manager' });
    expect(joins['swarm-join-data-1'].triggers_replace).toEqual({ server: '${hcloud_server.host-data-1.id}', labels: 'role=data,data=true', role: 'manager' });
    // data-1 initializes (it labels itself first), app-1 and app-2 join as managers, one after the other.
    expect(joins['swarm-join-data-1'].depends_on).toEqual(['hcloud_server.host-data-1']);
    expect(joins['swarm-join-app-1'].depends_on).toEqual(['hcloud_server.host-data-1', 'hcloud_server.host-app-1', 'terraform_data.swarm-join-data-1']);
    expect(joins['swarm-join-app-2'].depends_on).toEqual(['hcloud_server.host-data-1', 'hcloud_server.host-app-2', 'terraform_data.swarm-join-app-1']);
    expect(joins['swarm-join-data-1'].provisioner[0]['local-exec'].command).toMatch(/--node deploy@\$\{hcloud_primary_ip.host-data-1-ipv4.ip_address\} --node-address 10.60.1.12 --as manager --label role=data --label data=true$/);
    const exec = joins['swarm-join-app-2'].provisioner[0]['local-exec'];
    expect(exec.command).toBe(
      'exec /bin/sh -c "$SWARM_JOIN_SCRIPT" swarm-join --manager deploy@${hcloud_primary_ip.host-data-1-ipv4.ip_address} --manager-address 10.60.1.12 ' +
        '--node deploy@${hcloud_primary_ip.host-app-2-ipv4.ip_address} --node-address 10.60.1.11 --as manager --label role=app --label edge=true',
    );
    // The script travels inline, its shell ${...} escaped from Terraform's templates (a real terraform run restores it: swarm-join.test.ts).
    expect(exec.environment.SWARM_JOIN_SCRIPT).toContain('ssh_command=$${SWARM_SSH:-ssh -o BatchMode=yes -o StrictHostKeyChecking=yes');
    expect(exec.environment.SWARM_JOIN_SCRIPT).not.toMatch(/(^|[^$])\$\{/);
  });

  it('puts no join token, and no command that prints one, in any stack of the system', () => {
    for (const stack of system.stackNames) {
      // The script itself names the request field it fills from stdin; with it set aside, nothing may.
      const text = JSON.stringify(system.synth(stack)).split(JSON.stringify(resources(network, 'terraform_data')['swarm-join-app-2'].provisioner[0]['local-exec'].environment.SWARM_JOIN_SCRIPT)).join('"script"');
      expect({ stack, token: /SWMTKN|JoinToken|join-token/.test(text) }).toEqual({ stack, token: false });
      // The only `join-token` is the script's, whose output goes down a pipe; no output carries anything of the swarm.
      expect(Object.keys(system.synth(stack).output ?? {}).filter((name) => /join|token/.test(name) && name !== 'acme_dns_token')).toEqual([]);
    }
    expect(JSON.stringify(userData(network, 'data-1'))).not.toMatch(/join-token|SWMTKN/);
  });

  it('keeps a one-host environment on plain containers: no swarm unit, no join', () => {
    const single = new SynthesizedSystem(nutri).synth('production-network');
    expect(JSON.stringify(single)).not.toContain(SWARM_PORTS_UNIT);
    expect(resources(single, 'terraform_data')).toEqual({});
  });

  it('forms a one-host swarm when the environment opts in: the host initializes, nothing joins, the apply labels it', () => {
    const optedIn = new SynthesizedSystem(variant(nutri, (copy) => (environmentOf(copy, 'production').engine = 'swarm'))).synth('production-network');
    expect(JSON.stringify(optedIn)).toContain(SWARM_PORTS_UNIT);
    expect(JSON.stringify(optedIn)).toContain('docker swarm init --advertise-addr 10.0.1.10');
    expect(Object.keys(resources(optedIn, 'terraform_data'))).toEqual(['swarm-join-app-1']);
  });
});
