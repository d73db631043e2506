/**
 * CPU and memory of one container, as Docker enforces them and capacity
 * planning counts them.
 */
export interface ResourceSpec {
  /** Hard CPU limit in cores. */
  readonly cpuLimit: number;
  /** Hard memory limit in MiB; the container is OOM-killed above it. */
  readonly memoryLimitMiB: number;
  /** CPU the host must keep for this container, in cores (also its CPU weight under contention). */
  readonly cpuReservation: number;
  /** Memory the host must keep for this container, in MiB. */
  readonly memoryReservationMiB: number;
}
