import type { Bar } from '@feed/core';
import { MINUTE_MS, ManualClock, makeBar, nyse } from '@feed/core';
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from './index.js';
import { MultiSymbolDataManager, SessionEvents } from './index.js';

const bar = (symbol: string, start: number): Bar => makeBar({ symbol, start, open: 10, high: 10, low: 10, close: 10, volume: 1, receivedAt: start + MINUTE_MS });
const et = (t: number): string => new Date(t - 4 * 3_600_000).toISOString().slice(11, 16); // EDT dates only

/** Plays every minute of [from, to) with one bar per symbol (except `skip`), recording bars, slices and events in order. */
function play(days: string[], opts: { skipMinutes?: Set<number>; beforeCloseMs?: number; startAt?: number } = {}) {
  const sessions = days.map((d) => nyse.sessionOn(d)!);
  const clock = new ManualClock(opts.startAt ?? sessions[0]!.open);
  const dm = new MultiSymbolDataManager({ symbols: ['A', 'B'], clock });
  const events = new SessionEvents(dm, opts.beforeCloseMs === undefined ? {} : { beforeCloseMs: opts.beforeCloseMs });
  const log: string[] = [];
  const seen: SessionEvent[] = [];
  // Each event logs the newest bar the manager holds then: what a strategy acting on it sees.
  for (const type of ['sessionOpen', 'beforeClose', 'sessionClose'] as const)
    events.on(type, (e) => {
      seen.push(e);
      const last = dm.latestBar('A');
      log.push(`${e.type} ${et(e.at)} (last bar ${last === undefined ? 'none' : et(last.start)})`);
    });
  dm.on('slice', ({ slice }) => log.push(`slice ${et(slice.asOf)}`));
  for (const s of sessions) {
    for (let t = Math.max(s.open, clock.now()); t <= s.close; t += MINUTE_MS) {
      clock.set(t + MINUTE_MS); // the minute ends, then its bars arrive (as live; replay moves the clock first too)
      if (!opts.skipMinutes?.has((t - s.open) / MINUTE_MS)) for (const sym of ['A', 'B']) dm.update(bar(sym, t));
    }
    clock.advance(10_000);
  }
  return { log, seen, events, clock };
}

describe('session events', () => {
  it('sessionOpen before the first bar, beforeClose (15:58) right after the 15:57 slice, sessionClose after the 15:59 slice, with minutes since the open and to the close', () => {
    const { log, seen } = play(['2025-10-16']);
    expect(log[0]).toBe('sessionOpen 09:30 (last bar none)');
    // At the slice of the minute before: that minute's bars are in, the next minute's are not.
    expect(log).toContain('beforeClose 15:58 (last bar 15:57)');
    expect(log).toContain('sessionClose 16:00 (last bar 15:59)');
    expect(log.indexOf('beforeClose 15:58 (last bar 15:57)')).toBeLessThan(log.indexOf('slice 15:59'));
    expect(seen.map((e) => [e.type, e.minutesSinceOpen, e.minutesToClose])).toEqual([
      ['sessionOpen', 0, 390],
      ['beforeClose', 388, 2],
      ['sessionClose', 390, 0],
    ]);
  });

  it('on the 13:00 early close: beforeClose at 12:58, at a configured offset too', () => {
    const { seen } = play(['2025-11-28']);
    expect(seen.map((e) => `${e.type} ${new Date(e.at).toISOString().slice(11, 16)}Z ${e.minutesToClose}`)).toEqual(['sessionOpen 14:30Z 210', 'beforeClose 17:58Z 2', 'sessionClose 18:00Z 0']);
    const ten = play(['2025-10-16'], { beforeCloseMs: 30 * MINUTE_MS });
    expect(ten.seen[1]).toMatchObject({ type: 'beforeClose', minutesSinceOpen: 360, minutesToClose: 30 });
  });

  it('across days, each day in order; a minute with no bar for anyone still gets its event at the grace', () => {
    const last = 388; // no bars at all in the minute before 15:58: no 15:58 slice
    const { log } = play(['2025-10-16', '2025-10-17'], { skipMinutes: new Set([last - 1]) });
    const events = log.filter((l) => !l.startsWith('slice'));
    expect(events).toEqual([
      'sessionOpen 09:30 (last bar none)',
      'beforeClose 15:58 (last bar 15:56)', // no 15:57 bar: at the grace
      'sessionClose 16:00 (last bar 15:59)',
      'sessionOpen 09:30 (last bar 16:00)',
      'beforeClose 15:58 (last bar 15:56)',
      'sessionClose 16:00 (last bar 15:59)',
    ]);
    expect(log).not.toContain('slice 15:58');
  });

  it('a program started mid-session gets no past open; current() says where it is', () => {
    const s = nyse.sessionOn('2025-10-16')!;
    const r = play(['2025-10-16'], { startAt: s.open + 90 * MINUTE_MS });
    expect(r.seen.map((e) => e.type)).toEqual(['beforeClose', 'sessionClose']);
    const clock = new ManualClock(s.open + 90 * MINUTE_MS);
    const events = new SessionEvents(new MultiSymbolDataManager({ symbols: ['A'], clock }));
    expect(events.current()).toMatchObject({ minutesSinceOpen: 90, minutesToClose: 300 });
  });

  it('refuses a beforeCloseMs outside a session', () => {
    const dm = new MultiSymbolDataManager({ symbols: ['A'], clock: new ManualClock(0) });
    expect(() => new SessionEvents(dm, { beforeCloseMs: -1 })).toThrowError(/beforeCloseMs/);
  });
});
