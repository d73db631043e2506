/**
 * The pipeline's temporary way to SSH, for environments that deploy without
 * Terraform Cloud (dockerAccess "ssh"): opens the environment's deploy-path
 * firewall (constructs/hetzner/deploy-path-firewall.ts) on port 22 for one
 * address, the runner's own, and empties it again.
 *
 *   tsx scripts/deploy-path.ts open <system> <env> <runner address>
 *   tsx scripts/deploy-path.ts close <system> <env>
 *
 * The job runs `close` in a step with `if: always()`, and `open` replaces
 * whatever rules a killed job left, so the door stays open for one runner
 * and one deploy at most. The host key is not trusted on first use: the job
 * writes the pinned known_hosts lines (repository variable KNOWN_HOSTS,
 * see docs/docker-access.md) before Terraform connects, and the providers
 * run ssh with StrictHostKeyChecking=yes.
 *
 * Hetzner Cloud API: `GET /v1/firewalls?label_selector=...`,
 * `POST /v1/firewalls/{id}/actions/set_rules` (201 with the actions it
 * started), `GET /v1/actions/{id}` until `success`. HCLOUD_TOKEN
 * authenticates, as for Terraform.
 *
 * Exit codes: 0 done, 1 failed (API error, no such firewall), 2 usage error.
 */
import { isIP } from 'node:net';

const API = 'https://api.hetzner.cloud/v1';

/** What the script needs from `fetch`; replaced in tests. */
export type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{
  readonly status: number;
  json(): Promise<any>;
}>;

export interface DeployPathOptions {
  readonly token: string;
  readonly fetch: Fetch;
  /** Milliseconds between action polls. @default 1000 */
  readonly pollMs?: number;
  /** Polls before giving up. @default 60 */
  readonly maxPolls?: number;
}

/** A single address as a host CIDR; refuses anything wider (the door is for one runner). */
export function runnerCidr(address: string): string {
  const [ip, prefix] = address.split('/');
  const version = isIP(ip ?? '');
  if (version === 0) throw new Error(`runner address must be one IPv4 or IPv6 address; got "${address}"`);
  const host = version === 4 ? '32' : '128';
  if (prefix !== undefined && prefix !== host) throw new Error(`runner address must be a single host (/${host}), not a network; got "${address}"`);
  return `${ip}/${host}`;
}

/** The label selector of an environment's deploy-path firewall (labels set by the network stack). */
export function deployPathSelector(system: string, environment: string): string {
  for (const [name, value] of [['system', system], ['environment', environment]] as const) {
    if (!/^[a-z][a-z0-9-]*$/.test(value)) throw new Error(`${name} must be a lowercase name; got "${value}"`);
  }
  return `system=${system},env=${environment},role=deploy-path`;
}

/** The rules `open` sets: SSH from the runner only. */
export function openRules(cidr: string, environment: string): object[] {
  return [{ direction: 'in', protocol: 'tcp', port: '22', source_ips: [cidr], description: `pipeline deploy of ${environment} (closed after the job)` }];
}

async function call(options: DeployPathOptions, method: string, path: string, body?: unknown): Promise<any> {
  const response = await options.fetch(`${API}${path}`, {
    method,
    headers: { Authorization: `Bearer ${options.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (response.status >= 300) throw new Error(`Hetzner API ${method} ${path}: ${response.status} ${json?.error?.message ?? ''}`.trim());
  return json;
}

/** Sets the deploy-path firewall's rules (`[]` closes it) and waits until Hetzner has applied them. */
export async function setDeployPath(system: string, environment: string, rules: readonly object[], options: DeployPathOptions): Promise<number> {
  const selector = deployPathSelector(system, environment);
  const found = await call(options, 'GET', `/firewalls?label_selector=${encodeURIComponent(selector)}`);
  const firewalls = (found.firewalls ?? []) as Array<{ id: number }>;
  if (firewalls.length !== 1) {
    throw new Error(`expected one firewall labelled ${selector}, found ${firewalls.length}: apply ${environment}-network first (dockerAccess "ssh" creates it)`);
  }
  const id = firewalls[0]!.id;
  const started = await call(options, 'POST', `/firewalls/${id}/actions/set_rules`, { rules });
  for (const action of (started.actions ?? []) as Array<{ id: number }>) {
    let status = '';
    for (let poll = 0; poll < (options.maxPolls ?? 60) && status !== 'success'; poll++) {
      const current = await call(options, 'GET', `/actions/${action.id}`);
      status = current.action?.status;
      if (status === 'error') throw new Error(`Hetzner action ${action.id} failed: ${current.action?.error?.message ?? 'unknown error'}`);
      if (status !== 'success') await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
    }
    if (status !== 'success') throw new Error(`Hetzner action ${action.id} did not finish`);
  }
  return id;
}

async function main(args: readonly string[]): Promise<number> {
  const [command, system, environment, address] = args;
  const usage = 'Usage: tsx scripts/deploy-path.ts open <system> <env> <runner address> | close <system> <env>';
  if (!((command === 'open' && args.length === 4) || (command === 'close' && args.length === 3))) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const token = process.env.HCLOUD_TOKEN;
  if (!token) {
    process.stderr.write('HCLOUD_TOKEN is not set\n');
    return 2;
  }
  try {
    const rules = command === 'open' ? openRules(runnerCidr(address!), environment!) : [];
    const id = await setDeployPath(system!, environment!, rules, { token, fetch: fetch as unknown as Fetch });
    process.stdout.write(`${command === 'open' ? `opened 22 for ${runnerCidr(address!)}` : 'closed'} on firewall ${id} (${environment})\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
