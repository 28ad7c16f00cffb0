/**
 * Hostile servers, written here (the kit's plumbing only, never the fake Polygon server): each case
 * is named after the attack. Every text the suite produces is scanned for the key at the end.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import type { Bar, TradingStatus } from '@feed/core';
import { ConnectionError, FeedError, HttpError, ManualClock } from '@feed/core';
import type { TestHttpHandler, TestHttpServer, TestWsServer } from '@feed/live/testing';
import { TextLog, sendJson, startHttpServer, startWsServer } from '@feed/live/testing';
import { PolygonHistoricalClient, PolygonMultiSymbolFeed } from '../src/index.js';

const KEY = 'pgHostileKey_7f3Qx9Lm2Vb8Nc4Z';
const T0 = Date.UTC(2025, 9, 16, 13, 30);
const until = (check: () => void): Promise<void> => vi.waitFor(check, { timeout: 20_000, interval: 2 });

const log = new TextLog();
const keep = (value: unknown): void => log.keep(value);

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function http(handler: TestHttpHandler): Promise<TestHttpServer> {
  const server = await startHttpServer(handler);
  servers.push(server);
  return server;
}

const agg = (minute: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ t: T0 + minute * 60_000, o: 10, h: 11, l: 9, c: 10.5, v: 100, vw: 10.2, n: 3, ...extra });
const page = (results: unknown[], next?: string): Record<string, unknown> => ({ ticker: 'TQQQ', status: 'OK', adjusted: true, resultsCount: results.length, results, ...(next === undefined ? {} : { next_url: next }) });
const ASK = { symbols: ['TQQQ'], start: T0, end: T0 + 10 * 60_000 };

async function failure(p: Promise<unknown>): Promise<FeedError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(FeedError.isInstance(e), `expected a FeedError, got ${String(e)}`).toBe(true);
  keep(e);
  return e as FeedError;
}

const client = (baseUrl: string, extra: Partial<ConstructorParameters<typeof PolygonHistoricalClient>[0]> = {}): PolygonHistoricalClient =>
  new PolygonHistoricalClient({ baseUrl, apiKey: KEY, retryDelayMs: 1, clock: new ManualClock(T0 + 3_600_000), ...extra });

describe('hostile REST servers (PolygonHistoricalClient)', () => {
  it('a next_url on another host: a protocol error, and the key never goes there', async () => {
    const other = await http((_req, res) => sendJson(res, page([])));
    const first = await http((_req, res) => sendJson(res, page([agg(1)], `${other.url}/v2/aggs/ticker/TQQQ/range/1/minute/1/2?cursor=abc`)));
    const e = await failure(client(first.url).barsBySymbol(ASK));
    expect(e.code).toBe('protocol');
    expect(e.message).toContain(`next_url points to ${other.url}, not ${first.url}`);
    expect(other.requests).toHaveLength(0);
    expect(first.requests[0]?.url).toContain(`apiKey=${KEY}`);
  });

  it('a next_url with the key of someone else in it: the client sends its own key, once', async () => {
    let n = 0;
    const server = await http((_req, res) => sendJson(res, n++ === 0 ? page([agg(1)], `/v2/aggs/ticker/TQQQ/range/1/minute/1/2?cursor=2&apiKey=THEIRKEY`) : page([agg(2)])));
    const got = await client(server.url).barsBySymbol(ASK);
    expect(got.get('TQQQ')).toHaveLength(2);
    const second = new URL(server.requests[1]?.url ?? '', server.url);
    expect(second.searchParams.getAll('apiKey')).toEqual([KEY]);
    expect(second.searchParams.get('cursor')).toBe('2');
  });

  it("a next_url that is not a URL at all ('http://[::1'): a typed protocol error, not a raw TypeError", async () => {
    const server = await http((_req, res) => sendJson(res, page([agg(1)], 'http://[::1')));
    const e = await failure(client(server.url).barsBySymbol(ASK));
    expect(e.code).toBe('protocol');
    expect(e.message).toMatch(/next_url "http:\/\/\[::1" is not a URL/);
  });

  it('a relative next_url resolves against the base, as Polygon would mean it', async () => {
    let n = 0;
    const server = await http((_req, res) => sendJson(res, n++ === 0 ? page([agg(1)], 'not a url at all') : page([agg(2)])));
    const got = await client(server.url).barsBySymbol(ASK);
    expect(got.get('TQQQ')).toHaveLength(2);
    expect(server.requests[1]?.url).toMatch(/^\/v2\/aggs\/ticker\/TQQQ\/range\/1\/minute\/\d+\/not%20a%20url%20at%20all\?apiKey=/);
  });

  it('a redirect to another host: refused with both origins named, the key never sent there', async () => {
    const other = await http((_req, res) => sendJson(res, page([])));
    const first = await http((_req, res) => {
      res.writeHead(308, { location: `${other.url}/steal` });
      res.end();
    });
    const e = await failure(client(first.url).barsBySymbol(ASK));
    expect(HttpError.isInstance(e)).toBe(true);
    expect(e.message).toContain(other.url);
    expect(other.requests).toHaveLength(0);
  });

  it('empty results with a fresh next_url each time: a limit error after maxPagesWithoutBars', async () => {
    let n = 0;
    const server = await http((_req, res) => sendJson(res, page([], `/v2/aggs/ticker/TQQQ/range/1/minute/1/2?cursor=${n++}`)));
    const e = await failure(client(server.url, { maxPagesWithoutBars: 4 }).barsBySymbol(ASK));
    expect(e.code).toBe('limit');
    expect(e.message).toMatch(/^minute aggregates of TQQQ from .*: gave up: 5 pages brought no new bar/);
    expect(server.requests).toHaveLength(5);
  });

  it.each([
    ['[]', /an array, not an object with results/],
    ['null', /null, not an object with results/],
    [JSON.stringify(page([agg(1, { o: '10' })])), /results\[0\]: o is not a finite number/],
    [JSON.stringify(page([agg(1, { v: -3 })])), /results\[0\]: v is -3: a volume is never negative/],
    [JSON.stringify(page([agg(1, { t: 'monday' })])), /results\[0\]: t is not a finite number/],
    [JSON.stringify({ results: {} }), /results is not an array/],
    [JSON.stringify({ results: [], next_url: 7 }), /next_url is not a string/],
  ])('malformed body %s: a protocol error with the URL, without the key', async (body, message) => {
    const server = await http((_req, res) => sendJson(res, body));
    const e = await failure(client(server.url).barsBySymbol(ASK));
    expect(e.code).toBe('protocol');
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain(KEY);
  });

  it('results for another ticker, and results outside the range: dropped and counted', async () => {
    let n = 0;
    const server = await http((_req, res) =>
      sendJson(res, n++ === 0 ? { ...page([agg(1), agg(2)], '/next'), ticker: 'EVIL' } : page([agg(-3), agg(3), agg(900)])),
    );
    const c = client(server.url);
    const got = await c.barsBySymbol(ASK);
    expect(got.get('TQQQ')?.map((b: Bar) => (b.start - T0) / 60_000)).toEqual([3]);
    expect(c.stats()).toMatchObject({ droppedUnasked: 2, droppedOutOfRange: 2 });
  });
});

/** A minimal Polygon stream: `connected`, `auth_success` on auth, `subscribed to` for each subscription; or nothing (`silent`). */
async function stream(options: { silent?: boolean } = {}): Promise<TestWsServer> {
  const ws = await startWsServer((socket) => {
    if (options.silent === true) return;
    const status = (status: string, message: string): void => socket.send(JSON.stringify([{ ev: 'status', status, message }]));
    status('connected', 'Connected Successfully');
    socket.on('message', (raw) => {
      const m = JSON.parse((raw as Buffer).toString()) as { action: string; params: string };
      if (m.action === 'auth') status('auth_success', 'authenticated');
      if (m.action === 'subscribe') for (const p of m.params.split(',')) status('success', `subscribed to: ${p}`);
    });
  });
  servers.push(ws);
  return ws;
}

const am = (sym: string, minute: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ev: 'AM', sym, v: 100, av: 1000, op: 10, vw: 10.2, o: 10, c: 10.5, h: 11, l: 9, a: 10.1, z: 5, s: T0 + minute * 60_000, e: T0 + (minute + 1) * 60_000, ...extra });

function feedOn(ws: TestWsServer, extra: Partial<ConstructorParameters<typeof PolygonMultiSymbolFeed>[0]> = {}) {
  const clock = new ManualClock(T0 + 30 * 60_000);
  const feed = new PolygonMultiSymbolFeed({
    symbols: ['TQQQ'],
    url: ws.url('/stocks'),
    apiKey: KEY,
    clock,
    keepAlive: false,
    watchdog: false,
    gapFill: false,
    reconnect: { initialDelayMs: 5, maxDelayMs: 5, jitter: 0, maxAttempts: Infinity },
    ...extra,
  });
  const got = { bars: [] as Bar[], errors: [] as FeedError[], events: [] as { type: string; reason?: string }[] };
  feed.on('bar', (e) => got.bars.push(e.bar));
  feed.on('error', (e) => {
    got.errors.push(e.error);
    keep(e.error);
  });
  for (const t of ['open', 'authenticated', 'status', 'disconnected', 'retry', 'reconnected', 'state'] as const) {
    feed.on(t, (e) => {
      got.events.push(e);
      keep(e);
    });
  }
  feed.on('retry', (e) => queueMicrotask(() => clock.advance(e.delayMs)));
  return { feed, got, clock };
}

const minutes = (got: { bars: Bar[] }): number[] => got.bars.map((b) => (b.start - T0) / 60_000);

describe('hostile streams (PolygonMultiSymbolFeed)', () => {
  it('LULD events as documented (timestamps in ms or ns), halts and resumptions (17, 18), and broken ones: decoded, or counted and typed', async () => {
    const ws = await stream();
    const { feed, got } = feedOn(ws, { luld: true });
    const statuses: TradingStatus[] = [];
    feed.on('tradingStatus', (e) => statuses.push(e.status));
    await feed.connect();
    await feed.start();
    const ms = T0 + 61_234;
    ws.send(
      JSON.stringify([
        { ev: 'LULD', T: 'TQQQ', h: 52.5, l: 47.5, i: [16], z: 3, t: ms * 1e6 + 800, q: 1 }, // ns, as Polygon's sample
        { ev: 'LULD', T: 'TQQQ', h: 52.5, l: 47.5, i: [17], z: 3, t: ms, q: 2 }, // ms, as its field table says
        { ev: 'LULD', T: 'TQQQ', i: [18], z: 3, t: ms + 300_000, q: 6 },
        { ev: 'LULD', T: 'TQQQ', h: 'up', l: 47.5, i: [], t: ms }, // bad band
        { ev: 'LULD', T: 'TQQQ', i: 'halt', t: ms }, // indicators not a list
        { ev: 'LULD', h: 1, l: 1, t: ms }, // no ticker
        { ev: 'LULD', T: 'TQQQ', i: [17] }, // no time
        { ev: 'LULD', T: 'AAPL', i: [17], t: ms }, // not subscribed
      ]),
    );
    await until(() => expect(statuses).toHaveLength(3));
    expect(statuses.map((x) => [x.at, x.kind, x.code, x.effect])).toEqual([
      [ms, 'luld', '16', 'none'],
      [ms, 'luld', '17', 'halt'],
      [ms + 300_000, 'luld', '18', 'resume'],
    ]);
    expect(statuses[0]).toMatchObject({ limitUp: 52.5, limitDown: 47.5, tape: '3' });
    expect(feed.stats()).toMatchObject({ tradingStatuses: 3, statusesDropped: 1, malformed: 4 });
    expect(got.errors.map((e) => e.code).sort()).toEqual(['protocol', 'protocol', 'protocol', 'protocol', 'unknown_symbol']);
    await feed.disconnect();
  });

  it('frames that are not arrays, unknown events, bad fields, prototype keys, huge symbols, binary frames: each counted and typed; the good bars go on', async () => {
    const ws = await stream();
    const { feed, got } = feedOn(ws);
    await feed.connect();
    await feed.start();
    for (const f of [
      [am('TQQQ', 0)],
      am('TQQQ', 1), // not an array
      [{ ev: 'XQ', sym: 'TQQQ' }],
      [am('TQQQ', 2, { o: 'ten' })],
      [am('TQQQ', 2, { h: null })],
      [am('TQQQ', 2, { v: -1 })],
      [am('__proto__', 2), am('constructor', 2), am('X'.repeat(10_000), 2)],
      [am(42 as unknown as string, 2)],
      [null, 7],
      [am('TQQQ', 3)],
    ]) {
      ws.send(JSON.stringify(f));
    }
    ws.send('{"unterminated');
    ws.send(Buffer.from([0x91, 0x81]), true);
    ws.send(JSON.stringify([am('TQQQ', 4)]));
    await until(() => expect(minutes(got)).toEqual([0, 3, 4]));
    const s = feed.stats();
    // not an array, 3 bad fields, a numeric sym, 2 non-objects, unterminated JSON, the binary frame.
    expect(s.malformed).toBe(9);
    expect(s.unknownMessages).toBe(1);
    expect(s.unexpectedSymbolBars).toBe(3);
    expect(Math.max(...got.errors.map((e) => e.message.length))).toBeLessThan(300);
    await feed.disconnect();
  });

  it('a server that never answers the handshake: each attempt ends at connectTimeoutMs, then a ConnectionError', async () => {
    const ws = await stream({ silent: true });
    const { feed, clock } = feedOn(ws, { connectTimeoutMs: 1000, reconnect: { initialDelayMs: 5, maxDelayMs: 5, jitter: 0, maxAttempts: 2 } });
    const connecting = feed.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    for (const n of [1, 2]) {
      await until(() => expect(ws.sockets).toHaveLength(n));
      clock.advance(1000);
    }
    const e = await connecting;
    expect(ConnectionError.isInstance(e)).toBe(true);
    keep(e);
  });

  it('each close code from the server (1000, 1001, 1008, 1011, 4000, and a reset): reported, reconnected, and the good bars go on', async () => {
    const ws = await stream();
    const { feed, got } = feedOn(ws);
    await feed.connect();
    await feed.start();
    const codes = [1000, 1001, 1008, 1011, 4000, 0];
    for (const [i, code] of codes.entries()) {
      await until(() => expect(feed.state).toBe('streaming'));
      ws.send(JSON.stringify([am('TQQQ', i)]));
      await until(() => expect(minutes(got)).toHaveLength(i + 1));
      const socket = ws.sockets[ws.sockets.length - 1] as WebSocket;
      if (code === 0) socket.terminate();
      else socket.close(code, `closing with ${code}`);
      await until(() => expect(ws.sockets).toHaveLength(i + 2));
    }
    await until(() => expect(feed.state).toBe('streaming'));
    ws.send(JSON.stringify([am('TQQQ', 6)]));
    await until(() => expect(minutes(got)).toEqual([0, 1, 2, 3, 4, 5, 6]));
    const reasons = got.events.filter((e) => e.type === 'disconnected').map((e) => e.reason);
    expect(reasons.slice(0, 5)).toEqual(codes.slice(0, 5).map((c) => `connection closed (code ${c}: closing with ${c})`));
    await feed.disconnect();
  });

  it('an auth_failed that echoes the key: connect() rejects at once, and no piece of the key is in it', async () => {
    const ws = await startWsServer((socket) => {
      socket.send(JSON.stringify([{ ev: 'status', status: 'connected', message: 'hi' }]));
      socket.on('message', () => socket.send(JSON.stringify([{ ev: 'status', status: 'auth_failed', message: `authentication failed for ${KEY}` }])));
    });
    servers.push(ws);
    const { feed } = feedOn(ws);
    const e = await failure(feed.connect());
    expect(e.message).toMatch(/auth_failed/);
    expect(ws.sockets).toHaveLength(1);
  });
});

describe('secrets: nothing the hostile suites produced holds the key', () => {
  it('scans every error, cause, stack, detail and event for the key and any 8-character piece', () => {
    expect(log.texts.length).toBeGreaterThan(30);
    expect(log.leaks([KEY])).toEqual([]);
  });

  it('the scan can fail: a deliberate leak is found', () => {
    expect(log.leaks([KEY], [`debug: ${KEY.slice(3, 11)}`]).map((l) => l.split(' in ')[0])).toEqual([KEY.slice(3, 11)]);
  });
});
