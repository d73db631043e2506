/** Where a bad value sits in the system description, and what would have been accepted. */
export interface ConfigurationIssue {
  /** Environment name, or undefined for catalog-wide issues. */
  readonly environment?: string;
  /** Product name, when the issue belongs to one product. */
  readonly product?: string;
  /** Dotted path of the field, e.g. `services.backend.port`. */
  readonly field: string;
  /** The offending value as given. */
  readonly value: unknown;
  /** What is allowed, in words or as a list. */
  readonly allowed: string | readonly string[];
  /** Why the rule exists, when a newcomer would not know. */
  readonly why?: string;
}

/** One line per issue: `environment "production", product "chat", field "x": got "y"; allowed: ...`. */
export function formatIssue(issue: ConfigurationIssue): string {
  const where = [
    issue.environment !== undefined ? `environment "${issue.environment}"` : 'catalog',
    issue.product !== undefined ? `product "${issue.product}"` : undefined,
    `field "${issue.field}"`,
  ]
    .filter((part): part is string => part !== undefined)
    .join(', ');
  const allowed = typeof issue.allowed === 'string' ? issue.allowed : issue.allowed.join(', ');
  const why = issue.why ? ` (${issue.why})` : '';
  return `${where}: got ${JSON.stringify(issue.value)}; allowed: ${allowed}${why}`;
}

/**
 * Thrown at synth time, before anything reaches Terraform, listing every
 * problem found at once so a fix-and-retry loop takes one round.
 */
export class ConfigurationError extends Error {
  public constructor(public readonly issues: readonly ConfigurationIssue[]) {
    super(`Invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` + issues.map((i) => `  - ${formatIssue(i)}`).join('\n'));
    this.name = 'ConfigurationError';
  }
}

/**
 * What a map given for a list of names lacks and has beyond it (`rolePasswords` for `databases`), as one
 * message, or undefined when it names exactly the list.
 */
export function exactKeysProblem(field: string, expected: readonly string[], given: Readonly<Record<string, unknown>>): string | undefined {
  const missing = expected.filter((name) => given[name] === undefined);
  const unknown = Object.keys(given).filter((name) => !expected.includes(name));
  if (missing.length === 0 && unknown.length === 0) return undefined;
  return `${field} must name exactly ${expected.join(', ') || 'nothing'}; missing: ${missing.join(', ') || 'none'}, unknown: ${unknown.join(', ') || 'none'}`;
}
