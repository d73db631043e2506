/** A service's release tasks (`tasks`): names, commands, time limits and resources. */
import type { ServiceSpec } from '../model';
import { MAX_TASK_TIMEOUT_SECONDS } from '../tasks';
import { NAME, type Report } from './shared';

const isCommand = (value: unknown): boolean => Array.isArray(value) && value.length > 0 && value.every((part) => typeof part === 'string' && part !== '');

/** Rules for `services.<name>.tasks`; `field` prefixes the service's fields. */
export function validateTasks(service: ServiceSpec, report: Report, field: (name: string) => string): void {
  for (const [name, task] of Object.entries(service.tasks ?? {})) {
    const taskField = (key: string) => field(`tasks.${name}.${key}`);
    if (!NAME.test(name)) report({ field: field(`tasks.${name}`), value: name, allowed: 'lowercase letters, digits and "-" (it is part of the task\'s container name)' });
    if (!isCommand(task.command)) {
      report({ field: taskField('command'), value: task.command, allowed: 'a non-empty list of non-empty strings, such as ["pnpm", "migration:run"]' });
    }
    if (task.dryRunCommand !== undefined && !isCommand(task.dryRunCommand)) {
      report({ field: taskField('dryRunCommand'), value: task.dryRunCommand, allowed: 'a non-empty list of non-empty strings, such as ["npx", "prisma", "migrate", "status"]' });
    }
    const timeout = task.timeoutSeconds;
    if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 10 && timeout <= MAX_TASK_TIMEOUT_SECONDS)) {
      report({
        field: taskField('timeoutSeconds'),
        value: timeout,
        allowed: `a whole number of seconds from 10 to ${MAX_TASK_TIMEOUT_SECONDS}`,
        why: 'the Docker provider waits for a task within its 20-minute create timeout; a longer migration belongs in a job run by hand',
      });
    }
    for (const [key, value] of Object.entries(task.resources ?? {})) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) report({ field: taskField(`resources.${key}`), value, allowed: 'a positive number' });
    }
  }
}
