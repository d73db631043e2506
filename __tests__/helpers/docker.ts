/**
 * Reading Docker resources out of synthesized Terraform JSON: a container's
 * labels and environment as plain maps, and the systems the docker tests share.
 */
import { HealthCheck } from '../../constructs/core/health-check';
import type { SystemSpec } from '../../system/model';
import { nutri } from '../../examples/nutri';
import { resources, type TerraformJson } from './synth';
import { productOf, variant } from './spec';

/** The `docker_container` at `address` (`chat-backend`); fails with the addresses present. */
export function container(json: TerraformJson, address: string): any {
  const all = resources(json, 'docker_container');
  const found = all[address];
  if (found === undefined) throw new Error(`no docker_container.${address}; have ${Object.keys(all).join(', ') || '(none)'}`);
  return found;
}

/** The containers of services (by address), leaving out one-shot release tasks (labelled `task`). */
export function serviceContainers(json: TerraformJson): Record<string, any> {
  return Object.fromEntries(Object.entries(resources(json, 'docker_container')).filter(([, body]) => labelsOf(body).task === undefined));
}

/** A container's labels as a map. */
export function labelsOf(body: any): Record<string, string> {
  return Object.fromEntries(((body.labels ?? []) as Array<{ label: string; value: string }>).map(({ label, value }) => [label, value]));
}

/** A container's environment as a map. */
export function envOf(body: any): Record<string, string> {
  return Object.fromEntries(((body.env ?? []) as string[]).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

/** Traefik labels only. */
export function traefikLabels(body: any): Record<string, string> {
  return Object.fromEntries(Object.entries(labelsOf(body)).filter(([label]) => label.startsWith('traefik.')));
}

/**
 * Nutri with one service of every kind: its api and internal ml service from
 * seed 003, plus a web app, a landing page, a worker and a mobile OTA bucket.
 */
export const everyKind: SystemSpec = variant(nutri, (system) => {
  productOf(system, 'nutri').services.push(
    { name: 'web', kind: 'web', environment: { NODE_ENV: 'production' }, publicUrls: { PUBLIC_API_URL: 'api' } },
    { name: 'landing', kind: 'landing' },
    { name: 'scheduler', kind: 'worker', command: ['node', 'dist/scheduler.js'], uses: ['redis'], healthCheck: HealthCheck.process('node dist/scheduler.js') },
    { name: 'mobile', kind: 'mobile' },
  );
});
