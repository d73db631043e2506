/** Accessories: their catalog entries and where environments run them. */
import { DATA_DEPENDENCIES, type EnvironmentSpec, type SystemSpec } from '../model';
import { isImageRef } from './images';
import { validateAccessoryVariables } from './variables';
import { PLATFORM_CONTAINER_NAMES } from './products';
import { ENV_VAR, IMAGE_REF_ALLOWED, IssueLog, MAX_DNS_LABEL, NAME, PORT_NAME, Report, checkRestart, checkWritablePaths, isPort } from './shared';

/** Names a template may use in an accessory's `connection`. */
const CONNECTION_PLACEHOLDER = /\{([^}]*)\}/g;

export function validateAccessories(system: SystemSpec, report: Report): void {
  const names = new Set<string>();
  for (const accessory of system.accessories ?? []) {
    const field = (name: string) => `accessories.${accessory.name}.${name}`;
    if (!NAME.test(accessory.name) || (DATA_DEPENDENCIES as readonly string[]).includes(accessory.name) || names.has(accessory.name)) {
      report({ field: field('name'), value: accessory.name, allowed: 'a unique lowercase name (letters, digits and "-") other than postgres and redis' });
    } else if (PLATFORM_CONTAINER_NAMES.includes(accessory.name)) {
      // Its container is named after it, on a host's daemon that runs the platform's containers too.
      report({ field: field('name'), value: accessory.name, allowed: `a name other than the platform's containers: ${PLATFORM_CONTAINER_NAMES.join(', ')}` });
    } else if (accessory.name.length > MAX_DNS_LABEL) {
      report({ field: field('name'), value: accessory.name, allowed: `a name of at most ${MAX_DNS_LABEL} characters`, why: 'it is the accessory\'s name on the data network, a DNS label' });
    }
    names.add(accessory.name);
    if (!isImageRef(accessory.imageRef)) report({ field: field('imageRef'), value: accessory.imageRef, allowed: IMAGE_REF_ALLOWED });
    const ports = Object.entries(accessory.ports ?? {});
    if (ports.length === 0) report({ field: field('ports'), value: accessory.ports, allowed: 'at least one named port, e.g. { api: 9000 }' });
    for (const [name, port] of ports) {
      if (!PORT_NAME.test(name) || !isPort(port)) report({ field: field(`ports.${name}`), value: port, allowed: 'a lowercase name and a whole number from 1 to 65535' });
    }
    const volumeNames = new Set<string>();
    for (const volume of accessory.volumes ?? []) {
      if (!NAME.test(volume.name) || volumeNames.has(volume.name)) report({ field: field(`volumes.${volume.name}.name`), value: volume.name, allowed: 'unique lowercase names' });
      volumeNames.add(volume.name);
      if (!/^\/[A-Za-z0-9._/-]*$/.test(volume.mountPath) || volume.mountPath === '/') {
        report({ field: field(`volumes.${volume.name}.mountPath`), value: volume.mountPath, allowed: 'an absolute path inside the container other than "/"' });
      }
      checkVolumeSize(volume.sizeGiB, field(`volumes.${volume.name}.sizeGiB`), report);
    }
    for (const [name, template] of Object.entries(accessory.connection ?? {})) {
      if (!ENV_VAR.test(name)) report({ field: field(`connection.${name}`), value: name, allowed: 'UPPER_SNAKE_CASE variable names' });
      for (const [, placeholder] of template.matchAll(CONNECTION_PLACEHOLDER)) {
        const port = /^port:(.+)$/.exec(placeholder!)?.[1];
        if (placeholder !== 'host' && (port === undefined || accessory.ports?.[port] === undefined)) {
          report({ field: field(`connection.${name}`), value: `{${placeholder}}`, allowed: ['{host}', ...Object.keys(accessory.ports ?? {}).map((p) => `{port:${p}}`)] });
        }
      }
    }
    for (const name of [...Object.keys(accessory.environment ?? {}), ...(accessory.secrets ?? []), ...(accessory.sharedSecrets ?? [])]) {
      if (!ENV_VAR.test(name)) report({ field: field('environment'), value: name, allowed: 'UPPER_SNAKE_CASE variable names' });
    }
    for (const name of accessory.sharedSecrets ?? []) {
      if ((accessory.secrets ?? []).includes(name) || Object.keys(accessory.environment ?? {}).includes(name)) {
        report({ field: field('sharedSecrets'), value: name, allowed: 'a name not also in secrets or environment (a shared secret is generated, not given twice)' });
      }
    }
    if (accessory.restart !== undefined) checkRestart(accessory.restart, field('restart'), report);
    validateAccessoryVariables(accessory, report);
    checkWritablePaths(accessory.writablePaths, field('writablePaths'), report);
  }
}

function checkVolumeSize(size: unknown, field: string, report: Report): void {
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 10 || size > 10240) {
    report({ field, value: size, allowed: 'a whole number of GiB from 10 to 10240 (Hetzner volume limits)' });
  }
}

export function validateAccessoryDeployments(system: SystemSpec, environment: EnvironmentSpec, log: IssueLog): void {
  const report = log.in({ environment: environment.name });
  const known = (system.accessories ?? []).map((accessory) => accessory.name);
  const hostNames = environment.hosts.map((host) => host.name);
  const deployed = new Set<string>();
  for (const deployment of environment.accessories ?? []) {
    const accessory = system.accessories?.find((a) => a.name === deployment.name);
    if (accessory === undefined || deployed.has(deployment.name)) {
      report({ field: 'accessories', value: deployment.name, allowed: known.length > 0 ? known.filter((name) => !deployed.has(name)) : 'an accessory of the system (it declares none)' });
      continue;
    }
    deployed.add(deployment.name);
    if ((accessory.sharedSecrets ?? []).length > 0) {
      // Shared secrets are generated in the using product's credentials stack, which only that product reads.
      const users = accessoryUsers(system, environment, accessory.name);
      if (users.length !== 1) {
        report({
          field: `accessories.${deployment.name}`,
          value: users.length === 0 ? 'used by no product' : `used by ${users.join(', ')}`,
          allowed: `exactly one product using it, since it has sharedSecrets (${accessory.sharedSecrets!.join(', ')})`,
          why: "a shared secret is generated in the using product's credentials stack, which no other product may read; give each product an accessory of its own",
        });
      }
    }
    if (deployment.host !== undefined && !hostNames.includes(deployment.host)) report({ field: `accessories.${deployment.name}.host`, value: deployment.host, allowed: hostNames });
    const volumes = (accessory.volumes ?? []).map((volume) => volume.name);
    for (const [volume, size] of Object.entries(deployment.volumeSizesGiB ?? {})) {
      if (!volumes.includes(volume)) report({ field: `accessories.${deployment.name}.volumeSizesGiB.${volume}`, value: volume, allowed: volumes });
      else checkVolumeSize(size, `accessories.${deployment.name}.volumeSizesGiB.${volume}`, report);
    }
  }
  for (const deployment of environment.products) {
    const product = system.products.find((p) => p.name === deployment.product);
    for (const service of product?.services ?? []) {
      for (const name of service.uses ?? []) {
        if (known.includes(name) && !deployed.has(name)) {
          log.in({ environment: environment.name, product: deployment.product })({
            field: `services.${service.name}.uses`,
            value: name,
            allowed: `an accessory this environment runs (add { name: "${name}" } to its accessories)`,
          });
        }
      }
    }
  }
}

/** The products of the environment with a service that uses the accessory. */
export function accessoryUsers(system: SystemSpec, environment: EnvironmentSpec, accessory: string): string[] {
  const deployed = new Set(environment.products.map((deployment) => deployment.product));
  return system.products.filter((product) => deployed.has(product.name) && product.services.some((service) => service.uses?.includes(accessory))).map((product) => product.name);
}
