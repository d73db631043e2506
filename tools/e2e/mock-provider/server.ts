/**
 * A schema-faithful mock Terraform provider speaking tfplugin6 (proto vendored from hashicorp/terraform v1.11.4,
 * docs/plugin-protocol/tfplugin6.8.proto) over gRPC, started the way go-plugin starts a plugin
 * (hashicorp/go-plugin v1.6.0, which Terraform 1.11.4 uses: server.go, client.go, mtls.go):
 *
 * - launched by Terraform (`--provider <name>`): checks the magic cookie TF_PLUGIN_MAGIC_COOKIE
 *   (internal/plugin6/serve.go), listens on a unix socket and prints the handshake line
 *   `1|6|unix|<socket>|grpc|<server cert>`. Terraform enables AutoMTLS unless TF_DISABLE_PLUGIN_TLS is set
 *   (internal/command/meta_providers.go): it passes its client certificate in PLUGIN_CLIENT_CERT (PEM) and expects
 *   the server's certificate as base64 (raw std encoding) DER in the sixth field; the server must require and
 *   verify the client certificate.
 * - serving every provider at once (`--serve-all <dir>`): one process, one plaintext socket per provider, and a
 *   TF_REATTACH_PROVIDERS document ({"<address>": {Protocol, ProtocolVersion: 6, Pid, Test: true, Addr}}) written to
 *   <dir>/reattach.json. `Test: true` is what makes go-plugin keep the negotiated version 6 and never kill the
 *   process (client.go reattach()); Terraform skips installing reattached providers.
 *
 * Errors are written to the log file named by E2E_MOCK_LOG (Terraform hides plugin stderr unless TF_LOG is set),
 * and returned to Terraform as diagnostics.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProviderSchema, SchemaAttribute, SchemaBlock } from '../schema/from-bindings';
import { MOCKED_PROVIDERS, REPO_ROOT, loadProviderSchema, type MockedProvider } from '../schema/providers';
import { SENSITIVE, SENSITIVE_PROVIDER_ATTRIBUTES } from './curated';
import { computedOnlyProblems, oneShotOutcome, planResource, readDataSource, requiresReplace, resolveUnknowns, schemaFor, type Problem } from './logic';
import { DockerEngineResources, ProviderDiagnostic } from './docker-engine';
import { blockType, decodeMsgpack, encodeMsgpack, stableJson, typed, type Value } from './values';

const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
const PROTO_DIR = path.join(REPO_ROOT, 'tools', 'e2e', 'proto');

const logFile = process.env.E2E_MOCK_LOG;
function log(message: string): void {
  const line = `${new Date().toISOString()} [mock-provider ${process.pid}] ${message}\n`;
  if (logFile) fs.appendFileSync(logFile, line);
  process.stderr.write(line);
}

const addressBook = process.env.E2E_MOCK_ADDRESS_BOOK;
/**
 * `<address> <name>` per primary IP the mock hands out, in the file E2E_MOCK_ADDRESS_BOOK names: what Hetzner's
 * console would show. The e2e's SSH stand-in (swarm.ts) finds the host behind `deploy@<address>` there.
 */
function recordAddress(typeName: string, state: Value): void {
  if (!addressBook || typeName !== 'hcloud_primary_ip' || state === null || typeof state !== 'object') return;
  const { ip_address: address, name } = state as Record<string, Value>;
  if (typeof address === 'string' && typeof name === 'string') fs.appendFileSync(addressBook, `${address} ${name}\n`);
}

// ---------- schema -> protobuf ----------

const NESTING = { single: 1, list: 2, set: 3, map: 4 } as const;

function sensitiveIn(typeName: string, name: string): boolean {
  return (SENSITIVE[typeName] ?? []).includes(name);
}

function protoAttribute(name: string, attribute: SchemaAttribute, sensitive: boolean): object {
  return {
    name,
    type: attribute.type !== undefined ? Buffer.from(JSON.stringify(attribute.type)) : Buffer.alloc(0),
    nested_type: attribute.nested_type
      ? {
          attributes: Object.entries(attribute.nested_type.attributes).map(([n, a]) => protoAttribute(n, a, false)),
          nesting: NESTING[attribute.nested_type.nesting_mode as keyof typeof NESTING],
        }
      : undefined,
    description: '',
    required: attribute.required ?? false,
    optional: attribute.optional ?? false,
    computed: attribute.computed ?? false,
    sensitive: sensitive || (attribute.sensitive ?? false),
  };
}

function protoBlock(block: SchemaBlock, typeName: string, isProvider = false): object {
  return {
    version: 0,
    attributes: Object.entries(block.attributes ?? {}).map(([name, attribute]) =>
      protoAttribute(name, attribute, isProvider ? SENSITIVE_PROVIDER_ATTRIBUTES.includes(name) : sensitiveIn(typeName, name)),
    ),
    block_types: Object.entries(block.block_types ?? {}).map(([name, nested]) => ({
      type_name: name,
      block: protoBlock(nested.block, `${typeName}.${name}`, isProvider),
      nesting: NESTING[nested.nesting_mode],
      min_items: nested.min_items ?? 0,
      max_items: nested.max_items ?? 0,
    })),
  };
}

// ---------- the Provider service ----------

interface DynamicValueMessage {
  msgpack?: Buffer;
  json?: Buffer;
}

function diagnostics(problems: readonly Problem[]): object[] {
  return problems.map((p) => ({
    severity: 1,
    summary: p.summary,
    detail: p.detail,
    attribute: p.path ? { steps: p.path.map((name) => ({ attribute_name: name })) } : undefined,
  }));
}

function decodeValue(message: DynamicValueMessage | null | undefined, block: SchemaBlock): Value {
  if (!message) return null;
  const type = blockType(block);
  if (message.msgpack && message.msgpack.length > 0) return typed(decodeMsgpack(message.msgpack), type);
  if (message.json && message.json.length > 0) return typed(JSON.parse(message.json.toString('utf8')), type, true);
  return null;
}

function encodeValue(value: Value): DynamicValueMessage {
  return { msgpack: Buffer.from(encodeMsgpack(value)) };
}

type Handler = (request: Record<string, any>) => object | Promise<object>;

/** Builds the handlers of the Provider service for one provider. */
export function providerHandlers(provider: MockedProvider, schema: ProviderSchema): Record<string, Handler> {
  const resourceNames = Object.keys(schema.resource_schemas);
  const dataNames = Object.keys(schema.data_source_schemas);
  const capabilities = { plan_destroy: false, get_provider_schema_optional: false, move_resource_state: false };
  const block = (kind: 'resource' | 'data', name: string) => schemaFor(schema, kind, name);
  let schemaResponse: object | undefined; // every Terraform command asks; build it once
  // With E2E_DOCKER_SOCKET, docker resources are created on that daemon (docker-engine.ts).
  const engine = provider.name === 'docker' && DockerEngineResources.enabled() ? new DockerEngineResources() : undefined;
  return {
    GetMetadata: () => ({
      server_capabilities: capabilities,
      diagnostics: [],
      data_sources: dataNames.map((type_name) => ({ type_name })),
      resources: resourceNames.map((type_name) => ({ type_name })),
      functions: [],
      ephemeral_resources: [],
    }),
    GetProviderSchema: () => (schemaResponse ??= {
      provider: { version: 0, block: protoBlock(schema.provider.block, provider.name, true) },
      resource_schemas: Object.fromEntries(Object.entries(schema.resource_schemas).map(([n, s]) => [n, { version: s.version, block: protoBlock(s.block, n) }])),
      data_source_schemas: Object.fromEntries(Object.entries(schema.data_source_schemas).map(([n, s]) => [n, { version: s.version, block: protoBlock(s.block, n) }])),
      functions: {},
      ephemeral_resource_schemas: {},
      diagnostics: [],
      server_capabilities: capabilities,
    }),
    ValidateProviderConfig: () => ({ diagnostics: [] }),
    ValidateResourceConfig: (req) => {
      const b = block('resource', req.type_name);
      return { diagnostics: diagnostics(computedOnlyProblems(b, decodeValue(req.config, b))) };
    },
    ValidateDataResourceConfig: (req) => {
      const b = block('data', req.type_name);
      return { diagnostics: diagnostics(computedOnlyProblems(b, decodeValue(req.config, b))) };
    },
    UpgradeResourceState: (req) => {
      const b = block('resource', req.type_name);
      const raw = req.raw_state?.json?.length ? JSON.parse(req.raw_state.json.toString('utf8')) : null;
      return { upgraded_state: encodeValue(typed(raw, blockType(b), true)), diagnostics: [] };
    },
    ConfigureProvider: () => ({ diagnostics: [] }),
    ReadResource: (req) => ({ new_state: req.current_state, diagnostics: [], private: req.private }),
    PlanResourceChange: (req) => {
      const b = block('resource', req.type_name);
      const prior = decodeValue(req.prior_state, b);
      const proposed = decodeValue(req.proposed_new_state, b);
      const planned = planResource(b, proposed, prior);
      const replace = requiresReplace(req.type_name, b, prior, planned);
      return {
        planned_state: encodeValue(planned),
        requires_replace: replace.map((name) => ({ steps: [{ attribute_name: name }] })),
        planned_private: req.prior_private ?? Buffer.alloc(0),
        diagnostics: [],
        legacy_type_system: false,
      };
    },
    ApplyResourceChange: async (req) => {
      const b = block('resource', req.type_name);
      const planned = decodeValue(req.planned_state, b);
      const prior = decodeValue(req.prior_state, b);
      if (planned === null) {
        if (engine && prior !== null) await engine.delete(req.type_name, prior as Record<string, any>);
        return { new_state: encodeValue(null), diagnostics: [], private: Buffer.alloc(0) };
      }
      const config = decodeValue(req.config, b);
      const seed = `${req.type_name}\0${stableJson(config)}`;
      let applied = oneShotOutcome(req.type_name, config, resolveUnknowns(planned, blockType(b), seed, ''));
      if (engine && prior === null) applied = { ...(applied as object), ...(await engine.create(req.type_name, config as Record<string, any>)) };
      recordAddress(req.type_name, applied);
      return { new_state: encodeValue(applied), private: req.planned_private ?? Buffer.alloc(0), diagnostics: [], legacy_type_system: false };
    },
    ImportResourceState: (req) => {
      const b = block('resource', req.type_name);
      const state = typed({ id: req.id }, blockType(b), true);
      return { imported_resources: [{ type_name: req.type_name, state: encodeValue(state), private: Buffer.alloc(0) }], diagnostics: [] };
    },
    MoveResourceState: () => ({ diagnostics: diagnostics([{ summary: 'Move not supported', detail: 'The mock provider does not move state between resource types.' }]) }),
    ReadDataSource: (req) => {
      const b = block('data', req.type_name);
      return { state: encodeValue(readDataSource(req.type_name, b, decodeValue(req.config, b))), diagnostics: [] };
    },
    GetFunctions: () => ({ functions: {}, diagnostics: [] }),
    CallFunction: () => ({ error: { text: 'the mock provider has no functions' } }),
    ValidateEphemeralResourceConfig: () => ({ diagnostics: [] }),
    OpenEphemeralResource: () => ({ diagnostics: diagnostics([{ summary: 'Not supported', detail: 'The mock provider has no ephemeral resources.' }]) }),
    RenewEphemeralResource: () => ({ diagnostics: [] }),
    CloseEphemeralResource: () => ({ diagnostics: [] }),
    StopProvider: () => ({ Error: '' }),
  };
}

function loadServices(): { provider: grpc.ServiceDefinition; controller: grpc.ServiceDefinition } {
  const options: protoLoader.Options = { keepCase: true, longs: Number, enums: Number, defaults: false, oneofs: true };
  const tf = grpc.loadPackageDefinition(protoLoader.loadSync(path.join(PROTO_DIR, 'tfplugin6.8.proto'), options)) as any;
  const ctl = grpc.loadPackageDefinition(protoLoader.loadSync(path.join(PROTO_DIR, 'grpc_controller.proto'), options)) as any;
  const provider: grpc.ServiceDefinition = tf.tfplugin6.Provider.service;
  // Every Terraform command fetches every provider's schema; cloudflare's encodes to ~0.5 MB of protobuf.
  // The response object is built once per provider, so encode it once too.
  const schemaMethod = provider.GetProviderSchema;
  const encode = schemaMethod.responseSerialize;
  const encoded = new WeakMap<object, Buffer>();
  const memoized = (response: object): Buffer => {
    let bytes = encoded.get(response);
    if (!bytes) encoded.set(response, (bytes = encode(response)));
    return bytes;
  };
  return { provider: { ...provider, GetProviderSchema: { ...schemaMethod, responseSerialize: memoized } }, controller: ctl.plugin.GRPCController.service };
}

/** Wraps handlers: a thrown error becomes a logged error diagnostic naming the call, not a dead plugin. */
function unaryHandlers(handlers: Record<string, Handler>, providerName: string): grpc.UntypedServiceImplementation {
  return Object.fromEntries(
    Object.entries(handlers).map(([method, handler]) => [
      method,
      (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
        try {
          if (process.env.E2E_MOCK_CRASH_IN === method) {
            // For the harness's own test: a mock that dies mid-call must still be diagnosable.
            process.nextTick(() => {
              throw new Error(`deliberate crash in ${method} (E2E_MOCK_CRASH_IN)`);
            });
            return;
          }
          Promise.resolve(handler(call.request)).then(
            (response) => callback(null, response),
            (error: Error) => fail(error),
          );
        } catch (error) {
          fail(error as Error);
        }
        function fail(error: Error): void {
          const text = `${providerName} ${method}${call.request?.type_name ? ` (${call.request.type_name})` : ''}: ${error.stack ?? error}`;
          log(text);
          const own = error instanceof ProviderDiagnostic ? { summary: error.summary, detail: error.detail } : undefined;
          callback(null, { diagnostics: diagnostics([own ?? { summary: `mock provider ${providerName} failed in ${method}`, detail: text }]) });
        }
      },
    ]),
  );
}

function newServer(provider: MockedProvider, onShutdown: () => void): grpc.Server {
  const services = loadServices();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 256 * 1024 * 1024, 'grpc.max_send_message_length': 256 * 1024 * 1024 });
  server.addService(services.provider, unaryHandlers(providerHandlers(provider, loadProviderSchema(provider)), provider.name));
  server.addService(services.controller, {
    Shutdown: (_call: unknown, callback: grpc.sendUnaryData<object>) => {
      callback(null, {});
      setImmediate(onShutdown);
    },
  });
  return server;
}

function bind(server: grpc.Server, socket: string, credentials: grpc.ServerCredentials): Promise<void> {
  return new Promise((resolve, reject) => server.bindAsync(`unix://${socket}`, credentials, (error) => (error ? reject(error) : resolve())));
}

/** A self-signed server certificate for AutoMTLS (localhost, usable as its own CA, like go-plugin's mtls.go). */
function serverCertificate(dir: string): { cert: Buffer; key: Buffer; der: Buffer } {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '1', '-subj', '/O=manacore-e2e/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
    '-addext', 'extendedKeyUsage=serverAuth,clientAuth',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const cert = fs.readFileSync(certFile);
  const der = Buffer.from(cert.toString('utf8').replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return { cert, key: fs.readFileSync(keyFile), der };
}

function findProvider(name: string): MockedProvider {
  const provider = MOCKED_PROVIDERS.find((p) => p.name === name);
  if (!provider) throw new Error(`unknown provider "${name}"; the mock serves ${MOCKED_PROVIDERS.map((p) => p.name).join(', ')}`);
  return provider;
}

/** Launched by Terraform through go-plugin: one provider, AutoMTLS when Terraform asks for it. */
async function serveLaunched(name: string): Promise<void> {
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write('This binary is a plugin. These are not meant to be executed directly.\nRun it through Terraform (the mock provider of npm run e2e).\n');
    process.exit(1);
  }
  const versions = (process.env.PLUGIN_PROTOCOL_VERSIONS ?? '6').split(',');
  if (!versions.includes('6')) throw new Error(`Terraform offers protocol versions ${versions.join(',')}; the mock speaks only 6`);
  const provider = findProvider(name);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tf-mock-${name}-`));
  const socket = path.join(dir, 'plugin.sock');
  let credentials = grpc.ServerCredentials.createInsecure();
  let certField = '';
  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  if (clientCert) {
    const own = serverCertificate(dir);
    credentials = grpc.ServerCredentials.createSsl(Buffer.from(clientCert), [{ private_key: own.key, cert_chain: own.cert }], true);
    certField = own.der.toString('base64').replace(/=+$/, '');
  }
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  const server = newServer(provider, () => {
    server.forceShutdown();
    cleanup();
    process.exit(0);
  });
  await bind(server, socket, credentials);
  process.on('SIGTERM', () => {
    cleanup();
    process.exit(0);
  });
  process.stdout.write(`1|6|unix|${socket}|grpc|${certField}\n`);
}

/** One process serving every provider for TF_REATTACH_PROVIDERS. */
async function serveAll(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const reattach: Record<string, object> = {};
  const servers: grpc.Server[] = [];
  for (const provider of MOCKED_PROVIDERS) {
    const socket = path.join(dir, `${provider.name}.sock`);
    fs.rmSync(socket, { force: true });
    const server = newServer(provider, () => log(`ignored Shutdown for ${provider.name}: a shared provider outlives each Terraform run`));
    await bind(server, socket, grpc.ServerCredentials.createInsecure());
    servers.push(server);
    reattach[provider.address] = { Protocol: 'grpc', ProtocolVersion: 6, Pid: process.pid, Test: true, Addr: { Network: 'unix', String: socket } };
  }
  fs.writeFileSync(path.join(dir, 'reattach.json'), JSON.stringify(reattach));
  process.stdout.write('ready\n');
  const stop = () => {
    servers.forEach((server) => server.forceShutdown());
    const cpu = process.cpuUsage();
    log(`stopping; CPU used: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function main(argv: readonly string[]): Promise<void> {
  const [mode, argument] = argv;
  if (mode === '--provider' && argument) return serveLaunched(argument);
  if (mode === '--serve-all' && argument) return serveAll(argument);
  throw new Error('usage: server.ts --provider <name> | --serve-all <dir>');
}

if (require.main === module) {
  process.on('uncaughtException', (error) => {
    log(`crashed: ${error.stack ?? error}`);
    process.exit(70);
  });
  main(process.argv.slice(2)).catch((error: Error) => {
    log(`failed to start: ${error.stack ?? error}`);
    process.exit(70);
  });
}
