/**
 * The function calls inside Terraform's JSON string templates (`${...}` and `%{...}`).
 *
 * The gate admits only functions the base branch's synth already calls: a function such as
 * `file("/proc/self/environ")`, `templatefile` or `nonsensitive(var.registry_password)` would
 * put a workspace credential into the plan text, which the pull-request comment shows.
 * Terraform JSON syntax: a string is a template; `$${` and `%%{` are literal
 * (developer.hashicorp.com/terraform/language/syntax/json, "Expression Mapping").
 */

/** The code of every template expression in `text`, with its quoted string literals blanked (their own `${}` kept). */
export function expressionCode(text: string): string {
  // Scanner states: a template's literal text, expression code, a quoted string inside code.
  const states: ('literal' | 'code' | 'string')[] = ['literal'];
  let code = '';
  // Runs of plain code are copied in one slice each: the gate scans every string of every stack.
  let run = -1;
  for (let i = 0; i < text.length; i++) {
    const state = states[states.length - 1];
    const char = text[i];
    if (state === 'literal' || state === 'string') {
      const opener = char === '$' || char === '%';
      if (opener && text[i + 1] === char && text[i + 2] === '{') {
        i += 2;
      } else if (opener && text[i + 1] === '{') {
        states.push('code');
        code += ' ';
        i += 1;
      } else if (state === 'string' && char === '\\') {
        i += 1;
      } else if (state === 'string' && char === '"') {
        states.pop();
        code += '"';
      }
      continue;
    }
    if (char !== '"' && char !== '{' && char !== '}') {
      if (run < 0) run = i;
      continue;
    }
    if (run >= 0) code += text.slice(run, i);
    run = -1;
    if (char === '"') states.push('string');
    else if (char === '{') states.push('code');
    else states.pop();
    code += char;
  }
  return run >= 0 ? code + text.slice(run) : code;
}

/** Names of the functions called in one string (`provider::x::y` included), from its template expressions only. */
export function functionsCalled(text: string): Set<string> {
  if (!text.includes('{')) return new Set();
  const code = expressionCode(text);
  return new Set([...code.matchAll(/([A-Za-z_][A-Za-z0-9_-]*(?:::[A-Za-z0-9_-]+)*)\s*\(/g)].map((match) => match[1]));
}

/** Every string value (not key) of a JSON value, with its JSON path (`resource.docker_container.x.env[0]`), depth first. */
export function* stringsOf(value: unknown, path = ''): Generator<[string, string]> {
  // An explicit stack, children pushed last to first: a recursive generator passed each string up through every level.
  const pending: [unknown, string][] = [[value, path]];
  while (pending.length > 0) {
    const [item, at] = pending.pop()!;
    if (typeof item === 'string') {
      yield [at, item];
    } else if (Array.isArray(item)) {
      for (let index = item.length - 1; index >= 0; index--) pending.push([item[index], `${at}[${index}]`]);
    } else if (typeof item === 'object' && item !== null) {
      const entries = Object.entries(item);
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, child] = entries[index]!;
        pending.push([child, at ? `${at}.${key}` : key]);
      }
    }
  }
}
