/**
 * A swarm under Terraform Cloud agents (docs/scaling.md, "One endpoint per
 * environment"): one agent, on the endpoint (the data host); the joins run
 * from it in the edge stack over the private network with a deploy key and
 * pinned host keys, never from the remote network workspace; the monitoring
 * server defaults to the endpoint, and what would need another host's daemon
 * is refused.
 */
import { harbor } from '../examples/harbor';
import { lexicon } from '../examples/lexicon';
import { TerraformCloudBootstrapStack } from '../stacks/bootstrap-stack';
import { stacksOf } from '../stacks/system-stacks';
import { SWARM_JOIN_KEY_VARIABLE, SWARM_KNOWN_HOSTS_VARIABLE } from '../stacks/swarm-joins';
import { resolveSystem } from '../system/resolve';
import { environmentOf, variant } from './helpers/spec';
import { SynthesizedSystem, resources, synthStack } from './helpers/synth';

const onAgents = (system = harbor) => variant(system, (s) => (environmentOf(s, 'production').dockerAccess = { mode: 'agent' }));
const cloud = { terraformCloudOrganization: 'acme' };

describe('a swarm of three hosts on a Terraform Cloud agent', () => {
  const system = new SynthesizedSystem(onAgents(), cloud);
  const network = system.synth('production-network');
  const edge = system.synth('production-edge');
  const joins = resources(edge, 'terraform_data');

  it('runs one agent, on the data host that is the swarm endpoint', () => {
    const withAgent = Object.entries(resources(network, 'hcloud_server'))
      .filter(([, server]) => String(server.user_data).includes('tfc-agent'))
      .map(([id]) => id);
    expect(withAgent).toEqual(['host-data-1']);
  });

  it('joins nothing from the network workspace, which runs remotely without a key', () => {
    expect(resources(network, 'terraform_data')).toEqual({});
  });

  it('joins every host from the edge stack over the private network, the endpoint first, each after the one before', () => {
    expect(Object.keys(joins).sort()).toEqual(['swarm-join-app-1', 'swarm-join-app-2', 'swarm-join-data-1']);
    expect(joins['swarm-join-data-1'].depends_on).toEqual([]);
    expect(joins['swarm-join-app-1'].depends_on).toEqual(['terraform_data.swarm-join-data-1']);
    expect(joins['swarm-join-app-2'].depends_on).toEqual(['terraform_data.swarm-join-app-1']);
    // data-1 is the third host (10.60.1.12): the manager every join takes the token from, over its private address.
    const command = joins['swarm-join-app-2'].provisioner[0]['local-exec'].command as string;
    expect(command).toContain('--manager deploy@10.60.1.12 --manager-address 10.60.1.12 --node deploy@10.60.1.11 --node-address 10.60.1.11 --as manager');
    expect(joins['swarm-join-app-1'].triggers_replace.server).toMatch(/^\$\{data\.terraform_remote_state\.|^\$\{data\.tfe_outputs\./);
  });

  it('gives the join the deploy key and the pinned host keys from variables, the key sensitive, neither a literal', () => {
    const environment = joins['swarm-join-app-1'].provisioner[0]['local-exec'].environment;
    expect(environment.SWARM_SSH_KEY).toBe(`\${var.${SWARM_JOIN_KEY_VARIABLE}}`);
    expect(environment.SWARM_KNOWN_HOSTS).toBe(`\${var.${SWARM_KNOWN_HOSTS_VARIABLE}}`);
    expect(edge.variable?.[SWARM_JOIN_KEY_VARIABLE]).toMatchObject({ sensitive: true, nullable: false });
    expect(edge.variable?.[SWARM_JOIN_KEY_VARIABLE].default).toBeUndefined();
    expect(edge.variable?.[SWARM_KNOWN_HOSTS_VARIABLE].default).toBeUndefined();
    expect(Object.keys(edge.output ?? {}).filter((name) => /key|known/i.test(name))).toEqual([]);
  });

  it('writes the key to a private file, checks host keys strictly against the pinned ones, and removes them', () => {
    const command = joins['swarm-join-app-1'].provisioner[0]['local-exec'].command as string;
    expect(command).toContain('credentials=$(umask 077 && mktemp -d)');
    expect(command).toContain(`trap 'rm -rf "$credentials"' EXIT`);
    expect(command).toContain('StrictHostKeyChecking=yes');
    expect(command).toContain('-o UserKnownHostsFile=$credentials/known_hosts -o GlobalKnownHostsFile=/dev/null');
    expect(command).not.toMatch(/StrictHostKeyChecking=(no|accept-new)/);
  });

  it('starts the edge proxy service after every node joined', () => {
    const proxy = Object.values(resources(edge, 'docker_service')).find((service: any) => service.name.endsWith('edge-proxy')) as any;
    expect(proxy.depends_on).toContain('terraform_data.swarm-join-app-2');
  });

  it('runs the monitoring server on the endpoint through the one provider', () => {
    const monitoring = system.synth('production-monitoring');
    expect(Object.keys(monitoring.provider?.docker ?? {}).length).toBe(1);
    expect(monitoring.provider!.docker[0].host).toBe('unix:///var/run/docker.sock');
  });

  it('puts the edge, data, products and monitoring on the agent, the network stack remote', () => {
    const bootstrap = synthStack(new TerraformCloudBootstrapStack(system.app, 'bootstrap', { organization: 'acme', stacks: system.environments.flatMap(stacksOf) }));
    const settings = resources(bootstrap, 'tfe_workspace_settings');
    expect(settings['settings-production-edge']).toMatchObject({ execution_mode: 'agent' });
    expect(settings['settings-production-network'].execution_mode).toBe('remote');
    // The join's variables are declared on the edge workspace for a person to fill in, the key sensitive.
    const variables = resources(bootstrap, 'tfe_variable');
    expect(variables[`var-production-edge-${SWARM_JOIN_KEY_VARIABLE}`]).toMatchObject({ sensitive: true, lifecycle: { ignore_changes: ['value'] } });
    expect(variables[`var-production-edge-${SWARM_KNOWN_HOSTS_VARIABLE}`]).toMatchObject({ sensitive: false });
    expect(variables[`var-production-edge-${SWARM_JOIN_KEY_VARIABLE}`].value).toBeUndefined();
  });
});

describe('what an agent on the endpoint cannot reach', () => {
  it('refuses the monitoring server on a host other than the endpoint', () => {
    const placed = variant(onAgents(), (s) => (environmentOf(s, 'production').monitoring = { ...environmentOf(s, 'production').monitoring, host: 'app-1' }));
    expect(() => resolveSystem(placed, cloud)).toThrow(
      /environment "production", field "monitoring.host": got "app-1"; allowed: "data-1" \(the data host\), or unset \(under Terraform Cloud the agent on the data host \("data-1"\) is the environment's one Docker endpoint; the monitoring server is a plain container/,
    );
  });

  it('refuses an accessory on a host other than the endpoint', () => {
    const placed = variant(onAgents(lexicon), (s) => (environmentOf(s, 'production').accessories = [{ name: 'search', host: 'app-1' }]));
    expect(() => resolveSystem(placed, cloud)).toThrow(/environment "production", field "accessories.search.host": got "app-1"; allowed: "data-1" \(the data host\), or unset/);
  });

  it('keeps an explicit monitoring host elsewhere over SSH, where every host is reachable', () => {
    const placed = variant(harbor, (s) => (environmentOf(s, 'production').monitoring = { ...environmentOf(s, 'production').monitoring, host: 'app-1' }));
    expect(resolveSystem(placed).environments.find((e) => e.name === 'production')!.monitoring.host).toBe('app-1');
  });

  it('defaults the monitoring host to the data host on a swarm, to the first host on plain containers', () => {
    const environments = resolveSystem(harbor).environments;
    expect(environments.map((e) => [e.name, e.monitoring.host])).toEqual([
      ['staging', 'app-1'],
      ['production', 'data-1'],
    ]);
  });
});
