/**
 * Generates the Hetzner Cloud (hetznercloud/hcloud) provider bindings into
 * `.gen/providers/hcloud` from a checked-in `terraform providers schema -json`
 * dump, so we never need terraform + registry access to (re)build them.
 *
 *   npm run gen:hcloud                       # ../shared/provider-schemas/hcloud.schema.json
 *   npm run gen:hcloud -- path/to/schema.json  # version file is read from beside it
 *
 * The output is what `cdktf get` writes for TypeScript: we drive the same
 * generator class the same way ConstructsMaker.generateTypescriptProvider does
 * (@cdktf/provider-generator/lib/get/constructs-maker.js).
 */
import * as fs from "fs";
import * as path from "path";
import { CodeMaker } from "codemaker";
import {
  ConstructsMakerProviderTarget,
  DISPLAY_VERSION,
  Language,
  ProviderSchema,
  TerraformProviderConstraint,
} from "@cdktf/commons";
// Deep imports: the package main entry loads jsii/jsii-pacmak (only needed for
// non-TS languages), which are not installed.
import { TerraformProviderGenerator } from "@cdktf/provider-generator/lib/get/generator/provider-generator";
// The same clean-up `cdktf get` applies to every schema it reads from terraform.
import { sanitizeProviderSchema } from "@cdktf/provider-schema/src/provider-schema";

const REPO_ROOT = path.resolve(__dirname, "..");
const PROVIDER_SOURCE = "hetznercloud/hcloud";
const PROVIDER_NAME = "hcloud";
export const DEFAULT_SCHEMA_PATH = path.resolve(REPO_ROOT, "../shared/provider-schemas/hcloud.schema.json");
const VERSION_FILE_NAME = "hcloud.version.json";

/** Errors whose message is the whole story (bad input); printed without a stack. */
export class GenHcloudError extends Error {}

export interface GenerateOptions {
  /** `terraform providers schema -json` output; `hcloud.version.json` must sit beside it. */
  schemaPath: string;
  /** The codeMakerOutput root (`.gen`); bindings land in `<outDir>/providers/hcloud`. */
  outDir: string;
  /** Version constraint, e.g. `~> 1.68.0`. Defaults to the hcloud entry in cdktf.json. */
  versionConstraint?: string;
}

export interface GenerateResult {
  providerDir: string;
  filesWritten: number;
  providerVersion: string;
  versionConstraint: string;
  elapsedMs: number;
}

interface VersionFile {
  source: string;
  version: string;
}

interface CdktfJson {
  terraformProviders?: unknown[];
  codeMakerOutput?: string;
}

function readJson<T>(file: string, what: string): T {
  if (!fs.existsSync(file)) {
    throw new GenHcloudError(`${what} not found: ${file}`);
  }
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch (err) {
    throw new GenHcloudError(`${what} is not valid JSON (${file}): ${(err as Error).message}`);
  }
}

export function readCdktfJson(): CdktfJson {
  return readJson<CdktfJson>(path.join(REPO_ROOT, "cdktf.json"), "cdktf.json");
}

/** The hcloud constraint from cdktf.json, so generated code pins exactly what the project declares. */
export function constraintFromCdktfJson(config: CdktfJson = readCdktfJson()): string {
  const entry = (config.terraformProviders ?? []).find(
    (p): p is string => typeof p === "string" && p.split("@")[0].toLowerCase() === PROVIDER_SOURCE,
  );
  const version = entry ? new TerraformProviderConstraint(entry).version : undefined;
  if (!version) {
    throw new GenHcloudError(
      `cdktf.json must list "${PROVIDER_SOURCE}@<constraint>" in terraformProviders (found ${JSON.stringify(entry)})`,
    );
  }
  return version;
}

/**
 * Minimal Terraform version-constraint check (=, !=, >, >=, <, <=, ~>), enough
 * to refuse generating 1.69.0 bindings under a `~> 1.68.0` pin.
 */
export function satisfiesConstraint(version: string, constraint: string): boolean {
  const parse = (v: string) => v.split(".").map(Number);
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = (a[i] ?? 0) - (b[i] ?? 0);
      if (d !== 0) return Math.sign(d);
    }
    return 0;
  };
  const v = parse(version);
  return constraint.split(",").every((clause) => {
    const m = /^\s*(~>|>=|<=|!=|=|>|<)?\s*(\d+(?:\.\d+){0,2})\s*$/.exec(clause);
    if (!m || !/^\d+\.\d+\.\d+$/.test(version)) {
      throw new GenHcloudError(`cannot check version "${version}" against constraint "${constraint}"`);
    }
    const [, op = "=", raw] = m;
    const c = parse(raw);
    switch (op) {
      case "=": return cmp(v, c) === 0;
      case "!=": return cmp(v, c) !== 0;
      case ">": return cmp(v, c) > 0;
      case ">=": return cmp(v, c) >= 0;
      case "<": return cmp(v, c) < 0;
      case "<=": return cmp(v, c) <= 0;
      default: {
        // ~> X.Y.Z allows only Z to grow; ~> X.Y allows Y to grow.
        const upper = c.length === 1 ? [c[0] + 1] : [...c.slice(0, -2), c[c.length - 2] + 1];
        return cmp(v, c) >= 0 && cmp(v, upper) < 0;
      }
    }
  });
}

/** Stable 2-space JSON + trailing newline, matching what ConstructsMaker writes via CodeMaker. */
function writeJsonFile(file: string, value: unknown): void {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
}

/** Merge into an existing `.gen` JSON map so entries for other providers survive. */
function readJsonMap(file: string): Record<string, unknown> {
  return fs.existsSync(file) ? readJson<Record<string, unknown>>(file, path.basename(file)) : {};
}

export async function generateHcloudBindings(opts: GenerateOptions): Promise<GenerateResult> {
  const started = performance.now();
  const schemaPath = path.resolve(opts.schemaPath);
  const versionPath = path.join(path.dirname(schemaPath), VERSION_FILE_NAME);
  const versionConstraint = opts.versionConstraint ?? constraintFromCdktfJson();

  const schema = readJson<ProviderSchema>(schemaPath, "provider schema");
  const versionFile = readJson<VersionFile>(versionPath, "provider version file");
  if (versionFile.source?.toLowerCase() !== PROVIDER_SOURCE || typeof versionFile.version !== "string") {
    throw new GenHcloudError(
      `${versionPath} must contain {"source":"${PROVIDER_SOURCE}","version":"x.y.z"} (got source=${JSON.stringify(versionFile.source)}, version=${JSON.stringify(versionFile.version)})`,
    );
  }
  const providerVersion = versionFile.version;
  if (!satisfiesConstraint(providerVersion, versionConstraint)) {
    throw new GenHcloudError(
      `schema version ${providerVersion} does not satisfy the cdktf.json constraint "${versionConstraint}"; update one of them`,
    );
  }

  const fqpn = `registry.terraform.io/${PROVIDER_SOURCE}`;
  if (!schema.provider_schemas?.[fqpn]) {
    const found = Object.keys(schema.provider_schemas ?? {}).join(", ") || "none";
    throw new GenHcloudError(`${schemaPath} has no provider_schemas["${fqpn}"] (found: ${found})`);
  }
  // `terraform providers schema -json` carries no version; `cdktf get` adds the
  // lock-file selection from `terraform version -json` under this key. The
  // generator turns it into terraformGeneratorMetadata.providerVersion, which is
  // what synthesizes into required_providers.hcloud.version.
  const existing = schema.provider_versions?.[fqpn];
  if (existing !== undefined && existing !== providerVersion) {
    throw new GenHcloudError(`${schemaPath} says provider_versions=${existing} but ${versionPath} says ${providerVersion}`);
  }
  schema.provider_versions = { ...schema.provider_versions, [fqpn]: providerVersion };

  // Same target `cdktf get` builds from cdktf.json's "hetznercloud/hcloud@<constraint>":
  // it decides the folder name (providers/hcloud) and the emitted source/constraint.
  const target = new ConstructsMakerProviderTarget(
    new TerraformProviderConstraint(`${PROVIDER_SOURCE}@${versionConstraint}`),
    Language.TYPESCRIPT,
  );
  const code = new CodeMaker();
  new TerraformProviderGenerator(code, sanitizeProviderSchema(schema)).generate(target);

  // Write into a staging dir first and swap it in, so a failure never leaves a
  // half-written tree, and resources dropped from the schema don't linger.
  const outDir = path.resolve(opts.outDir);
  const providerDir = path.join(outDir, "providers", PROVIDER_NAME);
  fs.mkdirSync(path.dirname(providerDir), { recursive: true });
  const staging = fs.mkdtempSync(path.join(outDir, `.${PROVIDER_NAME}-staging-`));
  let bindingFiles: number;
  try {
    bindingFiles = (await code.save(staging)).length;
    fs.rmSync(providerDir, { recursive: true, force: true });
    fs.renameSync(path.join(staging, "providers", PROVIDER_NAME), providerDir);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }

  // versions.json / constraints.json are what `cdktf get` leaves in .gen; with
  // them, a later `cdktf get` sees hcloud as already generated for this
  // constraint and skips it instead of trying to download the provider.
  const versionsFile = path.join(outDir, "versions.json");
  writeJsonFile(versionsFile, { ...readJsonMap(versionsFile), [fqpn]: providerVersion });
  const constraintsFile = path.join(outDir, "constraints.json");
  const previous = readJsonMap(constraintsFile).providers;
  const providers: Record<string, unknown> = {
    ...(previous && typeof previous === "object" ? previous : {}),
    [target.fqn]: versionConstraint,
  };
  writeJsonFile(constraintsFile, {
    cdktf: DISPLAY_VERSION,
    providers: Object.fromEntries(Object.entries(providers).sort(([a], [b]) => a.localeCompare(b))),
  });

  return {
    providerDir,
    filesWritten: bindingFiles + 2, // + versions.json, constraints.json
    providerVersion,
    versionConstraint,
    elapsedMs: Math.round(performance.now() - started),
  };
}

async function main(argv: string[]): Promise<void> {
  if (argv.length > 1 || argv.some((a) => a.startsWith("-"))) {
    throw new GenHcloudError("usage: npm run gen:hcloud [-- path/to/hcloud.schema.json]");
  }
  // npm runs scripts from the repo root; INIT_CWD is where the user typed the
  // command, which is what a relative path argument is relative to.
  const schemaPath = argv[0]
    ? path.resolve(process.env.INIT_CWD ?? process.cwd(), argv[0])
    : DEFAULT_SCHEMA_PATH;
  const config = readCdktfJson();
  const result = await generateHcloudBindings({
    schemaPath,
    outDir: path.resolve(REPO_ROOT, config.codeMakerOutput ?? ".gen"),
    versionConstraint: constraintFromCdktfJson(config),
  });
  console.log(
    `gen:hcloud: wrote ${result.filesWritten} files to ${path.relative(REPO_ROOT, result.providerDir)} ` +
      `(hetznercloud/hcloud ${result.providerVersion}, constraint "${result.versionConstraint}") in ${result.elapsedMs} ms`,
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`gen:hcloud: ${err instanceof GenHcloudError ? err.message : (err as Error)?.stack ?? err}`);
    process.exitCode = 1;
  });
}
