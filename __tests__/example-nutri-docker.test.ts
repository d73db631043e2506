/**
 * Seed 003's Nutri, exactly as the fixture describes it: an Express API on
 * api.nutri.app and an internal FastAPI ML service that only the API reaches.
 */
import { nutri } from '../examples/nutri';
import { container, envOf, traefikLabels } from './helpers/docker';
import { SynthesizedSystem, resources, type TerraformJson } from './helpers/synth';

let product: TerraformJson;
let edge: TerraformJson;

beforeAll(() => {
  const app = new SynthesizedSystem(nutri);
  product = app.synth('production-nutri');
  edge = app.synth('production-edge');
});

describe('Nutri on Docker', () => {
  it("puts the ML service on its product's network only: no shared network reaches it", () => {
    expect(container(product, 'nutri-ml').networks_advanced).toEqual([{ name: '${docker_network.product-network.name}', aliases: ['nutri-ml', 'ml'] }]);
  });

  it('gives the ML service no route from the edge proxy', () => {
    expect(traefikLabels(container(product, 'nutri-ml'))).toEqual({});
    expect(container(product, 'nutri-ml').ports).toBeUndefined();
  });

  it('limits the ML service to 2 CPUs and 4096 MiB and probes /health on 8000', () => {
    expect(container(product, 'nutri-ml')).toMatchObject({ cpus: '2', memory: 4096, memory_swap: 4096 });
    expect(container(product, 'nutri-ml').healthcheck.test).toEqual(['CMD-SHELL', 'wget -q --spider http://127.0.0.1:8000/health || exit 1']);
  });

  it('routes the API on api.nutri.app and lets it reach the ML service by name', () => {
    expect(traefikLabels(container(product, 'nutri-api'))['traefik.http.routers.nutri-api.rule']).toBe('Host(`api.nutri.app`)');
    expect(envOf(container(product, 'nutri-api')).ML_SERVICE_URL).toBe('http://ml:8000');
  });

  it('takes Supabase and Upstash connection strings from sensitive variables', () => {
    expect(envOf(container(product, 'nutri-api'))).toMatchObject({ DATABASE_URL: '${var.database_url}', REDIS_URL: '${var.redis_url}' });
    expect(product.variable?.database_url.description).toContain('supabase');
    expect(product.variable?.redis_url.description).toContain('upstash');
  });

  it('runs one edge proxy with the Nutri ACME e-mail and Nutri-named networks', () => {
    expect(container(edge, 'app-1-edge-proxy').command).toContain('--certificatesResolvers.letsencrypt.acme.email=ops@nutri.app');
    expect(Object.values(resources(edge, 'docker_network')).map((network: any) => network.name).sort()).toEqual(['nutri-backend', 'nutri-data', 'nutri-docker-api', 'nutri-frontend']);
  });
});
