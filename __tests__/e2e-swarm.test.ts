/** What the e2e reads of a network stack to run its swarm joins on real dockerds (tools/e2e/swarm.ts). */
import { harbor } from '../examples/harbor';
import { lexicon } from '../examples/lexicon';
import { swarmJoins } from '../tools/e2e/swarm';
import { SynthesizedSystem } from './helpers/synth';

describe('swarmJoins', () => {
  const harborSystem = new SynthesizedSystem(harbor);

  it("reads Harbor production's joins in Terraform's order (the depends_on chain from the initializer, data-1): each host's server, IPv4 primary IP, private address, role and labels", () => {
    expect(swarmJoins(harborSystem.synth('production-network'))).toEqual([
      { host: 'data-1', serverName: 'harbor-production-data-1', ipv4Name: 'harbor-production-data-1-ipv4', privateAddress: '10.60.1.12', as: 'manager', labels: { role: 'data', data: 'true' } },
      { host: 'app-1', serverName: 'harbor-production-app-1', ipv4Name: 'harbor-production-app-1-ipv4', privateAddress: '10.60.1.10', as: 'manager', labels: { role: 'app', edge: 'true' } },
      { host: 'app-2', serverName: 'harbor-production-app-2', ipv4Name: 'harbor-production-app-2-ipv4', privateAddress: '10.60.1.11', as: 'manager', labels: { role: 'app', edge: 'true' } },
    ]);
  });

  it("reads Lexicon production's worker, and finds no joins where the environment is one host of plain containers", () => {
    expect(swarmJoins(new SynthesizedSystem(lexicon).synth('production-network')).map((join) => `${join.host} ${join.as}`)).toEqual(['data-1 manager', 'app-1 worker']);
    expect(swarmJoins(harborSystem.synth('staging-network'))).toEqual([]);
  });

  it('refuses joins that do not form one chain (two starts): the order Terraform runs them would be a guess', () => {
    const join = (host: string) => ({ provisioner: [{ 'local-exec': { command: `join --node deploy@\${hcloud_primary_ip.host-${host}-ipv4.ip_address} --node-address 10.0.0.1 --as manager` } }] });
    expect(() => swarmJoins({ resource: { terraform_data: { 'swarm-join-a': join('a'), 'swarm-join-b': join('b') } } })).toThrow(/do not form one chain after swarm-join-a/);
  });

  it('refuses a join command it cannot read rather than skipping it', () => {
    const json = { resource: { terraform_data: { 'swarm-join-app-1': { provisioner: [{ 'local-exec': { command: 'join --node somewhere' } }] } } } };
    expect(() => swarmJoins(json)).toThrow(/swarm-join-app-1: its local-exec command is not a swarm join the e2e can read/);
  });
});
