/**
 * Where the release steps act: each host of an environment as a ReleaseHost
 * (its daemon reached as ops reaches it, scripts/ops/docker-access.ts; its
 * edge proxy's file provider directory), the smoke checks the product stack
 * synthesized, and the monitoring server's Prometheus as the watch's
 * MetricsSource.
 *
 * Prometheus is asked from inside its own container (`docker exec prometheus
 * wget -qO- http://127.0.0.1:9090/api/v1/query?...`, the client its health
 * check already uses): the same SSH access as every other step, no tunnel
 * and no published port.
 */
import { spawnSync } from 'node:child_process';
import { EDGE_DYNAMIC_CONFIG_DIR, EDGE_PROXY_NAME } from '../../constructs/docker/edge-proxy';
import { SERVER_NAMES } from '../../constructs/monitoring/monitoring-server';
import { EXPORTER_PORTS } from '../../constructs/monitoring/prometheus-config';
import { RELEASE_LABELS } from '../../constructs/docker/traffic-split';
import { labelsOf, readSynthesizedApp, resourcesOf, type SynthesizedApp } from '../lib/synthesized';
import { OperatorError } from '../lib/tools';
import { dockerHosts, dockerPrefix, localStateAddressLookup, type AddressLookup } from '../ops/docker-access';
import { DockerCliHost, smokeRunArgs, type SmokeRunArgs } from './docker-host';
import { PrometheusMetrics, type Fetch } from './prometheus';
import type { MetricsSource, ReleaseHost } from './rollout';

/** A new version's container as a smoke check runs beside it. */
export interface SmokeTarget {
  readonly name: string;
  /** Its image (id), which the check runs: the very version released. */
  readonly image: string;
  /** Its networks, which the check joins to request it by name. */
  readonly networks: readonly string[];
}

/** One host of an environment, as the release steps reach it. */
export interface ReleaseSite {
  /** Host name in the environment (`app-1`). */
  readonly name: string;
  readonly host: ReleaseHost;
  /** Image and networks of a container, for the smoke checks run beside it. */
  smokeTarget(container: string): Promise<SmokeTarget>;
}

/** An environment's hosts and its monitoring, as the release commands use them; replaced in tests. */
export interface ReleaseSites {
  readonly sites: readonly ReleaseSite[];
  /** The watch's source: Prometheus of the monitoring server (asked only when a release canaries). */
  metrics(): MetricsSource;
  /** The synthesized smoke checks of `<product>-<service>` (empty when the stack declares none). */
  smokeChecks(product: string, service: string): readonly SmokeCheckBlock[];
}

/** A synthesized smoke check: its name and its `docker_container` block. */
export interface SmokeCheckBlock {
  readonly name: string;
  readonly block: Record<string, any>;
}

/** The docker CLI's `exec` into a container as a Fetch: wget in the container asks its own loopback. */
export function dockerExecFetch(docker: readonly string[], container: string): Fetch {
  return async (url) => {
    const result = spawnSync(docker[0]!, [...docker.slice(1), 'exec', container, 'wget', '-q', '-O', '-', url], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    const ok = result.status === 0;
    return { ok, status: ok ? 200 : 502, text: async () => (ok ? result.stdout : `${result.stderr}`.trim() || `docker exec ${container} wget exited ${result.status}`) };
  };
}

/**
 * The `docker run` arguments of a synthesized smoke check against `target`: Terraform's references to the
 * release's image and to the target container become the target's own image and name, and the check joins the
 * target's networks (the product network the synthesized check names).
 */
export function smokeRunFor(check: SmokeCheckBlock, target: SmokeTarget): SmokeRunArgs {
  const resolve = (text: string) =>
    text.replace(/\$\{docker_image\.[^}]+\.image_id\}/g, target.image).replace(/\$\{docker_container\.[^}]+\.name\}/g, target.name);
  const block = { ...check.block, networks_advanced: target.networks.map((name) => ({ name })) };
  return { name: check.name, container: { args: smokeRunArgs(block, resolve) } };
}

/** The smoke checks a product stack synthesized for a service: containers marked `release.step=smoke`, named `<service>-smoke-<check>-<tag>-<revision>`, with `count = 0`. */
export function synthesizedSmokeChecks(app: SynthesizedApp, stack: string, service: string): SmokeCheckBlock[] {
  const synthesized = app.stacks.get(stack);
  if (synthesized === undefined) return [];
  const prefix = `${service}-smoke-`;
  return resourcesOf(synthesized, 'docker_container')
    .filter(([, block]) => labelsOf(block)[RELEASE_LABELS.step] === 'smoke' && String(block.name).startsWith(prefix))
    // The check's name from its `task` label (`smoke-<check>`): the container's name goes on with the tag and revision.
    .map(([, block]) => ({ name: (labelsOf(block).task ?? '').replace(/^smoke-/, ''), block }));
}

/** The environment's sites from the synthesized stacks (cdktf.out), reached like ops reaches them. */
export function synthesizedReleaseSites(
  outdir: string,
  environment: string,
  options: { readonly hosts: ReadonlyMap<string, string>; readonly monitoringHost: string; readonly lookup?: AddressLookup; readonly env?: NodeJS.ProcessEnv },
): ReleaseSites {
  const app = readSynthesizedApp(outdir);
  const hosts = dockerHosts(app, environment, options.lookup ?? localStateAddressLookup(app), options.hosts, options.env);
  const sites = hosts.map((host): ReleaseSite => {
    const docker = dockerPrefix(host);
    return {
      name: host.name,
      host: new DockerCliHost(docker, { container: EDGE_PROXY_NAME, directory: EDGE_DYNAMIC_CONFIG_DIR }),
      smokeTarget: async (container) => inspectTarget(docker, container),
    };
  });
  return {
    sites,
    metrics: () => {
      const monitoring = hosts.find((host) => host.name === options.monitoringHost);
      if (monitoring === undefined) throw new OperatorError(`environment "${environment}": the monitoring host ${options.monitoringHost} is not among its hosts (${hosts.map((h) => h.name).join(', ')})`);
      return new PrometheusMetrics(`http://127.0.0.1:${EXPORTER_PORTS.prometheus}`, dockerExecFetch(dockerPrefix(monitoring), SERVER_NAMES.prometheus));
    },
    smokeChecks: (product, service) => synthesizedSmokeChecks(app, `${environment}-${product}`, service),
  };
}

/** `docker inspect` of a container: its image id and network names. */
export function inspectTarget(docker: readonly string[], container: string): SmokeTarget {
  const result = spawnSync(docker[0]!, [...docker.slice(1), 'inspect', container], { encoding: 'utf8' });
  if (result.status !== 0) throw new OperatorError(`docker inspect ${container}: ${result.stderr.trim()}`);
  const [inspected] = JSON.parse(result.stdout) as Array<{ Name: string; Image: string; NetworkSettings: { Networks: Record<string, unknown> } }>;
  return { name: inspected!.Name.replace(/^\//, ''), image: inspected!.Image, networks: Object.keys(inspected!.NetworkSettings.Networks) };
}
