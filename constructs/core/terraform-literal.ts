/**
 * Terraform reads `${...}` and `%{...}` in every string of the JSON as a
 * template (interpolation, directive); a shell script's `${VAR:-}` would be
 * parsed as an expression and fail the plan. Doubling the sigil (`$${`,
 * `%%{`) is Terraform's escape: the resource receives the text unchanged.
 * Only for literal text: a cdktf token inside would be escaped too.
 */
export function terraformLiteral(text: string): string {
  return text.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}
