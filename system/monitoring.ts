/**
 * The environment's observability: what may be declared (`MonitoringSettings`),
 * its defaults from the source documents, the rules it must satisfy, and its
 * resolution into the facts the monitoring stack and capacity planning read.
 */
import type { ConfigurationIssue } from '../constructs/core/configuration-error';
import type { CloudflarePlan } from '../constructs/cloudflare/plans';
import { DEFAULT_ALERT_THRESHOLDS, type AlertSeverity, type AlertThresholds } from '../constructs/monitoring/alert-rules';
import type { AlertReceiverKind } from '../constructs/monitoring/alertmanager-config';
import { COLLECTOR_PARTS, MONITORING_RESOURCES, SERVER_PARTS } from '../constructs/monitoring/resources';
import type { ResourceSpec } from '../constructs/core/resources';

export type { AlertSeverity, AlertThresholds };

/** Where an alert is delivered; its secret is a sensitive variable of the monitoring stack. */
export interface AlertReceiverSpec {
  /** Name, unique in the environment (`oncall`, `ops-channel`); lowercase letters, digits and "-". */
  readonly name: string;
  /** `pagerduty` (an Events API v2 routing key) or `slack` (an incoming webhook URL). */
  readonly kind: AlertReceiverKind;
  /** Slack channel (`#alerts`). @default - the webhook's own channel */
  readonly channel?: string;
}

/** Alerts of one severity go to a receiver. */
export interface AlertRouteSpec {
  readonly severity: AlertSeverity;
  /** Name of one of the environment's receivers. */
  readonly receiver: string;
}

/** How public names are checked from outside the hosts. */
export type UptimeSettings =
  /** Cloudflare standalone health checks, one per public name (zone plans Pro and up). */
  | { readonly mode: 'cloudflare' }
  /** A monitor outside this project (Better Stack, UptimeRobot): the stack outputs the URLs it must check. */
  | { readonly mode: 'external'; readonly monitor: string };

export interface MonitoringSettings {
  /**
   * Host the monitoring server (Prometheus, Alertmanager, Loki, Grafana) runs
   * on; declare a host of its own in `hosts` (the source documents plan a
   * CX32) and name it here. Collectors run on every host regardless.
   * @default - the data host on a swarm (the environment's Docker endpoint), else the first host
   */
  readonly host?: string;
  /** Size of the volume holding metrics, logs and Grafana's database, in GiB (10 to 10240). @default 40 */
  readonly volumeSizeGiB?: number;
  /** How long data is kept. */
  readonly retention?: {
    /** Days logs stay searchable in Loki. @default 7 (seed 002: "7 days online (searchable)") */
    readonly logsDays?: number;
    /** Days Prometheus keeps metrics. @default 15 (Prometheus's own default) */
    readonly metricsDays?: number;
  };
  /**
   * What the environment writes per day, stored (after compression): with the
   * retention it must fit the volume.
   */
  readonly ingest?: {
    /** @default 2 */
    readonly logsGiBPerDay?: number;
    /** @default 0.5 */
    readonly metricsGiBPerDay?: number;
  };
  /** Alert thresholds over the source documents' (see AlertThresholds). @default - the documents' */
  readonly alerts?: Partial<AlertThresholds>;
  /** Receivers of alerts. @default - none (a synth warning; an error in production) */
  readonly receivers?: readonly AlertReceiverSpec[];
  /**
   * Which severity goes where.
   * @default - critical to every PagerDuty receiver, critical and warning to every Slack receiver (seed 002: "Slack (all alerts), PagerDuty (critical alerts only)")
   */
  readonly routes?: readonly AlertRouteSpec[];
  /**
   * External uptime checks of every public name.
   * @default - Cloudflare health checks where the zone's plan offers them; on a Free zone none (a synth warning)
   */
  readonly uptime?: UptimeSettings;
  /** First DNS label of Grafana's name. @default 'grafana' */
  readonly subdomain?: string;
}

/** Defaults of `MonitoringSettings`, from the source documents where they give one. */
export const MONITORING_DEFAULTS = {
  volumeSizeGiB: 40,
  logsDays: 7,
  metricsDays: 15,
  logsGiBPerDay: 2,
  metricsGiBPerDay: 0.5,
  subdomain: 'grafana',
  /** Seed 000's scrape config: every 30 seconds. */
  scrapeIntervalSeconds: 30,
  /** Room for compaction, the WAL and Grafana's database: data may fill this share of the volume. */
  usableVolumeShare: 0.8,
} as const;

/** Cloudflare health checks are refused on Free zones (API planAvailability: free false, pro/business/enterprise true). */
const HEALTH_CHECK_PLANS: readonly CloudflarePlan[] = ['pro', 'business', 'enterprise'];

const SEVERITIES: readonly AlertSeverity[] = ['critical', 'warning'];
const RECEIVER_KINDS: readonly AlertReceiverKind[] = ['pagerduty', 'slack'];
const NAME = /^[a-z][a-z0-9-]*[a-z0-9]$/;

type Report = (issue: Omit<ConfigurationIssue, 'environment'>) => void;

/** Days of data that fit: what the retention needs against what the volume offers. */
export function monitoringStorage(settings: MonitoringSettings | undefined): { neededGiB: number; usableGiB: number; metricsGiB: number } {
  const d = MONITORING_DEFAULTS;
  const logs = (settings?.retention?.logsDays ?? d.logsDays) * (settings?.ingest?.logsGiBPerDay ?? d.logsGiBPerDay);
  const metrics = (settings?.retention?.metricsDays ?? d.metricsDays) * (settings?.ingest?.metricsGiBPerDay ?? d.metricsGiBPerDay);
  const usable = (settings?.volumeSizeGiB ?? d.volumeSizeGiB) * d.usableVolumeShare;
  const round = (n: number) => Math.round(n * 10) / 10;
  return { neededGiB: round(logs + metrics), usableGiB: round(usable), metricsGiB: Math.max(1, Math.floor(usable - logs)) };
}

/** Every rule of an environment's `monitoring`; `hosts` are the environment's host names. */
export function validateMonitoring(settings: MonitoringSettings | undefined, context: { hosts: readonly string[]; plan: CloudflarePlan }, report: Report): void {
  if (settings === undefined) return;
  const field = (name: string) => `monitoring.${name}`;
  if (settings.host !== undefined && !context.hosts.includes(settings.host)) {
    report({ field: field('host'), value: settings.host, allowed: context.hosts });
  }
  const size = settings.volumeSizeGiB;
  if (size !== undefined && (!Number.isInteger(size) || size < 10 || size > 10240)) {
    report({ field: field('volumeSizeGiB'), value: size, allowed: 'a whole number of GiB from 10 to 10240 (Hetzner volume sizes)' });
  }
  for (const key of ['logsDays', 'metricsDays'] as const) {
    const days = settings.retention?.[key];
    if (days !== undefined && (!Number.isInteger(days) || days < 1)) report({ field: field(`retention.${key}`), value: days, allowed: 'a whole number of days, at least 1' });
  }
  for (const key of ['logsGiBPerDay', 'metricsGiBPerDay'] as const) {
    const rate = settings.ingest?.[key];
    if (rate !== undefined && !(rate > 0)) report({ field: field(`ingest.${key}`), value: rate, allowed: 'a positive number of GiB per day' });
  }
  const storage = monitoringStorage(settings);
  if (Number.isFinite(storage.neededGiB) && storage.neededGiB > storage.usableGiB) {
    const d = MONITORING_DEFAULTS;
    report({
      field: field('retention'),
      value: settings.retention ?? {},
      allowed: `a retention that fits the volume: logs ${settings.retention?.logsDays ?? d.logsDays} days x ${settings.ingest?.logsGiBPerDay ?? d.logsGiBPerDay} GiB/day + metrics ${settings.retention?.metricsDays ?? d.metricsDays} days x ${settings.ingest?.metricsGiBPerDay ?? d.metricsGiBPerDay} GiB/day = ${storage.neededGiB} GiB, but ${settings.volumeSizeGiB ?? d.volumeSizeGiB} GiB holds ${storage.usableGiB} GiB of data`,
      why: `${Math.round((1 - d.usableVolumeShare) * 100)}% of the volume stays free for compaction and write-ahead logs; shorten the retention or raise monitoring.volumeSizeGiB`,
    });
  }
  for (const [key, value] of Object.entries(settings.alerts ?? {})) {
    // Unknown keys are known-keys.ts's to report, with a suggestion.
    if (!(key in DEFAULT_ALERT_THRESHOLDS)) continue;
    if (typeof value !== 'number' || !(value > 0) || (key.endsWith('Percent') && value > 100)) {
      report({ field: field(`alerts.${key}`), value, allowed: key.endsWith('Percent') ? 'a number above 0 and at most 100' : 'a positive number' });
    }
  }
  const receivers = settings.receivers ?? [];
  const names = new Set<string>();
  receivers.forEach((receiver, index) => {
    const at = field(`receivers[${index}]`);
    if (!NAME.test(receiver.name) || names.has(receiver.name)) report({ field: `${at}.name`, value: receiver.name, allowed: 'a unique name of lowercase letters, digits and "-"' });
    names.add(receiver.name);
    if (!RECEIVER_KINDS.includes(receiver.kind)) report({ field: `${at}.kind`, value: receiver.kind, allowed: RECEIVER_KINDS });
    if (receiver.channel !== undefined && receiver.kind !== 'slack') report({ field: `${at}.channel`, value: receiver.channel, allowed: 'nothing (only Slack receivers have a channel)' });
  });
  (settings.routes ?? []).forEach((route, index) => {
    const at = field(`routes[${index}]`);
    if (!SEVERITIES.includes(route.severity)) report({ field: `${at}.severity`, value: route.severity, allowed: SEVERITIES });
    if (!names.has(route.receiver)) {
      report({
        field: `${at}.receiver`,
        value: route.receiver,
        allowed: names.size > 0 ? [...names] : 'the name of a receiver declared in monitoring.receivers (there are none)',
        why: 'a route without a receiver would drop its alerts silently',
      });
    }
  });
  const uptime = settings.uptime;
  if (uptime !== undefined) {
    if (uptime.mode !== 'cloudflare' && uptime.mode !== 'external') {
      report({ field: field('uptime.mode'), value: (uptime as { mode: unknown }).mode, allowed: ['cloudflare', 'external'] });
    } else if (uptime.mode === 'external' && !(typeof uptime.monitor === 'string' && uptime.monitor.trim() !== '')) {
      report({ field: field('uptime.monitor'), value: uptime.monitor, allowed: 'the name of the external monitor (better-stack, uptimerobot)' });
    } else if (uptime.mode === 'cloudflare' && !HEALTH_CHECK_PLANS.includes(context.plan)) {
      report({
        field: field('uptime.mode'),
        value: uptime.mode,
        allowed: `"external" on a ${context.plan} zone`,
        why: `Cloudflare offers standalone health checks on ${HEALTH_CHECK_PLANS.join(', ')} zones only`,
      });
    }
  }
  if (settings.subdomain !== undefined && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(settings.subdomain)) {
    report({ field: field('subdomain'), value: settings.subdomain, allowed: 'one lowercase DNS label' });
  }
}

/** A receiver with the Terraform variable holding its secret. */
export interface ResolvedAlertReceiver extends AlertReceiverSpec {
  /** Sensitive variable of the monitoring stack: `alert_<kind>_<name>` (TF_VAR_...). */
  readonly variable: string;
}

/** An environment's monitoring, defaults filled in. */
export interface ResolvedMonitoring {
  /** Host of the monitoring server. */
  readonly host: string;
  /** Grafana's public name. */
  readonly grafanaDomain: string;
  readonly volumeSizeGiB: number;
  readonly logsDays: number;
  readonly metricsDays: number;
  /** Size cap of Prometheus's storage: what the volume leaves after the logs. */
  readonly metricsMaxGiB: number;
  readonly scrapeIntervalSeconds: number;
  readonly thresholds: AlertThresholds;
  readonly receivers: readonly ResolvedAlertReceiver[];
  readonly routes: readonly AlertRouteSpec[];
  /** `none`: a Free zone without a named external monitor (synth warns). */
  readonly uptime: UptimeSettings | { readonly mode: 'none' };
  /** Severities no route delivers: a warning at synth, an error in production. */
  readonly unroutedSeverities: readonly AlertSeverity[];
}

export function resolveMonitoring(
  settings: MonitoringSettings | undefined,
  context: { defaultHost: string; domain: (label: string) => string; plan: CloudflarePlan },
): ResolvedMonitoring {
  const d = MONITORING_DEFAULTS;
  const receivers = (settings?.receivers ?? []).map((receiver) => ({ ...receiver, variable: `alert_${receiver.kind}_${receiver.name.replace(/-/g, '_')}` }));
  const routes =
    settings?.routes ??
    receivers.flatMap((receiver): AlertRouteSpec[] =>
      receiver.kind === 'pagerduty'
        ? [{ severity: 'critical', receiver: receiver.name }]
        : [
            { severity: 'critical', receiver: receiver.name },
            { severity: 'warning', receiver: receiver.name },
          ],
    );
  return {
    host: settings?.host ?? context.defaultHost,
    grafanaDomain: context.domain(settings?.subdomain ?? d.subdomain),
    volumeSizeGiB: settings?.volumeSizeGiB ?? d.volumeSizeGiB,
    logsDays: settings?.retention?.logsDays ?? d.logsDays,
    metricsDays: settings?.retention?.metricsDays ?? d.metricsDays,
    metricsMaxGiB: monitoringStorage(settings).metricsGiB,
    scrapeIntervalSeconds: d.scrapeIntervalSeconds,
    thresholds: { ...DEFAULT_ALERT_THRESHOLDS, ...settings?.alerts },
    receivers,
    routes,
    uptime: settings?.uptime ?? (HEALTH_CHECK_PLANS.includes(context.plan) ? { mode: 'cloudflare' } : { mode: 'none' }),
    unroutedSeverities: SEVERITIES.filter((severity) => !routes.some((route) => route.severity === severity)),
  };
}

/**
 * What monitoring reserves on `host`: the server parts and the blackbox exporter on the monitoring host, the other
 * collectors on every host (on a swarm, services pinned to each node, scraped by the central Prometheus over the overlay).
 */
export function monitoringConsumers(monitoring: ResolvedMonitoring, host: string): Array<{ name: string; resources: ResourceSpec }> {
  const isServer = monitoring.host === host;
  const parts = [...(isServer ? SERVER_PARTS : []), ...COLLECTOR_PARTS.filter((part) => isServer || part !== 'blackbox')];
  return parts.map((part) => ({ name: `monitoring ${part}`, resources: MONITORING_RESOURCES[part] }));
}
