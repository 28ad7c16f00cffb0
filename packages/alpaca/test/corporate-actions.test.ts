import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CorporateAction } from '@feed/core';
import { FeedError, MINUTE_MS, ManualClock, makeCorporateAction } from '@feed/core';
import { AlpacaCorporateActionsClient } from '../src/index.js';
import { FakeAlpacaServer } from '../src/testing.js';
import { bars, feedOn, until } from './helpers.js';

const reverse = makeCorporateAction({ symbol: 'SQQQ', kind: 'reverse_split', exDate: '2025-10-16', ratio: 0.2, source: 'test' });
const forward = makeCorporateAction({ symbol: 'TQQQ', kind: 'forward_split', exDate: '2025-01-13', ratio: 2, source: 'test' });
const dividend = makeCorporateAction({ symbol: 'TQQQ', kind: 'cash_dividend', exDate: '2025-06-23', amount: 0.0123, source: 'test' });

let server: FakeAlpacaServer;
beforeEach(async () => {
  server = await FakeAlpacaServer.start();
  server.addCorporateActions([reverse, forward, dividend, makeCorporateAction({ symbol: 'NVDA', kind: 'forward_split', exDate: '2024-06-10', ratio: 10, source: 'test' })]);
});
afterEach(async () => {
  await server.close();
});

/** A client on a manual clock whose retry waits run as soon as they are announced. */
const client = (): AlpacaCorporateActionsClient => {
  const clock = new ManualClock(Date.UTC(2025, 9, 17));
  return new AlpacaCorporateActionsClient({ baseUrl: server.restUrl, keys: server.keys, clock, onRetry: (r) => queueMicrotask(() => clock.advance(r.delayMs)) });
};
const strip = (a: CorporateAction): unknown => ({ ...a, source: undefined });

describe('AlpacaCorporateActionsClient on the fake server', () => {
  it('reads splits (ratio = new_rate / old_rate) and dividends by ex-date, page after page, only the symbols asked', async () => {
    server.rest.pageLimit = 1;
    const got = await client().actionsBySymbol({ symbols: ['TQQQ', 'SQQQ'], from: '2025-01-01', to: '2025-12-31' });
    expect(got.get('TQQQ')?.map(strip)).toEqual([forward, dividend].map(strip));
    expect(got.get('SQQQ')?.map(strip)).toEqual([reverse].map(strip));
    expect(got.get('SQQQ')?.[0]?.source).toBe('alpaca');
    expect(server.stats.restRequests).toBe(3);
  });

  it('a 503 is retried; a malformed action is a typed protocol error naming where', async () => {
    server.rest.failNext.push(503);
    expect((await client().actionsBySymbol({ symbols: ['SQQQ'], from: '2025-10-16', to: '2025-10-16' })).get('SQQQ')).toHaveLength(1);
    server.rest.failNext.push('bad-field');
    const e = await client().actionsBySymbol({ symbols: ['SQQQ'], from: '2025-10-16', to: '2025-10-16' }).then(() => undefined, (x: unknown) => x);
    expect(FeedError.isInstance(e) && e.code === 'protocol').toBe(true);
    expect((e as Error).message).toMatch(/reverse_splits\[0\]/);
  });
});

describe('the live feed with corporateActions: true', () => {
  it("announces an action of today's ex-date before the day's first bar; one found after bars of its ex-date is announced late", async () => {
    const open = Date.UTC(2025, 9, 16, 13, 30);
    const clock = new ManualClock(open);
    const feed = feedOn(server, { clock, corporateActions: true });
    const log: string[] = [];
    feed.on('corporateAction', (e) => log.push(`${e.action.symbol} ${e.action.kind}${e.late ? ' late' : ''}`));
    feed.on('bar', (e) => log.push(`bar ${e.bar.symbol}`));
    await feed.connect();
    await feed.start();
    clock.set(open + MINUTE_MS);
    server.publish(bars(['TQQQ', 'SQQQ'], 1, open));
    await until(() => expect(log.filter((l) => l.startsWith('bar'))).toHaveLength(2));
    expect(log).toEqual(['bar TQQQ', 'SQQQ reverse_split', 'bar SQQQ']);
    expect(feed.stats()).toMatchObject({ corporateActions: 1, corporateActionsAnnounced: 1, corporateActionFetchFailures: 0 });
    await feed.disconnect();
  });

  it('an action published after bars of its ex-date: the next session\'s first bar asks again, and it is announced late', async () => {
    await server.close();
    server = await FakeAlpacaServer.start();
    const open = Date.UTC(2025, 9, 16, 13, 30);
    const clock = new ManualClock(open);
    const feed = feedOn(server, { clock, corporateActions: true });
    const log: string[] = [];
    feed.on('corporateAction', (e) => log.push(`${e.action.symbol} ${e.action.kind}${e.late ? ' late' : ''}`));
    await feed.connect();
    await feed.start();
    clock.set(open + MINUTE_MS);
    server.publish(bars(['SQQQ'], 1, open));
    server.addCorporateActions([reverse]);
    const next = Date.UTC(2025, 9, 17, 13, 30);
    clock.set(next + MINUTE_MS);
    server.publish(bars(['SQQQ'], 1, next));
    await until(() => expect(log).toEqual(['SQQQ reverse_split late']));
    expect(feed.stats().corporateActionsAnnounced).toBe(1);
    await feed.disconnect();
  });
});
