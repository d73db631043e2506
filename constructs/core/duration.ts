/** A span of time with its unit in the type, so `30` can never mean "30 what?". */
export class Duration {
  /** A duration of whole or fractional seconds. */
  public static seconds(amount: number): Duration {
    return new Duration(amount);
  }

  /** A duration in minutes. */
  public static minutes(amount: number): Duration {
    return new Duration(amount * 60);
  }

  /** A duration in days. */
  public static days(amount: number): Duration {
    return new Duration(amount * 86_400);
  }

  private constructor(private readonly totalSeconds: number) {
    if (!Number.isFinite(totalSeconds) || totalSeconds < 0) {
      throw new Error(`A duration must be a finite, non-negative number of seconds; got ${totalSeconds}`);
    }
  }

  public toSeconds(): number {
    return this.totalSeconds;
  }

  public toDays(): number {
    return this.totalSeconds / 86_400;
  }

  /** Docker's duration syntax (`30s`), as the healthcheck block expects. */
  public toDockerString(): string {
    return `${this.totalSeconds}s`;
  }
}
