/**
 * Bad input, one small mutation of the valid Manacore system at a time, each
 * with the exact line the error shows: environment, product, field, the bad
 * value and what is allowed. Nothing reaches a construct before these pass.
 */
import { HealthCheck } from '../constructs/core/health-check';
import { manacore } from '../environments';
import { resolveSystem } from '../system/resolve';
import type { EnvironmentSpec } from '../system/model';
import { environmentOf, keepOnly, productOf, serviceOf, variant, withoutSmokeChecks, type WritableSystem } from './helpers/spec';
import { issueLines } from './helpers/issues';

/** The line of one issue in the error message, matched whole. */
function exactLine(line: string): RegExp {
  return new RegExp(`^  - ${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm');
}


/** Services other services in chat may link to: every non-worker, non-mobile service, chat's own by bare name (from the live catalog). */
const LINK_TARGETS_FROM_CHAT = manacore.products.flatMap((product) =>
  product.services.filter((service) => service.kind !== 'worker' && service.kind !== 'mobile').map((service) => (product.name === 'chat' ? service.name : `${product.name}/${service.name}`)),
).join(', ');

const PRODUCT_NAMES = manacore.products.map((product) => product.name).join(', ');
/** The apex candidates of production: the web and landing services of the products it runs, in catalog order. */
const APEX_CANDIDATES = manacore.products.filter((product) => manacore.environments.find((environment) => environment.name === 'production')!.products.some((deployment) => deployment.product === product.name))
  .flatMap((product) => product.services.filter((service) => service.kind === 'web' || service.kind === 'landing').map((service) => `${product.name}/${service.name}`))
  .join(', ');
const SERVER_TYPES = 'cx22, cx32, cx42, cx52, cpx11, cpx21, cpx31, cpx41, cpx51, cax11, cax21, cax31, cax41, ccx13, ccx23, ccx33, ccx43, ccx53, ccx63';
const ALLOW_LIST_ALLOWED = 'a network no wider than /16 in IPv4 or /48 in IPv6: your office or VPN egress, e.g. "203.0.113.7/32" or "2001:db8:10::/48"';
const CIDR_ALLOWED = 'CIDR notation with zero host bits, e.g. "203.0.113.7/32" or "2001:db8::/48"';
const PRIVATE_RANGE_ALLOWED = 'a private IPv4 block of /24 or larger inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16';
const TAG_ALLOWED = 'a Docker tag: letters, digits, "_", "." and "-", at most 128 characters';
const PRODUCTION_TAG_ALLOWED =
  'an immutable tag: "main-<7 to 40 hex digits>" or "v<major>.<minor>.<patch>" (production never runs "latest" or another moving tag: a restart could change the code)';
const VOLUME_ALLOWED = 'a whole number of GiB from 10 to 10240 (Hetzner volume limits)';
/** 52 characters: `app-<name>` fits production's 63-character label, `staging-app-<name>` (64) does not. */
const LONG_PRODUCT = 'nutrition-and-wellbeing-planner-for-busy-household-x';

const CLASH = '(the container gets one value per variable, so one source would silently overwrite the other)';
/** A third-party accessory exporting one connection variable. */
const MINIO = {
  name: 'minio',
  imageRef: 'quay.io/minio/minio@sha256:' + 'a'.repeat(64),
  ports: { api: 9000 },
  healthCheck: HealthCheck.http('/minio/health/live'),
  connection: { S3_ENDPOINT: 'http://{host}:{port:api}' },
};

const staging = (system: WritableSystem) => environmentOf(system, 'staging');
const production = (system: WritableSystem) => environmentOf(system, 'production');
const deployment = (system: WritableSystem, environment: string, product: string) =>
  environmentOf(system, environment).products.find((entry) => entry.product === product)!;
const addService = (system: WritableSystem, product: string, service: WritableSystem['products'][number]['services'][number]) =>
  productOf(system, product).services.push(service);

interface BadInput {
  /** What is wrong, in words. */
  readonly name: string;
  readonly mutate: (system: WritableSystem) => void;
  /** Every line the error lists, in order; the first is the point of the case. */
  readonly lines: readonly string[];
}

const CORPUS: readonly BadInput[] = [
  // Catalog: products and services.
  {
    name: 'a deployment of an unknown product',
    mutate: (s) => production(s).products.push({ product: 'recipes', imageTag: 'main-0000000' }),
    lines: [`environment "production", product "recipes", field "products": got "recipes"; allowed: ${PRODUCT_NAMES}`],
  },
  {
    name: 'a product listed twice in an environment',
    mutate: (s) => staging(s).products.push({ product: 'chat', imageTag: 'main-0000000' }),
    lines: ['environment "staging", product "chat", field "products": got "chat"; allowed: each product listed once'],
  },
  {
    name: 'a product defined twice in the catalog (with all of its domains)',
    mutate: (s) => s.products.push({ name: 'bauntown', services: [{ name: 'landing', kind: 'landing' }] }),
    lines: [
      'catalog, product "bauntown", field "name": got "bauntown"; allowed: a name used by one product only',
      'catalog, product "bauntown", field "services.landing.subdomain": got "bauntown"; allowed: a label not already used by bauntown/landing',
    ],
  },
  {
    name: 'a duplicate service name',
    mutate: (s) => addService(s, 'chat', { name: 'web', kind: 'worker', command: ['node', 'dist/worker.js'] }),
    lines: ['catalog, product "chat", field "services.web": got "web"; allowed: service names unique within the product'],
  },
  {
    name: 'an unknown service kind',
    mutate: (s) => addService(s, 'chat', { name: 'cron', kind: 'cron' as 'worker' }),
    lines: ['catalog, product "chat", field "services.cron.kind": got "cron"; allowed: api, web, landing, internal, worker, mobile'],
  },
  {
    name: 'port 0',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').port = 0),
    lines: ['catalog, product "chat", field "services.backend.port": got 0; allowed: a whole number from 1 to 65535'],
  },
  {
    name: 'port 70000',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').port = 70000),
    lines: ['catalog, product "chat", field "services.backend.port": got 70000; allowed: a whole number from 1 to 65535'],
  },
  {
    name: 'an api without a port',
    mutate: (s) => delete serviceOf(s, 'chat', 'backend').port,
    lines: ['catalog, product "chat", field "services.backend.port": got undefined; allowed: a port from 1 to 65535 (an api service must declare the port it listens on)'],
  },
  {
    name: 'an internal service without a port',
    mutate: (s) => addService(s, 'chat', { name: 'ml', kind: 'internal' }),
    lines: ['catalog, product "chat", field "services.ml.port": got undefined; allowed: a port from 1 to 65535 (an internal service must declare the port it listens on)'],
  },
  {
    name: 'a mobile service with a port',
    mutate: (s) => (serviceOf(s, 'chat', 'mobile').port = 4000),
    lines: ['catalog, product "chat", field "services.mobile.port": got 4000; allowed: no port (a mobile service has no ingress)'],
  },
  {
    name: 'a worker with a subdomain',
    mutate: (s) => addService(s, 'chat', { name: 'scheduler', kind: 'worker', subdomain: 'cron-chat', command: ['node', 'dist/scheduler.js'] }),
    lines: [
      'catalog, product "chat", field "services.scheduler.subdomain": got "cron-chat"; allowed: no subdomain (a worker service is not routed by the edge proxy; use kind api, web or landing for a public domain)',
    ],
  },
  {
    name: 'a worker with neither health check nor command',
    mutate: (s) => addService(s, 'chat', { name: 'scheduler', kind: 'worker' }),
    lines: [
      'catalog, product "chat", field "services.scheduler.healthCheck": got undefined; allowed: HealthCheck.process(...) or HealthCheck.command(...), or a command whose process is checked (a worker has no HTTP route to probe)',
    ],
  },
  {
    name: 'a health check written as a plain string instead of a probe',
    mutate: (s) => ((serviceOf(s, 'chat', 'web') as { healthCheck: unknown }).healthCheck = 'curl -f localhost:3000'),
    lines: [
      'catalog, product "chat", field "services.web.healthCheck": got "curl -f localhost:3000"; allowed: HealthCheck.http(path), HealthCheck.command([program, ...args]) (exec form, no shell), HealthCheck.shell(line), HealthCheck.process(command) or HealthCheck.none(reason)',
    ],
  },
  {
    name: 'a singleton replaced start-first',
    mutate: (s) => addService(s, 'chat', { name: 'scheduler', kind: 'worker', command: ['node', 'dist/scheduler.js'], singleton: true, updateOrder: 'start-first' }),
    lines: [
      'catalog, product "chat", field "services.scheduler.updateOrder": got "start-first"; allowed: "stop-first" (the default of a singleton), or drop singleton (start-first runs the new container beside the old one until it is healthy: a singleton would run twice on every release)',
    ],
  },
  {
    name: 'a mobile service with a container image',
    mutate: (s) => (serviceOf(s, 'chat', 'mobile').image = 'chat-mobile'),
    lines: ['catalog, product "chat", field "services.mobile.image": got "chat-mobile"; allowed: nothing (a mobile service has no container)'],
  },
  {
    name: 'published host ports',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').hostPorts = [3002]),
    lines: [
      'catalog, product "chat", field "services.backend.hostPorts": got [3002]; allowed: none (only the edge proxy publishes host ports (80, 443); services are reached through it or by name on the host networks)',
    ],
  },
  {
    name: 'an unknown extra network',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').extraNetworks = ['public' as 'data']),
    lines: ['catalog, product "chat", field "services.backend.extraNetworks": got "public"; allowed: frontend, backend, data'],
  },
  {
    name: 'an internal service joining the frontend network',
    mutate: (s) => addService(s, 'chat', { name: 'ml', kind: 'internal', port: 8000, extraNetworks: ['frontend'] }),
    lines: ['catalog, product "chat", field "services.ml.extraNetworks": got "frontend"; allowed: backend, data (an internal service must have no route from the edge proxy)'],
  },
  {
    name: 'a worker joining the frontend network',
    mutate: (s) => addService(s, 'chat', { name: 'scheduler', kind: 'worker', command: ['node', 'dist/scheduler.js'], extraNetworks: ['frontend'] }),
    lines: ['catalog, product "chat", field "services.scheduler.extraNetworks": got "frontend"; allowed: backend, data (a worker service must have no route from the edge proxy)'],
  },
  {
    name: 'an unknown data dependency',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').uses = ['postgres', 'mongodb' as 'redis']),
    lines: ['catalog, product "chat", field "services.backend.uses": got "mongodb"; allowed: postgres, redis'],
  },
  {
    name: 'a memory limit below the reservation',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').resources = { memoryLimitMiB: 128 }),
    lines: ['catalog, product "chat", field "services.backend.resources.memoryLimitMiB": got 128; allowed: at least the memory reservation (256 MiB)'],
  },
  {
    name: 'a CPU limit below the reservation',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').resources = { cpuLimit: 0.25 }),
    lines: ['catalog, product "chat", field "services.backend.resources.cpuLimit": got 0.25; allowed: at least the CPU reservation (0.5)'],
  },
  {
    name: 'a negative reservation',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').resources = { cpuReservation: -1 }),
    lines: ['catalog, product "chat", field "services.backend.resources.cpuReservation": got -1; allowed: a positive number'],
  },
  {
    name: 'a lowercase environment variable name',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').environment = { node_env: 'production' }),
    lines: ['catalog, product "chat", field "services.backend.environment": got "node_env"; allowed: UPPER_SNAKE_CASE variable names'],
  },
  {
    name: 'a public-URL variable name in kebab case',
    mutate: (s) => (serviceOf(s, 'chat', 'web').publicUrls = { 'public-backend-url': 'backend' }),
    lines: ['catalog, product "chat", field "services.web.environment": got "public-backend-url"; allowed: UPPER_SNAKE_CASE variable names'],
  },
  {
    name: 'a secret also given a plain value',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').environment = { AZURE_OPENAI_API_KEY: 'sk-oops' }),
    lines: ['catalog, product "chat", field "services.backend.secrets": got "AZURE_OPENAI_API_KEY"; allowed: a name not also given a plain value in environment'],
  },
  {
    name: 'a subdomain of two labels',
    mutate: (s) => (serviceOf(s, 'chat', 'landing').subdomain = 'www.chat'),
    lines: [
      'catalog, product "chat", field "services.landing.subdomain": got "www.chat"; allowed: one DNS label: lowercase letters, digits and "-" (Cloudflare\'s universal certificate covers one level below the root only)',
    ],
  },
  {
    name: 'a subdomain already used by another product',
    mutate: (s) => (serviceOf(s, 'picture', 'landing').subdomain = 'chat'),
    lines: ['catalog, product "picture", field "services.landing.subdomain": got "chat"; allowed: a label not already used by chat/landing'],
  },
  ...['network', 'edge', 'data', 'monitoring', 'credentials', 'products', 'pre-migration'].map(
    (name): BadInput => ({
      name: `the reserved product name "${name}"`,
      mutate: (s) => s.products.push({ name, services: [{ name: 'landing', kind: 'landing', subdomain: `${name}-site` }] }),
      lines: [`catalog, product "${name}", field "name": got "${name}"; allowed: any name except network, edge, data, monitoring, bootstrap, credentials, products, pre-migration (it would collide with a platform stack, a pipeline stage or the backup bucket's pre-migration folder)`],
    }),
  ),
  {
    name: 'a service whose container would take a platform container\'s name',
    mutate: (s) => s.products.push({ name: 'postgres', services: [{ name: 'exporter', kind: 'landing', subdomain: 'pg-exporter' }] }),
    lines: [
      'catalog, product "postgres", field "services.exporter": got "exporter"; allowed: a name that does not make its container "postgres-exporter" (a platform container on the same Docker daemon is named postgres-exporter, and Docker refuses a second)',
    ],
  },
  {
    name: 'a database name the server or the platform already has',
    mutate: (s) => (s.products.find((product) => product.name === 'chat')!.databaseName = 'postgres_exporter'),
    lines: [
      'catalog, product "chat", field "databaseName": got "postgres_exporter"; allowed: lowercase letters, digits and "_" (at most 63), not postgres, template0, template1, postgres_exporter (it names the product\'s PostgreSQL database and login role)',
    ],
  },
  {
    name: 'a product name ending like a credentials stack',
    mutate: (s) => s.products.push({ name: 'chat-credentials', services: [{ name: 'landing', kind: 'landing', subdomain: 'chat-credentials' }] }),
    lines: [
      'catalog, product "chat-credentials", field "name": got "chat-credentials"; allowed: a name not ending in "-credentials" (<env>-<product>-credentials is the stack of a product\'s data credentials)',
    ],
  },
  {
    name: 'a product name with capitals',
    mutate: (s) => s.products.push({ name: 'Recipes', services: [{ name: 'landing', kind: 'landing', subdomain: 'recipes' }] }),
    lines: ['catalog, product "Recipes", field "name": got "Recipes"; allowed: lowercase letters, digits and "-", starting with a letter'],
  },
  {
    name: 'a root domain with a trailing dot',
    mutate: (s) => (s.rootDomain = 'manacore.app.'),
    lines: ['catalog, field "system.rootDomain": got "manacore.app."; allowed: a lowercase DNS name such as "example.com"'],
  },
  // Links between services.
  {
    name: 'a link to an unknown service',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').links = { ML_SERVICE_URL: 'ml' }),
    lines: [`catalog, product "chat", field "services.backend.links.ML_SERVICE_URL": got "ml"; allowed: ${LINK_TARGETS_FROM_CHAT}`],
  },
  {
    name: 'a link to a worker, which has no ingress',
    mutate: (s) => {
      addService(s, 'chat', { name: 'scheduler', kind: 'worker', command: ['node', 'dist/scheduler.js'] });
      serviceOf(s, 'chat', 'backend').links = { SCHEDULER_URL: 'scheduler' };
    },
    lines: [`catalog, product "chat", field "services.backend.links.SCHEDULER_URL": got "scheduler"; allowed: ${LINK_TARGETS_FROM_CHAT}`],
  },

  {
    name: 'a link to a product the environment does not deploy',
    mutate: (s) => {
      serviceOf(s, 'chat', 'backend').links = { MANA_CORE_AUTH_URL: 'mana-core-auth/backend', NEWS_URL: 'news/backend' };
      staging(s).products = staging(s).products.filter((entry) => entry.product !== 'news');
    },
    lines: ['environment "staging", product "chat", field "services.backend.links.NEWS_URL": got "news/backend"; allowed: a product deployed in "staging" (deploy news here or drop the link)'],
  },
  {
    name: 'a product placed by a host that shares its group, on a swarm',
    mutate: (s) => {
      withoutSmokeChecks(s);
      staging(s).hosts.push({ name: 'app-2', serverType: 'ccx23' });
      deployment(s, 'staging', 'chat').host = 'app-2';
    },
    lines: [
      `environment "staging", product "chat", field "host": got "app-2"; allowed: group: "app" (Swarm schedules over app-1, app-2), or a host alone in its group (on a swarm a product is placed by its nodes' role label (role=app), which chat would share with every host of the group)`,
    ],
  },
  {
    name: "a service whose Swarm service would take a node's collector's name",
    mutate: (s) => {
      withoutSmokeChecks(s);
      staging(s).hosts.push({ name: 'app-2', serverType: 'ccx23' });
      s.products.push({ name: 'cadvisor', services: [{ name: 'app-2', kind: 'worker', healthCheck: HealthCheck.process('node') }] });
      staging(s).products.push({ product: 'cadvisor', imageTag: 'main-abc1234' });
    },
    lines: [
      `environment "staging", product "cadvisor", field "services.app-2": got "app-2"; allowed: a name that does not make its Swarm service "cadvisor-app-2" (host app-2's collector is the Swarm service cadvisor-app-2 in staging, and Docker refuses a second service of that name)`,
    ],
  },
  {
    name: 'plain containers on two hosts',
    mutate: (s) => Object.assign(staging(s), { engine: 'containers', hosts: [...staging(s).hosts, { name: 'app-2', serverType: 'ccx23' }] }),
    lines: [
      'environment "staging", field "engine": got "containers"; allowed: "swarm" with 2 hosts ("containers" runs one host only) (across hosts Docker Swarm places the replicas, reschedules those of a lost host and gives one Docker endpoint; plain containers would leave that to hand-made placement (docs/scaling.md))',
    ],
  },
  {
    name: 'an unknown engine',
    mutate: (s) => (staging(s).engine = 'kubernetes' as 'swarm'),
    lines: ['environment "staging", field "engine": got "kubernetes"; allowed: containers, swarm'],
  },
  // Environments: names, domains, tags.
  {
    name: 'an environment name with capitals',
    mutate: (s) => (staging(s).name = 'Staging'),
    lines: ['environment "Staging", field "name": got "Staging"; allowed: lowercase letters and digits, starting with a letter'],
  },
  {
    name: 'two environments with one name',
    mutate: (s) => (production(s).name = 'staging'),
    lines: ['environment "staging", field "name": got "staging"; allowed: a name used by one environment only'],
  },
  {
    name: 'a domain prefix that is not a label start',
    mutate: (s) => (staging(s).domainPrefix = 'staging.'),
    lines: ['environment "staging", field "domainPrefix": got "staging."; allowed: empty, or lowercase letters/digits ending in "-" (e.g. "staging-")'],
  },
  {
    name: 'a domain label longer than 63 characters once prefixed',
    mutate: (s) => {
      s.products.push({ name: LONG_PRODUCT, services: [{ name: 'web', kind: 'web' }] });
      staging(s).products.push({ product: LONG_PRODUCT, imageTag: 'main-0000000' });
      production(s).products.push({ product: LONG_PRODUCT, imageTag: 'main-0000000' });
    },
    lines: [
      `environment "staging", product "${LONG_PRODUCT}", field "services.web.subdomain": got "staging-app-${LONG_PRODUCT}"; allowed: a DNS label of at most 63 characters (this one has 64)`,
    ],
  },
  {
    name: 'an ACME e-mail without an @',
    mutate: (s) => (staging(s).acmeEmail = 'ops-at-manacore.app'),
    lines: ['environment "staging", field "acmeEmail": got "ops-at-manacore.app"; allowed: an e-mail address for the Let\'s Encrypt account'],
  },
  {
    name: 'an image tag with a slash',
    mutate: (s) => (deployment(s, 'staging', 'chat').imageTag = 'main/abc'),
    lines: [`environment "staging", product "chat", field "imageTag": got "main/abc"; allowed: ${TAG_ALLOWED}`],
  },
  {
    name: '"latest" in production',
    mutate: (s) => (deployment(s, 'production', 'chat').imageTag = 'latest'),
    lines: [`environment "production", product "chat", field "imageTag": got "latest"; allowed: ${PRODUCTION_TAG_ALLOWED}`],
  },
  {
    name: '"latest" for one service in production',
    mutate: (s) => (deployment(s, 'production', 'chat').imageTags = { web: 'latest' }),
    lines: [`environment "production", product "chat", field "imageTags.web": got "latest"; allowed: ${PRODUCTION_TAG_ALLOWED}`],
  },
  {
    name: 'an image tag for a service the product does not have',
    mutate: (s) => (deployment(s, 'staging', 'chat').imageTags = { mobil: 'main-1234567' }),
    lines: ['environment "staging", product "chat", field "imageTags.mobil": got "mobil"; allowed: backend, web, landing, mobile'],
  },
  // Hosts.
  {
    name: 'an unknown Hetzner location',
    mutate: (s) => (staging(s).location = 'fra1' as 'fsn1'),
    lines: ['environment "staging", field "location": got "fra1"; allowed: fsn1, nbg1, hel1, ash, hil, sin'],
  },
  {
    name: 'the retired server type ccx32',
    mutate: (s) => (staging(s).hosts[0]!.serverType = 'ccx32'),
    lines: ['environment "staging", field "hosts.app-1.serverType": got "ccx32"; allowed: "ccx33" (Hetzner retired "ccx32"; "ccx33" is the same class)'],
  },
  {
    name: 'an unknown server type',
    mutate: (s) => (production(s).hosts[0]!.serverType = 'ccx99'),
    lines: [`environment "production", field "hosts.app-1.serverType": got "ccx99"; allowed: ${SERVER_TYPES}`],
  },
  {
    name: 'no hosts',
    mutate: (s) => (staging(s).hosts = []),
    lines: ['environment "staging", field "hosts": got []; allowed: at least one host'],
  },
  {
    name: 'two hosts with one name',
    mutate: (s) => {
      withoutSmokeChecks(s);
      staging(s).hosts.push({ name: 'app-1', serverType: 'ccx23' });
    },
    lines: ['environment "staging", field "hosts.app-1": got "app-1"; allowed: host names unique within the environment'],
  },
  {
    name: 'a product placed on an unknown host',
    mutate: (s) => (deployment(s, 'staging', 'chat').host = 'app-9'),
    lines: ['environment "staging", product "chat", field "host": got "app-9"; allowed: app-1'],
  },
  {
    name: 'data services placed on an unknown host',
    mutate: (s) => (staging(s).data.host = 'db-1'),
    lines: ['environment "staging", field "data.host": got "db-1"; allowed: app-1'],
  },
  {
    name: 'a snapshot of an unknown host',
    mutate: (s) => (staging(s).snapshots = [{ name: 'before-pg17', host: 'app-2', reason: 'before the PostgreSQL 17 upgrade' }]),
    lines: ['environment "staging", field "snapshots.before-pg17.host": got "app-2"; allowed: app-1'],
  },
  {
    name: 'a snapshot without a reason',
    mutate: (s) => (staging(s).snapshots = [{ name: 'before-pg17', host: 'app-1', reason: ' ' }]),
    lines: ['environment "staging", field "snapshots.before-pg17.reason": got " "; allowed: a short reason'],
  },
  // Network ranges and administrator access.
  {
    name: 'a private network outside RFC 1918',
    mutate: (s) => (staging(s).privateNetwork = { ipRange: '100.64.0.0/16', subnetRange: '100.64.1.0/24' }),
    lines: [`environment "staging", field "privateNetwork.ipRange": got "100.64.0.0/16"; allowed: ${PRIVATE_RANGE_ALLOWED}`],
  },
  {
    name: 'a private network smaller than /24',
    mutate: (s) => (staging(s).privateNetwork = { ipRange: '10.10.0.0/25', subnetRange: '10.10.0.0/25' }),
    lines: [`environment "staging", field "privateNetwork.ipRange": got "10.10.0.0/25"; allowed: ${PRIVATE_RANGE_ALLOWED}`],
  },
  {
    name: 'a subnet outside the network range',
    mutate: (s) => (staging(s).privateNetwork = { ipRange: '10.10.0.0/16', subnetRange: '10.11.1.0/24' }),
    lines: ['environment "staging", field "privateNetwork.subnetRange": got "10.11.1.0/24"; allowed: an IPv4 block inside 10.10.0.0/16'],
  },
  {
    name: 'a subnet too small for the hosts from .10 on',
    mutate: (s) => (staging(s).privateNetwork = { ipRange: '10.10.0.0/16', subnetRange: '10.10.1.0/29' }),
    lines: ['environment "staging", field "privateNetwork.subnetRange": got "10.10.1.0/29"; allowed: a block with room for 1 host(s) from .10 on (a /27 or larger fits 20)'],
  },
  {
    name: 'more hosts than a spread placement group holds',
    mutate: (s) => {
      withoutSmokeChecks(s);
      staging(s).hosts = Array.from({ length: 11 }, (_, i) => ({ name: `app-${i + 1}`, serverType: 'ccx33' }));
    },
    lines: [
      'environment "staging", field "hosts": got 11; allowed: at most 10 hosts (the hosts share one spread placement group, and Hetzner places at most 10 servers in one)',
    ],
  },
  {
    name: 'a host name too long for its reverse DNS label',
    mutate: (s) => (staging(s).hosts = [{ name: `app-${'x'.repeat(52)}`, serverType: 'ccx33' }]),
    lines: [
      `environment "staging", field "hosts.app-${'x'.repeat(52)}.name": got "app-${'x'.repeat(52)}"; allowed: a name whose DNS label "staging-app-${'x'.repeat(52)}" has at most 63 characters (it is the reverse DNS name of the host)`,
    ],
  },
  {
    name: 'a malformed admin CIDR',
    mutate: (s) => (production(s).adminSshCidrs = ['203.0.113.300/32']),
    lines: [`environment "production", field "adminSshCidrs": got "203.0.113.300/32"; allowed: ${CIDR_ALLOWED}`],
  },
  {
    name: 'an admin CIDR with host bits set',
    mutate: (s) => (production(s).adminSshCidrs = ['203.0.113.10/24']),
    lines: [`environment "production", field "adminSshCidrs": got "203.0.113.10/24"; allowed: ${CIDR_ALLOWED}`],
  },
  {
    name: 'SSH open to 0.0.0.0/0',
    mutate: (s) => production(s).adminSshCidrs.push('0.0.0.0/0'),
    lines: ['environment "production", field "adminSshCidrs": got "0.0.0.0/0"; allowed: a specific network, not the whole internet (SSH is open to administrators only)'],
  },
  {
    name: 'SSH open to ::/0',
    mutate: (s) => production(s).adminSshCidrs.push('::/0'),
    lines: ['environment "production", field "adminSshCidrs": got "::/0"; allowed: a specific network, not the whole internet (SSH is open to administrators only)'],
  },
  {
    name: 'no admin CIDRs',
    mutate: (s) => (staging(s).adminSshCidrs = []),
    lines: ['environment "staging", field "adminSshCidrs": got []; allowed: at least one CIDR, e.g. your office or VPN egress "203.0.113.7/32"'],
  },
  {
    name: 'no administrator keys',
    mutate: (s) => (staging(s).sshKeys = []),
    lines: ['environment "staging", field "sshKeys": got []; allowed: at least one administrator public key (password login is disabled)'],
  },
  {
    name: 'a private key where the public key belongs',
    mutate: (s) => (staging(s).sshKeys = [{ name: 'platform_admin', publicKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=' }]),
    lines: ['environment "staging", field "sshKeys.platform_admin.publicKey": got "-----BEGIN OPENSSH PRIVA..."; allowed: an OpenSSH public key ("ssh-ed25519 AAAA..."); never a private key'],
  },
  {
    name: 'the Docker API over TCP (removed: it shipped the daemon key in user_data and opened 2376)',
    mutate: (s) => (staging(s).dockerAccess = { mode: 'tls' } as unknown as EnvironmentSpec['dockerAccess']),
    lines: [
      'environment "staging", field "dockerAccess.mode": got "tls"; allowed: ssh, agent (the Docker API is never opened to the network: "tls" carried the daemon key in user_data and opened 2376)',
    ],
  },
  {
    name: 'the agent without Terraform Cloud',
    mutate: (s) => (staging(s).dockerAccess = { mode: 'agent' }),
    lines: [
      'environment "staging", field "dockerAccess.mode": got "agent"; allowed: "ssh", or "agent" with Terraform Cloud (terraformCloud or TFC_ORGANIZATION) (the agent runs Terraform Cloud runs; local state has no agent pool)',
    ],
  },
  {
    name: 'SSH under Terraform Cloud, where remote runs cannot reach the host',
    mutate: (s) => Object.assign(staging(s), { dockerAccess: { mode: 'ssh' }, terraformCloud: { organization: 'acme' } }),
    lines: [
      'environment "staging", field "dockerAccess.mode": got "ssh"; allowed: "agent" under Terraform Cloud (remote runs hold no SSH key and no address inside adminSshCidrs, and must not trust a host key on first use)',
    ],
  },
  {
    name: 'smoke checks on a swarm, where no release steps run',
    mutate: (s) => {
      staging(s).hosts.push({ name: 'app-2', serverType: 'ccx33' });
      Object.assign(staging(s), { releases: { canary: { sharePercent: 5 } } });
    },
    lines: [
      `environment "staging", product "manacore", field "services.web.smoke": got ["home","client-build"]; allowed: no smoke checks on a swarm (engine "swarm") (the release steps (smoke checks, canary, rollback window) run on plain containers only (docs/releasing.md, "On a swarm"); there the service keeps Swarm's start-first rolling update with automatic rollback on a failed health check. Remove smoke from manacore/web, or run staging on engine "containers")`,
      `environment "staging", field "releases": got {"canary":{"sharePercent":5}}; allowed: no releases policy on a swarm (engine "swarm") (canary and rollback window run on plain containers only (docs/releasing.md, "On a swarm"); remove releases, or run the environment on engine "containers")`,
    ],
  },
  {
    name: 'the agent on a swarm with the monitoring server off its endpoint',
    mutate: (s) => {
      withoutSmokeChecks(s);
      Object.assign(staging(s), {
        dockerAccess: { mode: 'agent' },
        terraformCloud: { organization: 'acme' },
        hosts: [...staging(s).hosts, { name: 'app-2', serverType: 'ccx33' }],
        monitoring: { ...staging(s).monitoring, host: 'app-2' },
      });
    },
    lines: [
      `environment "staging", field "monitoring.host": got "app-2"; allowed: "app-1" (the data host), or unset (under Terraform Cloud the agent on the data host ("app-1") is the environment's one Docker endpoint; the monitoring server is a plain container on its host, which only that host's daemon can create (docs/scaling.md, "One endpoint per environment"))`,
    ],
  },
  {
    name: 'an unknown ACME directory',
    mutate: (s) => (staging(s).certificates = { directory: 'test' as 'staging' }),
    lines: ['environment "staging", field "certificates.directory": got "test"; allowed: production, staging'],
  },
  {
    name: 'an apex service in a prefixed environment',
    mutate: (s) => (staging(s).apexService = 'manacore/landing'),
    lines: [
      'environment "staging", field "apexService": got "manacore/landing"; allowed: unset here: only the environment without a domainPrefix serves the apex (a zone has one apex, and "staging" prefixes its names with "staging-")',
    ],
  },
  {
    name: 'an apex service that is not a web or landing service',
    mutate: (s) => (production(s).apexService = 'chat/backend'),
    lines: [
      `environment "production", field "apexService": got "chat/backend"; allowed: ${APEX_CANDIDATES}`,
    ],
  },
  // Data services.
  {
    name: 'a volume smaller than Hetzner offers',
    mutate: (s) => (staging(s).data.postgres = { mode: 'container', volumeSizeGiB: 5 }),
    lines: [`environment "staging", field "data.postgres.volumeSizeGiB": got 5; allowed: ${VOLUME_ALLOWED}`],
  },
  {
    name: 'a volume larger than Hetzner offers',
    mutate: (s) => (production(s).data.postgres = { mode: 'container', volumeSizeGiB: 20000 }),
    lines: [`environment "production", field "data.postgres.volumeSizeGiB": got 20000; allowed: ${VOLUME_ALLOWED}`],
  },
  {
    name: 'Redis maxmemory at its container\'s memory limit',
    mutate: (s) => (staging(s).data.redis = { mode: 'container', volumeSizeGiB: 10, maxMemoryMiB: 384 }),
    lines: [
      'environment "staging", field "data.redis.maxMemoryMiB": got 384; allowed: less than the Redis container\'s memory limit (384 MiB) (Redis needs headroom above maxmemory for buffers and the AOF rewrite, or the kernel kills it)',
    ],
  },
  // Production safety.
  {
    name: 'production without protection',
    mutate: (s) => (production(s).protection = false),
    lines: ['environment "production", field "protection": got false; allowed: true in production (servers, volumes and buckets must survive a mistaken destroy)'],
  },
  {
    name: 'production without backups',
    mutate: (s) => (production(s).backups = false),
    lines: ['environment "production", field "backups": got false; allowed: true in production'],
  },
  {
    name: 'production without reviewers',
    mutate: (s) => (production(s).github = { waitTimerMinutes: 5 }),
    lines: ['environment "production", field "github.reviewerTeams": got []; allowed: at least one reviewer team or user in production (production deploys require approval)'],
  },
  {
    name: 'a GitHub wait timer beyond 30 days',
    mutate: (s) => (production(s).github = { reviewerTeams: ['platform'], waitTimerMinutes: 50000 }),
    lines: ['environment "production", field "github.waitTimerMinutes": got 50000; allowed: a whole number of minutes from 0 to 43200 (30 days, GitHub\'s limit)'],
  },
  {
    name: 'an unknown Cloudflare plan',
    mutate: (s) => (staging(s).cloudflare = { plan: 'premium' as 'pro' }),
    lines: ['environment "staging", field "cloudflare.plan": got "premium"; allowed: free, pro, business, enterprise'],
  },
  // Strict input: unknown keys, escaping, CIDR unions, host limits.
  {
    name: 'a misspelt environment field, with a suggestion',
    mutate: (s) => ((staging(s) as Record<string, unknown>).dockerAcces = { mode: 'ssh' }),
    lines: [
      'environment "staging", field "dockerAcces": got {"mode":"ssh"}; allowed: "dockerAccess" (did you mean it?), or another known field: name, production, domainPrefix, location, hosts, products, accessories, adminSshCidrs, sshKeys, protection, reservationScale, backups, privateNetwork, data, snapshots, cloudflare, github, acmeEmail, dockerAccess, certificates, apexService, ipv6, dockerHubLogin, terraformCloud, invariantExemptions, immutableTags, loadBalancer, monitoring, engine, releases (an unknown field would be silently ignored)',
    ],
  },
  {
    name: 'a field from another tool on a service',
    mutate: (s) => ((serviceOf(s, 'chat', 'backend') as Record<string, unknown>).replica = 2),
    lines: [
      'catalog, product "chat", field "services.backend.replica": got 2; allowed: "replicas" (did you mean it?), or another known field: name, kind, port, ports, healthPort, image, imageRef, command, healthCheck, resources, environment, secrets, uses, links, publicUrls, subdomain, hostPorts, extraNetworks, networks, writablePaths, readOnlyRootFilesystem, caching, updateOrder, replicas, singleton, restart, metrics, redis, plainVariables, secretFiles, buckets, tasks, smoke (an unknown field would be silently ignored)',
    ],
  },
  {
    name: 'an unknown key inside a nested setting',
    mutate: (s) => ((production(s).data.postgres as Record<string, unknown>).volumeSize = 100),
    lines: [
      'environment "production", field "data.postgres.volumeSize": got 100; allowed: "volumeSizeGiB" (did you mean it?), or another known field: mode, volumeSizeGiB, resources, provider, image, maxConnections, settings, maxMemoryMiB, maxMemoryPolicy, connectionsPerProduct (an unknown field would be silently ignored)',
    ],
  },
  {
    name: 'admin CIDRs that together cover the internet',
    mutate: (s) => (staging(s).adminSshCidrs = ['0.0.0.0/1', '128.0.0.0/1']),
    lines: [
      `environment "staging", field "adminSshCidrs": got "0.0.0.0/1"; allowed: ${ALLOW_LIST_ALLOWED} (a /1 opens SSH to 2,147,483,648 addresses)`,
      `environment "staging", field "adminSshCidrs": got "128.0.0.0/1"; allowed: ${ALLOW_LIST_ALLOWED} (a /1 opens SSH to 2,147,483,648 addresses)`,
    ],
  },
  {
    name: 'an IPv6 admin block with host bits set',
    mutate: (s) => (staging(s).adminSshCidrs = ['203.0.113.10/32', '2001:db8:10::1/48']),
    lines: [`environment "staging", field "adminSshCidrs": got "2001:db8:10::1/48"; allowed: ${CIDR_ALLOWED}`],
  },
  {
    name: 'a CPU limit above the host',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').resources = { cpuLimit: 12 }),
    lines: ['environment "staging", product "chat", field "services.backend.resources.cpuLimit": got 12; allowed: at most 8 (the vCPUs of host "app-1")'],
  },
  {
    name: 'a memory limit above the data host',
    mutate: (s) => (production(s).data.postgres = { mode: 'container', volumeSizeGiB: 100, resources: { memoryLimitMiB: 70000, memoryReservationMiB: 2048 } }),
    lines: ['environment "production", field "data.postgres.resources.memoryLimitMiB": got 70000; allowed: at most 65536 (the memory of host "app-1", MiB)'],
  },
  // Replicas, ports, restart, images.
  {
    name: 'zero replicas',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').replicas = 0),
    lines: ['catalog, product "chat", field "services.backend.replicas": got 0; allowed: a whole number from 1 to 20'],
  },
  {
    name: 'replicas for a service the product does not have',
    mutate: (s) => (deployment(s, 'production', 'chat').replicas = { api: 2 }),
    lines: ['environment "production", product "chat", field "replicas.api": got "api"; allowed: backend, web, landing'],
  },
  {
    name: 'a named port already declared as the main port',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').ports = { metrics: 3002 }),
    lines: ['catalog, product "chat", field "services.backend.ports.metrics": got 3002; allowed: a port not already declared by port (one container cannot listen twice on one port)'],
  },
  {
    name: 'a health port that is not declared',
    mutate: (s) => Object.assign(serviceOf(s, 'chat', 'backend'), { ports: { metrics: 9464 }, healthPort: 'health' }),
    lines: ['catalog, product "chat", field "services.backend.healthPort": got "health"; allowed: metrics'],
  },
  {
    name: 'a link to a port the target does not declare',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').links = { MANA_CORE_AUTH_URL: { target: 'mana-core-auth/backend', port: 'grpc' } }),
    lines: ['catalog, product "chat", field "services.backend.links.MANA_CORE_AUTH_URL.port": got "grpc"; allowed: a named port of mana-core-auth/backend, which declares none'],
  },
  {
    name: 'an on-failure restart without a sane retry limit',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').restart = { onFailure: { maxRetries: 0 } }),
    lines: ['catalog, product "chat", field "services.backend.restart": got {"onFailure":{"maxRetries":0}}; allowed: "always", "unless-stopped", or { onFailure: { maxRetries: 1 to 100 } }'],
  },
  {
    name: 'an image reference without tag or digest',
    mutate: (s) => (serviceOf(s, 'chat', 'web').imageRef = 'docker.io/library/nginx'),
    lines: [
      'catalog, product "chat", field "services.web.imageRef": got "docker.io/library/nginx"; allowed: an image reference with a tag, a digest or both: "registry/repository:tag" or "repository@sha256:<64 hex digits>"',
    ],
  },
  {
    name: 'a moving third-party tag in production',
    mutate: (s) => (serviceOf(s, 'chat', 'web').imageRef = 'docker.io/library/nginx:1.27-alpine'),
    lines: [
      'environment "production", product "chat", field "services.web.imageRef": got "docker.io/library/nginx:1.27-alpine"; allowed: a digest ("repository@sha256:<64 hex digits>", recommended for third-party images), a tag "main-<sha>" or "v<major>.<minor>.<patch>", or a tag matching the environment\'s immutableTags (production never runs a moving reference: a restart could change the code)',
    ],
  },
  {
    name: 'an immutable-tag pattern that matches latest',
    mutate: (s) => (production(s).immutableTags = '.*'),
    lines: ['environment "production", field "immutableTags": got ".*"; allowed: a valid regular expression that matches no moving tag ("latest", "main", "stable")'],
  },
  {
    name: 'PostgreSQL settings on Redis',
    mutate: (s) => (staging(s).data.redis = { mode: 'container', volumeSizeGiB: 10, maxConnections: 200 }),
    lines: ['environment "staging", field "data.redis.maxConnections": got 200; allowed: nothing: maxConnections and settings are PostgreSQL server settings'],
  },
  {
    name: 'a quoted PostgreSQL setting',
    mutate: (s) => (production(s).data.postgres = { mode: 'container', volumeSizeGiB: 100, settings: { max_wal_size: "2GB' -c x='y" } }),
    lines: [
      'environment "production", field "data.postgres.settings.max_wal_size": got "2GB\' -c x=\'y"; allowed: a PostgreSQL parameter name (lowercase, "_", ".") with a one-line value without quotes; max_connections has its own field',
    ],
  },
  // Accessories.
  {
    name: 'a service using an accessory the system does not declare',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').uses = ['postgres', 'redis', 'minio']),
    lines: ['catalog, product "chat", field "services.backend.uses": got "minio"; allowed: postgres, redis'],
  },
  {
    name: 'an accessory used where the environment does not run it',
    mutate: (s) => {
      s.accessories = [{ name: 'minio', imageRef: 'quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z', ports: { api: 9000 }, healthCheck: HealthCheck.http('/minio/health/live') }];
      serviceOf(s, 'chat', 'backend').uses = ['postgres', 'redis', 'minio'];
      staging(s).accessories = [{ name: 'minio' }];
    },
    lines: ['environment "production", product "chat", field "services.backend.uses": got "minio"; allowed: an accessory this environment runs (add { name: "minio" } to its accessories)'],
  },
  {
    name: 'an accessory connection naming a port it does not have',
    mutate: (s) => {
      s.accessories = [{ name: 'minio', imageRef: 'quay.io/minio/minio@sha256:' + 'a'.repeat(64), ports: { api: 9000 }, healthCheck: HealthCheck.http('/minio/health/live'), connection: { S3_ENDPOINT: 'http://{host}:{port:s3}' } }];
    },
    lines: ['catalog, field "accessories.minio.connection.S3_ENDPOINT": got "{port:s3}"; allowed: {host}, {port:api}'],
  },
  {
    name: 'an accessory volume that is too small',
    mutate: (s) => {
      s.accessories = [{ name: 'minio', imageRef: 'quay.io/minio/minio@sha256:' + 'a'.repeat(64), ports: { api: 9000 }, healthCheck: HealthCheck.http('/minio/health/live'), volumes: [{ name: 'objects', mountPath: '/data', sizeGiB: 5 }] }];
    },
    lines: [`catalog, field "accessories.minio.volumes.objects.sizeGiB": got 5; allowed: ${VOLUME_ALLOWED}`],
  },
  // Hostile and mistaken input (issue 28): each a class, refused by one rule.
  {
    name: 'production approvals switched off while reviewers are set',
    mutate: (s) => (production(s).github = { ...production(s).github, requireApproval: false }),
    lines: [
      `environment "production", field "github.requireApproval": got false; allowed: true or unset in production (production deploys need a reviewer's approval, from main only, with no administrator bypass; requireApproval: false removes all three)`,
    ],
  },
  {
    name: 'SSH open to half of IPv4',
    mutate: (s) => (production(s).adminSshCidrs = ['0.0.0.0/1']),
    lines: [`environment "production", field "adminSshCidrs": got "0.0.0.0/1"; allowed: ${ALLOW_LIST_ALLOWED} (a /1 opens SSH to 2,147,483,648 addresses)`],
  },
  {
    name: 'SSH open to all of global IPv6',
    mutate: (s) => (production(s).adminSshCidrs = ['2000::/3']),
    lines: [`environment "production", field "adminSshCidrs": got "2000::/3"; allowed: ${ALLOW_LIST_ALLOWED} (a /3 opens SSH to far more than one site)`],
  },
  {
    name: 'DATABASE_URL in environment and from uses: postgres',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').environment = { ...serviceOf(s, 'chat', 'backend').environment, DATABASE_URL: 'postgres://db/chat' }),
    lines: [
      `catalog, product "chat", field "services.backend.uses": got "DATABASE_URL"; allowed: a variable set by one source only: DATABASE_URL is set by environment and by uses: postgres (its connection string); rename it or drop one ${CLASH}`,
    ],
  },
  {
    name: 'DATABASE_URL among the secrets and from uses: postgres',
    mutate: (s) => (serviceOf(s, 'chat', 'backend').secrets = [...(serviceOf(s, 'chat', 'backend').secrets ?? []), 'DATABASE_URL']),
    lines: [
      `catalog, product "chat", field "services.backend.uses": got "DATABASE_URL"; allowed: a variable set by one source only: DATABASE_URL is set by secrets and by uses: postgres (its connection string); rename it or drop one ${CLASH}`,
    ],
  },
  {
    name: 'two accessories exporting the same connection variable',
    mutate: (s) => {
      s.accessories = [MINIO, { ...MINIO, name: 'minio-b' }];
      serviceOf(s, 'chat', 'backend').uses = [...(serviceOf(s, 'chat', 'backend').uses ?? []), 'minio', 'minio-b'];
      for (const environment of s.environments) environment.accessories = [{ name: 'minio' }, { name: 'minio-b' }];
    },
    lines: [
      `catalog, product "chat", field "services.backend.uses": got "S3_ENDPOINT"; allowed: a variable set by one source only: S3_ENDPOINT is set by uses: minio (accessories.minio.connection) and by uses: minio-b (accessories.minio-b.connection); rename it or drop one ${CLASH}`,
    ],
  },
  {
    name: 'a public URL variable also given a plain value',
    mutate: (s) => (serviceOf(s, 'chat', 'web').environment = { ...serviceOf(s, 'chat', 'web').environment, PUBLIC_BACKEND_URL: 'https://example.com' }),
    lines: [
      `catalog, product "chat", field "services.web.publicUrls": got "PUBLIC_BACKEND_URL"; allowed: a variable set by one source only: PUBLIC_BACKEND_URL is set by environment and by publicUrls; rename it or drop one ${CLASH}`,
    ],
  },
  {
    name: 'a waiver of a rule that does not exist',
    mutate: (s) => (staging(s).invariantExemptions = [{ rule: 'no-root' as 'pinned-image', stack: 'staging-chat', resource: 'docker_container.chat-backend', reason: 'the image needs root to bind' }]),
    lines: [
      'environment "staging", field "invariantExemptions[0].rule": got "no-root"; allowed: production-server-protection, production-stateful-protection, pinned-image, no-published-ports, hardened-container, firewall-exact, no-plaintext-secret, ipv6-served, wildcard-certificate, self-contained-references',
    ],
  },
  {
    name: 'a waiver of every resource with no reason',
    mutate: (s) => (staging(s).invariantExemptions = [{ rule: 'hardened-container', stack: 'staging-chat', resource: '*', reason: ' ' }]),
    lines: [
      'environment "staging", field "invariantExemptions[0].resource": got "*"; allowed: one Terraform address, as the violation names it ("docker_container.chat-debug", "var.name" or "(stack)"); never "*" (a waiver covers one resource the reviewer has looked at, not whatever the stack may hold later)',
      'environment "staging", field "invariantExemptions[0].reason": got " "; allowed: why the rule does not apply here, in a sentence (at least 10 characters); it is written into the stack',
    ],
  },
  {
    name: 'a waiver for a stack the environment does not have',
    mutate: (s) => {
      keepOnly(s, ['staging'], ['bauntown']);
      staging(s).invariantExemptions = [{ rule: 'hardened-container', stack: 'staging-recipes', resource: 'docker_container.recipes-web', reason: 'a stock image that runs as root' }];
    },
    lines: ['environment "staging", field "invariantExemptions[0].stack": got "staging-recipes"; allowed: staging-network, staging-edge, staging-data, staging-monitoring, staging-bauntown'],
  },
  {
    name: 'a production waiver of production protection',
    mutate: (s) => (production(s).invariantExemptions = [{ rule: 'production-stateful-protection', stack: 'production-data', resource: 'hcloud_volume.postgres-volume', reason: 'we want to recreate it' }]),
    lines: [
      `environment "production", field "invariantExemptions[0].rule": got "production-stateful-protection"; allowed: pinned-image, no-published-ports, hardened-container, firewall-exact, no-plaintext-secret, ipv6-served, wildcard-certificate, self-contained-references (the production-* rules are production's protection itself (delete and rebuild protection, backups, prevent_destroy); production cannot waive them)`,
    ],
  },
  {
    name: 'two replicas of a singleton in the catalog',
    mutate: (s) => addService(s, 'chat', { name: 'scheduler', kind: 'worker', command: ['node', 'dist/scheduler.js'], singleton: true, replicas: 2 }),
    lines: [
      'catalog, product "chat", field "services.scheduler.replicas": got 2; allowed: 1 (scheduler is a singleton), or drop singleton if the service tolerates running its jobs several times (every replica of scheduler would run each of its jobs: 2 replicas, 2 runs)',
    ],
  },
  {
    name: 'three replicas of a singleton in one environment',
    mutate: (s) => {
      addService(s, 'chat', { name: 'scheduler', kind: 'worker', command: ['node', 'dist/scheduler.js'], singleton: true });
      deployment(s, 'production', 'chat').replicas = { scheduler: 3 };
    },
    lines: [
      'environment "production", product "chat", field "replicas.scheduler": got 3; allowed: 1 (scheduler is a singleton), or drop singleton if the service tolerates running its jobs several times (every replica of scheduler would run each of its jobs: 3 replicas, 3 runs)',
    ],
  },
  {
    name: 'a backup every minute',
    mutate: (s) => (production(s).data.backupPlan = { postgres: { cron: '* * * * *' } }),
    lines: [
      'environment "production", field "data.backupPlan.postgres.cron": got "* * * * *"; allowed: a schedule whose runs are at least 1 hour(s) apart (e.g. "0 * * * *" hourly, "0 3 * * *" daily); "* * * * *" runs 1 minute(s) apart (every run dumps the whole postgres under load and keeps the dump locked for keepForDays: a run every 1 minute(s) is 1440 locked dumps a day)',
    ],
  },
  {
    name: 'a system name too long for the backup bucket',
    mutate: (s) => (s.name = 'a-very-long-system-name-for-a-company-with-many-products-x'),
    lines: [
      'environment "staging", field "system.name": got "a-very-long-system-name-for-a-company-with-many-products-x"; allowed: a system name of at most 47 characters (it begins the R2 backup bucket "a-very-long-system-name-for-a-company-with-many-products-x-staging-backups" (74 characters), and R2 bucket names have at most 63)',
      'environment "production", field "system.name": got "a-very-long-system-name-for-a-company-with-many-products-x"; allowed: a system name of at most 44 characters (it begins the R2 backup bucket "a-very-long-system-name-for-a-company-with-many-products-x-production-backups" (77 characters), and R2 bucket names have at most 63)',
    ],
  },
  {
    name: 'a service name longer than a DNS label',
    mutate: (s) => addService(s, 'chat', { name: 'x'.repeat(70), kind: 'worker', command: ['run'] }),
    lines: [
      `catalog, product "chat", field "services.${'x'.repeat(70)}.name": got "${'x'.repeat(70)}"; allowed: a name that keeps "chat-<service>" within 63 characters (at most 58 here) ("chat-${'x'.repeat(70)}" (75 characters) is the container's name on the host networks, a DNS label: Docker's resolver answers at most 63 characters)`,
    ],
  },
  {
    name: 'an accessory that makes its whole root writable',
    mutate: (s) => (s.accessories = [{ ...MINIO, writablePaths: ['/'] }]),
    lines: [
      'catalog, field "accessories.minio.writablePaths": got "/"; allowed: an absolute path below "/" such as "/var/cache/app" (letters, digits, ".", "_", "-"; no "..") (each becomes a tmpfs under the read-only root filesystem; "/" would make the whole root writable)',
    ],
  },
];

describe('invalid input', () => {
  it('has a corpus of at least 40 cases', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CORPUS.map((entry) => entry.name)).size).toBe(CORPUS.length);
  });

  it('starts from a valid system', () => {
    expect(() => resolveSystem(manacore)).not.toThrow();
  });

  it.each(CORPUS)('rejects $name', ({ mutate, lines }) => {
    const bad = variant(manacore, mutate);
    expect(() => resolveSystem(bad)).toThrow(exactLine(lines[0]!));
    expect(issueLines(bad)).toEqual(lines);
  });
});

describe('rules that depend on the environment', () => {
  it('accepts "latest" in staging', () => {
    const system = variant(manacore, (s) => (deployment(s, 'staging', 'chat').imageTag = 'latest'));
    expect(() => resolveSystem(system)).not.toThrow();
  });

  it('accepts release tags in production', () => {
    const system = variant(manacore, (s) => (deployment(s, 'production', 'chat').imageTag = 'v1.4.2'));
    expect(() => resolveSystem(system)).not.toThrow();
  });

  it('accepts an unprotected staging without backups or reviewers', () => {
    const system = variant(manacore, (s) => Object.assign(staging(s), { protection: false, backups: false, github: {} }));
    expect(() => resolveSystem(system)).not.toThrow();
  });

  it('accepts a long product whose label fits production', () => {
    const system = variant(manacore, (s) => {
      s.products.push({ name: LONG_PRODUCT, services: [{ name: 'web', kind: 'web' }] });
      production(s).products.push({ product: LONG_PRODUCT, imageTag: 'main-0000000' });
    });
    expect(() => resolveSystem(system)).not.toThrow();
  });
});

describe('several problems at once', () => {
  const bad = variant(manacore, (s) => {
    serviceOf(s, 'chat', 'backend').port = 70000;
    staging(s).location = 'fra1' as 'fsn1';
    deployment(s, 'production', 'picture').imageTag = 'latest';
    production(s).adminSshCidrs = ['0.0.0.0/0'];
  });

  it('lists every problem in one error, catalog first, then each environment in order', () => {
    expect(issueLines(bad)).toEqual([
      'catalog, product "chat", field "services.backend.port": got 70000; allowed: a whole number from 1 to 65535',
      'environment "staging", field "location": got "fra1"; allowed: fsn1, nbg1, hel1, ash, hil, sin',
      'environment "production", field "adminSshCidrs": got "0.0.0.0/0"; allowed: a specific network, not the whole internet (SSH is open to administrators only)',
      `environment "production", product "picture", field "imageTag": got "latest"; allowed: ${PRODUCTION_TAG_ALLOWED}`,
    ]);
  });

  it('says how many problems there are', () => {
    expect(() => resolveSystem(bad)).toThrow(/^Invalid configuration \(4 problems\):\n {2}- catalog, /);
  });
});
