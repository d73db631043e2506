/**
 * A container's variables come from several places: `environment`,
 * `secrets`, `links`, `publicUrls`, and what `uses` brings (a data service's
 * connection string, an accessory's `connection`). Each variable has exactly
 * one source; two would mean one silently overwrites the other, so a clash
 * names both.
 */
import { accessoryConnectionTemplates, DATA_ENV_VARS } from '../defaults';
import { DATA_DEPENDENCIES, type AccessorySpec, type DataDependency, type ServiceSpec, type SystemSpec } from '../model';
import { redisVariables } from '../redis-usage';
import type { Report } from './shared';

/** One place a variable of a service comes from. */
interface VariableSource {
  /** The field path under the service (`environment`, `uses`). */
  readonly field: string;
  /** How the message names it (`environment`, `uses: postgres (its connection string)`). */
  readonly label: string;
  readonly names: readonly string[];
}

/** Every source of a service's variables, in the order a clash is reported. */
function variableSources(system: SystemSpec, service: ServiceSpec): VariableSource[] {
  const sources: VariableSource[] = [
    { field: 'environment', label: 'environment', names: Object.keys(service.environment ?? {}) },
    { field: 'secrets', label: 'secrets', names: service.secrets ?? [] },
    { field: 'links', label: 'links', names: Object.keys(service.links ?? {}) },
    { field: 'publicUrls', label: 'publicUrls', names: Object.keys(service.publicUrls ?? {}) },
    { field: 'redis', label: "redis (its clients' prefixes)", names: Object.keys(redisVariables('product', service)) },
  ];
  for (const name of service.uses ?? []) {
    if ((DATA_DEPENDENCIES as readonly string[]).includes(name)) {
      sources.push({ field: 'uses', label: `uses: ${name} (its connection string)`, names: [DATA_ENV_VARS[name as DataDependency]] });
      continue;
    }
    const accessory = system.accessories?.find((candidate) => candidate.name === name);
    if (accessory !== undefined) sources.push({ field: 'uses', label: `uses: ${name} (accessories.${name}.connection)`, names: Object.keys(accessoryConnectionTemplates(accessory)) });
  }
  return sources;
}

/** Reports every variable of a service that two sources set. */
export function validateServiceVariables(system: SystemSpec, service: ServiceSpec, report: Report): void {
  const owner = new Map<string, VariableSource>();
  for (const source of variableSources(system, service)) {
    for (const name of new Set(source.names)) {
      const first = owner.get(name);
      if (first === undefined) {
        owner.set(name, source);
        // The older rule of products.ts reports a secret that also has a plain value, with its own message.
      } else if (!(first.field === 'environment' && source.field === 'secrets')) {
        report({
          field: `services.${service.name}.${source.field}`,
          value: name,
          allowed: `a variable set by one source only: ${name} is set by ${first.label} and by ${source.label}; rename it or drop one`,
          why: 'the container gets one value per variable, so one source would silently overwrite the other',
        });
      }
    }
  }
}

/** An accessory's plain and secret variables must not share a name. */
export function validateAccessoryVariables(accessory: AccessorySpec, report: Report): void {
  const plain = Object.keys(accessory.environment ?? {});
  for (const name of accessory.secrets ?? []) {
    if (plain.includes(name)) {
      report({ field: `accessories.${accessory.name}.secrets`, value: name, allowed: `a variable set by one source only: ${name} is set by environment and by secrets; drop one` });
    }
  }
}
