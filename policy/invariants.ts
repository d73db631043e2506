/**
 * The library's safety promises, checked on the final Terraform JSON of every
 * stack at every synth: whatever construct produced a resource, it cannot
 * reach Terraform while breaking one of these rules unless an environment
 * exempts it explicitly, with a reason that is written into the stack.
 */

/** Rule ids, as used in `EnvironmentSpec.invariantExemptions`. */
export const INVARIANT_RULES = {
  'production-server-protection': 'production servers have delete and rebuild protection and backups',
  'production-stateful-protection': 'production volumes, primary IPs and buckets have delete protection and prevent_destroy',
  'pinned-image': 'every image has an explicit tag; production never runs "latest"',
  'no-published-ports': 'only the edge proxy publishes host ports, and only 80 and 443',
  'hardened-container': 'app containers are non-root, read-only, drop all capabilities, set no-new-privileges, and have a memory limit and a health check (one-shot tasks: their exit code)',
  'firewall-exact': 'host firewalls admit exactly 22 from the admin CIDRs and 80/443 from anywhere; the pipeline\'s deploy-path firewall is declared without rules',
  'no-plaintext-secret': 'no secret value is written in plain text',
  'ipv6-served': 'an AAAA record exists only where the edge serves IPv6; where it does, the edge proxy\'s frontend network has IPv6 on',
  'wildcard-certificate':
    'every routed name uses its zone\'s wildcard certificate (DNS-01), so an environment orders one certificate per zone and host, not one per name',
  'self-contained-references':
    'every reference names a resource, data source, variable or local the stack itself declares; values from other stacks come through their published outputs',
} as const;

export type InvariantRule = keyof typeof INVARIANT_RULES;

/** A deliberate exception to one rule for one resource. */
export interface InvariantExemption {
  readonly rule: InvariantRule;
  /** Terraform address (`docker_container.chat-backend`) in the stack, as the violation names it. The environment's may not be `*` (the platform's own may). */
  readonly resource: string;
  /** Stack the exemption applies to (`production-chat`). */
  readonly stack: string;
  /**
   * One environment variable of the container (`CACHE_MAX_KEYS`), for
   * `no-plaintext-secret`: only that variable's literal is waived, not every
   * variable of the container.
   * @default - the whole resource
   */
  readonly variable?: string;
  /** Why; written into the synthesized stack next to the exemption. */
  readonly reason: string;
}

export interface InvariantContext {
  readonly stack: string;
  readonly production: boolean;
  /** Sources allowed on 22. */
  readonly adminSshCidrs: readonly string[];
  /** Does the environment's edge serve IPv6? @default true */
  readonly edgeServesIpv6?: boolean;
  /** May this stack publish host ports (the edge stack)? */
  readonly mayPublishPorts: boolean;
  /** Do the hosts admit 80/443 from the internet? False behind a load balancer. @default true */
  readonly publicWeb?: boolean;
  /**
   * Private addresses this stack may publish data-service ports on (the data
   * host's, when containers on other hosts reach it over the private network).
   * @default - none
   */
  readonly privatePublishAddresses?: readonly string[];
  /** Are containers of this stack app containers (product and edge stacks)? */
  readonly appContainers: boolean;
  readonly exemptions: readonly InvariantExemption[];
  /** Told of each violation an exemption waives, so a caller can show what each one waives and find those that waive nothing. @default - not told */
  readonly onWaived?: (exemption: InvariantExemption, violation: InvariantViolation) => void;
}

export interface InvariantViolation {
  readonly rule: InvariantRule;
  readonly stack: string;
  readonly address: string;
  readonly message: string;
  /** The environment variable it is about, for a literal under a secret-looking name. */
  readonly variable?: string;
}

type Json = Record<string, unknown>;
type Resources = Record<string, Record<string, Json>>;

/**
 * Token shapes that must never appear in synthesized output. Each starts with
 * literal text where it can, so scanning a stack takes microseconds, not the
 * tenth of a millisecond a leading character class costs.
 */
const SECRET_SHAPES: ReadonlyArray<[string, RegExp]> = [
  ['GitHub token', /\bgh[pousr]_[A-Za-z0-9]{30,}/],
  ['GitHub fine-grained token', /\bgithub_pat_[A-Za-z0-9_]{20,}/],
  ['PEM private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['Stripe live key', /\b[sr]k_live_[A-Za-z0-9]{10,}/],
  ['AWS access key id', /\bAKIA[0-9A-Z]{16}\b/],
  ['Cloudflare API token', /\b(?:cloudflare|cf)[_-]?(?:api[_-]?)?token["'=: ]+[A-Za-z0-9_-]{40}\b/i],
  ['Terraform Cloud token', /\.atlasv1\.[A-Za-z0-9_-]{60,}/],
  ['URL with inline password', /:\/\/[^\s:@/${}"]+:[^\s@/${}"]+@/],
];

/** Attribute names whose value must be a reference, never a literal. */
const SECRET_ATTRIBUTE = /^(plaintext_value|encrypted_value|password|api_token|api_key|token|secret|private_key|key_material|cert_material|ca_material|value_wo)$/;
/** Environment variable names that hold secrets. */
const SECRET_ENV = /(PASSWORD|SECRET|TOKEN|_KEY|^KEY|DATABASE_URL|REDIS_URL|PRIVATE)/;

// `$${` is Terraform's escape for a literal `${`: text, not a reference, so it is scanned like any literal.
const isReference = (value: unknown): boolean => typeof value === 'string' && /(?:^|[^$])\$\{/.test(value);

export function checkInvariants(tf: Json, context: InvariantContext): InvariantViolation[] {
  const violations: InvariantViolation[] = [];
  const resources = (tf.resource ?? {}) as Resources;
  const report = (rule: InvariantRule, address: string, message: string, variable?: string) => {
    const violation = { rule, stack: context.stack, address, message, variable };
    const exemption = context.exemptions.find(
      (e) => e.rule === rule && e.stack === context.stack && (e.resource === '*' || e.resource === address) && (e.variable === undefined || e.variable === variable),
    );
    if (exemption === undefined) violations.push(violation);
    else context.onWaived?.(exemption, violation);
  };
  const each = (type: string, check: (address: string, body: Json) => void) => {
    for (const [name, body] of Object.entries(resources[type] ?? {})) check(`${type}.${name}`, body);
  };
  const lifecycle = (body: Json) => (body.lifecycle ?? {}) as Json;

  if (context.production) {
    each('hcloud_server', (address, body) => {
      const missing = ['delete_protection', 'rebuild_protection', 'backups'].filter((key) => body[key] !== true);
      if (missing.length > 0) report('production-server-protection', address, `${missing.join(', ')} must be true`);
    });
    for (const type of ['hcloud_volume', 'hcloud_primary_ip']) {
      each(type, (address, body) => {
        if (body.delete_protection !== true) report('production-stateful-protection', address, 'delete_protection must be true');
        if (type === 'hcloud_volume' && lifecycle(body).prevent_destroy !== true) report('production-stateful-protection', address, 'lifecycle.prevent_destroy must be true');
      });
    }
    each('cloudflare_r2_bucket', (address, body) => {
      if (lifecycle(body).prevent_destroy !== true) report('production-stateful-protection', address, 'lifecycle.prevent_destroy must be true');
    });
  }

  const checkImage = (address: string, image: unknown) => {
    if (typeof image !== 'string' || isReference(image)) return;
    const withoutDigest = image.split('@')[0]!;
    const lastSegment = withoutDigest.split('/').pop()!;
    if (!image.includes('@') && !lastSegment.includes(':')) {
      report('pinned-image', address, `image "${image}" has no tag`);
    } else if (context.production && lastSegment.endsWith(':latest')) {
      report('pinned-image', address, `image "${image}" uses "latest"`);
    }
  };
  each('docker_image', (address, body) => checkImage(address, body.name));
  each('docker_registry_image', (address, body) => checkImage(address, body.name));

  each('docker_container', (address, body) => {
    checkImage(address, body.image);
    // A port bound to the data host's private address is reachable over the private network only: not a public port.
    const ports = ((body.ports ?? []) as Json[]).filter((p) => !(typeof p.ip === 'string' && (context.privatePublishAddresses ?? []).includes(p.ip)));
    const external = ports.map((p) => Number(p.external ?? p.internal));
    if (ports.length > 0 && (!context.mayPublishPorts || external.some((port) => port !== 80 && port !== 443))) {
      report('no-published-ports', address, `publishes host ports ${external.join(', ')}; only the edge proxy may, and only 80 and 443`);
    }
    if (!context.appContainers) return;
    const problems: string[] = [];
    const user = String(body.user ?? '');
    if (user === '' || user === 'root' || user === '0' || user.startsWith('0:')) problems.push(`user is "${user || 'image default'}" (must be non-root)`);
    if (body.read_only !== true) problems.push('read_only is not true');
    const drop = ((body.capabilities as Json | undefined)?.drop ?? []) as string[];
    if (!drop.includes('ALL')) problems.push('capabilities.drop lacks ALL');
    const securityOpts = (body.security_opts ?? []) as string[];
    if (!securityOpts.some((opt) => opt.startsWith('no-new-privileges'))) problems.push('security_opts lacks no-new-privileges');
    // A one-shot task (a release task) is waited for until it exits, and its exit code judged: nothing to probe.
    const oneShot = body.attach === true && body.must_run === false;
    if (body.healthcheck === undefined && !oneShot) problems.push('no health check');
    const labels = ((body.labels ?? []) as Json[]).map((entry) => entry.label);
    if (((body.healthcheck as Json | undefined)?.test as unknown[] | undefined)?.[0] === 'NONE' && !labels.includes('health-check.disabled')) {
      problems.push('health check disabled (NONE) without a health-check.disabled label giving the reason');
    }
    if (!(typeof body.memory === 'number' && body.memory > 0) && !isReference(body.memory)) problems.push('no memory limit');
    if (problems.length > 0) report('hardened-container', address, problems.join('; '));
  });

  each('hcloud_firewall', (address, body) => {
    if ((body.labels as Json | undefined)?.role === 'deploy-path') {
      // The pipeline's temporary door (scripts/deploy-path.ts): Terraform declares it empty and leaves its rules alone.
      const ignored = (lifecycle(body).ignore_changes ?? []) as string[];
      if (((body.rule ?? []) as Json[]).length > 0 || !ignored.includes('rule')) {
        report('firewall-exact', address, 'is the deploy-path firewall: it must be declared without rules and with ignore_changes = ["rule"]');
      }
      return;
    }
    checkFirewall(address, body, context, report);
  });

  const ipv6 = context.edgeServesIpv6 ?? true;
  each('cloudflare_dns_record', (address, body) => {
    if (body.type === 'AAAA' && !ipv6) report('ipv6-served', address, 'is an AAAA record, but the edge does not serve IPv6 (ipv6: false): IPv6 clients would be refused');
  });
  // A swarm's frontend is an overlay, which cannot carry IPv6 (Docker 20.10), and a swarm task's published ports
  // answer on IPv4 only (docker_gwbridge; the daemons run without the userland proxy). Behind the load balancer
  // (publicWeb false) that is fine: AAAA records name the balancer, which reaches the edge over the private IPv4
  // network. Without one, an IPv6 client would reach no edge.
  const edgeIpv6 = ipv6 && context.publicWeb !== false;
  let overlayFrontend: string | undefined;
  let ipv6Bridge = false;
  each('docker_network', (address, body) => {
    const isFrontend = ((body.labels ?? []) as Json[]).some((label) => label.label === 'network' && label.value === 'frontend');
    if (!isFrontend) return;
    if (body.driver === 'overlay') overlayFrontend = address;
    else if (body.ipv6 === true) ipv6Bridge = true;
    else if (edgeIpv6) report('ipv6-served', address, 'is the edge proxy\'s frontend network without ipv6 = true, but the environment publishes AAAA records');
  });
  if (edgeIpv6 && overlayFrontend !== undefined && !ipv6Bridge) {
    report('ipv6-served', overlayFrontend, 'is a swarm\'s overlay (no IPv6) and no load balancer takes the IPv6 traffic, but the environment publishes AAAA records for the edge nodes: set ipv6: false, or run the routed services on two or more nodes (a load balancer then answers IPv6)');
  }
  each('docker_container', (address, body) => {
    const labels = Object.fromEntries(((body.labels ?? []) as Array<{ label: string; value: string }>).map(({ label, value }) => [label, value]));
    for (const [label, value] of Object.entries(labels)) {
      const router = /^traefik\.http\.routers\.([^.]+)\.tls\.certresolver$/.exec(label)?.[1];
      if (router === undefined || value === '') continue;
      const sans = labels[`traefik.http.routers.${router}.tls.domains[0].sans`] ?? '';
      if (!sans.startsWith('*.')) report('wildcard-certificate', address, `router ${router} orders a certificate of its own; give it tls.domains[0] = the zone and its wildcard`);
    }
  });

  checkSecrets(tf, resources, report);
  checkReferences(tf, report);
  return violations;
}

function checkFirewall(address: string, body: Json, context: InvariantContext, report: (rule: InvariantRule, address: string, message: string) => void): void {
  const rules = ((body.rule ?? []) as Json[]).filter((r) => r.direction === 'in');
  const expected = new Map<string, string[]>([['22', [...context.adminSshCidrs]]]);
  // Behind a load balancer the hosts take web traffic over the private network only: no public 80/443.
  if (context.publicWeb !== false) {
    expected.set('80', ['0.0.0.0/0', '::/0']);
    expected.set('443', ['0.0.0.0/0', '::/0']);
  }
  const seen = new Map<string, string[]>();
  for (const rule of rules) {
    const port = String(rule.port ?? 'any');
    if (rule.protocol !== 'tcp' || !expected.has(port)) {
      report('firewall-exact', address, `admits ${String(rule.protocol)} port ${port}; allowed: tcp ${[...expected.keys()].join(', ')}`);
      continue;
    }
    seen.set(port, [...(seen.get(port) ?? []), ...((rule.source_ips ?? []) as string[])]);
  }
  for (const [port, sources] of expected) {
    const actual = [...(seen.get(port) ?? [])].sort();
    if (JSON.stringify(actual) !== JSON.stringify([...sources].sort())) {
      report('firewall-exact', address, `port ${port} admits [${actual.join(', ')}]; expected [${[...sources].sort().join(', ')}]`);
    }
  }
}

function checkSecrets(tf: Json, resources: Resources, report: (rule: InvariantRule, address: string, message: string, variable?: string) => void): void {
  for (const [name, variable] of Object.entries((tf.variable ?? {}) as Record<string, Json>)) {
    // An empty default holds no secret: it means "unset, generate one" (a shared secret of a credentials stack).
    if (variable.sensitive === true && variable.default !== undefined && variable.default !== '') {
      report('no-plaintext-secret', `var.${name}`, 'a sensitive variable must not have a default value other than ""');
    }
  }
  for (const [type, byName] of Object.entries(resources)) {
    for (const [name, body] of Object.entries(byName)) {
      const address = `${type}.${name}`;
      walkStrings(body, (key, value) => {
        if (SECRET_ATTRIBUTE.test(key) && value !== '' && !isReference(value)) {
          report('no-plaintext-secret', address, `attribute "${key}" is a literal; it must reference a sensitive variable or generated secret`);
        }
      });
      for (const entry of (type === 'docker_container' ? ((body.env ?? []) as string[]) : [])) {
        const [envName, ...rest] = entry.split('=');
        const value = rest.join('=');
        if (envName !== undefined && SECRET_ENV.test(envName) && value !== '' && !isReference(value)) {
          report(
            'no-plaintext-secret',
            address,
            `environment variable ${envName} has a literal value, and its name looks secret: move it from the service's environment to its secrets: ` +
              `(the value then comes from a sensitive Terraform variable), or, if it holds no secret, list ${envName} in the service's plainVariables`,
            envName,
          );
        }
      }
    }
  }
  const text = JSON.stringify(tf);
  for (const [label, shape] of SECRET_SHAPES) {
    const match = shape.exec(text);
    if (match) report('no-plaintext-secret', '(stack)', `contains what looks like a ${label}: "${match[0].slice(0, 12)}..."`);
  }
}

/**
 * A reference in an interpolation: `data.<type>.<name>`, `var.<name>`,
 * `local.<name>` or `<provider>_<type>.<name>`. Not preceded by a name
 * character or a dot, so attribute paths (`.outputs.database_url`) are not
 * mistaken for references.
 */
const REFERENCE = /(?<![\w.-])(?:data\.[a-z][a-z0-9_]*\.[\w-]+|(?:var|local)\.[\w-]+|([a-z][a-z0-9]*_[a-z0-9_]+)\.([\w-]+))/g;
/** Names a `for` expression binds (`for key, item_x in ...`): `item_x.name` is then no resource. */
const FOR_BINDING = /\bfor\s+(\w+)(?:\s*,\s*(\w+))?\s+in\b/g;
const NOTHING_BOUND: ReadonlySet<string | undefined> = new Set();
/** Meta-arguments whose strings are bare addresses rather than templates. */
const ADDRESS_LISTS = new Set(['depends_on', 'replace_triggered_by']);
/** What a dynamic block's iterator offers (`<block>.value`); no resource is named so. */
const ITERATOR_ATTRIBUTES = new Set(['key', 'value']);

/**
 * The `self-contained-references` rule: every reference in the final JSON
 * names something this stack declares. cdktf references to another stack's
 * resources are already stopped, by origin, while resolving
 * (`cross-stack-guard.ts`); this catches what is written by hand, a mistyped
 * or copied interpolation, or a bare address in `depends_on`.
 */
function checkReferences(tf: Json, report: (rule: InvariantRule, address: string, message: string) => void): void {
  const declared = new Set<string>();
  for (const [type, byName] of Object.entries((tf.resource ?? {}) as Resources)) for (const name of Object.keys(byName)) declared.add(`${type}.${name}`);
  for (const [type, byName] of Object.entries((tf.data ?? {}) as Resources)) for (const name of Object.keys(byName)) declared.add(`data.${type}.${name}`);
  for (const name of Object.keys((tf.variable ?? {}) as Json)) declared.add(`var.${name}`);
  for (const name of Object.keys((tf.locals ?? {}) as Json)) declared.add(`local.${name}`);

  const check = (address: string, body: unknown) => {
    const dangling = new Set<string>();
    const inspectExpression = (expression: string) => {
      const bound = expression.includes('for') ? new Set([...expression.matchAll(FOR_BINDING)].flatMap(([, first, second]) => [first, second])) : NOTHING_BOUND;
      for (const [reference, resourceType, name] of expression.matchAll(REFERENCE)) {
        if (resourceType !== undefined && (bound.has(resourceType) || ITERATOR_ATTRIBUTES.has(name!))) continue;
        if (!declared.has(reference)) dangling.add(reference);
      }
    };
    walkStrings(body, (key, text) => {
      if (ADDRESS_LISTS.has(key) && !text.includes('${')) {
        // depends_on / replace_triggered_by hold bare addresses (`docker_image.api`, `docker_image.api.id`).
        inspectExpression(text);
      } else if (text.includes('${') || text.includes('%{')) {
        for (const expression of interpolations(text)) inspectExpression(expression);
      }
    });
    for (const reference of dangling) {
      report(
        'self-contained-references',
        address,
        `references ${reference}, which this stack does not declare; a value from another stack must come through its published outputs (publish / outputsOf)`,
      );
    }
  };
  for (const [type, byName] of Object.entries((tf.resource ?? {}) as Resources)) for (const [name, body] of Object.entries(byName)) check(`${type}.${name}`, body);
  for (const [type, byName] of Object.entries((tf.data ?? {}) as Resources)) for (const [name, body] of Object.entries(byName)) check(`data.${type}.${name}`, body);
  for (const [name, body] of Object.entries((tf.output ?? {}) as Json)) check(`output.${name}`, body);
  for (const [name, body] of Object.entries((tf.locals ?? {}) as Json)) check(`local.${name}`, body);
  for (const [name, body] of Object.entries((tf.provider ?? {}) as Json)) check(`provider.${name}`, body);
}

/**
 * The expressions of every `${...}` interpolation and `%{...}` directive in a
 * Terraform string template, braces balanced. String literals inside an
 * expression are blanked (`file("cloud_init.yaml")` names no resource), and
 * the templates nested in them are returned as expressions of their own.
 * `$${` and `%%{` are Terraform's escapes for literal text and are skipped.
 */
export function interpolations(text: string): string[] {
  const expressions: string[] = [];
  for (let at = 0; at < text.length; at++) {
    if (opensTemplate(text, at)) {
      const expression = scanExpression(text, at + 2);
      expressions.push(expression.code, ...expression.nested);
      at = expression.end - 1;
    }
  }
  return expressions;
}

/** `${` or `%{` at `at`, not escaped by doubling the sigil. */
function opensTemplate(text: string, at: number): boolean {
  const sigil = text[at];
  return (sigil === '$' || sigil === '%') && text[at + 1] === '{' && text[at - 1] !== sigil;
}

interface ScannedExpression {
  /** The expression with string literals blanked to `""`. */
  readonly code: string;
  /** Expressions of templates inside its string literals. */
  readonly nested: string[];
  /** Index just past the closing brace. */
  readonly end: number;
}

function scanExpression(text: string, from: number): ScannedExpression {
  let code = '';
  const nested: string[] = [];
  let depth = 1;
  let at = from;
  while (at < text.length) {
    const char = text[at]!;
    if (char === '"') {
      at = scanStringLiteral(text, at + 1, nested);
      code += '""';
      continue;
    }
    if (char === '{') depth++;
    if (char === '}' && --depth === 0) return { code, nested, end: at + 1 };
    code += char;
    at++;
  }
  return { code, nested, end: at };
}

/** Skips a string literal starting after its opening quote, collecting the templates inside; returns the index past its closing quote. */
function scanStringLiteral(text: string, from: number, nested: string[]): number {
  let at = from;
  while (at < text.length) {
    const char = text[at]!;
    if (char === '\\') {
      at += 2;
    } else if (char === '"') {
      return at + 1;
    } else if (opensTemplate(text, at)) {
      const inner = scanExpression(text, at + 2);
      nested.push(inner.code, ...inner.nested);
      at = inner.end;
    } else {
      at++;
    }
  }
  return at;
}

/** Every string below `value`, with the key (or the array's key) it sits under; construct metadata (`//`) skipped. */
function walkStrings(value: unknown, visit: (key: string, text: string) => void, key = ''): void {
  if (typeof value === 'string') visit(key, value);
  else if (Array.isArray(value)) for (const item of value) walkStrings(item, visit, key);
  else if (value !== null && typeof value === 'object') {
    for (const [childKey, child] of Object.entries(value)) if (childKey !== '//') walkStrings(child, visit, childKey);
  }
}

/** Let's Encrypt: 50 new certificates per registered domain every 7 days (https://letsencrypt.org/docs/rate-limits/). */
export const LETS_ENCRYPT_CERTIFICATES_PER_REGISTERED_DOMAIN = 50;

/** One certificate order: what a host's edge proxy asks Let's Encrypt for. */
export interface CertificateOrder {
  /** `<stack>`'s host label (each host's edge proxy orders on its own). */
  readonly host: string;
  /** The certificate's names, main first. */
  readonly names: readonly string[];
}

/**
 * Certificate orders per registered domain across every stack of a system:
 * each distinct name set a host's edge proxy serves is one order (Traefik
 * orders once per distinct `tls.domains` set, or once per Host rule without
 * one). `registeredDomain` maps a name to its registered domain.
 */
export function countCertificateOrders(
  stacks: ReadonlyArray<{ readonly environment: string; readonly json: Json }>,
  registeredDomain: (name: string) => string,
): Map<string, CertificateOrder[]> {
  const orders = new Map<string, CertificateOrder>();
  const labelsOf = (body: any) => Object.fromEntries(((body.labels ?? []) as Array<{ label: string; value: string }>).map(({ label, value }) => [label, value]));
  const edges = swarmEdgeHosts(stacks);
  const routed: Array<{ readonly hosts: readonly string[]; readonly labels: Record<string, string> }> = [];
  for (const { environment, json } of stacks) {
    const resources = (json.resource ?? {}) as Resources;
    for (const body of Object.values(resources.docker_container ?? {})) {
      const labels = labelsOf(body);
      routed.push({ hosts: [`${environment}/${labels.host ?? '?'}`], labels });
    }
    // A service on swarm is routed by the edge proxy of every edge node, each ordering on its own (its own ACME storage).
    for (const body of Object.values(resources.docker_service ?? {})) {
      routed.push({ hosts: (edges.get(environment) ?? ['?']).map((host) => `${environment}/${host}`), labels: labelsOf(body) });
    }
  }
  for (const { hosts, labels } of routed) {
    for (const [label, value] of Object.entries(labels)) {
      const router = /^traefik\.http\.routers\.([^.]+)\.tls\.certresolver$/.exec(label)?.[1];
      if (router === undefined || value === '') continue;
      const main = labels[`traefik.http.routers.${router}.tls.domains[0].main`];
      const sans = labels[`traefik.http.routers.${router}.tls.domains[0].sans`];
      const names =
        main !== undefined
          ? [main, ...(sans ? sans.split(',') : [])]
          : [...(labels[`traefik.http.routers.${router}.rule`] ?? '').matchAll(/Host\(`([^`]+)`\)/g)].map((match) => match[1]!);
      for (const host of hosts) orders.set(`${host}|${names.join(',')}`, { host, names });
    }
  }
  const byDomain = new Map<string, CertificateOrder[]>();
  for (const order of orders.values()) {
    const domain = registeredDomain(order.names[0]!.replace(/^\*\./, ''));
    byDomain.set(domain, [...(byDomain.get(domain) ?? []), order]);
  }
  return byDomain;
}

/**
 * The edge nodes of each swarm environment: the hosts the network stack labels `edge=true` (the labels its
 * `swarm-join-<host>` resources set, stacks/network-stack.ts), where the global edge proxy runs a task each.
 */
function swarmEdgeHosts(stacks: ReadonlyArray<{ readonly environment: string; readonly json: Json }>): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const { environment, json } of stacks) {
    for (const [name, body] of Object.entries(((json.resource ?? {}) as Resources).terraform_data ?? {})) {
      const host = /^swarm-join-(.+)$/.exec(name)?.[1];
      if (host !== undefined && String((body as any).triggers_replace?.labels ?? '').split(',').includes('edge=true')) {
        edges.set(environment, [...(edges.get(environment) ?? []), host]);
      }
    }
  }
  return edges;
}

/** The orders per registered domain over Let's Encrypt's weekly limit, as messages. */
export function certificateOrderViolations(byDomain: ReadonlyMap<string, readonly CertificateOrder[]>, limit = LETS_ENCRYPT_CERTIFICATES_PER_REGISTERED_DOMAIN): string[] {
  return [...byDomain]
    .filter(([, orders]) => orders.length > limit)
    .map(([domain, orders]) => `${domain}: ${orders.length} certificate orders, over Let's Encrypt's ${limit} new certificates per registered domain per week`);
}

export function formatViolation(violation: InvariantViolation): string {
  return (
    `[${violation.rule}] stack ${violation.stack}, resource ${violation.address}: ${violation.message}. ` +
    `Rule: ${INVARIANT_RULES[violation.rule]}. To accept this deliberately, add ` +
    `{ rule: '${violation.rule}', stack: '${violation.stack}', resource: '${violation.address}', ${violation.variable === undefined ? '' : `variable: '${violation.variable}', `}reason: '...' } to the environment's invariantExemptions.`
  );
}

/** Thrown by synth when a stack breaks an invariant. */
export class InvariantError extends Error {
  public constructor(public readonly violations: readonly InvariantViolation[]) {
    super(`Safety invariants violated (${violations.length}):\n` + violations.map((v) => `  - ${formatViolation(v)}`).join('\n'));
    this.name = 'InvariantError';
  }
}
