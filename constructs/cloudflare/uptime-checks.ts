import { Healthcheck } from '@cdktf/provider-cloudflare/lib/healthcheck';
import { Construct } from 'constructs';
import type { CloudflareZone } from './zone';

/** One public name checked from Cloudflare's edge. */
export interface UptimeTarget {
  /** Check name: letters, digits, "-" and "_" (Cloudflare's rule for health check names). */
  readonly name: string;
  /** Public DNS name. */
  readonly domain: string;
  /** Path answering 2xx while healthy. */
  readonly path: string;
}

export interface UptimeChecksProps {
  readonly zone: CloudflareZone;
  readonly targets: readonly UptimeTarget[];
  /** Seconds between checks; the source documents check every 5 minutes (seed 003, 5.3). @default 300 */
  readonly intervalSeconds?: number;
  /** Stack managing the checks, in their description. */
  readonly managedBy: string;
}

/**
 * Cloudflare standalone health checks (`cloudflare_healthcheck`, provider
 * 5.x schema: zone_id, name, address, type, http_config.{path, port,
 * expected_codes, header}), one per public name, from outside every host: a
 * host that is down entirely still shows as unhealthy. Their notifications
 * are set up in Cloudflare's dashboard (Notifications > Health Checks).
 */
export class UptimeChecks extends Construct {
  public readonly checks: readonly Healthcheck[];

  public constructor(scope: Construct, id: string, props: UptimeChecksProps) {
    super(scope, id);
    const interval = props.intervalSeconds ?? 300;
    if (!Number.isInteger(interval) || interval < 5 || interval > 3600) {
      throw new Error(`UptimeChecks ${id}: intervalSeconds must be a whole number from 5 to 3600; got ${interval}`);
    }
    const names = new Set<string>();
    this.checks = props.targets.map((target) => {
      if (!/^[A-Za-z0-9_-]+$/.test(target.name) || names.has(target.name)) {
        throw new Error(`UptimeChecks ${id}: check name "${target.name}" must be unique and use letters, digits, "-" and "_" only`);
      }
      names.add(target.name);
      const check = new Healthcheck(this, target.name, {
        zoneId: props.zone.zoneId,
        name: target.name,
        description: `${target.domain}${target.path}; managed by cdktf stack ${props.managedBy}`,
        address: target.domain,
        type: 'HTTPS',
        interval,
        retries: 2,
        timeout: 10,
        consecutiveFails: 2,
        consecutiveSuccesses: 1,
        checkRegions: ['WEU', 'EEU'],
        httpConfig: { method: 'GET', path: target.path, port: 443, expectedCodes: ['200'], followRedirects: false, header: { Host: [target.domain] } },
      });
      check.overrideLogicalId(`uptime-${target.name}`);
      return check;
    });
  }
}
