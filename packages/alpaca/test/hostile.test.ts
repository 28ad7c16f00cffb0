/**
 * Hostile servers, written here with plain `node:http` and `ws` (never the project's fake server,
 * which shares the client's assumptions): each case is named after the attack. Every text the suite
 * produces (errors, their causes and stacks, events) is scanned for the keys at the end.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import type { Bar, TradingStatus } from '@feed/core';
import { ConnectionError, FeedError, HttpError, ManualClock, findSecretPieces } from '@feed/core';
import type { TestHttpHandler, TestHttpServer, TestWsServer } from '@feed/live/testing';
import { TextLog, sendJson, startHttpServer, startWsServer } from '@feed/live/testing';
import { AlpacaHistoricalClient, AlpacaMultiSymbolFeed } from '../src/index.js';

const KEYS = { keyId: 'AKHOSTILE7Q2M9X4', secretKey: 'hostileSecret0Z9Y8X7W6V5U4T3S2R1' };
const SECRETS = [KEYS.keyId, KEYS.secretKey];
const T0 = Date.UTC(2025, 9, 16, 13, 30);
const iso = (minute: number): string => new Date(T0 + minute * 60_000).toISOString().replace('.000Z', 'Z');
const until = (check: () => void): Promise<void> => vi.waitFor(check, { timeout: 20_000, interval: 2 });

/** Every text the suite saw, for the secret scan at the end. */
const log = new TextLog();
const keep = (value: unknown): void => log.keep(value);

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** A plain HTTP server on 127.0.0.1 (the kit's plumbing only: the answers are this test's). */
async function http(handler: TestHttpHandler): Promise<TestHttpServer> {
  const server = await startHttpServer(handler);
  servers.push(server);
  return server;
}
const json = sendJson;
const wire = (symbol: string, minute: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ t: iso(minute), o: 10, h: 11, l: 9, c: 10.5, v: 100, n: 3, vw: 10.2, S: symbol, ...extra });

function client(baseUrl: string, extra: Partial<ConstructorParameters<typeof AlpacaHistoricalClient>[0]> = {}): AlpacaHistoricalClient {
  return new AlpacaHistoricalClient({ baseUrl, keys: KEYS, retryDelayMs: 1, ...extra });
}

async function failure(p: Promise<unknown>): Promise<FeedError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(FeedError.isInstance(e), `expected a FeedError, got ${String(e)}`).toBe(true);
  keep(e);
  return e as FeedError;
}

const ASK = { symbols: ['TQQQ'], start: T0, end: T0 + 10 * 60_000 };

describe('hostile REST servers (AlpacaHistoricalClient)', () => {
  it('a 302 to another host: the keys never reach it, and the HttpError names both origins', async () => {
    const other = await http((_req, res) => json(res, { bars: {}, next_page_token: null }));
    const first = await http((_req, res) => {
      res.writeHead(302, { location: `${other.url}/v2/stocks/bars?stolen=1` });
      res.end();
    });
    const e = await failure(client(first.url).barsBySymbol(ASK));
    expect(HttpError.isInstance(e) && e.status).toBe(302);
    expect(e.message).toContain(first.url);
    expect(e.message).toContain(other.url);
    expect(other.requests).toHaveLength(0);
    expect(first.requests[0]?.headers['apca-api-key-id']).toBe(KEYS.keyId);
  });

  it('a 301 that only changes the port is another origin too: refused', async () => {
    const first = await http((_req, res) => {
      res.writeHead(301, { location: 'http://127.0.0.1:9/v2/stocks/bars' });
      res.end();
    });
    const e = await failure(client(first.url).barsBySymbol(ASK));
    expect(e.detail).toMatchObject({ refused: 'http://127.0.0.1:9' });
  });

  it('a 307 within the same origin is followed (with the keys), counted in the retry budget', async () => {
    const server = await http((req, res, url) => {
      if (url.pathname === '/v2/stocks/bars') {
        res.writeHead(307, { location: `/moved${url.search}` });
        res.end();
        return;
      }
      json(res, { bars: { TQQQ: [wire('TQQQ', 1)] }, next_page_token: null });
    });
    const c = client(server.url, { retryBudget: 1 });
    const got = await c.barsBySymbol(ASK);
    expect(got.get('TQQQ')).toHaveLength(1);
    expect(c.stats().redirects).toBe(1);
    expect(server.requests.map((r) => r.headers['apca-api-secret-key'])).toEqual([KEYS.secretKey, KEYS.secretKey]);
    // With no retry left, the same redirect fails the call.
    await failure(client(server.url, { retryBudget: 0 }).barsBySymbol(ASK));
  });

  it('a redirect loop inside the origin stops at maxRedirects', async () => {
    const server = await http((_req, res, url) => {
      res.writeHead(302, { location: url.pathname === '/a' ? '/b' : '/a' });
      res.end();
    });
    const e = await failure(client(server.url, { maxRedirects: 3 }).barsBySymbol(ASK));
    expect(e.message).toMatch(/more than 3 redirects/);
    expect(server.requests).toHaveLength(4);
  });

  it('empty pages with a fresh next_page_token each time: a limit error after maxPagesWithoutBars, not a loop', async () => {
    let n = 0;
    const server = await http((_req, res) => json(res, { bars: {}, next_page_token: `token-${n++}` }));
    const e = await failure(client(server.url).barsBySymbol(ASK));
    expect(e.code).toBe('limit');
    expect(e.message).toMatch(/^bars of TQQQ from 2025-10-16T13:30:00.000Z to 2025-10-16T13:40:00.000Z: gave up: 11 pages brought no new bar/);
    expect(e.message).toContain('came: 11 pages, 0 bars, 11 requests');
    expect(server.requests).toHaveLength(11);
  });

  it('pages that repeat the same bar under fresh tokens count as pages without a new bar', async () => {
    let n = 0;
    const server = await http((_req, res) => json(res, { bars: { TQQQ: [wire('TQQQ', 1)] }, next_page_token: `t${n++}` }));
    const e = await failure(client(server.url, { maxPagesWithoutBars: 2 }).barsBySymbol(ASK));
    expect(e.code).toBe('limit');
    expect(server.requests).toHaveLength(4);
  });

  it('a server that pages forever with new bars: the request budget ends it', async () => {
    let n = 0;
    const server = await http((_req, res) => {
      n++;
      json(res, { bars: { TQQQ: [wire('TQQQ', 0, { t: new Date(T0 - n * 60_000).toISOString() })] }, next_page_token: `t${n}` });
    });
    const e = await failure(client(server.url, { maxRequestsPerCall: 5 }).barsBySymbol({ symbols: ['TQQQ'], start: T0 - 1e9, end: T0, sort: 'desc' }));
    expect(e.code).toBe('limit');
    expect(e.message).toContain('5 requests made (maxRequestsPerCall 5)');
    expect(server.requests).toHaveLength(5);
  });

  it('a server that never answers: the call deadline ends it (on the clock), with a timeout error', async () => {
    const server = await http(() => undefined);
    const clock = new ManualClock(T0 + 3_600_000);
    const p = failure(client(server.url, { clock, callTimeoutMs: 30_000, timeoutMs: 60_000 }).barsBySymbol(ASK));
    await until(() => expect(server.requests).toHaveLength(1));
    clock.advance(30_000);
    const e = await p;
    expect(e.code).toBe('timeout');
    expect(e.message).toMatch(/the whole call timed out after 30000 ms/);
  });

  it.each([
    ['[]', /an array, not an object with bars/],
    ['null', /null, not an object with bars/],
    ['"bars"', /bars, not an object with bars/],
    ['{"bars": [1, 2]}', /'bars' is not an object/],
    ['{"bars": {"TQQQ": {"t": 1}}}', /bars.TQQQ is not an array/],
    [JSON.stringify({ bars: { TQQQ: [wire('TQQQ', 1, { o: '10' })] } }), /field 'o' is "10", not a number/],
    [JSON.stringify({ bars: { TQQQ: [wire('TQQQ', 1, { c: null })] } }), /field 'c' is null, not a number/],
    [JSON.stringify({ bars: { TQQQ: [wire('TQQQ', 1, { v: -5 })] } }), /a volume is never negative/],
    [JSON.stringify({ bars: { TQQQ: [wire('TQQQ', 1, { t: 'yesterday' })] } }), /is not an RFC 3339 time/],
    [JSON.stringify({ bars: {}, next_page_token: 42 }), /next_page_token is 42/],
    ['<html>', /not JSON \(6 bytes\)/],
  ])('malformed body %s: a protocol error with the URL, without the key', async (body, message) => {
    const server = await http((_req, res) => json(res, body));
    const e = await failure(client(server.url).barsBySymbol(ASK));
    expect(e.code).toBe('protocol');
    expect(e.message).toMatch(message);
    expect(String(e.detail?.url)).toContain(`${server.url}/v2/stocks/bars?`);
  });

  it('bars for symbols not asked, __proto__ among them, are dropped and counted; the asked ones kept', async () => {
    const body = `{"bars": {"TQQQ": [${JSON.stringify(wire('TQQQ', 1))}], "EVIL": [${JSON.stringify(wire('EVIL', 1))}], "__proto__": [${JSON.stringify(wire('X', 1))}], "constructor": [${JSON.stringify(wire('X', 2))}]}, "next_page_token": null}`;
    const server = await http((_req, res) => json(res, body));
    const c = client(server.url);
    const got = await c.barsBySymbol(ASK);
    expect([...got.keys()]).toEqual(['TQQQ']);
    expect(got.get('TQQQ')).toHaveLength(1);
    expect(c.stats().droppedUnasked).toBe(3);
  });

  it('bars outside the asked range are dropped and counted', async () => {
    const server = await http((_req, res) => json(res, { bars: { TQQQ: [wire('TQQQ', -5), wire('TQQQ', 2), wire('TQQQ', 500)] }, next_page_token: null }));
    const c = client(server.url);
    const got = await c.barsBySymbol(ASK);
    expect(got.get('TQQQ')?.map((b) => (b.start - T0) / 60_000)).toEqual([2]);
    expect(c.stats().droppedOutOfRange).toBe(2);
  });

  it('an error body that echoes the secret: the HttpError holds none of it', async () => {
    const server = await http((_req, res) => json(res, `{"message": "bad secret ${KEYS.secretKey} for ${KEYS.keyId}"}`, 422));
    const e = await failure(client(server.url).barsBySymbol(ASK));
    expect(findSecretPieces(`${e.message}${e.stack ?? ''}`, SECRETS)).toEqual([]);
  });
});

// ---- the stream ------------------------------------------------------------------------------

/**
 * A minimal Alpaca stream: `connected` on open, `authenticated` on auth, a subscription reply on
 * subscribe; or, with `silent`, nothing at all.
 */
async function stream(options: { silent?: boolean } = {}): Promise<TestWsServer> {
  const ws = await startWsServer((socket) => {
    if (options.silent === true) return;
    socket.send(JSON.stringify([{ T: 'success', msg: 'connected' }]));
    socket.on('message', (raw) => {
      const m = JSON.parse((raw as Buffer).toString()) as { action: string; bars?: string[] };
      if (m.action === 'auth') socket.send(JSON.stringify([{ T: 'success', msg: 'authenticated' }]));
      if (m.action === 'subscribe') socket.send(JSON.stringify([{ T: 'subscription', trades: [], quotes: [], bars: m.bars ?? [], updatedBars: [], dailyBars: [] }]));
    });
  });
  servers.push(ws);
  return ws;
}

function feedOn(ws: TestWsServer, clock = new ManualClock(T0 + 30 * 60_000), extra: Partial<ConstructorParameters<typeof AlpacaMultiSymbolFeed>[0]> = {}) {
  const feed = new AlpacaMultiSymbolFeed({
    symbols: ['TQQQ'],
    url: ws.url('/v2/iex'),
    keys: KEYS,
    clock,
    keepAlive: false,
    watchdog: false,
    gapFill: false,
    reconnect: { initialDelayMs: 5, maxDelayMs: 5, jitter: 0, maxAttempts: 3 },
    ...extra,
  });
  const got = { bars: [] as Bar[], errors: [] as FeedError[], events: [] as unknown[] };
  feed.on('bar', (e) => got.bars.push(e.bar));
  feed.on('error', (e) => {
    got.errors.push(e.error);
    keep(e.error);
  });
  for (const t of ['open', 'authenticated', 'subscription', 'disconnected', 'retry', 'reconnected', 'state'] as const) {
    feed.on(t, (e) => {
      got.events.push(e);
      keep(e);
    });
  }
  feed.on('retry', (e) => queueMicrotask(() => clock.advance(e.delayMs)));
  return { feed, got, clock };
}

const minutes = (got: { bars: Bar[] }): number[] => got.bars.map((b) => (b.start - T0) / 60_000);

describe('hostile streams (AlpacaMultiSymbolFeed)', () => {
  it('frames that are not arrays, unknown types, bad fields, prototype keys, huge symbols, binary frames: each counted and typed; the good bars go on', async () => {
    const ws = await stream();
    const { feed, got } = feedOn(ws);
    await feed.connect();
    await feed.start();
    const frames: (string | Buffer)[] = [
      JSON.stringify([{ T: 'b', ...wire('TQQQ', 0) }]),
      JSON.stringify({ T: 'b', ...wire('TQQQ', 1) }), // not an array: malformed frame
      JSON.stringify([{ T: 'zz', S: 'TQQQ' }]), // unknown type: counted, skipped
      JSON.stringify([{ T: 'b', ...wire('TQQQ', 2, { o: 'ten' }) }]),
      JSON.stringify([{ T: 'b', ...wire('TQQQ', 2, { h: null }) }]),
      JSON.stringify([{ T: 'b', ...wire('TQQQ', 2, { l: 'NaN' }) }]),
      JSON.stringify([{ T: 'b', ...wire('TQQQ', 2, { v: -1 }) }]),
      JSON.stringify([{ T: 'b', ...wire('__proto__', 2) }, { T: 'b', ...wire('constructor', 2) }, { T: 'b', ...wire('X'.repeat(10_000), 2) }]),
      JSON.stringify([null, 7, 'b', []]),
      '{"unterminated',
      JSON.stringify([{ T: 'b', ...wire('TQQQ', 3) }]),
    ];
    for (const f of frames) ws.send(f);
    ws.send(Buffer.from([0x91, 0x81, 0xa1, 0x54]), true); // a msgpack frame on a JSON connection
    ws.send(JSON.stringify([{ T: 'b', ...wire('TQQQ', 4) }]));
    await until(() => expect(minutes(got)).toEqual([0, 3, 4]));
    const s = feed.stats();
    // not an array, 4 bad fields, 4 non-objects, unterminated JSON, the binary frame.
    expect(s.malformed).toBe(11);
    expect(s.unknownMessages).toBe(1);
    expect(s.unexpectedSymbolBars).toBe(3);
    expect(got.errors.every((e) => FeedError.isInstance(e))).toBe(true);
    expect(got.errors.filter((e) => e.code === 'unknown_symbol')).toHaveLength(3);
    // A 10 000-character symbol does not make a 10 000-character message.
    expect(Math.max(...got.errors.map((e) => e.message.length))).toBeLessThan(300);
    expect(Object.prototype).not.toHaveProperty('o');
    await feed.disconnect();
  });

  it('trading statuses and LULD bands as the documentation shows them, and broken ones: decoded, or counted and typed; the good ones go on', async () => {
    const ws = await stream();
    const { feed, got } = feedOn(ws, undefined, { symbols: ['TQQQ', 'SQQQ'], channels: { statuses: true, lulds: true } });
    const statuses: TradingStatus[] = [];
    feed.on('tradingStatus', (e) => statuses.push(e.status));
    await feed.connect();
    await feed.start();
    const t = '2025-10-16T14:15:03.123456789Z';
    ws.send(
      JSON.stringify([
        { T: 's', S: 'TQQQ', sc: 'H', sm: 'Trading Halt', rc: 'LUDP', rm: 'Volatility Trading Pause', t, z: 'C' },
        { T: 'l', S: 'TQQQ', u: 52.5, d: 47.5, i: 'B', t, z: 'C' },
        { T: 's', S: 'SQQQ', sc: '2', sm: 'Trading Halt', rc: 'M', rm: 'Limit Up-Limit Down (LULD) Trading Pause', t, z: 'B' },
        { T: 's', S: 'TQQQ', sc: 'Q', sm: 'Quotation Resumption', rc: '', rm: '', t, z: 'C' },
        { T: 's', S: 'TQQQ', sc: 'T', sm: 'Trading Resumption', rc: '', rm: '', t, z: 'C' },
        { T: 's', S: 'TQQQ', sm: 'no code', t }, // no sc
        { T: 's', S: 'TQQQ', sc: 'H', t: 'yesterday' }, // bad time
        { T: 'l', S: 'TQQQ', u: 'high', d: 47.5, t }, // bad band
        { T: 's', sc: 'H', t }, // no symbol
        { T: 's', S: 'NVDA', sc: 'H', sm: 'Trading Halt', t }, // not subscribed
        { T: 's', S: 'SQQQ', sc: '3', sm: 'Resume', t, z: 'B', rm: 'x'.repeat(10_000) },
      ]),
    );
    await until(() => expect(statuses).toHaveLength(6));
    expect(statuses.map((x) => [x.symbol, x.kind, x.code, x.effect])).toEqual([
      ['TQQQ', 'status', 'H', 'halt'],
      ['TQQQ', 'luld', 'B', 'none'],
      ['SQQQ', 'status', '2', 'halt'],
      ['TQQQ', 'status', 'Q', 'none'],
      ['TQQQ', 'status', 'T', 'resume'],
      ['SQQQ', 'status', '3', 'resume'],
    ]);
    expect(statuses[0]).toMatchObject({ at: Date.parse('2025-10-16T14:15:03.123Z'), reasonCode: 'LUDP', reasonMessage: 'Volatility Trading Pause', tape: 'C' });
    expect(statuses[1]).toMatchObject({ limitUp: 52.5, limitDown: 47.5 });
    // A 10 000-character field is cut: a status never carries unbounded text.
    expect((statuses[5] as TradingStatus).reasonMessage.length).toBeLessThanOrEqual(200);
    const s = feed.stats();
    expect(s.tradingStatuses).toBe(6);
    expect(s.malformed).toBe(4);
    expect(s.statusesDropped).toBe(1);
    expect(got.errors.map((e) => e.code).sort()).toEqual(['protocol', 'protocol', 'protocol', 'protocol', 'unknown_symbol']);
    await feed.disconnect();
  });

  it('a server that never answers the handshake: each attempt ends at connectTimeoutMs, then a ConnectionError', async () => {
    const ws = await stream({ silent: true });
    const { feed, clock } = feedOn(ws, undefined, { connectTimeoutMs: 1000, reconnect: { initialDelayMs: 5, maxDelayMs: 5, jitter: 0, maxAttempts: 2 } });
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
    expect((e as Error).message).toMatch(/gave up after 2 attempts in a row; last: no subscription reply within 1000 ms/);
    keep(e);
    expect(feed.state).toBe('idle');
  });

  it('each close code from the server (1000, 1001, 1008, 1011, 4000, 4999, and a reset): reported, reconnected, and the good bars go on', async () => {
    const ws = await stream();
    const { feed, got } = feedOn(ws, undefined, { reconnect: { initialDelayMs: 5, maxDelayMs: 5, jitter: 0, maxAttempts: Infinity } });
    await feed.connect();
    await feed.start();
    const codes = [1000, 1001, 1008, 1011, 4000, 4999, 0];
    for (const [i, code] of codes.entries()) {
      await until(() => expect(feed.state).toBe('streaming'));
      ws.send(JSON.stringify([{ T: 'b', ...wire('TQQQ', i) }]));
      await until(() => expect(minutes(got)).toHaveLength(i + 1));
      const socket = ws.sockets[ws.sockets.length - 1] as WebSocket;
      if (code === 0) socket.terminate();
      else socket.close(code, `closing with ${code}`);
      await until(() => expect(ws.sockets).toHaveLength(i + 2));
    }
    await until(() => expect(feed.state).toBe('streaming'));
    ws.send(JSON.stringify([{ T: 'b', ...wire('TQQQ', 7) }]));
    await until(() => expect(minutes(got)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]));
    const reasons = got.events.filter((e): e is { type: 'disconnected'; reason: string } => (e as { type: string }).type === 'disconnected').map((e) => e.reason);
    expect(reasons.slice(0, 6)).toEqual(codes.slice(0, 6).map((c) => `connection closed (code ${c}: closing with ${c})`));
    expect(reasons[6]).toMatch(/connection closed \(code 1006/);
    expect(feed.stats().reconnects).toBe(7);
    await feed.disconnect();
  });

  it('an error message that echoes the secret: reported with the code, without a piece of the secret', async () => {
    const ws = await stream();
    const { feed, got } = feedOn(ws);
    await feed.connect();
    await feed.start();
    ws.send(JSON.stringify([{ T: 'error', code: 400, msg: `invalid syntax near ${KEYS.secretKey.slice(2, 20)} (${KEYS.keyId})` }]));
    await until(() => expect(got.errors).toHaveLength(1));
    expect(got.errors[0]?.message).toMatch(/400/);
    await feed.disconnect();
  });
});

describe('secrets: nothing the hostile suites produced holds a key', () => {
  it('scans every error, cause, stack, detail and event for the key, the secret and any 8-character piece', () => {
    expect(log.texts.length).toBeGreaterThan(50);
    const leaks = log.leaks(SECRETS);
    expect(leaks).toEqual([]);
  });

  it('the scan can fail: a deliberate leak (a listener that appends a piece of the secret) is found', () => {
    const piece = KEYS.secretKey.slice(5, 13);
    expect(log.leaks(SECRETS, [`error: ${log.texts[0] ?? ''} [debug ${piece}]`]).map((l) => l.split(' in ')[0])).toEqual([piece]);
  });
});
