import { Construct } from 'constructs';
import { Firewall, type FirewallRule } from '../../.gen/providers/hcloud/firewall';

/** Anyone, over IPv4 and IPv6. */
export const ANYWHERE = ['0.0.0.0/0', '::/0'] as const;

export interface ExtraIngress {
  /** TCP port. */
  readonly port: number;
  /** Sources allowed; never the whole internet. */
  readonly sourceCidrs: readonly string[];
  /** Why the port is open; shown in the Hetzner console. */
  readonly description: string;
}

export interface HostFirewallProps {
  /** Hetzner name of the firewall. */
  readonly name: string;
  /** Sources allowed to reach SSH (22). */
  readonly adminSshCidrs: readonly string[];
  /**
   * Admit HTTP and HTTPS from the internet. Off behind a load balancer that
   * reaches the hosts over the private network, which Hetzner firewalls do not filter.
   * @default true
   */
  readonly publicWeb?: boolean;
  /** Further TCP ports, each from specific sources only (the safety invariants of this project allow none). @default - none */
  readonly extraIngress?: readonly ExtraIngress[];
  /** Labels of the firewall. @default - none */
  readonly labels?: Record<string, string>;
}

/**
 * Inbound policy of every host: SSH from administrators, HTTP and HTTPS from
 * anywhere, nothing else. Hetzner firewalls deny what no rule allows, so the
 * service ports (3001-3200), Postgres (5432) and Redis (6379) stay closed.
 * Outbound is not filtered (image pulls, ACME, apt).
 */
export class HostFirewall extends Construct {
  public readonly firewall: Firewall;
  /** The inbound rules, in order. */
  public readonly rules: readonly FirewallRule[];

  public constructor(scope: Construct, id: string, props: HostFirewallProps) {
    super(scope, id);
    const tcp = (port: number, sourceIps: readonly string[], description: string): FirewallRule => ({
      direction: 'in',
      protocol: 'tcp',
      port: String(port),
      sourceIps: [...sourceIps],
      description,
    });
    this.rules = [
      tcp(22, props.adminSshCidrs, 'SSH from administrators only'),
      ...(props.publicWeb ?? true
        ? [tcp(80, ANYWHERE, 'HTTP (redirected to HTTPS by the edge proxy; ACME challenges)'), tcp(443, ANYWHERE, 'HTTPS to the edge proxy')]
        : []),
      ...(props.extraIngress ?? []).map((extra) => tcp(extra.port, extra.sourceCidrs, extra.description)),
    ];
    this.firewall = new Firewall(this, 'firewall', { name: props.name, labels: props.labels, rule: [...this.rules] });
  }
}
