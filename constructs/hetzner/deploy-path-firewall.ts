import { Construct } from 'constructs';
import { Firewall } from '../../.gen/providers/hcloud/firewall';

/** The label that marks the deploy-path firewall (its rules are set by the pipeline, never by Terraform). */
export const DEPLOY_PATH_ROLE = 'deploy-path';

export interface DeployPathFirewallProps {
  /** Hetzner name of the firewall. */
  readonly name: string;
  /** Labels; `role` is set to `deploy-path`, which the pipeline finds it by. @default - only the role */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * A second firewall on every host, created without rules (Hetzner denies
 * what no rule of any applied firewall allows, so it opens nothing). A
 * pipeline without Terraform Cloud opens it for its own runner's address on
 * port 22 for the length of a deploy and empties it afterwards
 * (`scripts/deploy-path.ts`, Hetzner API `POST /firewalls/{id}/actions/set_rules`);
 * `ignore_changes` keeps Terraform from fighting that. Addresses:
 * `hcloud_firewall.<id>`.
 */
export class DeployPathFirewall extends Construct {
  public readonly firewall: Firewall;

  public constructor(scope: Construct, id: string, props: DeployPathFirewallProps) {
    super(scope, id);
    this.firewall = new Firewall(this, 'firewall', {
      name: props.name,
      labels: { ...props.labels, role: DEPLOY_PATH_ROLE },
      lifecycle: { ignoreChanges: ['rule'] },
    });
    this.firewall.overrideLogicalId(id);
  }
}
