/**
 * Token resolution that copies token-free data itself and hands cdktf only the parts that hold a token.
 *
 * cdktf's resolve (cdktf/lib/tokens/private/resolve.js) walks every value of a stack: for each object key and
 * value it builds two resolve contexts and a spread copy of its options, and tests each string against three
 * regular expressions. Most of a stack is plain data (labels, names, ports, rendered files), for which that walk
 * returns an equal copy, and it was half of synth. For a plain object or array its result is a copy with
 * `undefined` left out, keys in the same order; a string without a token marker or an encoded number comes back
 * unchanged, and so does an ordinary number. Everything else (a token string, an encoded number, an IResolvable,
 * a function, a class instance) goes to cdktf's resolve with the path it sits at, as cdktf's own walk would hand
 * it on: the resolve context below a plain value is that of a top-level call (only a token's resolution changes
 * it), so the result, an error's message and the depth limit are cdktf's. __tests__/plain-resolve.test.ts
 * compares the two over every element of the App and over each kind of token.
 */
import { resolve as cdktfResolve, type IResolveOptions } from 'cdktf/lib/tokens/private/resolve';

/** cdktf's encoded-token markers (encoding.js) share this: `${TfToken[`, `#{TfToken[` (list), `&{TfToken[` (map). */
const TOKEN_MARKER = 'TfToken[';
/** cdktf's pattern for a number token concatenated into a string (encoding.js NUMBER_TOKEN_REGEX). */
const NUMBER_TOKEN_IN_STRING = /[-|\d|.+]+(e[-|\d|.|e|E|+]+)/;
/** Token.STRING_MAP_TOKEN_VALUE and Token.ANY_MAP_TOKEN_VALUE: cdktf refuses them in a scalar position. */
const MAP_TOKEN_STRINGS: ReadonlySet<string> = new Set(['String Map Token Value', 'Any Map Token Value']);
/** Token.NUMBER_MAP_TOKEN_VALUE: refused the same way. */
const NUMBER_MAP_TOKEN_VALUE = -123456789;
/** cdktf's guard against cyclic values (resolve.js): deeper than this, its resolve reports a circular reference. */
const MAX_DEPTH = 200;

function isPlainString(value: string): boolean {
  return !value.includes(TOKEN_MARKER) && !MAP_TOKEN_STRINGS.has(value) && !NUMBER_TOKEN_IN_STRING.test(value);
}

/** A safe integer is never one of cdktf's encoded token doubles (those lie near -2^992); other numbers go to cdktf. */
function isPlainNumber(value: number): boolean {
  return Number.isSafeInteger(value) && value !== NUMBER_MAP_TOKEN_VALUE;
}

/** A string or number that cdktf's resolve returns as it is; anything else is not a plain scalar. */
function isPlainScalar(value: unknown): boolean {
  return typeof value === 'string' ? isPlainString(value) : typeof value !== 'number' || isPlainNumber(value);
}

/** An object cdktf walks key by key: a plain object that is neither an IResolvable nor, to cdktf, a construct. */
function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  const fields = value as Record<string, unknown>;
  return typeof fields.resolve !== 'function' && (fields._children === undefined || fields._metadata === undefined);
}

/** `value` resolved as cdktf's resolve would with these options (scope, resolver, `preparing`, `prefix`). */
export function resolveTokens(value: unknown, options: IResolveOptions): unknown {
  const path = [...(options.prefix ?? [])];
  const byCdktf = (part: unknown): unknown => cdktfResolve(part, { ...options, prefix: [...path] });
  const walk = (part: unknown): unknown => {
    if (path.length > MAX_DEPTH) return byCdktf(part);
    switch (typeof part) {
      case 'undefined':
      case 'boolean':
        return part;
      case 'string':
        return isPlainString(part) ? part : byCdktf(part);
      case 'number':
        return isPlainNumber(part) ? part : byCdktf(part);
      case 'object':
        break;
      default:
        return byCdktf(part);
    }
    if (part === null) return null;
    if (Array.isArray(part)) {
      // One list token (`#{TfToken[...]}` or an encoded list number) makes the whole array a token: cdktf's.
      if (!part.every(isPlainScalar)) return byCdktf(part);
      const copy: unknown[] = [];
      part.forEach((item, index) => {
        path.push(`${index}`);
        const resolved = walk(item);
        path.pop();
        if (resolved !== undefined) copy.push(resolved);
      });
      return copy;
    }
    if (!isPlainObject(part)) return byCdktf(part);
    const keys = Object.keys(part);
    // A key holding a token (a map token, `&{TfToken[...]}`) is cdktf's to resolve.
    if (!keys.every(isPlainString)) return byCdktf(part);
    const copy: Record<string, unknown> = {};
    for (const key of keys) {
      path.push(key);
      const resolved = walk(part[key]);
      path.pop();
      if (resolved !== undefined) copy[key] = resolved;
    }
    return copy;
  };
  return walk(value);
}
