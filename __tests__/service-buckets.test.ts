/**
 * Object storage for a service: a service declares R2 buckets; the product
 * stack creates each (private unless it names a public subdomain, protected
 * in production) with an API token scoped to that bucket alone, and the
 * service receives endpoint, bucket name and S3 credentials as secrets:
 * access key id = the token's id, secret access key = SHA-256 of its value.
 * Shown on a variant of the Lexicon example.
 */
import { lexicon } from '../examples/lexicon';
import { R2_OBJECT_PERMISSIONS } from '../constructs/cloudflare/service-bucket';
import { issueLines } from './helpers/issues';
import { productOf, variant } from './helpers/spec';
import { resources, SynthesizedSystem, type TerraformJson } from './helpers/synth';

const withBuckets = variant(lexicon, (system) => {
  const services = productOf(system, 'lexicon').services;
  services.find((service) => service.name === 'web')!.buckets = [{ name: 'media', publicSubdomain: 'media-lexicon' }, { name: 'uploads', variablePrefix: 'UPLOADS_' }];
  services.find((service) => service.name === 'worker')!.buckets = [{ name: 'exports' }];
});

type Container = { env: string[] };
const env = (container: Container, name: string) => container.env.find((entry) => entry.startsWith(`${name}=`))?.slice(name.length + 1);

/** Production (two hosts) runs Swarm services: a service's variables as `NAME=value` entries, like a container's. */
const serviceOf = (name: string): Container => ({
  env: Object.entries(resources(production, 'docker_service')[`lexicon-${name}`].task_spec.container_spec.env as Record<string, string>).map(([key, value]) => `${key}=${value}`),
});

let production: TerraformJson;
let staging: TerraformJson;
beforeAll(() => {
  const app = new SynthesizedSystem(withBuckets);
  production = app.synth('production-lexicon');
  staging = app.synth('staging-lexicon');
});

describe('the bucket', () => {
  it('is created per environment under a name carrying system, environment and product, protected in production only', () => {
    const media = resources(production, 'cloudflare_r2_bucket')['lexicon-media-bucket'];
    expect(media).toMatchObject({ name: 'lexicon-production-lexicon-media', location: 'weur', lifecycle: { prevent_destroy: true } });
    expect(resources(staging, 'cloudflare_r2_bucket')['lexicon-media-bucket']).toMatchObject({ name: 'lexicon-staging-lexicon-media', lifecycle: { prevent_destroy: false } });
    expect(Object.keys(resources(production, 'cloudflare_r2_bucket')).sort()).toEqual(['lexicon-exports-bucket', 'lexicon-media-bucket', 'lexicon-uploads-bucket']);
  });

  it('is private unless it names a public subdomain, which gets an R2 custom domain', () => {
    const domains = resources(production, 'cloudflare_r2_custom_domain');
    expect(Object.keys(domains)).toEqual(['lexicon-media-bucket-domain']);
    expect(domains['lexicon-media-bucket-domain']).toMatchObject({ domain: 'media-lexicon.lexicon.dev', enabled: true, min_tls: '1.2' });
    expect(env(serviceOf('web'), 'S3_PUBLIC_URL')).toBe('https://media-lexicon.lexicon.dev');
  });
});

describe('its credentials', () => {
  it('come from a token that reads and writes objects of that one bucket and nothing else', () => {
    const token = resources(production, 'cloudflare_api_token')['lexicon-media-bucket-token'];
    expect(token.policies).toHaveLength(1);
    expect(JSON.parse(token.policies[0].resources)).toEqual({
      'com.cloudflare.edge.r2.bucket.${var.cloudflare_account_id}_default_${cloudflare_r2_bucket.lexicon-media-bucket.name}': '*',
    });
    const groups = token.policies[0].permission_groups.map((group: { id: string }) => group.id);
    expect(groups).toHaveLength(R2_OBJECT_PERMISSIONS.length);
    R2_OBJECT_PERMISSIONS.forEach((name, index) => expect(groups[index]).toContain(`group.name == "${name}" && contains(group.scopes, "com.cloudflare.edge.r2.bucket")`));
  });

  it('reach the service as secrets: the token id as access key, the SHA-256 of its value as secret key', () => {
    const web = serviceOf('web');
    expect(env(web, 'S3_ENDPOINT')).toBe('https://${var.cloudflare_account_id}.r2.cloudflarestorage.com');
    expect(env(web, 'S3_BUCKET')).toBe('${cloudflare_r2_bucket.lexicon-media-bucket.name}');
    expect(env(web, 'S3_ACCESS_KEY_ID')).toBe('${cloudflare_api_token.lexicon-media-bucket-token.id}');
    expect(env(web, 'S3_SECRET_ACCESS_KEY')).toBe('${sha256(cloudflare_api_token.lexicon-media-bucket-token.value)}');
    expect(env(web, 'S3_REGION')).toBe('auto');
    expect(env(web, 'UPLOADS_SECRET_ACCESS_KEY')).toBe('${sha256(cloudflare_api_token.lexicon-uploads-bucket-token.value)}');
  });

  it('reach only the service that declares the bucket', () => {
    const worker = serviceOf('worker');
    expect(env(worker, 'S3_ACCESS_KEY_ID')).toBe('${cloudflare_api_token.lexicon-exports-bucket-token.id}');
    expect(worker.env.join('\n')).not.toContain('lexicon-media-bucket');
    expect(serviceOf('scheduler').env.join('\n')).not.toContain('cloudflare_api_token');
  });
});

describe('validation', () => {
  it('asks for a variable prefix per bucket when a service has several', () => {
    const lines = issueLines(
      variant(lexicon, (system) => {
        productOf(system, 'lexicon').services.find((service) => service.name === 'web')!.buckets = [{ name: 'media' }, { name: 'uploads' }];
      }),
    );
    expect(lines).toEqual([
      'catalog, product "lexicon", field "services.web.buckets.uploads.variablePrefix": got "S3_"; allowed: UPPER_SNAKE_CASE ending in "_" (S3_, MEDIA_), one per bucket of the service: set it when a service has several buckets',
    ]);
  });

  it('refuses a bucket name used twice in the product, and one too long for R2 in some environment', () => {
    const lines = issueLines(
      variant(lexicon, (system) => {
        const services = productOf(system, 'lexicon').services;
        services.find((service) => service.name === 'web')!.buckets = [{ name: 'media' }];
        services.find((service) => service.name === 'worker')!.buckets = [{ name: 'media' }, { name: 'a'.repeat(40), variablePrefix: 'LONG_' }];
      }),
    );
    expect(lines).toEqual([
      expect.stringContaining('field "services.worker.buckets.media.name": got "media"; allowed: lowercase letters, digits and "-", unique within the product'),
      expect.stringContaining('within 63 characters (R2 bucket names are at most 63 characters)'),
    ]);
  });
});
