/**
 * Secrets handed to a service as files: which of its secret variables its
 * image reads from a file, and the variable that names the file. On a swarm
 * each such variable becomes a Swarm secret mounted under /run/secrets, so
 * its value is in no `docker service inspect` or `docker inspect` of a task;
 * the others stay environment values (docs/scaling.md, "Secrets as files").
 *
 * The convention is the image's, not ours: the official postgres image reads
 * `<VAR>_FILE` for a few variables only, Grafana `<VAR>__FILE` for any
 * `GF_*`. Images known here get theirs by default; a service declares its
 * own (`secretFiles`) for any other image, ours included.
 */
import { bucketSecretNames, DATA_ENV_VARS, DEFAULT_BUCKET_VARIABLE_PREFIX } from './defaults';
import { DATA_DEPENDENCIES, type DataDependency, type ServiceSpec, type SystemSpec } from './model';

/** An image's own rule for reading variables from files. */
export interface ImageSecretFiles {
  /** Repositories it applies to, as Docker Hub names them (`postgres`, `grafana/grafana`). */
  readonly repositories: readonly string[];
  /** Does the image read this variable from a file? */
  readonly reads: (variable: string) => boolean;
  /** The variable naming the file of `variable`. */
  readonly fileVariable: (variable: string) => string;
  /** Where the rule is written down. */
  readonly source: string;
}

/** `<VAR>_FILE`: the convention of the official images and the default for a service's own declaration. */
export const fileSuffixVariable = (variable: string): string => `${variable}_FILE`;

/** Images whose file convention is known; each entry cites the entrypoint that implements it. */
export const KNOWN_IMAGE_SECRET_FILES: readonly ImageSecretFiles[] = [
  {
    repositories: ['postgres'],
    // docker-library/postgres docker-entrypoint.sh, docker_setup_env: file_env for these four only; both set is an error.
    reads: (variable) => ['POSTGRES_PASSWORD', 'POSTGRES_USER', 'POSTGRES_DB', 'POSTGRES_INITDB_ARGS'].includes(variable),
    fileVariable: fileSuffixVariable,
    source: 'docker-library/postgres docker-entrypoint.sh (file_env)',
  },
  {
    repositories: ['grafana/grafana', 'grafana/grafana-oss', 'grafana/grafana-enterprise'],
    // grafana/grafana packaging/docker/run.sh: every `GF_*__FILE` (two underscores) is read into `GF_*`; both set is an error.
    reads: (variable) => variable.startsWith('GF_'),
    fileVariable: (variable) => `${variable}__FILE`,
    source: 'grafana/grafana packaging/docker/run.sh (__FILE)',
  },
];

/** Docker Hub's names without their implied registry and `library/` (`docker.io/library/postgres` is `postgres`). */
function hubName(repository: string): string {
  return repository.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
}

/** The known file convention of an image reference (`postgres:16@sha256:...`), if any. */
export function knownImageSecretFiles(imageRef: string): ImageSecretFiles | undefined {
  const name = imageRef.split('@')[0]!;
  const colon = name.lastIndexOf(':');
  const repository = hubName(colon > name.lastIndexOf('/') ? name.slice(0, colon) : name);
  return KNOWN_IMAGE_SECRET_FILES.find((image) => image.repositories.includes(repository));
}

/**
 * Every secret variable of a service, whatever its source: `secrets`, the
 * connection strings of the data services it uses (`DATABASE_URL`,
 * `REDIS_URL`, each holding its product's password), the secrets it shares
 * with its accessories, and its buckets' credentials.
 */
export function secretVariablesOf(system: SystemSpec, service: ServiceSpec): string[] {
  const names = [...(service.secrets ?? [])];
  for (const name of service.uses ?? []) {
    if ((DATA_DEPENDENCIES as readonly string[]).includes(name)) names.push(DATA_ENV_VARS[name as DataDependency]);
    else names.push(...(system.accessories?.find((accessory) => accessory.name === name)?.sharedSecrets ?? []));
  }
  for (const bucket of service.buckets ?? []) names.push(...Object.values(bucketSecretNames(bucket.variablePrefix ?? DEFAULT_BUCKET_VARIABLE_PREFIX)));
  return [...new Set(names)];
}

/**
 * The service's secret variables read from files, each with the variable naming its file: as it declares
 * (`['DATABASE_URL']` gives `DATABASE_URL_FILE`; `{ GF_X: 'GF_X__FILE' }` names it), else those its image is known
 * to read. Validation has checked each name (validation/variables.ts).
 */
export function secretFilesOf(system: SystemSpec, service: ServiceSpec): Record<string, string> {
  const declared = service.secretFiles;
  if (Array.isArray(declared)) return Object.fromEntries(declared.map((variable) => [variable, fileSuffixVariable(variable)]));
  if (declared !== undefined) return { ...(declared as Readonly<Record<string, string>>) };
  const image = service.imageRef === undefined ? undefined : knownImageSecretFiles(service.imageRef);
  if (image === undefined) return {};
  return Object.fromEntries(secretVariablesOf(system, service).filter(image.reads).map((variable) => [variable, image.fileVariable(variable)]));
}
