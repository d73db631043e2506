/**
 * How the edge proxy splits a service's traffic between two versions during
 * a release (docs/releasing.md): each version is its own Traefik service,
 * defined by its containers' labels (`<name>-blue`, `<name>-green`), and the
 * service's router sends to `<name>@file`, a weighted round robin over the
 * two that the release writes into the file provider's directory.
 *
 * What this relies on in Traefik v3 (traefik/traefik, pkg/...):
 * - Weighted services cannot come from Docker labels, only from the file,
 *   KV and Kubernetes CRD providers (doc.traefik.io, "Routing configuration:
 *   HTTP services, Weighted Round Robin: supported providers"); a file
 *   provider service may name services of other providers (`x@docker`).
 * - server/service/loadbalancer/wrr/wrr.go, AddService: a child with a
 *   weight <= 0 is not added, so a version absent from the split (or at 0)
 *   gets no request.
 * - provider/docker/config.go, keepContainer: a container whose Docker
 *   health is not `healthy` is left out, so a version only ever receives its
 *   share once healthy; provider/configuration.go, Merge: replicas of one
 *   version define the same service and are merged into one load balancer,
 *   while two containers defining one router differently drop that router,
 *   so both versions carry the identical router labels.
 * - provider/file/file.go: the directory and the files in it are watched
 *   (fsnotify), sub-directories are not; a change of any file reloads the
 *   whole directory. So split files live in the directory itself.
 */

/**
 * Labels of released containers: the service they are a version of (`<product>-<service>`, the Traefik service;
 * the `service` label holds the catalog's name alone), their slot, the steps their release takes (for plans), and a
 * smoke runner's mark.
 */
export const RELEASE_LABELS = { service: 'release.service', slot: 'release.slot', smoke: 'release.smoke', canary: 'release.canary', window: 'release.window-minutes', step: 'release.step' } as const;

/** The two slots a service's versions alternate between: the new version goes into the one not serving. */
export type ReleaseSlot = 'blue' | 'green';
export const RELEASE_SLOTS: readonly ReleaseSlot[] = ['blue', 'green'];

/** The other slot. */
export const otherSlot = (slot: ReleaseSlot): ReleaseSlot => (slot === 'blue' ? 'green' : 'blue');

/** Traefik's name of one version of a service, as its containers' labels define it. */
export const versionServiceName = (service: string, slot: ReleaseSlot): string => `${service}-${slot}`;

/** The service the router sends to: the weighted split in the file provider. */
export const splitServiceName = (service: string): string => `${service}@file`;

/** The router of a split route, on every slot's containers alike: `<name>-split`, not the pre-slot container's `<name>`. */
export const splitRouterName = (service: string): string => `${service}-split`;

/** Where a service's split file lives inside the proxy's file provider directory. */
export const splitFileName = (service: string): string => `split-${service}.yaml`;

/** Percent of the traffic each slot receives; they add up to 100. */
export type TrafficWeights = Readonly<Record<ReleaseSlot, number>>;

/** All traffic to one slot. */
export const allTo = (slot: ReleaseSlot): TrafficWeights => ({ [slot]: 100, [otherSlot(slot)]: 0 }) as TrafficWeights;

/** `share` percent to `canary`, the rest to the other slot. */
export const canaryWeights = (canary: ReleaseSlot, share: number): TrafficWeights => ({ [canary]: share, [otherSlot(canary)]: 100 - share }) as TrafficWeights;

/**
 * The file provider's dynamic configuration of one service's split (JSON,
 * which is YAML): a weighted service over the versions that get traffic.
 */
export function splitConfiguration(service: string, weights: TrafficWeights): string {
  const total = RELEASE_SLOTS.reduce((sum, slot) => sum + weights[slot], 0);
  if (RELEASE_SLOTS.some((slot) => !Number.isInteger(weights[slot]) || weights[slot] < 0) || total !== 100) {
    throw new Error(`traffic split of ${service}: weights must be whole percents adding up to 100; got ${JSON.stringify(weights)}`);
  }
  const services = RELEASE_SLOTS.filter((slot) => weights[slot] > 0).map((slot) => ({ name: `${versionServiceName(service, slot)}@docker`, weight: weights[slot] }));
  return `${JSON.stringify({ http: { services: { [service]: { weighted: { services } } } } }, null, 2)}\n`;
}

/** Reads a split file back (what ops shows); undefined when it is not one this module wrote. */
export function parseSplitConfiguration(service: string, text: string): TrafficWeights | undefined {
  try {
    const parsed = JSON.parse(text) as { http?: { services?: Record<string, { weighted?: { services?: Array<{ name: string; weight: number }> } }> } };
    const entries = parsed.http?.services?.[service]?.weighted?.services;
    if (entries === undefined) return undefined;
    const weights = { blue: 0, green: 0 };
    for (const entry of entries) {
      const slot = RELEASE_SLOTS.find((candidate) => entry.name === `${versionServiceName(service, candidate)}@docker`);
      if (slot === undefined) return undefined;
      weights[slot] = entry.weight;
    }
    return weights;
  } catch {
    return undefined;
  }
}
