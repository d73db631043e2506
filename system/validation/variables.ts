/**
 * A container's variables come from several places: `environment`,
 * `secrets`, `links`, `publicUrls`, and what `uses` brings (a data service's
 * connection string, an accessory's `connection`). Each variable has exactly
 * one source; two would mean one silently overwrites the other, so a clash
 * names both.
 */
import { MAX_SWARM_SECRET_BASE_NAME } from '../../constructs/docker/swarm-secret';
import { accessoryConnectionTemplates, DATA_ENV_VARS } from '../defaults';
import { DATA_DEPENDENCIES, type AccessorySpec, type DataDependency, type ProductSpec, type ServiceSpec, type SystemSpec } from '../model';
import { redisVariables } from '../redis-usage';
import { fileSuffixVariable, secretVariablesOf } from '../secret-files';
import { ENV_VAR, type Report } from './shared';

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

/**
 * `secretFiles` names secret variables of the service, each read from a file named by a variable nothing else sets:
 * a variable that both holds the value and names the file would give the image two values (the official images
 * refuse to start when both are set: docker-library/postgres file_env, Grafana's run.sh).
 */
export function validateSecretFiles(system: SystemSpec, product: ProductSpec, service: ServiceSpec, report: Report): void {
  const declared = service.secretFiles;
  if (declared === undefined) return;
  const field = `services.${service.name}.secretFiles`;
  if (declared === null || typeof declared !== 'object') {
    report({ field, value: declared, allowed: 'a list of secret variable names, or an object from each to the variable naming its file' });
    return;
  }
  const entries: Array<[string, unknown]> = Array.isArray(declared) ? declared.map((name: string) => [name, fileSuffixVariable(name)]) : Object.entries(declared);
  const secrets = secretVariablesOf(system, service);
  const setBy = new Map<string, string>();
  for (const source of variableSources(system, service)) for (const name of source.names) if (!setBy.has(name)) setBy.set(name, source.label);
  const fileVariables = new Map<string, string>();
  for (const [variable, fileVariable] of entries) {
    if (!secrets.includes(variable)) {
      report({
        field,
        value: variable,
        allowed: secrets.length > 0 ? secrets : 'a secret variable of the service (it has none: declare it in secrets, or use postgres or redis)',
        why: 'only a secret variable becomes a file: a plain value has nothing to hide',
      });
      continue;
    }
    if (typeof fileVariable !== 'string' || !ENV_VAR.test(fileVariable) || fileVariable === variable) {
      report({ field: `${field}.${variable}`, value: fileVariable, allowed: `an UPPER_SNAKE_CASE variable other than ${variable} that the image reads the file's path from, such as "${fileSuffixVariable(variable)}"` });
      continue;
    }
    const source = setBy.get(fileVariable);
    if (source !== undefined) {
      report({
        field,
        value: variable,
        allowed: `a variable whose ${fileVariable} the service does not set already (${source} sets it); drop it there, or drop ${variable} from secretFiles`,
        why: `${fileVariable} names the file holding ${variable} on a swarm: one of the two values would be lost`,
      });
    }
    const other = fileVariables.get(fileVariable);
    if (other !== undefined) report({ field, value: variable, allowed: `a file variable of its own: ${other} is read from ${fileVariable} already` });
    fileVariables.set(fileVariable, variable);
    const secretName = `${product.name}-${service.name}-${variable.toLowerCase().replace(/_/g, '-')}`;
    if (secretName.length > MAX_SWARM_SECRET_BASE_NAME) {
      report({
        field,
        value: variable,
        allowed: `a variable whose Swarm secret name "${secretName}" (<product>-<service>-<variable>) stays within ${MAX_SWARM_SECRET_BASE_NAME} characters`,
        why: 'Swarm secret names are at most 64 characters, and a revision suffix follows',
      });
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
