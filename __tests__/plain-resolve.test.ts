/**
 * resolveTokens (constructs/core/plain-resolve.ts) copies token-free data itself and hands cdktf the rest: its
 * result must be exactly cdktf's, value for value and key for key in the same order, over a whole App and over
 * each kind of token cdktf encodes.
 */
import { DefaultTokenResolver, Fn, Lazy, StringConcat, TerraformElement, TerraformStack, Testing, Token, type IResolvable } from 'cdktf';
import { resolve as cdktfResolve } from 'cdktf/lib/tokens/private/resolve';
import type { IConstruct } from 'constructs';
import { manacore } from '../environments';
import { resolveTokens } from '../constructs/core/plain-resolve';
import { stacksOf } from '../stacks/system-stacks';
import { SynthesizedSystem } from './helpers/synth';

const resolver = new DefaultTokenResolver(new StringConcat());

/** Both resolutions of `value` in `scope`, or the message each one threw. */
function bothWays(scope: IConstruct, value: () => unknown): { ours: unknown; cdktf: unknown } {
  const attempt = (resolve: typeof resolveTokens) => {
    try {
      return { resolved: resolve(value(), { scope, preparing: false, resolver }) };
    } catch (error) {
      return { threw: (error as Error).message };
    }
  };
  return { ours: attempt(resolveTokens), cdktf: attempt(cdktfResolve) };
}

/** Equal values, the same `undefined`s, and the same key order (which toStrictEqual does not compare). */
function expectSameResolution({ ours, cdktf }: { ours: unknown; cdktf: unknown }): void {
  expect(ours).toStrictEqual(cdktf);
  expect(JSON.stringify(ours)).toBe(JSON.stringify(cdktf));
}

function elementsOf(node: IConstruct, into: TerraformElement[] = []): TerraformElement[] {
  if (TerraformElement.isTerraformElement(node)) into.push(node);
  for (const child of node.node.children) if (!TerraformStack.isStack(child)) elementsOf(child, into);
  return into;
}

describe('resolveTokens', () => {
  // One environment: the same constructs build the others, and synth-stability.test.ts pins every stack's output.
  it('resolves every element of the production stacks as cdktf does', () => {
    const production = new SynthesizedSystem(manacore).environment('production');
    const stacks = stacksOf(production);
    let elements = 0;
    for (const stack of stacks) {
      for (const element of elementsOf(stack)) {
        expectSameResolution(bothWays(stack, () => element.toTerraform()));
        expectSameResolution(bothWays(stack, () => element.toMetadata()));
        elements++;
      }
    }
    // Not an empty walk: every stack holds several elements (a provider, a backend, resources).
    expect(elements).toBeGreaterThan(stacks.length * 3);
  });

  describe('gives cdktf the parts that hold a token', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const lazy = (value: unknown): IResolvable => Lazy.anyValue({ produce: () => value });
    const cases: Record<string, () => unknown> = {
      'plain data, undefined left out of objects and arrays': () => ({ b: 1, a: [undefined, 'x', null, true, 7, -0, [undefined]], half: 0.5, c: undefined, d: { e: [] }, 10: 'numeric key' }),
      'a string token inside text': () => ({ name: `web-${Token.asString(lazy('api'))}-1` }),
      'an IResolvable nested in plain data': () => ({ outer: [{ inner: lazy({ deep: ['a', lazy('b')] }) }] }),
      'a number token, alone and inside text': () => ({ port: Token.asNumber(lazy(8080)), text: `port ${Token.asNumber(lazy(8080))}` }),
      'a list token': () => ({ list: Token.asList(lazy(['a', 'b'])), numbers: Token.asNumberList(lazy([1, 2])) }),
      'a map token': () => ({ labels: Token.asStringMap(lazy({ a: 'b' })), any: Token.asAnyMap(lazy({ a: 1 })) }),
      'a Terraform function': () => ({ joined: Fn.join(',', ['a', Token.asString(lazy('b'))]) }),
      'text that looks like an interpolation or a number': () => ({ template: '${var.x} %{ if a }1e5 -e- 3e+2', float: 1.5e300, nan: NaN }),
      'a function, which cdktf refuses': () => ({ at: { path: () => 'no' } }),
      'a map token in a scalar position': () => ({ value: Token.STRING_MAP_TOKEN_VALUE, number: Token.NUMBER_MAP_TOKEN_VALUE }),
      'a class instance': () => ({ when: new Date(0), set: new Set([1]) }),
    };
    it.each(Object.keys(cases))('%s', (name) => {
      expectSameResolution(bothWays(stack, cases[name]!));
    });

    it('the path to a refused value in the error', () => {
      const { ours } = bothWays(stack, cases['a function, which cdktf refuses']!);
      expect(ours).toEqual({ threw: expect.stringContaining("at '/at/path'") });
    });

    it('a cyclic value, refused as circular', () => {
      const cyclic: Record<string, unknown> = { name: 'loop' };
      cyclic.self = cyclic;
      const { ours, cdktf } = bothWays(stack, () => cyclic);
      expect(ours).toEqual({ threw: expect.stringMatching(/circular/i) });
      expect(ours).toEqual(cdktf);
    });
  });
});
