/**
 * Who forms the swarm: one manager, or three from three hosts on, taken
 * from hosts without data services first; every other host joins in the
 * apply. No join token anywhere in what boots a host.
 */
import { initializerCommands, managerCount, planSwarmFormation, type SwarmHost } from '../constructs/hetzner/swarm-formation';

const host = (name: string, role: string, last: number): SwarmHost => ({ name, role, privateIp: `10.60.1.${last}` });

describe('planSwarmFormation', () => {
  it('runs one manager for one or two hosts, three from three on (an odd count keeps quorum)', () => {
    expect([1, 2, 3, 4, 7].map(managerCount)).toEqual([1, 1, 3, 3, 3]);
  });

  it('takes managers from hosts without data first and joins managers before workers, each labelled by role', () => {
    const formation = planSwarmFormation('production', [host('data-1', 'data', 12), host('app-1', 'app', 10), host('app-2', 'app', 11), host('edge-1', 'edge', 13)]);
    expect(formation.initializer).toBe('app-1');
    expect(formation.managers).toEqual(['app-1', 'app-2', 'edge-1']);
    expect(formation.initializerLabels).toEqual({ role: 'app' });
    expect(formation.joins).toEqual([
      { host: 'app-2', as: 'manager', labels: { role: 'app' } },
      { host: 'edge-1', as: 'manager', labels: { role: 'edge' } },
      { host: 'data-1', as: 'worker', labels: { role: 'data' } },
    ]);
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
    expect(label![2]).toMatch(/^docker node update --label-add role=app /);
    expect(JSON.stringify(initializerCommands(host('app-1', 'app', 10)))).not.toMatch(/join-token|SWMTKN/);
  });
});
