/** Release steps: a service's smoke checks (`smoke`) and an environment's canary and rollback window (`releases`). */
import type { HealthCheck } from '../../constructs/core/health-check';
import { engineOf } from '../defaults';
import type { EnvironmentSpec, ServiceSpec } from '../model';
import { CANARY_SHARE_RANGE, CANARY_WATCH_MINUTES_RANGE, MAX_SMOKE_TIMEOUT_SECONDS, ROLLBACK_WINDOW_MINUTES_RANGE } from '../releases';
import { NAME, type Report } from './shared';

const isCommand = (value: unknown): boolean => Array.isArray(value) && value.length > 0 && value.every((part) => typeof part === 'string' && part !== '');
const wholeIn = (value: unknown, min: number, max: number): boolean => typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

/**
 * Rules for `services.<name>.smoke`. `healthCheck` is the probe the service
 * runs (its own or its kind's): an HTTP smoke check uses the same HTTP client,
 * which that probe proves the image has. `port` is its main port, its own or its kind's.
 */
export function validateSmokeChecks(service: ServiceSpec, healthCheck: HealthCheck | undefined, port: number | undefined, report: Report, field: (name: string) => string): void {
  for (const [name, check] of Object.entries(service.smoke ?? {})) {
    const checkField = (key: string) => field(`smoke.${name}.${key}`);
    if (!NAME.test(name)) report({ field: field(`smoke.${name}`), value: name, allowed: 'lowercase letters, digits and "-" (it is part of the check\'s container name)' });
    if ((check.http === undefined) === (check.command === undefined)) {
      report({ field: field(`smoke.${name}`), value: check, allowed: 'exactly one of http ({ path, status, bodyContains }) or command (a list of strings)' });
      continue;
    }
    if (check.command !== undefined && !isCommand(check.command)) {
      report({ field: checkField('command'), value: check.command, allowed: 'a non-empty list of non-empty strings, such as ["node", "scripts/smoke.js"]' });
    }
    if (check.timeoutSeconds !== undefined && !wholeIn(check.timeoutSeconds, 1, MAX_SMOKE_TIMEOUT_SECONDS)) {
      report({ field: checkField('timeoutSeconds'), value: check.timeoutSeconds, allowed: `a whole number of seconds from 1 to ${MAX_SMOKE_TIMEOUT_SECONDS}` });
    }
    const http = check.http;
    if (http === undefined) continue;
    if (typeof http.path !== 'string' || !/^\/[^\s'"$`\\]*$/.test(http.path)) {
      report({ field: checkField('http.path'), value: http.path, allowed: 'a path starting with "/" without spaces, quotes, "$", "`" or backslashes' });
    }
    if (http.status !== undefined && !wholeIn(http.status, 100, 599)) report({ field: checkField('http.status'), value: http.status, allowed: 'an HTTP status code from 100 to 599' });
    if (http.bodyContains !== undefined && (typeof http.bodyContains !== 'string' || http.bodyContains === '' || /['"$`\\\n]/.test(http.bodyContains))) {
      report({ field: checkField('http.bodyContains'), value: http.bodyContains, allowed: 'non-empty text without quotes, "$", "`", backslashes or line breaks' });
    }
    const named = Object.keys(service.ports ?? {});
    if (http.port !== undefined && !named.includes(http.port)) {
      report({ field: checkField('http.port'), value: http.port, allowed: named.length > 0 ? named : 'a named port of the service (it declares none in ports)' });
    } else if (http.port === undefined && port === undefined && healthCheck?.httpRoute?.port === undefined) {
      report({ field: checkField('http'), value: http, allowed: 'a service with a port (or a named port in http.port)', why: 'an HTTP smoke check requests the new version\'s own port' });
    }
    if (healthCheck?.httpClient === undefined) {
      report({
        field: checkField('http'),
        value: http,
        allowed: 'a command check instead, or an HTTP health check (HealthCheck.http with its client)',
        why: 'an HTTP smoke check runs with the HTTP client the service\'s HTTP health check uses (wget, curl or node), the one tool known to be in the image; this service\'s health check is not HTTP',
      });
    }
  }
}

/** Rules for an environment's `releases`. */
export function validateReleasePolicy(environment: EnvironmentSpec, report: Report): void {
  const releases = environment.releases;
  if (releases === undefined) return;
  if (engineOf(environment) === 'swarm') {
    report({ field: 'releases', value: releases, allowed: 'no releases policy on a swarm (engine "swarm")', why: 'canary and rollback window run on plain containers only (docs/releasing.md, "On a swarm"); remove releases, or run the environment on engine "containers"' });
    return;
  }
  const window = releases.rollbackWindowMinutes;
  if (window !== undefined && !wholeIn(window, ROLLBACK_WINDOW_MINUTES_RANGE.min, ROLLBACK_WINDOW_MINUTES_RANGE.max)) {
    report({
      field: 'releases.rollbackWindowMinutes',
      value: window,
      allowed: `a whole number of minutes from ${ROLLBACK_WINDOW_MINUTES_RANGE.min} to ${ROLLBACK_WINDOW_MINUTES_RANGE.max} (a week)`,
      why: 'the previous version is kept on the host that long, its image and a stopped container',
    });
  }
  const canary = releases.canary;
  if (canary === undefined || canary === false) return;
  if (typeof canary !== 'object' || canary === null) {
    report({ field: 'releases.canary', value: canary, allowed: 'false, or { sharePercent, watchMinutes, maxErrorRatioIncreasePoints, maxLatencyRatio }' });
    return;
  }
  if (canary.sharePercent !== undefined && !wholeIn(canary.sharePercent, CANARY_SHARE_RANGE.min, CANARY_SHARE_RANGE.max)) {
    report({ field: 'releases.canary.sharePercent', value: canary.sharePercent, allowed: `a whole percent from ${CANARY_SHARE_RANGE.min} to ${CANARY_SHARE_RANGE.max}`, why: 'a canary is the smaller share; above half it is a switch' });
  }
  if (canary.watchMinutes !== undefined && !wholeIn(canary.watchMinutes, CANARY_WATCH_MINUTES_RANGE.min, CANARY_WATCH_MINUTES_RANGE.max)) {
    report({ field: 'releases.canary.watchMinutes', value: canary.watchMinutes, allowed: `a whole number of minutes from ${CANARY_WATCH_MINUTES_RANGE.min} to ${CANARY_WATCH_MINUTES_RANGE.max}` });
  }
  const points = canary.maxErrorRatioIncreasePoints;
  if (points !== undefined && !(typeof points === 'number' && points >= 0 && points <= 100)) {
    report({ field: 'releases.canary.maxErrorRatioIncreasePoints', value: points, allowed: 'percentage points from 0 to 100' });
  }
  const latency = canary.maxLatencyRatio;
  if (latency !== undefined && !(typeof latency === 'number' && latency >= 1 && latency <= 10)) {
    report({ field: 'releases.canary.maxLatencyRatio', value: latency, allowed: 'a number from 1 to 10 (times the old version\'s p95 latency)' });
  }
}
