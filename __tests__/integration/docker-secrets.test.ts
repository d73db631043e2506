/**
 * No secret in plain text anywhere the App writes: the whole App is
 * synthesized into a temporary directory and every file is scanned.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'cdktf';
import { DATA_ENV_VARS } from '../../system/defaults';
import { manacore } from '../../environments';
import type { SystemSpec } from '../../system/model';
import { createSystemStacks } from '../../stacks/system-stacks';
import { nutri } from '../../examples/nutri';
import { environmentOf, variant } from '../helpers/spec';

/** Values planted where a careless synth could pick them up; none may reach a file. */
const SENTINELS: Record<string, string> = {
  TF_VAR_jwt_secret: 'SENTINEL-jwt-5b1f0c',
  TF_VAR_azure_openai_api_key: 'SENTINEL-azure-77aa21',
  TF_VAR_registry_password: 'SENTINEL-ghcr-0c9e4d',
  TF_VAR_database_url: 'postgresql://nutri:SENTINEL-db-3e8f@db.example.supabase.co:5432/postgres',
  TF_VAR_tfc_agent_token: 'SENTINEL-agent.atlasv1.91d2',
  TF_VAR_dockerhub_token: 'SENTINEL-dockerhub-44c1',
};

interface SynthesizedFile {
  readonly file: string;
  readonly text: string;
  readonly json?: any;
}

let files: SynthesizedFile[];
let secretNames: Set<string>;

function synthesizeInto(outdir: string, system: SystemSpec): void {
  const app = new App({ outdir });
  createSystemStacks(app, system, { onWarning: () => undefined });
  app.synth();
}

function readAll(dir: string): SynthesizedFile[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .map((relative) => path.join(dir, relative))
    .filter((file) => fs.statSync(file).isFile())
    .map((file) => {
      const text = fs.readFileSync(file, 'utf8');
      return { file, text, json: file.endsWith('.json') ? JSON.parse(text) : undefined };
    });
}

beforeAll(() => {
  const saved = Object.fromEntries(Object.keys(SENTINELS).map((name) => [name, process.env[name]]));
  Object.assign(process.env, SENTINELS);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-secrets-'));
  try {
    // Manacore as configured, Manacore's staging on Terraform Cloud with its agent and Docker Hub login, and Nutri with external data.
    const agent = variant(manacore, (system) => {
      const staging = environmentOf(system, 'staging');
      staging.terraformCloud = { organization: 'acme' };
      staging.dockerHubLogin = true;
    });
    [manacore, agent, nutri].forEach((system, index) => synthesizeInto(path.join(root, String(index)), system));
    files = readAll(root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  secretNames = new Set<string>([
    ...Object.values(DATA_ENV_VARS),
    ...[manacore, nutri].flatMap((system) => system.products.flatMap((product) => product.services.flatMap((service) => service.secrets ?? []))),
  ]);
});

const stacks = () => files.filter((file) => file.json?.terraform !== undefined);
const containers = () => stacks().flatMap(({ file, json }) => Object.entries(json.resource?.docker_container ?? {}).map(([address, body]) => ({ file, address, body: body as any })));
const isReference = (value: string) => /^\$\{[^}]+\}$/.test(value) || /\$\{/.test(value);

describe('secrets in synthesized output', () => {
  it('synthesizes every stack, edge stacks included', () => {
    expect(stacks().length).toBeGreaterThan(30);
    expect(stacks().filter(({ file }) => file.includes(`${path.sep}staging-edge${path.sep}`)).length).toBe(2);
  });

  it('never writes a value planted in TF_VAR_* into any file', () => {
    for (const { file, text } of files) {
      for (const value of Object.values(SENTINELS)) expect({ file, leaked: text.includes(value) }).toEqual({ file, leaked: false });
    }
  });

  it('gives no sensitive variable a default', () => {
    for (const { file, json } of stacks()) {
      for (const [name, variable] of Object.entries<any>(json.variable ?? {})) {
        if (variable.sensitive) expect({ file, name, default: variable.default }).toEqual({ file, name, default: undefined });
      }
    }
  });

  it('passes every secret environment variable of every container as a reference', () => {
    // Declared secrets, data connection strings, and anything named like a credential (PGPASSWORD, REDISCLI_AUTH).
    const secretLike = /(PASSWORD|SECRET|TOKEN|_KEY|AUTH$)/;
    let checked = 0;
    for (const { file, address, body } of containers()) {
      for (const entry of body.env ?? []) {
        const [name, value] = [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)];
        if (!secretNames.has(name) && !secretLike.test(name)) continue;
        checked += 1;
        expect({ file, address, name, reference: /^\$\{[^}]+\}$/.test(value) }).toEqual({ file, address, name, reference: true });
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('marks every output carrying a generated password or a sensitive variable as sensitive', () => {
    for (const { file, json } of stacks()) {
      const sensitiveVariables = Object.entries<any>(json.variable ?? {}).filter(([, v]) => v.sensitive).map(([name]) => `var.${name}`);
      for (const [name, output] of Object.entries<any>(json.output ?? {})) {
        const value = JSON.stringify(output.value);
        const carriesSecret = value.includes('random_password.') || sensitiveVariables.some((reference) => value.includes(reference));
        if (carriesSecret) expect({ file, name, sensitive: output.sensitive }).toEqual({ file, name, sensitive: true });
      }
    }
  });

  it('writes no connection string with an inline literal password', () => {
    const inlineCredentials = /[a-z][a-z0-9+.-]*:\/\/[^\s:@/"$]*:(?!\$\{)[^\s@/"]+@/i;
    for (const { file, text } of files) expect({ file, match: inlineCredentials.exec(text)?.[0] }).toEqual({ file, match: undefined });
  });

  it('configures Docker providers with references only: registry passwords (ghcr.io, Docker Hub) and any TLS material', () => {
    for (const { file, json } of stacks()) {
      for (const provider of json.provider?.docker ?? []) {
        for (const key of ['ca_material', 'cert_material', 'key_material']) {
          if (provider[key] !== undefined) expect({ file, key, reference: isReference(provider[key]) }).toEqual({ file, key, reference: true });
        }
        for (const login of provider.registry_auth ?? []) expect({ file, reference: isReference(login.password) }).toEqual({ file, reference: true });
      }
    }
  });
});
