/**
 * The N-1 rule of a swarm: losing any one node must leave room, under the
 * same constraints Swarm's scheduler applies, for every replica of the
 * services that must survive.
 */
import { ConfigurationError } from '../constructs/core/configuration-error';
import { assertSurvivesNodeLoss, nodeLossIssues, type SwarmNodeCapacity, type SwarmWorkload } from '../system/swarm-capacity';

const node = (name: string, role: string, memoryMiB = 3584, cpus = 1.8): SwarmNodeCapacity => ({ name, labels: { role }, cpus, memoryMiB });
const api = (replicas: number, memoryMiB: number, extra: Partial<SwarmWorkload> = {}): SwarmWorkload => ({
  name: 'chat-backend',
  replicas,
  nodeLabels: { role: 'app' },
  resources: { cpuLimit: 1, memoryLimitMiB: memoryMiB * 2, cpuReservation: 0.25, memoryReservationMiB: memoryMiB },
  mustSurvive: true,
  ...extra,
});
const postgres: SwarmWorkload = {
  name: 'postgres',
  replicas: 1,
  nodeLabels: { role: 'data' },
  resources: { cpuLimit: 2, memoryLimitMiB: 2048, cpuReservation: 0.5, memoryReservationMiB: 1024 },
  mustSurvive: false,
};

describe('nodeLossIssues', () => {
  it('accepts three app nodes whose two survivors hold every replica', () => {
    expect(nodeLossIssues('production', [node('app-1', 'app'), node('app-2', 'app'), node('app-3', 'app'), node('data-1', 'data')], [api(3, 1024), postgres])).toEqual([]);
  });

  it('refuses three app nodes that are full: two cannot take the third one\'s replicas', () => {
    const issues = nodeLossIssues('production', [node('app-1', 'app'), node('app-2', 'app'), node('app-3', 'app')], [api(6, 1500)]);
    expect(issues.map((issue) => issue.allowed)).toEqual([
      expect.stringMatching(/^nodes of which any N-1 hold every replica of the services that must survive; with app-1 lost, chat-backend replica 5 \(0\.25 CPU\/1500 MiB on nodes labelled role=app\) finds no node \(app-2 1\.3 CPU\/584 MiB free, app-3 1\.3 CPU\/584 MiB free\)$/),
      expect.stringMatching(/with app-2 lost/),
      expect.stringMatching(/with app-3 lost/),
    ]);
  });

  it('refuses a per-node ceiling that leaves a replica nowhere to go', () => {
    const [issue] = nodeLossIssues('production', [node('app-1', 'app'), node('app-2', 'app'), node('app-3', 'app')], [api(3, 256, { maxReplicasPerNode: 1 })]);
    expect(issue?.allowed).toMatch(/chat-backend replica 3 \(0\.25 CPU\/256 MiB on nodes labelled role=app, at most 1 per node\) finds no node/);
  });

  it('lets a service that need not survive stay pending, but counts the room it takes where it runs', () => {
    const shared = [node('app-1', 'app'), node('app-2', 'app')].map((n) => ({ ...n, labels: { role: 'app', data: 'yes' } }));
    const pinned = { ...postgres, nodeLabels: { data: 'yes' }, resources: { ...postgres.resources, memoryReservationMiB: 3000 } };
    // Without app-1 the database takes app-2's room and the API's two replicas no longer fit beside it.
    expect(nodeLossIssues('production', shared, [api(2, 512), pinned])).toHaveLength(2);
    expect(nodeLossIssues('production', shared, [api(2, 256), pinned])).toEqual([]);
  });

  it('refuses at full strength before it looks at a node loss', () => {
    const [issue, ...rest] = nodeLossIssues('staging', [node('app-1', 'app', 1024)], [api(1, 2048)]);
    expect(rest).toEqual([]);
    expect(issue?.allowed).toMatch(/^nodes that hold every replica; chat-backend replica 1 .* finds no node \(app-1 1\.8 CPU\/1024 MiB free\)$/);
  });
});

describe('assertSurvivesNodeLoss', () => {
  it('throws a ConfigurationError naming the environment and the field', () => {
    const call = () => assertSurvivesNodeLoss('production', [node('app-1', 'app'), node('app-2', 'app')], [api(4, 1500)]);
    expect(call).toThrow(ConfigurationError);
    expect(call).toThrow(/environment "production", field "hosts": got \["app-1","app-2"\]; allowed: nodes of which any N-1 hold every replica .* \(Swarm reschedules a lost node's tasks only where/);
  });
});
