import { Token } from 'cdktf';
import type { DockerHealthCheck } from '../core/health-check';
import type { ResourceSpec } from '../core/resources';

/**
 * The checks every engine mapping of one process makes (a plain container,
 * a Swarm service): the same description must be refused the same way
 * whichever engine runs it.
 */
export interface ProcessSpec {
  readonly resources: ResourceSpec;
  readonly environment?: Readonly<Record<string, string>>;
  readonly secretEnvironment?: Readonly<Record<string, string>>;
  readonly writablePaths?: readonly string[];
  readonly capabilities?: readonly string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CAPABILITY = /^[A-Z_]+$/;

/** Calls `fail` with the first problem of `spec` (it throws). */
export function checkProcessSpec(spec: ProcessSpec, fail: (message: string) => never): void {
  const { cpuLimit, memoryLimitMiB, cpuReservation, memoryReservationMiB } = spec.resources;
  if (!Number.isInteger(memoryLimitMiB) || memoryLimitMiB < 6) fail(`memory limit must be a whole number of MiB, at least 6 (Docker refuses less); got ${memoryLimitMiB}`);
  if (!(memoryReservationMiB > 0)) fail(`memory reservation must be positive; got ${memoryReservationMiB}`);
  if (memoryLimitMiB < memoryReservationMiB) {
    fail(`memory limit (${memoryLimitMiB} MiB) is below its reservation (${memoryReservationMiB} MiB); raise the limit or lower the reservation`);
  }
  if (!(cpuLimit > 0) || !(cpuReservation > 0)) fail(`CPU limit and reservation must be positive; got ${cpuLimit} and ${cpuReservation}`);
  if (cpuLimit < cpuReservation) fail(`CPU limit (${cpuLimit}) is below its reservation (${cpuReservation})`);
  const plain = Object.keys(spec.environment ?? {});
  const secret = Object.keys(spec.secretEnvironment ?? {});
  for (const name of [...plain, ...secret]) {
    if (!ENV_NAME.test(name)) fail(`environment variable name "${name}" is invalid (letters, digits and "_")`);
  }
  for (const name of secret) {
    if (plain.includes(name)) fail(`${name} is given both a plain and a secret value`);
    if (!Token.isUnresolved(spec.secretEnvironment![name]!)) {
      fail(`secret ${name} is a literal; it must come from a sensitive variable, another stack's sensitive output or a generated password`);
    }
  }
  for (const path of spec.writablePaths ?? []) {
    if (!path.startsWith('/') || path === '/') fail(`writable path "${path}" must be an absolute path below /`);
  }
  for (const capability of spec.capabilities ?? []) {
    if (!CAPABILITY.test(capability) || capability.startsWith('CAP_') || capability === 'ALL') {
      fail(`capability "${capability}" must be one name without the CAP_ prefix (NET_BIND_SERVICE)`);
    }
  }
}

const seconds = (duration: string) => Number(duration.replace(/s$/, ''));

/** Worst case until a task that was healthy is found unhealthy, in seconds: every retry's interval and timeout. */
export function secondsToFindUnhealthy(health: DockerHealthCheck): number {
  return (seconds(health.interval) + seconds(health.timeout)) * health.retries;
}

/** Worst case until Docker declares a new task unhealthy, in seconds: the start period, then every retry. */
export function secondsUntilUnhealthy(health: DockerHealthCheck): number {
  return seconds(health.startPeriod) + secondsToFindUnhealthy(health);
}
