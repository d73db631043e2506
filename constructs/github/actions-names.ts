/** GitHub's rules for Actions secret and variable names, checked before the API rejects them. */

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws unless `name` is a valid Actions secret or variable name. */
export function assertActionsName(owner: string, kind: 'secret' | 'variable', name: string): void {
  if (!NAME.test(name)) {
    throw new Error(`${owner}: ${kind} name "${name}" may contain only letters, digits and "_", and may not start with a digit (GitHub Actions rule)`);
  }
  if (/^GITHUB_/i.test(name)) {
    throw new Error(`${owner}: ${kind} name "${name}" starts with "GITHUB_", a prefix GitHub reserves for its own variables`);
  }
}
