/**
 * Public names: every routed service gets A and AAAA records to its host,
 * proxied or not by kind; zone-wide names belong to the primary network stack.
 */
import { Testing, TerraformStack } from 'cdktf';
import { AddressRecords } from '../constructs/cloudflare/address-records';
import { CnameRecord } from '../constructs/cloudflare/cname-record';
import { hostnameProblems } from '../constructs/cloudflare/hostname';
import { CloudflareZone } from '../constructs/cloudflare/zone';
import { manacore } from '../environments';
import { environmentOf, variant } from './helpers/spec';
import { dataSources, resourceList, resources, SynthesizedSystem, synthStack, type TerraformJson } from './helpers/synth';

let app: SynthesizedSystem;
beforeAll(() => {
  app = new SynthesizedSystem(manacore);
});

interface Record {
  name: string;
  type: string;
  proxied: boolean;
  ttl: number;
}

/** The stack's DNS records as (name, type, proxied, ttl), sorted. */
function records(json: TerraformJson): Record[] {
  return resourceList(json, 'cloudflare_dns_record')
    .map(({ name, type, proxied, ttl }) => ({ name, type, proxied, ttl }))
    .sort((a, b) => `${a.name} ${a.type}`.localeCompare(`${b.name} ${b.type}`));
}

const both = (name: string, proxied: boolean, ttl: number): Record[] => [
  { name, type: 'A', proxied, ttl },
  { name, type: 'AAAA', proxied, ttl },
];

describe('product records', () => {
  it('gives chat in production its landing and web proxied (automatic TTL) and its API unproxied with TTL 300', () => {
    expect(records(app.synth('production-chat'))).toEqual([
      ...both('api-chat.manacore.app', false, 300),
      ...both('app-chat.manacore.app', true, 1),
      ...both('chat.manacore.app', true, 1),
    ]);
  });

  it('prefixes the first label in staging', () => {
    expect(records(app.synth('staging-chat')).map((r) => r.name)).toEqual(
      expect.arrayContaining(['staging-api-chat.manacore.app', 'staging-app-chat.manacore.app', 'staging-chat.manacore.app']),
    );
  });

  it('gives memoro (no backend) only proxied landing and web records', () => {
    expect(records(app.synth('production-memoro'))).toEqual([...both('app-memoro.manacore.app', true, 1), ...both('memoro.manacore.app', true, 1)]);
  });

  it('gives bauntown (landing only) one proxied name', () => {
    expect(records(app.synth('staging-bauntown'))).toEqual(both('staging-bauntown.manacore.app', true, 1));
  });

  it('does not proxy the auth records and keeps their TTL short', () => {
    expect(records(app.synth('production-mana-core-auth'))).toEqual(both('auth.manacore.app', false, 300));
    expect(records(app.synth('staging-mana-core-auth'))).toEqual(both('staging-auth.manacore.app', false, 300));
  });

  it('points records at the product host addresses published by the network stack', () => {
    const byAddress = resources(app.synth('production-chat'), 'cloudflare_dns_record');
    expect(byAddress['dns-chat-web-a'].content).toBe('${data.terraform_remote_state.outputs-production-network.outputs.host_app_1_ipv4}');
    expect(byAddress['dns-chat-web-aaaa'].content).toBe('${data.terraform_remote_state.outputs-production-network.outputs.host_app_1_ipv6}');
  });

  it('says in every record which stack manages it', () => {
    for (const record of resourceList(app.synth('production-chat'), 'cloudflare_dns_record')) {
      expect(record.comment).toMatch(/^managed by cdktf stack production-chat/);
    }
  });

  it('uses the zone id the network stack looked up instead of a lookup per product', () => {
    const chat = app.synth('production-chat');
    expect(dataSources(chat, 'cloudflare_zone')).toEqual({});
    expect(resources(chat, 'cloudflare_dns_record')['dns-chat-web-a'].zone_id).toBe(
      '${data.terraform_remote_state.outputs-production-network.outputs.cloudflare_zone_id}',
    );
    const network = app.synth('staging-network');
    expect(Object.values(dataSources(network, 'cloudflare_zone'))).toEqual([expect.objectContaining({ filter: { name: 'manacore.app' } })]);
    expect(network.output?.cloudflare_zone_id).toBeDefined();
  });

  it('creates no DNS record for OTA domains (the R2 custom domain owns it)', () => {
    expect(records(app.synth('production-chat')).map((r) => r.name)).not.toContain('ota-chat.manacore.app');
  });

  it('keeps record addresses stable', () => {
    expect(Object.keys(resources(app.synth('production-chat'), 'cloudflare_dns_record')).sort()).toEqual([
      'dns-chat-backend-a',
      'dns-chat-backend-aaaa',
      'dns-chat-landing-a',
      'dns-chat-landing-aaaa',
      'dns-chat-web-a',
      'dns-chat-web-aaaa',
    ]);
  });
});

describe('zone-wide records', () => {
  it('belong to the product serving the apex: apex A/AAAA and a www CNAME, proxied; no wildcard anywhere', () => {
    expect(records(app.synth('production-network'))).toEqual([]);
    const manacoreStack = app.synth('production-manacore');
    const byAddress = resources(manacoreStack, 'cloudflare_dns_record');
    expect(byAddress['dns-apex-a']).toMatchObject({ name: 'manacore.app', type: 'A', proxied: true, ttl: 1 });
    expect(byAddress['dns-apex-aaaa']).toMatchObject({ name: 'manacore.app', type: 'AAAA', proxied: true });
    expect(byAddress['dns-www']).toMatchObject({ name: 'www.manacore.app', type: 'CNAME', content: 'manacore.app', proxied: true });
    for (const stack of app.stackNames) expect(records(app.synth(stack)).filter((record) => record.name.startsWith('*.'))).toEqual([]);
  });

  it('are not created by a prefixed environment (one wildcard per zone; staging-* is no DNS wildcard)', () => {
    expect(records(app.synth('staging-network'))).toEqual([]);
  });

  it('use the configured zone id instead of a lookup', () => {
    const zoneId = '0123456789abcdef0123456789abcdef';
    const pinned = new SynthesizedSystem(
      variant(manacore, (system) => {
        system.environments = [environmentOf(system, 'production')];
        environmentOf(system, 'production').cloudflare.zoneId = zoneId;
      }),
    );
    const network = pinned.synth('production-network');
    expect(dataSources(network, 'cloudflare_zone')).toEqual({});
    expect(resources(network, 'cloudflare_zone_setting')['zone-security-ssl'].zone_id).toBe(zoneId);
    expect(resources(pinned.synth('production-manacore'), 'cloudflare_dns_record')['dns-www'].zone_id).toBe(zoneId);
  });

  it('refuse a product whose name is "www" in the unprefixed environment', () => {
    const www = variant(manacore, (system) => {
      system.products.push({ name: 'www', services: [{ name: 'landing', kind: 'landing' }] });
      environmentOf(system, 'production').products.push({ product: 'www', imageTag: 'main-1234567' });
    });
    expect(() => new SynthesizedSystem(www)).toThrow(/product "www", field "services.landing.subdomain": got "www".*zone-wide record/);
  });

  it('refuse two environments with one domain prefix on the shared zone', () => {
    const clash = variant(manacore, (system) => {
      environmentOf(system, 'staging').domainPrefix = '';
    });
    expect(() => new SynthesizedSystem(clash)).toThrow(/environment "production", field "domainPrefix": got "".*same DNS names/);
  });
});

describe('name checks', () => {
  const zone = 'example.com';

  it('accepts one label below the zone, proxied or not', () => {
    expect(hostnameProblems({ zone, name: 'staging-app-chat.example.com', proxied: true })).toEqual([]);
    expect(hostnameProblems({ zone, name: '*.example.com', proxied: true })).toEqual([]);
  });

  it('rejects a proxied name two labels deep, naming the flat alternative', () => {
    expect(hostnameProblems({ zone, name: 'app.chat.example.com', proxied: true }).join()).toMatch(
      /universal certificate covers example.com and \*.example.com only.*"app-chat.example.com"/,
    );
    expect(hostnameProblems({ zone, name: 'app.chat.example.com', proxied: false })).toEqual([]);
  });

  it('rejects labels over 63 characters and names outside the zone', () => {
    expect(hostnameProblems({ zone, name: `${'a'.repeat(64)}.example.com`, proxied: false }).join()).toMatch(/has 64 characters; a DNS label has at most 63/);
    expect(hostnameProblems({ zone, name: 'chat.example.org', proxied: false }).join()).toMatch(/is not in zone example.com/);
  });

  it('fails synth when the catalog yields a label over 63 characters', () => {
    const long = variant(manacore, (system) => {
      environmentOf(system, 'staging').domainPrefix = `${'s'.repeat(52)}-`;
    });
    expect(() => new SynthesizedSystem(long)).toThrow(/at most 63 characters/);
  });

  it('AddressRecords refuses a deep proxied name and a TTL on a proxied record', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const zone = new CloudflareZone(stack, 'zone', { name: 'example.com', zoneId: '0123456789abcdef0123456789abcdef' });
    const common = { zone, ipv4: '192.0.2.1', managedBy: 'test' };
    expect(() => new AddressRecords(stack, 'deep', { ...common, name: 'a.b.example.com', proxied: true })).toThrow(/AddressRecords deep: .*universal certificate/);
    expect(() => new AddressRecords(stack, 'ttl', { ...common, name: 'a.example.com', proxied: true, ttlSeconds: 300 })).toThrow(/proxied record's TTL is automatic/);
    expect(() => new AddressRecords(stack, 'short', { ...common, name: 'a.example.com', proxied: false, ttlSeconds: 30 })).toThrow(/from 60 to 86400/);
  });

  it('CnameRecord refuses the apex and CloudflareZone a malformed id', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const zone = new CloudflareZone(stack, 'zone', { name: 'example.com', zoneId: '0123456789abcdef0123456789abcdef' });
    expect(() => new CnameRecord(stack, 'apex', { zone, name: 'example.com', target: 'other.example.net', proxied: true, managedBy: 'test' })).toThrow(/apex cannot be a CNAME/);
    expect(() => new CloudflareZone(stack, 'bad', { name: 'example.com', zoneId: 'ZONE' })).toThrow(/32 lowercase hex digits/);
  });

  it('AddressRecords omits AAAA without an IPv6 address', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const zone = new CloudflareZone(stack, 'zone', { name: 'example.com', zoneId: '0123456789abcdef0123456789abcdef' });
    new AddressRecords(stack, 'v4', { zone, name: 'v4.example.com', ipv4: '192.0.2.1', proxied: false, managedBy: 'test' });
    expect(Object.keys(resources(synthStack(stack), 'cloudflare_dns_record'))).toEqual(['v4-a']);
  });
});
