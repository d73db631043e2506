/** The environment's monitoring against its services and production's alert routing. */
import { MONITORING_DEFAULTS, resolveMonitoring, validateMonitoring } from '../monitoring';
import { type EnvironmentSpec, type SystemSpec } from '../model';
import { serviceLabel } from './products';
import { Report } from './shared';

/** Monitoring settings, Grafana's name against the services', and production's alert receivers. */
export function validateEnvironmentMonitoring(system: SystemSpec, environment: EnvironmentSpec, report: Report): void {
  validateMonitoring(environment.monitoring, { hosts: environment.hosts.map((host) => host.name), plan: environment.cloudflare.plan }, report);
  const label = environment.monitoring?.subdomain ?? MONITORING_DEFAULTS.subdomain;
  for (const deployment of environment.products) {
    const product = system.products.find((p) => p.name === deployment.product);
    const clash = product?.services.find((service) => serviceLabel(product, service) === label);
    if (product && clash) {
      report({
        field: 'monitoring.subdomain',
        value: label,
        allowed: `a label not used by ${product.name}/${clash.name}`,
        why: "Grafana's public name would collide with the service's",
      });
    }
  }
  if (environment.production) {
    const resolved = resolveMonitoring(environment.monitoring, { defaultHost: environment.hosts[0]?.name ?? '', domain: (l) => l, plan: environment.cloudflare.plan });
    for (const severity of resolved.unroutedSeverities) {
      report({
        field: 'monitoring.routes',
        value: resolved.routes,
        allowed: `a route for "${severity}" alerts to a receiver (${severity === 'critical' ? 'a PagerDuty routing key' : 'a Slack webhook'}) in monitoring.receivers`,
        why: 'production alerts that reach nobody are outages learned from customers',
      });
    }
  }
}
