/**
 * A public route through the edge proxy, expressed as the container labels
 * Traefik reads. Every label is derived from the stable service id, never from
 * the image tag, so two versions of one service carry identical routing
 * labels: during a create-before-destroy swap Traefik merges both containers
 * into one service and sends traffic to whichever is healthy.
 */

/** Entry point of plain HTTP (published on host port 80); it only redirects and answers ACME challenges. */
export const HTTP_ENTRYPOINT = 'web';
/** Entry point of HTTPS (published on host port 443); every route lives here. */
export const HTTPS_ENTRYPOINT = 'websecure';
/** The Let's Encrypt certificate resolver of the edge proxy. */
export const CERT_RESOLVER = 'letsencrypt';

/** A per-client request budget (Traefik's token bucket, keyed by client IP). */
export interface RateLimit {
  /** Sustained requests per second per client. */
  readonly averagePerSecond: number;
  /** Requests a client may burst above the average. */
  readonly burst: number;
}

/**
 * What every API route allows a single client. APIs are not behind
 * Cloudflare's proxy, so the client IP is the caller's own; web and landing
 * are, and would share Cloudflare's IPs, so they get no per-IP limit here.
 */
export const API_RATE_LIMIT: RateLimit = { averagePerSecond: 50, burst: 100 };

/** Browser security headers on every route (Traefik `headers` middleware options). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  // HSTS for a year, subdomains included, eligible for the browsers' preload list.
  stsSeconds: '31536000',
  stsIncludeSubdomains: 'true',
  stsPreload: 'true',
  customFrameOptionsValue: 'SAMEORIGIN',
  contentTypeNosniff: 'true',
  referrerPolicy: 'strict-origin-when-cross-origin',
};

export interface EdgeRouteProps {
  /** Router, service and middleware name: the service's stable id (`chat-backend`), never a version. */
  readonly name: string;
  /** Fully qualified domain the route answers (`api-chat.manacore.app`). */
  readonly domain: string;
  /** Port the container listens on. */
  readonly port: number;
  /** Per-client request budget. @default - no rate limit */
  readonly rateLimit?: RateLimit;
}

/** One route through the edge proxy: HTTPS on one domain to one port, with security headers. */
export class EdgeRoute {
  public constructor(public readonly props: EdgeRouteProps) {
    const { name, domain, port, rateLimit } = props;
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
      throw new Error(`EdgeRoute: name must be lowercase letters, digits and "-" (it names Traefik routers); got "${name}"`);
    }
    if (!/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/.test(domain)) {
      throw new Error(`EdgeRoute ${name}: domain must be a lowercase DNS name; got "${domain}"`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`EdgeRoute ${name}: port must be a whole number from 1 to 65535; got ${port}`);
    }
    if (rateLimit !== undefined) {
      for (const [field, value] of Object.entries(rateLimit)) {
        if (!Number.isInteger(value) || value < 1) throw new Error(`EdgeRoute ${name}: rateLimit.${field} must be a whole number >= 1; got ${value}`);
      }
    }
  }

  /** Names of the middlewares the router applies, in order. */
  public get middlewares(): string[] {
    const { name, rateLimit } = this.props;
    return rateLimit === undefined ? [`${name}-headers`] : [`${name}-ratelimit`, `${name}-headers`];
  }

  /** The Traefik labels of the route; the proxy only reads containers carrying `traefik.enable=true`. */
  public toLabels(): Record<string, string> {
    const { name, domain, port, rateLimit } = this.props;
    const router = `traefik.http.routers.${name}`;
    const labels: Record<string, string> = {
      'traefik.enable': 'true',
      [`${router}.rule`]: `Host(\`${domain}\`)`,
      [`${router}.entrypoints`]: HTTPS_ENTRYPOINT,
      [`${router}.tls.certresolver`]: CERT_RESOLVER,
      [`${router}.service`]: name,
      [`${router}.middlewares`]: this.middlewares.join(','),
      [`traefik.http.services.${name}.loadbalancer.server.port`]: String(port),
    };
    for (const [option, value] of Object.entries(SECURITY_HEADERS)) {
      labels[`traefik.http.middlewares.${name}-headers.headers.${option}`] = value;
    }
    if (rateLimit !== undefined) {
      labels[`traefik.http.middlewares.${name}-ratelimit.ratelimit.average`] = String(rateLimit.averagePerSecond);
      labels[`traefik.http.middlewares.${name}-ratelimit.ratelimit.burst`] = String(rateLimit.burst);
      labels[`traefik.http.middlewares.${name}-ratelimit.ratelimit.period`] = '1s';
    }
    return labels;
  }
}
