/**
 * The Manacore product catalog: the union of the source documents' service
 * matrices (seeds 000 and 002). Adding a product is adding one entry here and
 * listing it in the environments that run it.
 */
import type { ProductSpec, ServiceSpec } from '../index';

/** The auth service every backend calls (`MANA_CORE_AUTH_URL`). */
export const AUTH_PRODUCT = 'mana-core-auth';

interface StandardProduct {
  /** Port of the NestJS backend; omit for products without one. */
  readonly backendPort?: number;
  readonly web?: boolean;
  readonly landing?: boolean;
  readonly mobile?: boolean;
  /** Secret variables of the backend beyond the shared wiring. */
  readonly backendSecrets?: readonly string[];
  /** Smoke checks of the web app: it is then released through slots (docs/releasing.md). @default - none: its container is swapped by the apply */
  readonly webSmoke?: ServiceSpec['smoke'];
}

/**
 * The smoke checks a SvelteKit web app passes before it gets traffic (docs/releasing.md), released through slots: the root page renders (wget, the web kind's health client, follows a redirect, e.g. to a login page, and
 * judges the final answer), and the client build is in the image: SvelteKit's Vite plugin emits
 * `<appDir>/version.json` in every client build (sveltejs/kit packages/kit/src/exports/vite/index.js,
 * generateBundle; appDir defaults to `_app`, which these apps keep) and adapter-node serves it from the build.
 */
const WEB_SMOKE = {
  home: { http: { path: '/' } },
  'client-build': { http: { path: '/_app/version.json', bodyContains: 'version' } },
} as const satisfies ServiceSpec['smoke'];

/**
 * Seed 001's deploy flow: the backends' Drizzle migrations (`pnpm migration:run`, forward-compatible only) run
 * before the new version starts.
 */
const MIGRATE = { migrate: { command: ['pnpm', 'migration:run'] } } as const;

/** The shape most Manacore products share: NestJS backend, SvelteKit web, Astro landing, Expo OTA. */
function standardProduct(name: string, parts: StandardProduct): ProductSpec {
  const services: ServiceSpec[] = [];
  if (parts.backendPort !== undefined) {
    services.push({
      name: 'backend',
      kind: 'api',
      port: parts.backendPort,
      environment: { NODE_ENV: 'production', PORT: String(parts.backendPort) },
      secrets: parts.backendSecrets,
      uses: ['postgres', 'redis'],
      links: { MANA_CORE_AUTH_URL: `${AUTH_PRODUCT}/backend` },
      tasks: MIGRATE,
    });
  }
  if (parts.web) {
    services.push({
      name: 'web',
      kind: 'web',
      environment: { NODE_ENV: 'production', PORT: '3000', HOST: '0.0.0.0' },
      // SvelteKit exposes PUBLIC_* to the browser, so these are public URLs.
      publicUrls: {
        ...(parts.backendPort !== undefined ? { PUBLIC_BACKEND_URL: 'backend' } : {}),
        PUBLIC_MANA_CORE_AUTH_URL: `${AUTH_PRODUCT}/backend`,
      },
      ...(parts.webSmoke === undefined ? {} : { smoke: parts.webSmoke }),
    });
  }
  if (parts.landing) services.push({ name: 'landing', kind: 'landing' });
  if (parts.mobile) services.push({ name: 'mobile', kind: 'mobile' });
  return { name, services };
}

export const MANACORE_PRODUCTS: readonly ProductSpec[] = [
  {
    name: AUTH_PRODUCT,
    services: [
      {
        name: 'backend',
        kind: 'api',
        port: 3001,
        subdomain: 'auth',
        environment: { NODE_ENV: 'production', PORT: '3001' },
        secrets: ['JWT_PRIVATE_KEY'],
        uses: ['postgres', 'redis'],
        tasks: MIGRATE,
      },
    ],
  },
  standardProduct('chat', { backendPort: 3002, web: true, landing: true, mobile: true, backendSecrets: ['AZURE_OPENAI_API_KEY'] }),
  standardProduct('maerchenzauber', { backendPort: 3003, web: true, landing: true, mobile: true, backendSecrets: ['AZURE_OPENAI_API_KEY'] }),
  standardProduct('manadeck', { backendPort: 3004, web: true, landing: true, mobile: true }),
  standardProduct('memoro', { web: true, landing: true, mobile: true }),
  // The hub's web app goes through the release steps (smoke checks; production's canary). The other web apps can
  // opt in the same way; all eleven at once over-commit staging's ccx33 during releases (docs/releasing.md).
  standardProduct('manacore', { web: true, landing: true, mobile: true, webSmoke: WEB_SMOKE }),
  standardProduct('picture', { backendPort: 3005, web: true, landing: true, mobile: true }),
  standardProduct('uload', { backendPort: 3006, web: true, landing: true }),
  standardProduct('nutriphi', { backendPort: 3007, web: true, landing: true, mobile: true }),
  standardProduct('news', { backendPort: 3008, web: true, landing: true }),
  // The sources give wisekeep and quote a backend but no port; 3009 and 3010 continue the sequence.
  standardProduct('wisekeep', { backendPort: 3009, web: true, landing: true, mobile: true }),
  standardProduct('quote', { backendPort: 3010, web: true, landing: true, mobile: true }),
  standardProduct('bauntown', { landing: true }),
];
