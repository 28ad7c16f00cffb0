import { describe, expect, it } from 'vitest';
import { TypedEmitter } from './emitter.js';

type Ev = { type: 'a'; n: number } | { type: 'b' };

function emitter(errors: unknown[] = []): TypedEmitter<Ev> {
  return new TypedEmitter<Ev>((error) => errors.push(error));
}

describe('TypedEmitter', () => {
  it('calls the listeners of the event type in subscription order, and no other type', () => {
    const e = emitter();
    const seen: string[] = [];
    e.on('a', (ev) => seen.push(`first ${ev.n}`));
    e.on('b', () => seen.push('b'));
    e.on('a', (ev) => seen.push(`second ${ev.n}`));
    e.emit({ type: 'a', n: 1 });
    expect(seen).toEqual(['first 1', 'second 1']);
    expect(e.listenerCount('a')).toBe(2);
    expect(e.listenerCount()).toBe(3);
  });

  it('counts one function subscribed twice as two subscriptions, each removed by its own unsubscribe', () => {
    const e = emitter();
    let calls = 0;
    const f = (): void => {
      calls++;
    };
    const off1 = e.on('a', f);
    e.on('a', f);
    e.emit({ type: 'a', n: 1 });
    expect(calls).toBe(2);
    off1();
    off1();
    e.emit({ type: 'a', n: 2 });
    expect(calls).toBe(3);
    expect(e.listenerCount('a')).toBe(1);
  });

  it('does not call a listener unsubscribed by an earlier one in the same emit; one subscribed during an emit hears the next event', () => {
    const e = emitter();
    const seen: string[] = [];
    let offLater: () => void = () => undefined;
    e.on('a', (ev) => {
      seen.push(`first ${ev.n}`);
      offLater();
      if (ev.n === 1) e.on('a', (ev2) => seen.push(`added ${ev2.n}`));
    });
    offLater = e.on('a', (ev) => seen.push(`later ${ev.n}`));
    e.emit({ type: 'a', n: 1 });
    e.emit({ type: 'a', n: 2 });
    expect(seen).toEqual(['first 1', 'first 2', 'added 2']);
  });

  it('reports a throwing listener and still calls the others', () => {
    const errors: unknown[] = [];
    const e = emitter(errors);
    let after = 0;
    e.on('a', () => {
      throw new Error('boom');
    });
    e.on('a', () => {
      after++;
    });
    e.emit({ type: 'a', n: 1 });
    expect(after).toBe(1);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('boom');
  });

  it('clear() removes every listener; their unsubscribes then do nothing', () => {
    const e = emitter();
    let calls = 0;
    const off = e.on('a', () => {
      calls++;
    });
    e.clear();
    e.emit({ type: 'a', n: 1 });
    off();
    const off2 = e.on('a', () => {
      calls += 10;
    });
    off();
    e.emit({ type: 'a', n: 2 });
    expect(calls).toBe(10);
    off2();
    expect(e.listenerCount()).toBe(0);
  });

  it('subscriptions(type): the listeners of one type in order, an array never changed (replaced on each change), inactive once unsubscribed or cleared', () => {
    const e = emitter();
    expect(e.subscriptions('a')).toEqual([]);
    const f = (): void => undefined;
    const g = (): void => undefined;
    const offF = e.on('a', f);
    e.on('b', g);
    const before = e.subscriptions('a');
    e.on('a', g);
    const both = e.subscriptions('a');
    expect(before.map((s) => s.fn)).toEqual([f]);
    expect(both.map((s) => s.fn)).toEqual([f, g]);
    expect(both.map((s) => s.active)).toEqual([true, true]);
    expect(e.subscriptions('b').map((s) => s.fn)).toEqual([g]);
    offF();
    expect(before).toHaveLength(1);
    expect(before[0]?.active).toBe(false);
    expect(both[1]?.active).toBe(true);
    expect(e.subscriptions('a').map((s) => s.fn)).toEqual([g]);
    e.clear();
    expect(both[1]?.active).toBe(false);
    expect(e.subscriptions('a')).toEqual([]);
  });
});
