/**
 * Alertmanager configuration: routes by severity to PagerDuty and Slack
 * receivers whose keys are read from files (`routing_key_file`,
 * `api_url_file`, Alertmanager's config.go), so no secret is ever part of the
 * file or of the synthesized stack. `amtool check-config` validates it in the tests.
 */
import type { AlertSeverity } from './alert-rules';

export type AlertReceiverKind = 'pagerduty' | 'slack';

/** A receiver and the file its secret is written to. */
export interface AlertReceiver {
  readonly name: string;
  readonly kind: AlertReceiverKind;
  /** Path inside the Alertmanager container of the file holding the routing key or webhook URL. */
  readonly secretFile: string;
  /** Slack channel. @default - the webhook's own channel */
  readonly channel?: string;
}

/** Alerts of a severity go to a receiver; a severity may go to several. */
export interface AlertRoute {
  readonly severity: AlertSeverity;
  readonly receiver: string;
}

export interface AlertmanagerConfigProps {
  readonly receivers: readonly AlertReceiver[];
  readonly routes: readonly AlertRoute[];
  /** Grafana's URL, linked from notifications. */
  readonly grafanaUrl: string;
}

/** Receives what no route takes: alerts of a severity nobody is paged for are dropped, visibly, in the Alertmanager UI. */
export const UNROUTED_RECEIVER = 'unrouted';

export function alertmanagerConfig(props: AlertmanagerConfigProps): Record<string, unknown> {
  for (const route of props.routes) {
    if (!props.receivers.some((receiver) => receiver.name === route.receiver)) {
      throw new Error(`alertmanagerConfig: route for severity "${route.severity}" names receiver "${route.receiver}", which is not one of: ${props.receivers.map((r) => r.name).join(', ') || '(none)'}`);
    }
  }
  return {
    global: { resolve_timeout: '5m' },
    route: {
      receiver: UNROUTED_RECEIVER,
      group_by: ['alertname', 'environment', 'product', 'service'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      // continue: every matching route delivers (critical reaches PagerDuty and Slack).
      routes: props.routes.map((route) => ({ matchers: [`severity="${route.severity}"`], receiver: route.receiver, continue: true })),
    },
    inhibit_rules: [
      // While memory is critical, the warning about the same container is noise.
      { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['alertname', 'environment', 'name'] },
    ],
    receivers: [
      { name: UNROUTED_RECEIVER },
      ...props.receivers.map((receiver) =>
        receiver.kind === 'pagerduty'
          ? { name: receiver.name, pagerduty_configs: [{ routing_key_file: receiver.secretFile, client_url: props.grafanaUrl, send_resolved: true }] }
          : {
              name: receiver.name,
              slack_configs: [{ api_url_file: receiver.secretFile, ...(receiver.channel ? { channel: receiver.channel } : {}), send_resolved: true, title_link: props.grafanaUrl }],
            },
      ),
    ],
  };
}
