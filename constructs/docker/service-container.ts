import { createHash } from 'node:crypto';
import { Id } from '@cdktf/provider-random/lib/id';
import { Fn, Token, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import type { HostNetwork } from '../../system/model';
import type { ResolvedService } from '../../system/resolve';
import { randomProviderOf } from '../core/random-provider';
import { API_RATE_LIMIT, EdgeRoute, type RateLimit } from './edge-route';
import { HardenedContainer } from './hardened-container';

/** What a service container is built from: the catalog's resolved view of one service. */
export type ServiceDefinition = Pick<
  ResolvedService,
  'id' | 'product' | 'name' | 'kind' | 'port' | 'image' | 'command' | 'healthCheck' | 'resources' | 'environment' | 'secrets' | 'uses' | 'domain' | 'routed' | 'networks' | 'writablePaths'
>;

export interface ServiceContainerProps {
  /** The service, resolved for its environment. */
  readonly service: ServiceDefinition;
  /** Docker network name of every network the service joins (tokens of the edge stack's outputs). */
  readonly networkNames: Readonly<Partial<Record<HostNetwork, string>>>;
  /**
   * Values of the service's secret variables and data connection strings,
   * by variable name; each a token of a sensitive variable or output.
   * @default - none
   */
  readonly secretEnvironment?: Readonly<Record<string, string>>;
  /** Labels besides the service's own (system, env). @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Per-client request budget of the route. @default - API_RATE_LIMIT for `api` services, none for the others */
  readonly rateLimit?: RateLimit;
  /** Provider of the host's daemon. @default - the stack's default docker provider */
  readonly provider?: TerraformProvider;
}

/** Bytes of the random revision suffix of a container name. */
const REVISION_BYTES = 4;

/**
 * The container of one catalog service, swapped without downtime.
 *
 * A new image tag (or any other change, which in Docker always replaces the
 * container) creates the new container first, under a new name
 * `<id>-<tag>-<revision>`, waits until Docker reports it healthy, and only
 * then destroys the old one. The edge proxy routes only to healthy containers
 * and reads identical routing labels from both, so traffic moves over as soon
 * as the new one is ready. The revision is a random id regenerated whenever
 * anything about the container changes, so two versions never share a name.
 */
export class ServiceContainer extends Construct {
  public readonly hardened: HardenedContainer;
  /** The route through the edge proxy, for `api`, `web` and `landing`. */
  public readonly route?: EdgeRoute;
  /** Changes whenever the container must be replaced; part of its name. */
  public readonly revision: Id;

  public constructor(scope: Construct, id: string, props: ServiceContainerProps) {
    super(scope, id);
    const service = props.service;
    const image = service.image;
    const fail = (message: string): never => {
      throw new Error(`ServiceContainer ${service.id}: ${message}`);
    };
    if (service.kind === 'mobile' || image === undefined) fail(`a ${service.kind} service has no container`);
    if (service.kind === 'worker' && service.domain !== undefined) fail(`a worker has no ingress, so no domain; got "${service.domain}"`);
    if (service.routed && (service.domain === undefined || service.port === undefined)) fail(`a routed ${service.kind} service needs a domain and a port`);
    if (service.healthCheck === undefined) fail('needs a health check: it gates routing and zero-downtime swaps');
    const secrets = props.secretEnvironment ?? {};
    const missing = service.secrets.filter((name) => !(name in secrets));
    if (missing.length > 0) fail(`declares secret ${missing.join(', ')} but no value was given (wire each to a sensitive variable)`);
    const networks = service.networks.map((network) => props.networkNames[network] ?? fail(`joins network "${network}", but no name was given for it`));

    this.route = service.routed
      ? new EdgeRoute({ name: service.id, domain: service.domain!, port: service.port!, rateLimit: props.rateLimit ?? (service.kind === 'api' ? API_RATE_LIMIT : undefined) })
      : undefined;
    const labels = {
      ...props.labels,
      product: service.product,
      service: service.name,
      kind: service.kind,
      'image.tag': image!.tag,
      // Reservations are planned (capacity planning), not enforced by Docker: kept here for `docker inspect`.
      'reservation.cpus': String(service.resources.cpuReservation),
      'reservation.memory-mib': String(service.resources.memoryReservationMiB),
      ...this.route?.toLabels(),
    };
    const settings = {
      image: image!.ref,
      command: service.command,
      environment: service.environment,
      health: service.healthCheck!.toDocker(service.port),
      resources: service.resources,
      labels,
      networks: service.networks,
      writablePaths: service.writablePaths,
      port: service.port,
      secretNames: Object.keys(secrets).sort(),
    };

    randomProviderOf(this);
    this.revision = new Id(this, 'revision', {
      byteLength: REVISION_BYTES,
      keepers: {
        image: image!.ref,
        // Everything known at synth time, hashed here; what only Terraform knows (secret values, network names), hashed by Terraform.
        settings: digest(settings),
        references: Fn.sha256(Fn.join('\n', [...Object.keys(secrets).sort().map((name) => secrets[name]!), ...networks])),
      },
      lifecycle: { createBeforeDestroy: true },
    });
    this.revision.overrideLogicalId(`${service.id}-revision`);

    this.hardened = new HardenedContainer(this, service.id, {
      name: `${service.id}-${image!.tag}-${this.revision.hex}`,
      image: image!.ref,
      command: service.command,
      environment: service.environment,
      secretEnvironment: secrets,
      healthCheck: settings.health,
      resources: service.resources,
      // The stable id is the service's name on every network: links and the proxy never see the versioned container name.
      networks: networks.map((name) => ({ name, aliases: [service.id] })),
      writablePaths: service.writablePaths,
      capabilities: service.port !== undefined && service.port < 1024 ? ['NET_BIND_SERVICE'] : undefined,
      labels,
      createBeforeDestroy: true,
      provider: props.provider,
    });
  }
}

/** A stable digest of plain values; tokens would make it change from synth to synth, so they are refused. */
function digest(value: unknown): string {
  const json = JSON.stringify(value);
  if (Token.isUnresolved(json)) throw new Error(`ServiceContainer: settings hashed at synth time contain a token: ${json}`);
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}
