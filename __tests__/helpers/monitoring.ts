/**
 * Reads back what a monitoring stack writes on a host: the setup task's
 * script names each file (`printf '%s' "$CONFIG_FILE_3" > /target/<path>`)
 * and its environment holds the content, exactly as Docker will receive them.
 */
import type { SystemSpec } from '../../system/model';
import { manacore } from '../../environments';
import { environmentOf, keepOnly, variant } from './spec';
import type { TerraformJson } from './synth';

export function writtenFiles(stack: TerraformJson, host: string): Map<string, string> {
  const task = stack.resource?.docker_container?.[`${host}-monitoring-setup`];
  if (task === undefined) throw new Error(`no setup task for host ${host}`);
  const env = new Map<string, string>((task.env as string[]).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  const files = new Map<string, string>();
  for (const match of (task.command[0] as string).matchAll(/printf '%s' "\$(CONFIG_FILE_\d+)" > \/target\/(\S+)/g)) {
    files.set(match[2]!, env.get(match[1]!)!);
  }
  return files;
}

/** One written file, parsed (every file is JSON, which YAML readers accept). */
export function writtenJson(stack: TerraformJson, host: string, path: string): any {
  const content = writtenFiles(stack, host).get(path);
  if (content === undefined) throw new Error(`host ${host} gets no ${path}; it gets ${[...writtenFiles(stack, host).keys()].join(', ')}`);
  return JSON.parse(content);
}

/** Manacore production with the documents' monitoring host of its own (a CX32 beside app-1), two products. */
export function withMonitoringHost(system: SystemSpec = manacore): SystemSpec {
  return variant(system, (copy) => {
    keepOnly(copy, ['production'], ['mana-core-auth', 'chat']);
    const production = environmentOf(copy, 'production');
    production.hosts.push({ name: 'monitoring-1', serverType: 'cx32' });
    production.monitoring = { ...production.monitoring, host: 'monitoring-1' };
  });
}
