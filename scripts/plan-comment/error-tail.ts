/**
 * The end of a failed `terraform init`/`plan` log, made safe to show in a pull-request comment.
 *
 * A failed plan says why in its last lines (Terraform prints `Error:` blocks last). Those lines
 * can quote configuration values, provider responses and, in the worst case, a credential, and
 * the comment is readable by everyone who can read the repository. So the tail is cut to a few
 * lines and every known secret and every credential-shaped string in it is replaced.
 */
import { MIN_SCRUB_LENGTH } from './sensitive';

/** Shown instead of anything redacted from an error tail. */
export const REDACTED = '[redacted]';

/** Options for {@link redactErrorTail}. */
export interface ErrorTailOptions {
  /** Lines kept from the end of the log. @default 40 */
  readonly maxLines?: number;
  /** Characters kept from the end of the kept lines. @default 4000 */
  readonly maxChars?: number;
  /** Exact values to remove wherever they appear (the job's credentials). @default - none */
  readonly secrets?: Iterable<string>;
}

// ANSI colour and cursor sequences: Terraform colours its errors unless -no-color is given.
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
const PEM_BLOCK = /-----BEGIN [A-Z ]*-----[\s\S]*?(-----END [A-Z ]*-----|$)/g;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/:@]+:[^\s/@]+@/gi;
const AUTH_HEADER = /\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
// `password = "x"`, `api_token: x`, `"secret": "x"`: a secret-sounding name followed by a value.
const NAMED_VALUE = /((?:[A-Za-z0-9_-]*)(?:password|passwd|secret|token|private_key|api_key|access_key)[A-Za-z0-9_-]*["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,}]+)/gi;
// Long runs of token characters: API tokens (Hetzner 64 alphanumerics, Cloudflare 40, GitHub
// `ghp_`/`github_pat_`), access keys, the parts of a JWT or Terraform Cloud token between dots.
const TOKEN_LIKE = /[A-Za-z0-9_+/=-]{32,}/g;

/**
 * A token has a long stretch of letters and digits without separators; resource addresses and
 * construct ids (`deployment-environment_team-platform_05683D20`) are words joined by `-`/`_`.
 */
function looksLikeToken(text: string): boolean {
  return (text.match(/[A-Za-z0-9]{20,}/g) ?? []).some((run) => /[A-Za-z]/.test(run) && /[0-9]/.test(run));
}

/** Replaces known secrets and credential-shaped text in `text`. */
export function redactSecretsInText(text: string, secrets: Iterable<string> = []): string {
  let result = text;
  // Longest first, so a secret that contains another is removed whole.
  const known = [...new Set(secrets)].filter((secret) => secret.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length);
  for (const secret of known) result = result.split(secret).join(REDACTED);
  return result
    .replace(PEM_BLOCK, REDACTED)
    .replace(URL_CREDENTIALS, `$1${REDACTED}@`)
    .replace(AUTH_HEADER, (_match, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(NAMED_VALUE, (_match, name: string) => `${name}${REDACTED}`)
    .replace(TOKEN_LIKE, (match) => (looksLikeToken(match) ? REDACTED : match));
}

/**
 * The last lines of a log, without colour codes, with secrets redacted (see the file comment).
 * Redaction runs on the whole log before cutting, so a secret split by the cut cannot survive.
 */
export function redactErrorTail(log: string, options: ErrorTailOptions = {}): string {
  const maxLines = options.maxLines ?? 40;
  const maxChars = options.maxChars ?? 4000;
  const clean = redactSecretsInText(log.replace(ANSI, '').replace(/\r\n?/g, '\n'), options.secrets);
  const lines = clean.split('\n').map((line) => line.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let tail = lines.slice(-maxLines).join('\n');
  if (tail.length > maxChars) tail = `…${tail.slice(tail.length - maxChars + 1)}`;
  return tail;
}
