/**
 * A public route through the edge proxy, expressed as the container labels
 * Traefik reads. Every label is derived from the stable service id, never from
 * the image tag, so two versions of one service carry identical routing
 * labels: during a create-before-destroy swap Traefik merges both containers
 * into one service and sends traffic to whichever is healthy.
 */

import { splitRouterName, splitServiceName, versionServiceName, type ReleaseSlot } from './traffic-split';

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

/**
 * TLS options (defined by the edge proxy's file provider) that require
 * Cloudflare's origin-pull client certificate: proxied routes use them, so
 * nobody reaches those routes except through Cloudflare.
 */
export const ORIGIN_PULL_TLS_OPTIONS = 'cloudflare-origin-pull@file';

/** The request header apps read the visitor's address from. */
/**
 * Service label naming the network Traefik's Swarm provider reaches a service's tasks on, when they join several
 * (Traefik docs, "Traefik & Docker Swarm", `traefik.swarm.network`).
 */
export const TRAEFIK_SWARM_NETWORK_LABEL = 'traefik.swarm.network';

export const CLIENT_IP_HEADER_VARIABLE = 'CLIENT_IP_HEADER';

/** The zone-wide certificate a route is served with: `main` (the zone) and its wildcard. */
export interface WildcardCertificate {
  /** The zone apex (`manacore.app`). */
  readonly zone: string;
}

export interface EdgeRouteProps {
  /** Router, service and middleware name: the service's stable id (`chat-backend`), never a version. */
  readonly name: string;
  /** Fully qualified domain the route answers (`api-chat.manacore.app`). */
  readonly domain: string;
  /** Port the container listens on. */
  readonly port: number;
  /** Per-client request budget. @default - no rate limit */
  readonly rateLimit?: RateLimit;
  /**
   * Behind Cloudflare's proxy: the route requires Cloudflare's origin-pull
   * client certificate (ORIGIN_PULL_TLS_OPTIONS), so `CF-Connecting-IP`
   * (which Cloudflare sets, replacing any a client sent) is the visitor's
   * address. Unproxied routes strip that header instead, so no client can
   * pose as Cloudflare.
   * @default false
   */
  readonly proxied?: boolean;
  /** Serve the zone's wildcard certificate instead of ordering one for this name. @default - a certificate of its own */
  readonly certificate?: WildcardCertificate;
  /** Further names answered by this route (the apex); `redirects` are sent to `domain` with a permanent redirect. @default - none */
  readonly aliases?: readonly string[];
  /** Names redirected permanently to `https://<domain>` (`www.<apex>`). @default - none */
  readonly redirects?: readonly string[];
  /**
   * The release slot of the container carrying these labels, when the
   * route's traffic is split between two versions (traffic-split.ts): the
   * router sends to the split (`<name>@file`) and the container is the
   * version service `<name>-<slot>`, not the route's service.
   * @default - not split: the router sends to `<name>`, which every container of the service joins
   */
  readonly splitSlot?: ReleaseSlot;
}

/** One route through the edge proxy: HTTPS on one domain to one port, with security headers. */
export class EdgeRoute {
  public constructor(public readonly props: EdgeRouteProps) {
    const { name, domain, port, rateLimit } = props;
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
      throw new Error(`EdgeRoute: name must be lowercase letters, digits and "-" (it names Traefik routers); got "${name}"`);
    }
    for (const host of [domain, ...(props.aliases ?? []), ...(props.redirects ?? [])]) {
      if (!/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/.test(host)) {
        throw new Error(`EdgeRoute ${name}: domain must be a lowercase DNS name; got "${host}"`);
      }
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
    const { name, rateLimit, redirects } = this.props;
    return [
      ...(redirects?.length ? [`${name}-redirect`] : []),
      ...(rateLimit === undefined ? [] : [`${name}-ratelimit`]),
      `${name}-headers`,
    ];
  }

  /** The Traefik labels of the route; the proxy only reads containers carrying `traefik.enable=true`. */
  public toLabels(): Record<string, string> {
    const { name, domain, port, rateLimit, proxied, certificate, aliases, redirects, splitSlot } = this.props;
    // A split route's router has a name of its own: while a service moves to slots, its pre-slot container still
    // defines `<name>` routing to `<name>`, and two containers defining one router differently drop it
    // (provider/configuration.go, Merge); two routers with one rule both stay, either serving.
    const router = `traefik.http.routers.${splitSlot === undefined ? name : splitRouterName(name)}`;
    const names = [domain, ...(aliases ?? []), ...(redirects ?? [])];
    const labels: Record<string, string> = {
      'traefik.enable': 'true',
      [`${router}.rule`]: names.map((host) => `Host(\`${host}\`)`).join(' || '),
      [`${router}.entrypoints`]: HTTPS_ENTRYPOINT,
      [`${router}.tls.certresolver`]: CERT_RESOLVER,
      [`${router}.service`]: splitSlot === undefined ? name : splitServiceName(name),
      [`${router}.middlewares`]: this.middlewares.join(','),
      [`traefik.http.services.${splitSlot === undefined ? name : versionServiceName(name, splitSlot)}.loadbalancer.server.port`]: String(port),
    };
    if (certificate !== undefined) {
      // One order per zone: Traefik requests the tls.domains set once, whichever routers name it
      // (doc.traefik.io, "Routers: tls.domains"; Let's Encrypt allows wildcards only over DNS-01).
      labels[`${router}.tls.domains[0].main`] = certificate.zone;
      labels[`${router}.tls.domains[0].sans`] = `*.${certificate.zone}`;
    }
    if (proxied) labels[`${router}.tls.options`] = ORIGIN_PULL_TLS_OPTIONS;
    for (const [option, value] of Object.entries(SECURITY_HEADERS)) {
      labels[`traefik.http.middlewares.${name}-headers.headers.${option}`] = value;
    }
    if (!proxied) {
      // An empty value removes the header (Traefik headers middleware, customRequestHeaders).
      labels[`traefik.http.middlewares.${name}-headers.headers.customrequestheaders.CF-Connecting-IP`] = '';
    }
    if (redirects?.length) {
      const escaped = redirects.map((host) => host.replace(/\./g, '\\.')).join('|');
      labels[`traefik.http.middlewares.${name}-redirect.redirectregex.regex`] = `^https?://(${escaped})/(.*)`;
      labels[`traefik.http.middlewares.${name}-redirect.redirectregex.replacement`] = `https://${domain}/$2`;
      labels[`traefik.http.middlewares.${name}-redirect.redirectregex.permanent`] = 'true';
    }
    if (rateLimit !== undefined) {
      labels[`traefik.http.middlewares.${name}-ratelimit.ratelimit.average`] = String(rateLimit.averagePerSecond);
      labels[`traefik.http.middlewares.${name}-ratelimit.ratelimit.burst`] = String(rateLimit.burst);
      labels[`traefik.http.middlewares.${name}-ratelimit.ratelimit.period`] = '1s';
    }
    return labels;
  }
}
