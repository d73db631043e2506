/**
 * What the schema alone does not say, for the resources this library emits: which attributes force a
 * replacement, which are sensitive, and values the real data sources return. Kept small on purpose; every entry
 * names its source.
 */

/**
 * Attributes whose change forces replacement, per resource type ('*' = every configurable attribute).
 * - hcloud 1.68.0 (hetznercloud/terraform-provider-hcloud, tag v1.68.0): `ForceNew: true` in
 *   internal/server/resource.go (image, location, user_data, ssh_keys; server_type is resized in place),
 *   internal/volume/resource.go (location), internal/volume/resource_attachment.go (volume_id, server_id),
 *   internal/network/resource.go (ip_range), internal/network/resource_subnet.go (network_id, type,
 *   network_zone, ip_range, vswitch_id), `RequiresReplace()` in internal/primaryip/resource.go (type, location),
 *   internal/sshkey/resource.go (public_key), internal/rdns/resource.go (server_id, primary_ip_id,
 *   floating_ip_id, load_balancer_id, ip_address); load balancers: internal/loadbalancer/resource.go (location,
 *   network_zone), resource_service.go, resource_target.go, resource_network.go; internal/server/resource_network.go;
 *   internal/firewall/attachment_resource.go (firewall_id).
 * - docker 3.6.2 (kreuzwerker/terraform-provider-docker, tag v3.6.2): top-level `ForceNew: true` in
 *   internal/provider/resource_docker_container.go, resource_docker_image.go, resource_docker_network.go,
 *   resource_docker_secret.go (name, data, labels: a Swarm secret is immutable, so a new value is a new secret).
 * - random 3.7.2 (hashicorp/terraform-provider-random, tag v3.7.2): RequiresReplace plan modifiers on every
 *   configurable attribute in internal/provider/resource_id.go (keepers, byte_length, prefix) and
 *   resource_password.go.
 * - github 6.9.0 (integrations/terraform-provider-github, tag v6.9.0): `ForceNew: true` in
 *   github/resource_github_actions_environment_variable.go, ..._environment_secret.go (the value too: a new
 *   secret value replaces the secret), resource_github_actions_secret.go, resource_github_repository_environment.go,
 *   resource_github_repository_environment_deployment_policy.go.
 * - cloudflare 5.14.0 (cloudflare/terraform-provider-cloudflare, tag v5.14.0): top-level attributes with a
 *   RequiresReplace plan modifier in internal/services/<resource>/schema.go.
 */
export const FORCE_NEW: Readonly<Record<string, readonly string[]>> = {
  hcloud_server: ['image', 'location', 'user_data', 'ssh_keys'],
  hcloud_volume: ['location'],
  hcloud_volume_attachment: ['volume_id', 'server_id'],
  hcloud_network: ['ip_range'],
  hcloud_network_subnet: ['network_id', 'type', 'network_zone', 'ip_range', 'vswitch_id'],
  hcloud_primary_ip: ['type', 'location'],
  hcloud_ssh_key: ['public_key'],
  hcloud_rdns: ['server_id', 'primary_ip_id', 'floating_ip_id', 'load_balancer_id', 'ip_address'],
  hcloud_load_balancer: ['location', 'network_zone'],
  hcloud_load_balancer_service: ['listen_port', 'load_balancer_id', 'protocol'],
  hcloud_load_balancer_target: ['ip', 'label_selector', 'load_balancer_id', 'server_id'],
  hcloud_load_balancer_network: ['load_balancer_id', 'network_id', 'subnet_id', 'ip'],
  hcloud_server_network: ['server_id', 'network_id', 'subnet_id', 'ip'],
  hcloud_firewall_attachment: ['firewall_id'],
  docker_container: [
    'name', 'read_only', 'image', 'hostname', 'domainname', 'command', 'entrypoint', 'user', 'dns', 'dns_opts',
    'dns_search', 'publish_all_ports', 'working_dir', 'capabilities', 'security_opts', 'runtime', 'stop_signal',
    'stop_timeout', 'mounts', 'volumes', 'ports', 'host', 'ulimit', 'env', 'privileged', 'devices', 'labels',
    'shm_size', 'log_driver', 'log_opts', 'network_mode', 'networks_advanced', 'pid_mode', 'userns_mode', 'upload',
    'sysctls', 'ipc_mode', 'group_add', 'tty', 'stdin_open', 'storage_opts', 'gpus', 'cpus', 'cgroupns_mode',
    'cgroup_parent',
  ],
  docker_image: ['build', 'name', 'platform', 'pull_triggers', 'triggers'],
  docker_secret: ['name', 'data', 'labels'],
  docker_network: ['attachable', 'check_duplicate', 'driver', 'ingress', 'internal', 'ipam_config', 'ipam_driver', 'ipam_options', 'labels', 'name', 'options'],
  random_id: ['*'],
  random_password: ['*'],
  github_repository_environment: ['repository', 'environment'],
  github_repository_environment_deployment_policy: ['repository', 'environment'],
  github_actions_environment_variable: ['environment', 'variable_name'],
  github_actions_environment_secret: ['repository', 'environment', 'secret_name', 'plaintext_value', 'encrypted_value'],
  github_actions_secret: ['repository', 'secret_name', 'plaintext_value', 'encrypted_value', 'destroy_on_drift'],
  cloudflare_dns_record: ['type', 'zone_id'],
  cloudflare_ruleset: ['account_id', 'kind', 'name', 'phase', 'zone_id'],
  cloudflare_r2_bucket: ['account_id', 'location', 'name'],
  cloudflare_r2_bucket_cors: ['account_id', 'bucket_name'],
  cloudflare_r2_bucket_lifecycle: ['account_id', 'bucket_name'],
  cloudflare_r2_custom_domain: ['account_id', 'bucket_name', 'domain', 'zone_id'],
};

/**
 * Sensitive attributes the bindings cannot tell (hcloud's vendored schema has its own). From the providers'
 * registry docs: random_password's result and bcrypt_hash; the GitHub Actions secrets' values; docker's
 * registry password and a Swarm secret's data (resource_docker_secret.go, `Sensitive: true`); tfe tokens.
 */
export const SENSITIVE: Readonly<Record<string, readonly string[]>> = {
  random_password: ['result', 'bcrypt_hash'],
  github_actions_environment_secret: ['plaintext_value', 'encrypted_value'],
  github_actions_secret: ['plaintext_value', 'encrypted_value'],
  github_actions_organization_secret: ['plaintext_value', 'encrypted_value'],
  docker_secret: ['data'],
  tfe_team_token: ['token'],
  tfe_organization_token: ['token'],
  tfe_variable: ['value'],
};

/** Provider-block attributes that are sensitive (credentials). */
export const SENSITIVE_PROVIDER_ATTRIBUTES: readonly string[] = ['token', 'api_token', 'api_key', 'password', 'key_material'];

/**
 * Values data sources return where a generic fake would mislead: Cloudflare's published ranges (a short,
 * real prefix of https://www.cloudflare.com/ips-v4 and ips-v6) so the edge proxy's trusted-IP list is realistic,
 * and API token permission groups.
 */
export const DATA_SOURCE_VALUES: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  // Permission groups a zone-scoped API token is built from, by the names and scope Cloudflare lists them
  // under (ids are fakes): a generic fake would be an empty list, which no real account returns.
  cloudflare_api_token_permission_groups_list: {
    result: [
      { id: 'e2e00000000000000000000000000001', name: 'DNS Write', scopes: ['com.cloudflare.api.account.zone'] },
      { id: 'e2e00000000000000000000000000002', name: 'Zone Read', scopes: ['com.cloudflare.api.account.zone'] },
      { id: 'e2e00000000000000000000000000003', name: 'Account Settings Read', scopes: ['com.cloudflare.api.account'] },
    ],
  },
  cloudflare_ip_ranges: {
    ipv4_cidrs: ['173.245.48.0/20', '103.21.244.0/22', '103.22.200.0/22'],
    ipv6_cidrs: ['2400:cb00::/32', '2606:4700::/32'],
  },
};
