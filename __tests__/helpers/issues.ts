/** Reading the problems a system is rejected with, for the bad-input tests. */
import { ConfigurationError, formatIssue } from '../../constructs/core/configuration-error';
import type { SystemSpec } from '../../system/model';
import { resolveSystem } from '../../system/resolve';

/** Every issue line the system is rejected with; fails when it is accepted or fails any other way. */
export function issueLines(system: SystemSpec): string[] {
  try {
    resolveSystem(system);
  } catch (error) {
    if (error instanceof ConfigurationError) return error.issues.map(formatIssue);
    throw error;
  }
  throw new Error('expected a ConfigurationError, but the system was accepted');
}
