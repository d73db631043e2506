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
  for (let i = 0; i < text.length; i++) {
    const state = states[states.length - 1];
    const two = text.slice(i, i + 2);
    if (state === 'literal' || state === 'string') {
      if (text.startsWith('$${', i) || text.startsWith('%%{', i)) {
        i += 2;
      } else if (two === '${' || two === '%{') {
        states.push('code');
        code += ' ';
        i += 1;
      } else if (state === 'string' && text[i] === '\\') {
        i += 1;
      } else if (state === 'string' && text[i] === '"') {
        states.pop();
        code += '"';
      }
      continue;
    }
    if (text[i] === '"') {
      states.push('string');
      code += '"';
    } else if (text[i] === '{') {
      states.push('code');
      code += '{';
    } else if (text[i] === '}') {
      states.pop();
      code += '}';
    } else {
      code += text[i];
    }
  }
  return code;
}

/** Names of the functions called in one string (`provider::x::y` included), from its template expressions only. */
export function functionsCalled(text: string): Set<string> {
  if (!text.includes('{')) return new Set();
  const code = expressionCode(text);
  return new Set([...code.matchAll(/([A-Za-z_][A-Za-z0-9_-]*(?:::[A-Za-z0-9_-]+)*)\s*\(/g)].map((match) => match[1]));
}

/** Every string value (not key) of a JSON value, with its JSON path (`resource.docker_container.x.env[0]`). */
export function* stringsOf(value: unknown, path = ''): Generator<[string, string]> {
  if (typeof value === 'string') {
    yield [path, value];
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* stringsOf(item, `${path}[${index}]`);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) yield* stringsOf(item, path ? `${path}.${key}` : key);
  }
}
