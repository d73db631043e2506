import { Lazy, TerraformOutput, Testing, type IResolvable } from 'cdktf';
import { configureTokenStackTraces, TOKEN_STACK_TRACES_ENV, TOKEN_STACK_TRACES_OFF } from '../constructs/core/token-stack-traces';

/** A token built by cdktf's own classes, so it records whatever cdktf's capture function returns. */
const newToken = (produce: () => unknown = () => 'value'): IResolvable => Lazy.anyValue({ produce });

describe('token creation stack traces', () => {
  const original = process.env[TOKEN_STACK_TRACES_ENV];
  afterEach(() => {
    if (original === undefined) delete process.env[TOKEN_STACK_TRACES_ENV];
    else process.env[TOKEN_STACK_TRACES_ENV] = original;
    configureTokenStackTraces();
  });

  it('are off by default and leave a hint where the trace would be', () => {
    delete process.env[TOKEN_STACK_TRACES_ENV];
    expect(configureTokenStackTraces()).toBe(false);
    expect(newToken().creationStack).toEqual(TOKEN_STACK_TRACES_OFF);
    expect(TOKEN_STACK_TRACES_OFF[0]).toContain(`${TOKEN_STACK_TRACES_ENV}=1`);
    process.env[TOKEN_STACK_TRACES_ENV] = '0';
    expect(configureTokenStackTraces()).toBe(false);
  });

  it.each(['1', 'true', 'TRUE'])(`are recorded again with ${TOKEN_STACK_TRACES_ENV}=%s, pointing at the code that made the token`, (value) => {
    process.env[TOKEN_STACK_TRACES_ENV] = value;
    expect(configureTokenStackTraces()).toBe(true);
    const stack = newToken().creationStack;
    expect(stack).not.toEqual(TOKEN_STACK_TRACES_OFF);
    expect(stack.some((frame) => frame.includes('token-stack-traces.test'))).toBe(true);
  });

  it('show the hint in the error of a token that fails to resolve', () => {
    configureTokenStackTraces(false);
    expect(() =>
      Testing.synthScope((scope) => {
        new TerraformOutput(scope, 'broken', {
          value: newToken(() => {
            throw new Error('no value yet');
          }),
        });
      }),
    ).toThrow(/no value yet[\s\S]*Object creation stack:\s+at \(token creation stack traces are off/);
  });
});
