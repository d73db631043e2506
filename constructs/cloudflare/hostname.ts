/**
 * Which names a zone can serve safely. Cloudflare's free universal
 * certificate covers the apex and one level below it (`example.com`,
 * `*.example.com`), so a proxied `a.b.example.com` would get no valid
 * certificate at Cloudflare's edge; hence the flat `staging-app-chat` names.
 */

/** Longest DNS label (RFC 1035). */
export const MAX_DNS_LABEL_LENGTH = 63;
/** Longest DNS name in text form (RFC 1035). */
export const MAX_DNS_NAME_LENGTH = 253;

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export interface HostnameCheck {
  /** The zone the name must live in (`example.com`). */
  readonly zone: string;
  /** The fully qualified name (`app-chat.example.com`, the apex itself, or `*.example.com`). */
  readonly name: string;
  /** Does the name go through Cloudflare's proxy (and so its edge certificate)? */
  readonly proxied: boolean;
}

/** The labels of `name` below `zone`: `[]` for the apex, `['staging-app-chat']` for a first-level name. */
export function labelsBelow(zone: string, name: string): string[] | undefined {
  if (name === zone) return [];
  if (!name.endsWith(`.${zone}`)) return undefined;
  return name.slice(0, -(zone.length + 1)).split('.');
}

/** Every reason Cloudflare would not serve `name` as asked; empty when it is fine. */
export function hostnameProblems(check: HostnameCheck): string[] {
  const { zone, name, proxied } = check;
  const labels = labelsBelow(zone, name);
  if (labels === undefined) return [`"${name}" is not in zone ${zone}; records of a zone must end in ".${zone}"`];
  const problems: string[] = [];
  if (name.length > MAX_DNS_NAME_LENGTH) problems.push(`"${name}" has ${name.length} characters; a DNS name has at most ${MAX_DNS_NAME_LENGTH}`);
  labels.forEach((label, index) => {
    if (label === '*' && index === 0) return;
    if (label.length > MAX_DNS_LABEL_LENGTH) {
      problems.push(`label "${label}" of "${name}" has ${label.length} characters; a DNS label has at most ${MAX_DNS_LABEL_LENGTH} (shorten the product or service name, or the environment's domain prefix)`);
    } else if (!LABEL.test(label)) {
      problems.push(`label "${label}" of "${name}" is not a DNS label: use lowercase letters, digits and "-", not at either end`);
    }
  });
  if (proxied && labels.length > 1) {
    const flat = labels.filter((label) => label !== '*').join('-');
    problems.push(
      `"${name}" is ${labels.length} labels below ${zone} and proxied: Cloudflare's universal certificate covers ${zone} and *.${zone} only, ` +
        `so visitors would get a certificate error. Use one label ("${flat}.${zone}"), or do not proxy the name`,
    );
  }
  return problems;
}

/** Throws with every problem of `name`, prefixed with who asked for it. */
export function assertHostname(owner: string, check: HostnameCheck): void {
  const problems = hostnameProblems(check);
  if (problems.length > 0) throw new Error(`${owner}: ${problems.join('; ')}`);
}
