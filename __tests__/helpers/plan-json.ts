/** Terraform plan JSON (`terraform show -json`) of docker containers, as the plan comment reads it. */

/** A `docker_container` change whose planned value carries `labels`. */
export function containerChange(name: string, actions: string[], labels: Record<string, string>): unknown {
  return {
    address: `docker_container.${name}`,
    mode: 'managed',
    type: 'docker_container',
    name,
    provider_name: 'registry.terraform.io/kreuzwerker/docker',
    change: { actions, before: null, after: { labels: Object.entries(labels).map(([label, value]) => ({ label, value })) }, after_unknown: {}, before_sensitive: false, after_sensitive: false },
  };
}

/** A plan of `changes`. */
export const planJson = (changes: unknown[]) => ({ format_version: '1.2', terraform_version: '1.11.4', resource_changes: changes, output_changes: {} });
