/**
 * Grafana's provisioning (Grafana docs, "Provision Grafana": datasources and
 * dashboard providers read from /etc/grafana/provisioning at start) and the
 * dashboards, which are JSON files in this folder, edited like code.
 */
import database from './dashboards/database.json';
import hostResources from './dashboards/host-resources.json';
import serviceHealth from './dashboards/service-health.json';
import { jsonFile, type ConfigFile } from './config-files';
import { EXPORTER_PORTS } from './prometheus-config';

/** The provisioned dashboards, by file name. */
export const DASHBOARDS: Readonly<Record<string, unknown>> = {
  'service-health.json': serviceHealth,
  'database.json': database,
  'host-resources.json': hostResources,
};

/** Where the dashboards are mounted in the Grafana container. */
export const DASHBOARDS_DIR = '/etc/grafana/dashboards';

/** Datasource uids the dashboards refer to. */
export const DATASOURCE_UIDS = { prometheus: 'prometheus', loki: 'loki', alertmanager: 'alertmanager' } as const;

export function grafanaFiles(addresses: { prometheus: string; loki: string; alertmanager: string }): ConfigFile[] {
  return [
    jsonFile('grafana/provisioning/datasources/datasources.yml', {
      apiVersion: 1,
      datasources: [
        { name: 'Prometheus', uid: DATASOURCE_UIDS.prometheus, type: 'prometheus', access: 'proxy', url: `http://${addresses.prometheus}:${EXPORTER_PORTS.prometheus}`, isDefault: true, editable: false },
        { name: 'Loki', uid: DATASOURCE_UIDS.loki, type: 'loki', access: 'proxy', url: `http://${addresses.loki}:${EXPORTER_PORTS.loki}`, editable: false },
        {
          name: 'Alertmanager',
          uid: DATASOURCE_UIDS.alertmanager,
          type: 'alertmanager',
          access: 'proxy',
          url: `http://${addresses.alertmanager}:${EXPORTER_PORTS.alertmanager}`,
          jsonData: { implementation: 'prometheus' },
          editable: false,
        },
      ],
    }),
    jsonFile('grafana/provisioning/dashboards/dashboards.yml', {
      apiVersion: 1,
      providers: [{ name: 'platform', folder: 'Platform', type: 'file', disableDeletion: true, allowUiUpdates: false, options: { path: DASHBOARDS_DIR } }],
    }),
    ...Object.entries(DASHBOARDS).map(([name, dashboard]) => jsonFile(`grafana/dashboards/${name}`, dashboard)),
  ];
}
