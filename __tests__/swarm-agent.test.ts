/**
 * A swarm under Terraform Cloud agents (docs/scaling.md, "One endpoint per
 * environment"): one agent, on the endpoint (the data host); the joins run
 * in the edge stack on the endpoint, through Terraform's SSH client, over the
 * private network with a deploy key and pinned host keys, never from the
 * remote network workspace; the monitoring server defaults to the endpoint,
 * and what would need another host's daemon is refused.
 */
import { harbor } from '../examples/harbor';
import { lexicon } from '../examples/lexicon';
import { TerraformCloudBootstrapStack } from '../stacks/bootstrap-stack';
import { stacksOf } from '../stacks/system-stacks';
import { SWARM_JOIN_DIRECTORY, SWARM_JOIN_KEY_VARIABLE, SWARM_KNOWN_HOSTS_VARIABLE } from '../stacks/swarm-joins';
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
  /** The command a join's last step runs on the manager. */
  const joinCommand = (id: string): string => joins[id].provisioner[4]['remote-exec'].inline.at(-1);
  /** What a join uploads to the manager, by destination. */
  const uploads = (id: string): Record<string, string> =>
    Object.fromEntries(joins[id].provisioner.filter((provisioner: any) => provisioner.file).map(({ file }: any) => [file.destination, file.content]));

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
    // data-1 is the third host (10.60.1.12): the manager every join runs on and takes the token from, over its private address.
    expect(joinCommand('swarm-join-app-2')).toContain('--manager deploy@10.60.1.12 --manager-address 10.60.1.12 --node deploy@10.60.1.11 --node-address 10.60.1.11 --as manager');
    expect(joins['swarm-join-app-1'].triggers_replace.server).toMatch(/^\$\{data\.terraform_remote_state\.|^\$\{data\.tfe_outputs\./);
  });

  it('runs each join on the endpoint through Terraform\'s SSH client, nothing on the agent but Terraform', () => {
    for (const join of Object.values(joins) as any[]) {
      expect(join.connection).toMatchObject({ type: 'ssh', host: '10.60.1.12', user: 'deploy', agent: 'false' });
      expect(join.connection.port).toBeUndefined(); // 22
      expect(join.provisioner.map((provisioner: object) => Object.keys(provisioner)[0])).toEqual(['remote-exec', 'file', 'file', 'file', 'remote-exec']);
    }
  });

  it('gives the join the deploy key and the pinned host keys from variables, the key sensitive, neither a literal', () => {
    const join = joins['swarm-join-app-1'];
    expect(join.connection.private_key).toBe(`\${var.${SWARM_JOIN_KEY_VARIABLE}}`);
    expect(uploads('swarm-join-app-1')).toEqual({
      [`${SWARM_JOIN_DIRECTORY}/key`]: `\${trimspace(var.${SWARM_JOIN_KEY_VARIABLE})}\n`,
      [`${SWARM_JOIN_DIRECTORY}/known_hosts`]: `\${var.${SWARM_KNOWN_HOSTS_VARIABLE}}\n`,
      [`${SWARM_JOIN_DIRECTORY}/join`]: expect.stringMatching(/^#!\/bin\/sh\n# Joins one host/),
    });
    // Neither secret is in a command Terraform writes to the manager's disk or runs.
    expect(JSON.stringify(join.provisioner.filter((provisioner: any) => provisioner['remote-exec']))).not.toMatch(/var\.|SWMTKN/);
    expect(edge.variable?.[SWARM_JOIN_KEY_VARIABLE]).toMatchObject({ sensitive: true, nullable: false });
    expect(edge.variable?.[SWARM_JOIN_KEY_VARIABLE].default).toBeUndefined();
    expect(edge.variable?.[SWARM_KNOWN_HOSTS_VARIABLE].default).toBeUndefined();
    expect(Object.keys(edge.output ?? {}).filter((name) => /key|known/i.test(name))).toEqual([]);
  });

  it('pins the manager\'s host key from swarm_known_hosts, never an empty one, and refuses a missing pin at plan', () => {
    const join = joins['swarm-join-app-1'];
    // element() of an empty list fails: an empty host_key would make Terraform accept any key.
    expect(join.connection.host_key).toBe('${element(local.swarm_manager_host_keys, 0)}');
    const hostKeys = (edge.locals as Record<string, string>).swarm_manager_host_keys!;
    const types = [...hostKeys.matchAll(/\[\[:blank:\]\]\+\(([a-z0-9-]+)\)/g)].map((match) => match[1]);
    expect(types).toEqual(['ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa', 'ssh-ed25519']);
    expect(hostKeys).toContain('10[.]60[.]1[.]12');
    expect(hostKeys).toContain(`var.${SWARM_KNOWN_HOSTS_VARIABLE}`);
    const preconditions = join.lifecycle.precondition.map((precondition: any) => precondition.error_message);
    expect(preconditions).toEqual([
      expect.stringMatching(/^swarm join: no pinned host key for 10\.60\.1\.12, the swarm's first manager Terraform connects to: add "10\.60\.1\.12 ecdsa-sha2-nistp256 AAAA\.\.\." to swarm_known_hosts/),
      expect.stringMatching(/^swarm join: no pinned host key for 10\.60\.1\.10: add "10\.60\.1\.10 ssh-ed25519 AAAA\.\.\." to swarm_known_hosts/),
    ]);
    // The manager's own join needs only its pin.
    expect(joins['swarm-join-data-1'].lifecycle.precondition).toHaveLength(1);
  });

  it('holds the key on the manager\'s tmpfs in a private directory only for the join, host keys checked strictly', () => {
    const [prepare] = joins['swarm-join-app-1'].provisioner[0]['remote-exec'].inline;
    expect(prepare).toBe(`rm -rf ${SWARM_JOIN_DIRECTORY} && (umask 077 && mkdir ${SWARM_JOIN_DIRECTORY} && : >${SWARM_JOIN_DIRECTORY}/key && : >${SWARM_JOIN_DIRECTORY}/known_hosts)`);
    expect(SWARM_JOIN_DIRECTORY).toMatch(/^\/dev\/shm\//);
    const run = joins['swarm-join-app-1'].provisioner[4]['remote-exec'].inline;
    expect(run[0]).toBe(`trap 'rm -rf ${SWARM_JOIN_DIRECTORY}' EXIT`);
    const command = joinCommand('swarm-join-app-1');
    expect(command).toContain('StrictHostKeyChecking=yes');
    expect(command).toContain(`-o UserKnownHostsFile=${SWARM_JOIN_DIRECTORY}/known_hosts -o GlobalKnownHostsFile=/dev/null`);
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
