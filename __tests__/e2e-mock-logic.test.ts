/**
 * The mock provider's value handling and planning, without Terraform: the wire format of
 * docs/plugin-protocol/object-wire-format.md (Terraform v1.11.4) and the planning rules the harness relies on.
 */
import { encode } from '@msgpack/msgpack';
import type { SchemaBlock } from '../tools/e2e/schema/from-bindings';
import { computedOnlyProblems, planResource, requiresReplace, resolveUnknowns } from '../tools/e2e/mock-provider/logic';
import { DynamicValue, UNKNOWN, blockType, decodeMsgpack, encodeMsgpack, typed } from '../tools/e2e/mock-provider/values';

const server: SchemaBlock = {
  attributes: {
    id: { type: 'string', computed: true },
    name: { type: 'string', required: true },
    image: { type: 'string', optional: true, computed: true },
    ipv4_address: { type: 'string', computed: true },
    labels: { type: ['map', 'string'], optional: true },
  },
  block_types: {
    network: {
      nesting_mode: 'set',
      block: {
        attributes: {
          network_id: { type: 'number', required: true },
          ip: { type: 'string', optional: true, computed: true },
          mac_address: { type: 'string', computed: true },
        },
      },
    },
  },
};

test('unknowns survive the msgpack round trip at any depth (extension 0 out, 0 and 12 in)', () => {
  const value = typed({ id: UNKNOWN, name: 'a', image: null, ipv4_address: UNKNOWN, labels: null, network: [{ network_id: 1, ip: UNKNOWN, mac_address: UNKNOWN }] }, blockType(server));
  const decoded = typed(decodeMsgpack(encodeMsgpack(value)), blockType(server));
  expect(decoded).toEqual(value);
  // A refined unknown (extension 12, payload a map of refinements) reads as unknown too.
  const refined = new Uint8Array([0xd4, 12, 0x80]);
  expect(decodeMsgpack(refined)).toBe(UNKNOWN);
});

test('a dynamic value keeps its type on the wire: [JSON type as bytes, value]', () => {
  const raw = decodeMsgpack(encode([Buffer.from('"string"'), 'x']));
  const value = typed(raw, 'dynamic');
  expect(value).toBeInstanceOf(DynamicValue);
  expect(decodeMsgpack(encodeMsgpack(value))).toEqual([new Uint8Array(Buffer.from('"string"')), 'x']);
});

test('a dynamic value read back from JSON state keeps its type (Terraform writes {"value", "type"})', () => {
  const value = typed({ value: 'on', type: 'string' }, 'dynamic', true);
  expect(value).toBeInstanceOf(DynamicValue);
  expect(decodeMsgpack(encodeMsgpack(value))).toEqual([new Uint8Array(Buffer.from('"string"')), 'on']);
});

test('create: computed attributes the configuration leaves null become unknown, nested ones too', () => {
  const proposed = typed({ name: 'a', network: [{ network_id: 1 }] }, blockType(server));
  const planned = planResource(server, proposed, null) as any;
  expect(planned.id).toBe(UNKNOWN);
  expect(planned.image).toBe(UNKNOWN);
  expect(planned.labels).toBeNull(); // not computed: stays as configured
  expect(planned.network[0]).toEqual({ network_id: 1, ip: UNKNOWN, mac_address: UNKNOWN });
});

test('update: a set element keeps the computed values of the prior element it continues', () => {
  const prior = typed({ id: '7', name: 'a', image: 'debian-12', ipv4_address: '203.0.113.7', labels: null, network: [{ network_id: 1, ip: '10.0.0.2', mac_address: 'aa' }] }, blockType(server));
  // Terraform cannot correlate set elements, so its proposed element has the computed values null.
  const proposed = typed({ id: '7', name: 'b', image: 'debian-12', ipv4_address: '203.0.113.7', labels: null, network: [{ network_id: 1, ip: null, mac_address: null }] }, blockType(server));
  const planned = planResource(server, proposed, prior) as any;
  expect(planned.network).toEqual([{ network_id: 1, ip: '10.0.0.2', mac_address: 'aa' }]);
  expect(planned.name).toBe('b');
});

test('replacement follows the curated table: hcloud_server image forces it, name does not', () => {
  const prior = typed({ id: '7', name: 'a', image: 'debian-12', ipv4_address: 'x', labels: null, network: [] }, blockType(server));
  expect(requiresReplace('hcloud_server', server, prior, { ...(prior as object), name: 'b' } as any)).toEqual([]);
  expect(requiresReplace('hcloud_server', server, prior, { ...(prior as object), image: 'debian-13' } as any)).toEqual(['image']);
  expect(requiresReplace('hcloud_server', server, prior, { ...(prior as object), image: UNKNOWN } as any)).toEqual(['image']);
});

test('a Swarm secret is replaced, never updated, when its data or name changes (docker 3.6.2 resource_docker_secret.go)', () => {
  const secret: SchemaBlock = { attributes: { id: { type: 'string', optional: true, computed: true }, name: { type: 'string', required: true }, data: { type: 'string', required: true } } };
  const prior = typed({ id: 's1', name: 'booking-api-database-url-0a1b2c3d', data: 'b2xk' }, blockType(secret));
  expect(requiresReplace('docker_secret', secret, prior, { ...(prior as object), data: 'bmV3' } as any)).toEqual(['data']);
  expect(requiresReplace('docker_secret', secret, prior, { ...(prior as object), name: 'booking-api-database-url-4e5f6a7b' } as any)).toEqual(['name']);
});

test('apply fills unknowns with deterministic fakes of the right type', () => {
  const planned = planResource(server, typed({ name: 'a', network: [{ network_id: 1 }] }, blockType(server)), null);
  const first = resolveUnknowns(planned, blockType(server), 'seed', '') as any;
  expect(first).toEqual(resolveUnknowns(planned, blockType(server), 'seed', ''));
  expect(first.id).toMatch(/^\d+$/);
  expect(first.ipv4_address).toMatch(/^203\.0\.113\.\d+$/);
  expect(first.network[0].mac_address).toMatch(/^mock-mac_address-/);
});

test('a computed-only attribute set in configuration is reported with its path', () => {
  const config = typed({ name: 'a', ipv4_address: '1.2.3.4', network: [{ network_id: 1, mac_address: 'bb' }] }, blockType(server));
  const problems = computedOnlyProblems(server, config);
  expect(problems.map((p) => p.path)).toEqual([['ipv4_address'], ['network', 'mac_address']]);
  expect(problems[0].summary).toBe('Invalid Configuration for Read-Only Attribute');
});
