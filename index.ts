/**
 * The library's public entry point. A system is described with the types of
 * `system/model.ts` (products, services, environments), and
 * `synthesizeSystem` (or `createSystemStacks` inside an App of your own)
 * turns it into the stacks of every environment. The constructs the stacks
 * compose are exported for systems that need a shape of their own.
 */

// The description of a system, and its validated, resolved projection.
export type {
  AccessoryDeployment,
  AccessorySpec,
  BucketSpec,
  AccessoryVolumeSpec,
  BackupPlanSpec,
  CertificateSettings,
  LinkSpec,
  LoadBalancerSettings,
  RedisClientName,
  RedisEvictionPolicy,
  RedisUsageSpec,
  RestartPolicy,
  CachingMode,
  CloudflarePlan,
  CloudflareSettings,
  DataDependency,
  DataServiceSpec,
  DataSettings,
  DockerAccess,
  EnvironmentSpec,
  GithubSettings,
  HostNetwork,
  HostSpec,
  MetricsSpec,
  MonitoringSettings,
  AlertReceiverSpec,
  AlertRouteSpec,
  AlertSeverity,
  AlertThresholds,
  UptimeSettings,
  ProductDeployment,
  ServiceSlots,
  ProductSpec,
  ResourceSpec,
  ServiceKind,
  ServiceSpec,
  TaskSpec,
  SnapshotSpec,
  SshKeySpec,
  SystemSpec,
  TerraformCloudSettings,
  Reachability,
  UpdateOrder,
} from './system/model';
export { DATA_DEPENDENCIES, HOST_NETWORKS, REACHABILITIES, UPDATE_ORDERS } from './system/model';
export type { ServiceCacheMode, ServiceCaching } from './system/caching';
export type { CanarySpec, ReleasePolicySpec, SmokeCheckSpec, SmokeHttpSpec } from './system/releases';
export type { EngineKind } from './system/model';
export type { HetznerLocation } from './constructs/hetzner/locations';
export type { AlertReceiverKind } from './constructs/monitoring/alertmanager-config';
export { REDIS_CLIENTS, type RedisClientFacts } from './system/redis-clients';
export { REDIS_EVICTION_POLICIES } from './constructs/docker/redis-container';
export { SERVICE_KINDS, SERVICE_KIND_BEHAVIOUR, type KindCachingRule, type ServiceKindBehaviour } from './system/kinds';
export {
  DEFAULT_TERRAFORM_VERSION,
  resolveSystem,
  type BackendSettings,
  type ResolvedData,
  type ResolvedDataService,
  type ResolvedEnvironment,
  type ResolvedHost,
  type ResolvedProduct,
  type ResolvedService,
  type ResolvedSystem,
  type ResolveOptions,
} from './system/resolve';
export { planCapacity, type CapacityReport, type HostCapacity } from './system/capacity';
export { ConfigurationError, type ConfigurationIssue } from './constructs/core/configuration-error';
export { Duration } from './constructs/core/duration';
export { HealthCheck } from './constructs/core/health-check';

// Stacks, and the functions that build them.
export { synthesizeSystem, synthesizeOptionsFromEnv, type SynthesizeSystemOptions, type SynthesizedSystemApp } from './stacks/app';
export { createSystemStacks, stacksOf, type EnvironmentStacks, type SystemStacksOptions } from './stacks/system-stacks';
export { SystemStack, StackOutputs, type SystemStackProps } from './stacks/system-stack';
export { NetworkStack, type NetworkStackProps } from './stacks/network-stack';
export { EdgeStack, type EdgeStackProps } from './stacks/edge-stack';
export { CredentialsStack, type CredentialsStackProps } from './stacks/credentials-stack';
export { DataStack, type DataStackProps } from './stacks/data-stack';
export { MonitoringStack, type MonitoringStackProps } from './stacks/monitoring-stack';
export { ProductStack, type ProductStackProps } from './stacks/product-stack';
export { TerraformCloudBootstrapStack, type TerraformCloudBootstrapStackProps } from './stacks/bootstrap-stack';

// Safety policy checked on every synth.
export { checkInvariants, InvariantError, type InvariantExemption } from './policy/invariants';

// Constructs, for systems of their own shape.
export { configureTokenStackTraces } from './constructs/core/token-stack-traces';
export { SecretValue } from './constructs/core/secret-value';
export { HardenedContainer, type HardenedContainerProps } from './constructs/docker/hardened-container';
export { ServiceContainer, type ServiceContainerProps, type ServiceNetwork, type ServiceRoute } from './constructs/docker/service-container';
export { EdgeProxy, type EdgeProxyProps } from './constructs/docker/edge-proxy';
export { API_RATE_LIMIT, type RateLimit } from './constructs/docker/edge-route';
export { HostNetworks, type HostNetworksProps } from './constructs/docker/host-networks';
export { PostgresContainer, type PostgresContainerProps } from './constructs/docker/postgres-container';
export { RedisContainer, type RedisContainerProps } from './constructs/docker/redis-container';
export { BackupJob, type BackupJobProps, type BackupSchedule } from './constructs/docker/backup-job';
export { placeDataServices, type DataServices, type DataServicesProps } from './constructs/docker/data-services';
export { DockerConnection, DockerHostProvider, type DockerHostProviderProps } from './constructs/docker/docker-host-provider';
export { MonitoringServer, type MonitoringServerProps } from './constructs/monitoring/monitoring-server';
export { HostCollectors, type HostCollectorsProps } from './constructs/monitoring/host-collectors';
export { ConfigFiles, type ConfigFilesProps } from './constructs/monitoring/config-files';
export { DEFAULT_ALERT_THRESHOLDS } from './constructs/monitoring/alert-rules';
export { PostgresExporter, type PostgresExporterProps } from './constructs/monitoring/postgres-exporter';
export { UptimeChecks, type UptimeChecksProps } from './constructs/cloudflare/uptime-checks';
export { HetznerHost, type HetznerHostProps } from './constructs/hetzner/hetzner-host';
export { HostFirewall, type HostFirewallProps } from './constructs/hetzner/host-firewall';
export { PrivateNetwork, type PrivateNetworkProps } from './constructs/hetzner/private-network';
export { CloudInit, type CloudInitProps } from './constructs/hetzner/cloud-init';
export { DataVolume, type DataVolumeProps } from './constructs/hetzner/data-volume';
export { HostSnapshot, type HostSnapshotProps } from './constructs/hetzner/host-snapshot';
export { HETZNER_SERVER_TYPES, type ServerTypeFacts } from './constructs/hetzner/server-types';
export { CloudflareZone, type CloudflareZoneProps } from './constructs/cloudflare/zone';
export { AddressRecords, type AddressRecordsProps } from './constructs/cloudflare/address-records';
export { CnameRecord, type CnameRecordProps } from './constructs/cloudflare/cname-record';
export { CacheRules, type CacheRulesProps } from './constructs/cloudflare/cache-rules';
export { PageRules, type PageRulesProps } from './constructs/cloudflare/page-rules';
export { CacheSettings, type CacheSetting, type CachingRule } from './constructs/cloudflare/caching-rule';
export { R2Bucket, type R2BucketProps } from './constructs/cloudflare/r2-bucket';
export { BackupBucket, type BackupBucketProps } from './constructs/cloudflare/backup-bucket';
export { OtaBucket, type OtaBucketProps } from './constructs/cloudflare/ota-bucket';
export { DeploymentEnvironment, type DeploymentEnvironmentProps } from './constructs/github/deployment-environment';
export { RepositorySecrets, type RepositorySecretsProps } from './constructs/github/repository-secrets';
export { PipelineEnvironments, PLAN_ENVIRONMENT, platformEnvironmentName, type PipelineEnvironmentsProps } from './constructs/github/pipeline-environments';
