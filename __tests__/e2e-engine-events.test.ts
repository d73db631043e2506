/**
 * The readings of the engine's events the real-engine scenario relies on (tools/e2e/engine/events.ts): a rollout
 * order and a graceful stop, each shown passing on the order it must accept and failing on the one it must refuse.
 */
import { type ContainerEvent, rolloutFindings, stopFindings } from '../tools/e2e/engine/events';

const event = (action: string, id: string, at: number, attributes: Record<string, string> = {}): ContainerEvent => ({
  action,
  id,
  at: at * 1000,
  attributes: { name: `web-${id}`, service: 'web', product: 'shop', ...attributes },
});

/** The events of one replacement: old `old`, new `new`, in the order given. */
const replacement = (steps: [string, 'old' | 'new', number][]) => steps.map(([action, id, at]) => event(action, id, at));

const startFirst = { service: 'web', product: 'shop', startFirst: true, waitsHealthy: true };
const stopFirst = { service: 'web', product: 'shop', startFirst: false, waitsHealthy: false };

describe('rolloutFindings', () => {
  it('accepts start-first when the old container is stopped after the new one is healthy', () => {
    const events = replacement([['create', 'new', 0], ['start', 'new', 1], ['health_status: healthy', 'new', 31], ['kill', 'old', 32], ['die', 'old', 33], ['destroy', 'old', 34]]);
    const found = rolloutFindings(events, [startFirst], 'shop');
    expect(found.problems).toEqual([]);
    expect(found.lines[0]).toMatch(/web start-first: new healthy 30\.0 s after its start, old served until 1\.0 s after that/);
  });

  it('refuses start-first when the old container stops before the new one is healthy', () => {
    const events = replacement([['create', 'new', 0], ['start', 'new', 1], ['kill', 'old', 2], ['die', 'old', 3], ['destroy', 'old', 4], ['health_status: healthy', 'new', 31]]);
    expect(rolloutFindings(events, [startFirst], 'shop').problems).toEqual(['shop web: start-first, but the old container was stopped 29.0 s before the new one was healthy']);
  });

  it('refuses start-first when the new container never turns healthy', () => {
    const events = replacement([['create', 'new', 0], ['start', 'new', 1], ['kill', 'old', 2], ['die', 'old', 3], ['destroy', 'old', 4]]);
    expect(rolloutFindings(events, [startFirst], 'shop').problems[0]).toMatch(/never turned healthy/);
  });

  it('accepts stop-first when the old container has exited before the new one starts', () => {
    const events = replacement([['kill', 'old', 0], ['die', 'old', 1], ['destroy', 'old', 1.5], ['create', 'new', 2], ['start', 'new', 2.5]]);
    const found = rolloutFindings(events, [stopFirst], 'shop');
    expect(found.problems).toEqual([]);
    expect(found.lines[0]).toBe('web stop-first: old exited, new started 1.5 s later (no overlap)');
  });

  it('refuses stop-first when both run at once', () => {
    const events = replacement([['create', 'new', 0], ['start', 'new', 1], ['kill', 'old', 2], ['die', 'old', 3], ['destroy', 'old', 4]]);
    expect(rolloutFindings(events, [stopFirst], 'shop').problems).toEqual(['shop web: stop-first, but the new container started 2.0 s before the old one exited (both ran at once)']);
  });

  it('refuses a service the redeploy did not replace, and ignores another product of the same service name', () => {
    const events = [event('create', 'new', 0, { product: 'blog' }), event('destroy', 'old', 1, { product: 'blog' })];
    expect(rolloutFindings(events, [startFirst], 'shop').problems[0]).toMatch(/shop web: not replaced/);
  });
});

describe('stopFindings', () => {
  const graceful = { graceSeconds: 30, drainSeconds: 27 };

  it('accepts SIGTERM, then exit 0 after the drain', () => {
    const events = [event('kill', 'a', 0, { signal: '15' }), event('die', 'a', 27.2, { exitCode: '0' })];
    expect(stopFindings(events, () => graceful, 'shop')).toEqual({ problems: [], stopped: 1, longestMs: 27200 });
  });

  it('refuses a stop that did not wait for the drain (a shorter timeout than destroy_grace_seconds)', () => {
    const events = [event('kill', 'a', 0, { signal: '15' }), event('kill', 'a', 10, { signal: '9' }), event('die', 'a', 10.1, { exitCode: '137' })];
    expect(stopFindings(events, () => graceful, 'shop').problems).toEqual([
      'shop web-a: SIGKILLed 10.0 s after SIGTERM (destroy_grace_seconds 30), exit 137',
      'shop web-a: exited 10.1 s after SIGTERM, but the stand-in drains 27 s: the engine did not wait',
    ]);
  });

  it('refuses a stop that is not SIGTERM first', () => {
    const events = [event('kill', 'a', 0, { signal: '9' }), event('die', 'a', 0.1, { exitCode: '137' })];
    expect(stopFindings(events, () => ({ graceSeconds: 10, drainSeconds: 0 }), 'shop').problems[0]).toBe('shop web-a: stopped with signal 9 first, not SIGTERM (15)');
  });

  it('accepts a program ended by the SIGTERM itself (143), but not the stand-in app, which must exit 0', () => {
    const events = [event('kill', 'a', 0, { signal: '15' }), event('die', 'a', 0.2, { exitCode: '143' })];
    expect(stopFindings(events, () => ({ graceSeconds: 10, drainSeconds: 0 }), 'shop').problems).toEqual([]);
    expect(stopFindings(events, () => ({ graceSeconds: 10, drainSeconds: 7 }), 'shop').problems[0]).toBe('shop web-a: exited 143 after SIGTERM, not 0');
  });

  it('leaves out containers that are not the stack’s', () => {
    const events = [event('kill', 'a', 0, { signal: '9' })];
    expect(stopFindings(events, () => undefined, 'shop')).toEqual({ problems: [], stopped: 0, longestMs: 0 });
  });
});
