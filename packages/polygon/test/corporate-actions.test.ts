import { afterEach, describe, expect, it } from 'vitest';
import { FeedError, ManualClock, makeCorporateAction } from '@feed/core';
import { PolygonCorporateActionsClient } from '../src/index.js';
import { FakePolygonServer } from '../src/testing.js';

const actions = [
  makeCorporateAction({ symbol: 'TQQQ', kind: 'forward_split', exDate: '2025-01-13', ratio: 2, source: 'test' }),
  makeCorporateAction({ symbol: 'TQQQ', kind: 'cash_dividend', exDate: '2025-03-24', amount: 0.01, source: 'test' }),
  makeCorporateAction({ symbol: 'UVXY', kind: 'reverse_split', exDate: '2025-04-11', ratio: 0.2, source: 'test' }),
  makeCorporateAction({ symbol: 'UVXY', kind: 'reverse_split', exDate: '2024-01-25', ratio: 0.1, source: 'test' }),
];
let server: FakePolygonServer | undefined;
afterEach(async () => {
  await server?.close();
});

describe('PolygonCorporateActionsClient on the fake server', () => {
  it('reads splits (split_to / split_from) and dividends by date, following next_url page by page', async () => {
    server = await FakePolygonServer.start({ pageSize: 1 });
    server.addCorporateActions(actions);
    const clock = new ManualClock(Date.UTC(2025, 11, 1));
    const c = new PolygonCorporateActionsClient({ apiKey: server.apiKey, baseUrl: server.url, clock, onRetry: (r) => queueMicrotask(() => clock.advance(r.delayMs)) });
    const got = await c.actionsBySymbol({ symbols: ['TQQQ', 'UVXY'], from: '2025-01-01', to: '2025-12-31' });
    expect(got.get('TQQQ')?.map((a) => [a.kind, a.exDate, a.ratio ?? a.amount])).toEqual([
      ['forward_split', '2025-01-13', 2],
      ['cash_dividend', '2025-03-24', 0.01],
    ]);
    expect(got.get('UVXY')?.map((a) => [a.kind, a.exDate, a.ratio])).toEqual([['reverse_split', '2025-04-11', 0.2]]);
    expect(server.requests.filter((r) => r.startsWith('/v3/reference/')).length).toBeGreaterThanOrEqual(4);
    // A 503 is retried; the key never appears in an error.
    server.fault({ status: 503 });
    expect((await c.actionsBySymbol({ symbols: ['UVXY'], from: '2025-04-11', to: '2025-04-11' })).get('UVXY')).toHaveLength(1);
  });

  it('a malformed answer is a typed protocol error', async () => {
    server = await FakePolygonServer.start();
    server.fault({ status: 'malformed' });
    const c = new PolygonCorporateActionsClient({ apiKey: server.apiKey, baseUrl: server.url, clock: new ManualClock(0) });
    const e = await c.actionsBySymbol({ symbols: ['UVXY'], from: '2025-01-01', to: '2025-12-31' }).then(() => undefined, (x: unknown) => x);
    expect(FeedError.isInstance(e) && e.code === 'protocol').toBe(true);
    expect((e as Error).message).not.toContain(server.apiKey);
  });
});
