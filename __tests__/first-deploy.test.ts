/**
 * Issue 11, "first real deploy": one describe per defect, each asserting on
 * the synthesized JSON what would have broken the first rollout (every one
 * of these fails on the main branch before the fix).
 */
import { Testing } from 'cdktf';
import { EdgeRoute } from '../constructs/docker/edge-route';
import { EdgeProxy } from '../constructs/docker/edge-proxy';
import { DockerSocketProxy, TRAEFIK_DOCKER_API_CALLS } from '../constructs/docker/docker-socket-proxy';
import { manacore } from '../environments';
import { certificateOrderViolations, checkInvariants, countCertificateOrders } from '../policy/invariants';
import { assertCertificateOrders } from '../stacks/app';
import { TerraformCloudBootstrapStack } from '../stacks/bootstrap-stack';
import { stacksOf } from '../stacks/system-stacks';
import { resolveSystem } from '../system/resolve';
import { parsePlan } from '../scripts/plan-comment/plan-format';
import { retryReplacements } from '../scripts/retry-deploy';
import { openRules, runnerCidr, setDeployPath, type Fetch } from '../scripts/deploy-path';
import { container, envOf, everyKind, labelsOf, serviceContainers } from './helpers/docker';
import { environmentOf, variant } from './helpers/spec';
import { SynthesizedSystem, resourceList, resources, synthStack, type TerraformJson } from './helpers/synth';

let app: SynthesizedSystem;
/** Manacore with staging on Terraform Cloud: its Docker stacks run on the agent. */
let onAgent: SynthesizedSystem;

beforeAll(() => {
  app = new SynthesizedSystem(manacore);
  onAgent = new SynthesizedSystem(
    variant(manacore, (system) => {
      environmentOf(system, 'staging').terraformCloud = { organization: 'acme' };
    }),
    { terraformCloudOrganization: undefined },
  );
});

const cloudConfig = (network: TerraformJson): any => {
  const userData: string = resourceList(network, 'hcloud_server')[0].user_data;
  // Terraform's interpolations hold quotes; what cloud-init receives has them evaluated.
  return JSON.parse(userData.slice('#cloud-config\n'.length).replace(/\$\{[^}]*\}/g, 'placeholder'));
};
const routedContainers = (json: TerraformJson) =>
  Object.entries(resources(json, 'docker_container')).filter(([, body]) => labelsOf(body)['traefik.enable'] === 'true');
/** Names the edge proxies route, from the description: each routed product service, and Grafana, per environment. */
const ROUTED_NAMES = resolveSystem(manacore).environments.reduce(
  (total, environment) => total + 1 + environment.products.flatMap((product) => product.services).filter((service) => service.routed).length,
  0,
);
const productStacks = (system: SynthesizedSystem, environment: string) => [...system.environment(environment).products.values()].map((stack) => stack.stackName);

describe('1. Terraform reaches the Docker daemons without opening 22 or 2376, host identity verified', () => {
  it('under Terraform Cloud every Docker provider of the environment uses the local socket of the agent host', () => {
    const docker = ['staging-edge', 'staging-data', ...productStacks(onAgent, 'staging')].flatMap((name) => onAgent.synth(name).provider?.docker ?? []);
    expect(docker.length).toBeGreaterThan(2);
    for (const provider of docker) {
      expect(provider.host).toBe('unix:///var/run/docker.sock');
      expect(provider.ssh_opts).toBeUndefined();
    }
  });

  it('the bootstrap stack creates the agent pool and token and runs exactly the Docker workspaces on the agent', () => {
    const environments = onAgent.environments.filter((stacks) => stacks.environment.name === 'staging');
    const bootstrap = synthStack(new TerraformCloudBootstrapStack(onAgent.app, 'bootstrap', { organization: 'acme', stacks: environments.flatMap(stacksOf) }));
    expect(resources(bootstrap, 'tfe_agent_pool')['agent-pool-staging']).toMatchObject({ name: 'manacore-staging', organization: 'acme', organization_scoped: false });
    expect(resources(bootstrap, 'tfe_agent_token')['agent-token-staging'].agent_pool_id).toBe('${tfe_agent_pool.agent-pool-staging.id}');
    const settings = resources(bootstrap, 'tfe_workspace_settings');
    expect(settings['settings-staging-edge']).toMatchObject({ execution_mode: 'agent', agent_pool_id: '${tfe_agent_pool.agent-pool-staging.id}' });
    expect(settings['settings-staging-data']).toMatchObject({ execution_mode: 'agent' });
    expect(settings['settings-staging-chat']).toMatchObject({ execution_mode: 'agent' });
    expect(settings['settings-staging-network']).toMatchObject({ execution_mode: 'remote' });
    expect(settings['settings-staging-network'].agent_pool_id).toBeUndefined();
    const token = resourceList(bootstrap, 'tfe_variable').find((variable) => variable.key === 'tfc_agent_token');
    expect(token).toMatchObject({ sensitive: true, value: '${tfe_agent_token.agent-token-staging.token}', workspace_id: '${tfe_workspace.workspace-staging-network.id}' });
    const allowed = resources(bootstrap, 'tfe_agent_pool_allowed_workspaces')['agent-pool-workspaces-staging'].allowed_workspace_ids as string[];
    expect(allowed).toContain('${tfe_workspace.workspace-staging-edge.id}');
    expect(allowed).not.toContain('${tfe_workspace.workspace-staging-network.id}');
  });

  it('the firewall admits 22 from the admin CIDRs only, and no Docker port, in every environment', () => {
    for (const system of [app, onAgent]) {
      for (const environment of ['staging', 'production']) {
        const rules = resourceList(system.synth(`${environment}-network`), 'hcloud_firewall').filter((firewall) => firewall.labels?.role !== 'deploy-path').flatMap((firewall) => firewall.rule);
        expect(rules.map((rule: any) => rule.port).sort()).toEqual(['22', '443', '80']);
        expect(rules.find((rule: any) => rule.port === '22').source_ips).toEqual(manacore.environments[0]!.adminSshCidrs);
      }
    }
  });

  it('without Terraform Cloud, each host carries an empty deploy-path firewall the pipeline opens for its runner only', () => {
    const network = app.synth('staging-network');
    const deployPath = resources(network, 'hcloud_firewall')['deploy-path-firewall'];
    expect(deployPath).toMatchObject({ name: 'manacore-staging-deploy-path', labels: { role: 'deploy-path' }, lifecycle: { ignore_changes: ['rule'] } });
    expect(deployPath.rule).toBeUndefined();
    expect(resourceList(network, 'hcloud_server')[0].firewall_ids).toContain('${hcloud_firewall.deploy-path-firewall.id}');
    // Under the agent nothing needs a door.
    expect(resources(onAgent.synth('staging-network'), 'hcloud_firewall')['deploy-path-firewall']).toBeUndefined();
    // The invariant keeps it empty in the configuration.
    const opened = JSON.parse(JSON.stringify(network));
    opened.resource.hcloud_firewall['deploy-path-firewall'].rule = [{ direction: 'in', protocol: 'tcp', port: '22', source_ips: ['0.0.0.0/0'] }];
    const context = { stack: 'staging-network', production: false, adminSshCidrs: manacore.environments[0]!.adminSshCidrs, mayPublishPorts: false, appContainers: false, exemptions: [] };
    expect(checkInvariants(network, context)).toEqual([]);
    expect(checkInvariants(opened, context).map((v) => `${v.rule} ${v.address}`)).toEqual(['firewall-exact hcloud_firewall.deploy-path-firewall']);
  });

  it('the deploy-path script opens 22 for the runner address alone, waits for Hetzner, and closes to no rules', async () => {
    const calls: Array<{ method: string; url: string; body?: any }> = [];
    const fetch: Fetch = async (url, init) => {
      calls.push({ method: init.method, url, body: init.body === undefined ? undefined : JSON.parse(init.body) });
      expect(init.headers.Authorization).toBe('Bearer test-token');
      if (url.includes('/firewalls?')) return { status: 200, json: async () => ({ firewalls: [{ id: 42 }] }) };
      if (url.endsWith('/set_rules')) return { status: 201, json: async () => ({ actions: [{ id: 7, status: 'running' }] }) };
      return { status: 200, json: async () => ({ action: { id: 7, status: calls.filter((call) => call.url.endsWith('/actions/7')).length > 1 ? 'success' : 'running' } }) };
    };
    const options = { token: 'test-token', fetch, pollMs: 0 };
    await setDeployPath('manacore', 'staging', openRules(runnerCidr('198.51.100.7'), 'staging'), options);
    expect(calls[0]!.url).toBe('https://api.hetzner.cloud/v1/firewalls?label_selector=system%3Dmanacore%2Cenv%3Dstaging%2Crole%3Ddeploy-path');
    expect(calls[1]).toMatchObject({ method: 'POST', url: 'https://api.hetzner.cloud/v1/firewalls/42/actions/set_rules' });
    expect(calls[1]!.body.rules).toEqual([
      { direction: 'in', protocol: 'tcp', port: '22', source_ips: ['198.51.100.7/32'], description: 'pipeline deploy of staging (closed after the job)' },
    ]);
    expect(calls.filter((call) => call.url.endsWith('/actions/7'))).toHaveLength(2);
    calls.length = 0;
    await setDeployPath('manacore', 'staging', [], options);
    expect(calls[1]!.body).toEqual({ rules: [] });
    expect(runnerCidr('2001:db8::7')).toBe('2001:db8::7/128');
    expect(() => runnerCidr('0.0.0.0/0')).toThrow('runner address must be a single host (/32), not a network; got "0.0.0.0/0"');
    expect(() => runnerCidr('runner')).toThrow('runner address must be one IPv4 or IPv6 address; got "runner"');
  });

  it('a laptop inside the admin CIDRs connects over SSH and never trusts a host key on first use', () => {
    const [provider] = app.synth('production-edge').provider!.docker!;
    expect(provider.host).toMatch(/^ssh:\/\/deploy@/);
    expect(provider.ssh_opts).toContain('StrictHostKeyChecking=yes');
    expect(provider.ssh_opts.join(' ')).not.toContain('accept-new');
  });
});

describe('2. HTTP redirects to HTTPS on 443, not on the container port 8443', () => {
  it('redirects to the port clients use', () => {
    const command = container(app.synth('production-edge'), 'app-1-edge-proxy').command as string[];
    expect(command).toContain('--entryPoints.web.http.redirections.entryPoint.to=:443');
    expect(command).toContain('--entryPoints.websecure.address=:8443');
    expect(command.filter((flag) => flag.includes('redirections.entryPoint.to='))).toEqual(['--entryPoints.web.http.redirections.entryPoint.to=:443']);
  });
});

describe('3. IPv6 is served end to end where AAAA records are published', () => {
  it('the frontend network has IPv6 and the daemon packet-filters IPv6, so [ipv6]:443 reaches the edge proxy', () => {
    const frontend = resources(app.synth('production-edge'), 'docker_network')['app-1-frontend'];
    expect(frontend).toMatchObject({ ipv6: true, ipam_config: [{ subnet: 'fd4d:616e:6163:1::/64' }] });
    const daemon = cloudConfig(app.synth('production-network')).write_files.find((file: any) => file.path === '/etc/docker/daemon.json');
    expect(JSON.parse(daemon.content)).toMatchObject({ 'userland-proxy': false, ip6tables: true });
  });

  it('an environment with ipv6 off publishes no AAAA record and no IPv6 network', () => {
    const v4 = new SynthesizedSystem(variant(manacore, (system) => (environmentOf(system, 'staging').ipv6 = false)));
    for (const name of productStacks(v4, 'staging')) {
      expect(resourceList(v4.synth(name), 'cloudflare_dns_record').filter((record) => record.type === 'AAAA')).toEqual([]);
    }
    expect(resources(v4.synth('staging-edge'), 'docker_network')['app-1-frontend'].ipv6).toBeUndefined();
    expect(JSON.parse(cloudConfig(v4.synth('staging-network')).write_files.find((file: any) => file.path === '/etc/docker/daemon.json').content).ip6tables).toBeUndefined();
  });

  it('the ipv6-served invariant refuses an AAAA record where the edge does not serve IPv6, and an IPv4-only frontend where it should', () => {
    const chat = app.synth('production-chat');
    const context = { stack: 'production-chat', production: true, adminSshCidrs: [], mayPublishPorts: false, appContainers: true, exemptions: [] };
    expect(checkInvariants(chat, { ...context, edgeServesIpv6: true }).filter((v) => v.rule === 'ipv6-served')).toEqual([]);
    const refused = checkInvariants(chat, { ...context, edgeServesIpv6: false }).filter((v) => v.rule === 'ipv6-served');
    expect(refused.map((v) => v.address)).toEqual(expect.arrayContaining(['cloudflare_dns_record.dns-chat-backend-aaaa']));
    const edge = JSON.parse(JSON.stringify(app.synth('production-edge')));
    delete edge.resource.docker_network['app-1-frontend'].ipv6;
    const edgeContext = { ...context, stack: 'production-edge', mayPublishPorts: true };
    expect(checkInvariants(edge, { ...edgeContext, edgeServesIpv6: true }).map((v) => `${v.rule} ${v.address}`)).toEqual([
      'ipv6-served docker_network.app-1-frontend',
    ]);
  });
});

describe("4. One wildcard certificate per zone over DNS-01, within Let's Encrypt's limits", () => {
  const allStacks = (system: SynthesizedSystem) =>
    system.stacks.map((stack) => ({ environment: stack.node.id.split('-')[0]!, json: system.synth(stack.node.id) }));
  const registered = () => 'manacore.app';

  it('every routed name is served by its zone wildcard, so each environment orders one certificate', () => {
    // Routed names, by stack and rule: a service moving to release slots has two routers for its names (docs/releasing.md).
    const routed = new Set<string>();
    for (const name of app.stackNames) {
      for (const [, body] of routedContainers(app.synth(name))) {
        const labels = labelsOf(body);
        const router = Object.keys(labels).find((label) => label.endsWith('.tls.certresolver'))!.replace(/\.tls\.certresolver$/, '');
        expect(labels[`${router}.tls.domains[0].main`]).toBe('manacore.app');
        expect(labels[`${router}.tls.domains[0].sans`]).toBe('*.manacore.app');
        routed.add(`${name} ${labels[`${router}.rule`]}`);
      }
    }
    // Every routed product service and Grafana, in each environment (from the catalog: a new product adds its own).
    expect(routed.size).toBe(ROUTED_NAMES);
    const orders = countCertificateOrders(allStacks(app), registered);
    expect(orders.get('manacore.app')!.map((order) => order.host).sort()).toEqual(['production/app-1', 'staging/app-1']);
    expect(certificateOrderViolations(orders)).toEqual([]);
  });

  it("counts what main did (one order per routed name, Grafana included) as over Let's Encrypt's 50 per registered domain per week", () => {
    expect(ROUTED_NAMES).toBeGreaterThan(50);
    const perName = allStacks(app).map(({ environment, json }) => {
      const copy = JSON.parse(JSON.stringify(json));
      for (const body of Object.values<any>(copy.resource?.docker_container ?? {})) {
        body.labels = body.labels.filter((label: any) => !label.label.includes('.tls.domains['));
      }
      return { environment, json: copy };
    });
    expect(certificateOrderViolations(countCertificateOrders(perName, registered))).toEqual([
      `manacore.app: ${ROUTED_NAMES} certificate orders, over Let's Encrypt's 50 new certificates per registered domain per week`,
    ]);
  });

  it('answers DNS-01 with a Terraform-made token scoped to the zone, passed as a sensitive value, never a literal', () => {
    const network = app.synth('production-network');
    const token = resources(network, 'cloudflare_api_token')['acme-dns-token'];
    expect(token.policies).toEqual([
      expect.objectContaining({ effect: 'allow', resources: '{"com.cloudflare.api.account.zone.${data.cloudflare_zone.zone_lookup_6DF2D81A.id}":"*"}' }),
    ]);
    expect(token.policies[0].permission_groups.map((group: any) => /group\.name == "([^"]+)"/.exec(group.id)![1])).toEqual(['DNS Write', 'Zone Read']);
    expect(network.output?.acme_dns_token).toMatchObject({ value: '${cloudflare_api_token.acme-dns-token.value}', sensitive: true });
    const proxy = container(app.synth('production-edge'), 'app-1-edge-proxy');
    expect(envOf(proxy).CF_DNS_API_TOKEN).toBe('${data.terraform_remote_state.outputs-production-network.outputs.acme_dns_token}');
    expect(proxy.command).toContain('--certificatesResolvers.letsencrypt.acme.dnsChallenge.provider=cloudflare');
    expect(proxy.command.some((flag: string) => flag.includes('httpChallenge'))).toBe(false);
  });

  it('synth checks the orders across every stack of the system', () => {
    expect(() => assertCertificateOrders(app.environments, 'manacore.app')).not.toThrow();
    expect(() => assertCertificateOrders(app.environments, 'manacore.app', 1)).toThrow(
      "Certificate orders over Let's Encrypt's rate limit:\n  - manacore.app: 2 certificate orders, over Let's Encrypt's 1 new certificates per registered domain per week",
    );
  });

  it("lets an environment use Let's Encrypt's staging directory", () => {
    const trial = new SynthesizedSystem(variant(manacore, (system) => (environmentOf(system, 'staging').certificates = { directory: 'staging' })));
    expect(container(trial.synth('staging-edge'), 'app-1-edge-proxy').command).toContain(
      '--certificatesResolvers.letsencrypt.acme.caServer=https://acme-staging-v02.api.letsencrypt.org/directory',
    );
    expect(container(trial.synth('production-edge'), 'app-1-edge-proxy').command).toContain(
      '--certificatesResolvers.letsencrypt.acme.caServer=https://acme-v02.api.letsencrypt.org/directory',
    );
  });

  it('the wildcard-certificate invariant refuses a route ordering a certificate of its own', () => {
    const route = new EdgeRoute({ name: 'lone', domain: 'lone.example.com', port: 80 });
    const json = { resource: { docker_container: { lone: { labels: Object.entries(route.toLabels()).map(([label, value]) => ({ label, value })) } } } };
    const context = { stack: 's', production: false, adminSshCidrs: [], mayPublishPorts: false, appContainers: false, exemptions: [] };
    expect(checkInvariants(json, context).map((v) => v.rule)).toEqual(['wildcard-certificate']);
  });
});

describe('5. Zone settings, origin pulls, and the client address behind Cloudflare', () => {
  it('the zone owner manages SSL Full (strict), Always Use HTTPS, TLS 1.2 and Authenticated Origin Pulls', () => {
    const network = app.synth('production-network');
    const settings = Object.values(resources(network, 'cloudflare_zone_setting')).map((setting: any) => [setting.setting_id, setting.value]);
    expect(settings.sort()).toEqual([
      ['always_use_https', 'on'],
      ['min_tls_version', '1.2'],
      ['ssl', 'strict'],
    ]);
    expect(resources(network, 'cloudflare_authenticated_origin_pulls_settings')['zone-security-origin-pulls']).toMatchObject({ enabled: true });
    // A zone has each setting once: staging shares it and manages none.
    expect(resources(app.synth('staging-network'), 'cloudflare_zone_setting')).toEqual({});
  });

  it("proxied routes require Cloudflare's origin-pull certificate; unproxied ones strip CF-Connecting-IP", () => {
    const chat = app.synth('production-chat');
    const web = labelsOf(container(chat, 'chat-web'));
    expect(web['traefik.http.routers.chat-web.tls.options']).toBe('cloudflare-origin-pull@file');
    expect(envOf(container(chat, 'chat-web')).CLIENT_IP_HEADER).toBe('CF-Connecting-IP');
    const api = labelsOf(container(chat, 'chat-backend'));
    expect(api['traefik.http.routers.chat-backend.tls.options']).toBeUndefined();
    expect(api['traefik.http.middlewares.chat-backend-headers.headers.customrequestheaders.CF-Connecting-IP']).toBe('');
    expect(envOf(container(chat, 'chat-backend')).CLIENT_IP_HEADER).toBe('X-Real-Ip');
  });

  it('the edge proxy defines those TLS options from the CA cloud-init fetched, and trusts no forwarded header', () => {
    const proxy = container(app.synth('production-edge'), 'app-1-edge-proxy');
    // Written at start, from the environment, into the host directory the file provider reads (the releases' splits land there too).
    expect(proxy.read_only).toBe(true);
    expect(proxy.upload).toBeUndefined();
    expect(proxy.entrypoint).toEqual([
      '/bin/sh',
      '-c',
      `printf '%s' "$TRAEFIK_DYNAMIC_TLS" > /etc/traefik/dynamic/tls.yaml && exec traefik "$@"`,
      'traefik',
    ]);
    const tls = JSON.parse(envOf(proxy).TRAEFIK_DYNAMIC_TLS!);
    expect(tls.tls.options['cloudflare-origin-pull'].clientAuth).toEqual({
      caFiles: ['/etc/traefik/cloudflare/origin-pull-ca.pem'],
      clientAuthType: 'RequireAndVerifyClientCert',
    });
    expect(tls.tls.options.default.minVersion).toBe('VersionTLS12');
    expect(proxy.volumes).toContainEqual({ host_path: '/opt/edge/cloudflare/origin-pull-ca.pem', container_path: '/etc/traefik/cloudflare/origin-pull-ca.pem', read_only: true });
    expect(proxy.command).toContain('--providers.file.directory=/etc/traefik/dynamic');
    expect(proxy.volumes).toContainEqual({ host_path: '/opt/edge/dynamic', container_path: '/etc/traefik/dynamic', read_only: false });
    // Created at boot owned by the proxy's user (it writes tls.yaml there), like the ACME directory.
    expect(cloudConfig(app.synth('production-network')).runcmd).toContainEqual(['install', '-d', '-m', '0700', '-o', '1001', '-g', '1001', '/opt/edge/dynamic']);
    expect((proxy.command as string[]).some((flag) => flag.includes('forwardedHeaders.trustedIPs'))).toBe(false);
    expect(cloudConfig(app.synth('production-network')).runcmd).toContainEqual([
      'curl', '-fsSL', '--retry', '5', '--proto', '=https', '-o', '/opt/edge/cloudflare/origin-pull-ca.pem',
      'https://developers.cloudflare.com/ssl/static/authenticated_origin_pull_ca.pem',
    ]);
  });
});

describe('6. The apex is answered by a named service, www redirects to it, and no wildcard record exists', () => {
  it('production names manacore/landing: its router answers the apex and www, redirecting www to the apex', () => {
    const labels = labelsOf(container(app.synth('production-manacore'), 'manacore-landing'));
    expect(labels['traefik.http.routers.manacore-landing.rule']).toBe('Host(`manacore.manacore.app`) || Host(`manacore.app`) || Host(`www.manacore.app`)');
    expect(labels['traefik.http.routers.manacore-landing.middlewares']).toBe('manacore-landing-redirect,manacore-landing-headers');
    expect(labels['traefik.http.middlewares.manacore-landing-redirect.redirectregex.regex']).toBe('^https?://(www\\.manacore\\.app)/(.*)');
    expect(labels['traefik.http.middlewares.manacore-landing-redirect.redirectregex.replacement']).toBe('https://manacore.manacore.app/$2');
  });

  it('the apex and www records live with that service, and no stack creates a wildcard', () => {
    const records = resources(app.synth('production-manacore'), 'cloudflare_dns_record');
    expect(records['dns-apex-a']).toMatchObject({ name: 'manacore.app', proxied: true, depends_on: ['docker_container.manacore-landing'] });
    expect(records['dns-www']).toMatchObject({ name: 'www.manacore.app', type: 'CNAME', content: 'manacore.app' });
    for (const name of app.stackNames) {
      expect(resourceList(app.synth(name), 'cloudflare_dns_record').filter((record) => record.name.startsWith('*'))).toEqual([]);
    }
    expect(resources(app.synth('production-network'), 'cloudflare_dns_record')).toEqual({});
  });
});

describe('7. Every stack pulling a private image logs in to its registry; Docker Hub optionally', () => {
  it('the data stack logs in to ghcr.io for the backup image', () => {
    const [provider] = app.synth('production-data').provider!.docker!;
    expect(provider.registry_auth).toEqual([{ address: 'ghcr.io', username: '${var.registry_username}', password: '${var.registry_password}' }]);
    expect(resources(app.synth('production-data'), 'docker_image')['backup-job'].name).toMatch(/^ghcr\.io\//);
  });

  it('with dockerHubLogin, the stacks pulling Docker Hub images log in with sensitive variables', () => {
    const hub = new SynthesizedSystem(variant(manacore, (system) => (environmentOf(system, 'production').dockerHubLogin = true)));
    for (const name of ['production-edge', 'production-data']) {
      const stack = hub.synth(name);
      expect(stack.provider!.docker![0].registry_auth).toContainEqual({ address: 'registry-1.docker.io', username: '${var.dockerhub_username}', password: '${var.dockerhub_token}' });
      expect(stack.variable?.dockerhub_token).toMatchObject({ sensitive: true });
    }
    expect(app.synth('production-edge').provider!.docker![0].registry_auth).toBeUndefined();
  });
});

describe('8. Zero-downtime: grace periods, retries, pruning, edge replacement', () => {
  it('old containers get their kind grace period on destroy: at least 30 s for HTTP, 60 s for workers', () => {
    const chat = app.synth('production-chat');
    for (const [address, body] of Object.entries(serviceContainers(chat))) {
      expect({ address, grace: body.destroy_grace_seconds, stop: body.stop_timeout }).toEqual({ address, grace: 30, stop: 30 });
    }
    expect(container(app.synth('production-edge'), 'app-1-edge-proxy').destroy_grace_seconds).toBe(30);
    const nutri = new SynthesizedSystem(everyKind).synth('production-nutri');
    expect(container(nutri, 'nutri-scheduler').destroy_grace_seconds).toBe(60);
    expect(container(nutri, 'nutri-web').destroy_grace_seconds).toBe(30);
  });

  it('a retry after a failed health wait renames the tainted container through its revision', () => {
    const chat = app.synth('production-chat');
    const revision = resources(chat, 'random_id')['chat-backend-revision'];
    expect(revision).toBeDefined();
    expect(container(chat, 'chat-backend').name).toContain('${random_id.chat-backend-revision.hex}');
    const plan = parsePlan('production-chat', {
      format_version: '1.2',
      resource_changes: [
        { address: 'docker_container.chat-backend', type: 'docker_container', name: 'chat-backend', mode: 'managed', action_reason: 'replace_because_tainted', change: { actions: ['create', 'delete'] } },
        { address: 'random_id.chat-backend-revision', type: 'random_id', name: 'chat-backend-revision', mode: 'managed', change: { actions: ['no-op'] } },
        { address: 'docker_container.chat-web', type: 'docker_container', name: 'chat-web', mode: 'managed', change: { actions: ['no-op'] } },
      ],
    });
    expect(retryReplacements(plan)).toEqual(['-replace=random_id.chat-backend-revision']);
  });

  it('hosts prune images no container has used for a week, daily', () => {
    const config = cloudConfig(app.synth('production-network'));
    const prune = config.write_files.find((file: any) => file.path === '/etc/systemd/system/docker-image-prune.service').content;
    expect(prune).toContain('ExecStart=/usr/bin/docker image prune --all --force --filter until=168h');
    expect(config.runcmd).toContainEqual(['systemctl', 'enable', '--now', 'docker-image-prune.timer']);
  });

  it("the edge proxy's configuration reads nothing that changes by itself (Cloudflare's ranges no longer replace it)", () => {
    const proxy = container(app.synth('production-edge'), 'app-1-edge-proxy');
    const references = JSON.stringify(proxy.command).match(/\$\{[^}]+\}/g) ?? [];
    expect(references).toEqual(['${docker_network.app-1-frontend.name}']);
  });
});

describe('9. The edge proxy sees Docker only through a read-only socket proxy', () => {
  it('Traefik talks to the socket proxy on an internal network and holds no socket', () => {
    const edge = app.synth('production-edge');
    const proxy = container(edge, 'app-1-edge-proxy');
    expect(proxy.command).toContain('--providers.docker.endpoint=tcp://docker-socket-proxy:2375');
    expect(JSON.stringify(proxy.volumes)).not.toContain('docker.sock');
    expect(proxy.depends_on).toEqual(['docker_container.app-1-docker-socket-proxy']);
    const socketProxy = container(edge, 'app-1-docker-socket-proxy');
    expect(socketProxy.networks_advanced).toEqual([{ name: '${docker_network.app-1-docker-api.name}', aliases: ['docker-socket-proxy'] }]);
    expect(resources(edge, 'docker_network')['app-1-docker-api'].internal).toBe(true);
    expect(socketProxy.upload).toBeUndefined();
    expect(socketProxy.read_only).toBe(true);
    expect(socketProxy.entrypoint).toEqual(['/bin/sh', '-c', `printf '%s' "$HAPROXY_CONFIG" > /tmp/haproxy.cfg && exec haproxy -db -f /tmp/haproxy.cfg`]);
    expect(envOf(socketProxy).HAPROXY_CONFIG).toBe(DockerSocketProxy.configuration());
  });

  it('admits GET and HEAD on the five calls Traefik makes, and nothing else', () => {
    const config = DockerSocketProxy.configuration();
    expect(TRAEFIK_DOCKER_API_CALLS.map((call) => call.path)).toEqual(['/_ping', '/version', '/events', '/containers/json', '/containers/[a-zA-Z0-9_.-]+/json']);
    expect(config).toContain('http-request deny unless METH_GET || METH_HEAD');
    expect(config).toContain('http-request deny unless ping || version || events || list || inspect');
    const allowed = TRAEFIK_DOCKER_API_CALLS.map((call) => new RegExp(`^(/v[0-9.]+)?${call.path}$`, 'i'));
    const admits = (path: string) => allowed.some((pattern) => pattern.test(path));
    expect(['/v1.47/containers/json', '/containers/abc123/json', '/v1.47/events', '/_ping'].every(admits)).toBe(true);
    expect(['/v1.47/containers/abc/archive', '/containers/create', '/v1.47/containers/abc/exec', '/containers/abc/logs', '/images/json', '/info'].some(admits)).toBe(false);
  });
});

describe('10. Containers cannot reach the metadata service; no Docker TLS key in user_data', () => {
  it('cloud-init drops container traffic to 169.254.169.254 in DOCKER-USER whenever Docker starts', () => {
    const config = cloudConfig(app.synth('production-network'));
    const unit = config.write_files.find((file: any) => file.path === '/etc/systemd/system/docker-metadata-block.service').content as string;
    expect(unit).toContain('iptables -I DOCKER-USER -d 169.254.169.254/32 -j DROP');
    expect(unit).toContain('WantedBy=docker.service');
    expect(config.runcmd).toContainEqual(['systemctl', 'enable', '--now', 'docker-metadata-block.service']);
  });

  it('no user_data carries a Docker TLS key, and no stack declares one', () => {
    for (const system of [app, onAgent]) {
      for (const environment of ['staging', 'production']) {
        const network = system.synth(`${environment}-network`);
        const userData: string = resourceList(network, 'hcloud_server')[0].user_data;
        expect(userData).not.toMatch(/docker_tls|server-key|\/etc\/docker\/tls/);
        expect(Object.keys(network.variable ?? {}).filter((name) => name.startsWith('docker_tls'))).toEqual([]);
      }
    }
    // The mode that shipped the daemon's private key in user_data (and opened 2376) is refused.
    const tls = variant(manacore, (system) => {
      environmentOf(system, 'staging').dockerAccess = { mode: 'tls', allowedCidrs: ['198.51.100.0/24'] } as unknown as { mode: 'ssh' };
    });
    expect(() => new SynthesizedSystem(tls)).toThrow(/field "dockerAccess.mode": got "tls"; allowed: ssh, agent/);
  });
});

describe('11. A name moves only once the container answering it is healthy', () => {
  it("every product record depends on the container it points at, which waits for its health check", () => {
    let checked = 0;
    for (const name of productStacks(app, 'production')) {
      const stack = app.synth(name);
      for (const record of resourceList(stack, 'cloudflare_dns_record')) {
        if (record.type !== 'A' && record.type !== 'AAAA' && record.type !== 'CNAME') continue;
        expect(record.depends_on).toHaveLength(1);
        const target = container(stack, record.depends_on[0].replace(/^docker_container\./, ''));
        expect(target.wait).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60);
  });
});

describe('constructs refuse bad input', () => {
  it('the edge proxy refuses a literal DNS token', () => {
    expect(() =>
      Testing.synthScope(
        (scope) =>
          new EdgeProxy(scope, 'proxy', {
            acmeEmail: 'ops@example.com',
            acmeStorageDir: '/srv/acme',
            frontendNetwork: 'frontend',
            dockerEndpoint: 'tcp://docker-socket-proxy:2375',
            dockerApiNetwork: 'docker-api',
            certificates: { cloudflareDnsToken: 'abc123' },
          }),
      ),
    ).toThrow('EdgeProxy proxy: certificates.cloudflareDnsToken must come from a sensitive variable or output, never a literal');
  });
});
