/** The providers under the soak: each one's fake server switches, feed and history client. */
import { encode } from '@msgpack/msgpack';
import type { ManualClock } from '@feed/core';
import { AlpacaHistoricalClient, AlpacaMultiSymbolFeed } from '@feed/alpaca';
import type { RestFault } from '@feed/alpaca/testing';
import { FakeAlpacaServer } from '@feed/alpaca/testing';
import { PolygonHistoricalClient, PolygonMultiSymbolFeed } from '@feed/polygon';
import type { PolygonFault } from '@feed/polygon/testing';
import { FakePolygonServer } from '@feed/polygon/testing';
import type { SoakFeed, SoakRestFault, SoakServer, SoakTarget } from './engine.js';

const ALPACA_KEYS = { keyId: 'AKSOAKKEYID00001', secretKey: 'soak-secret-0123456789abcdefghij' };
const POLYGON_KEY = 'soakPolygonKey_9a8b7c6d5e4f3g2h';

const ALPACA_REST: Readonly<Record<SoakRestFault, readonly RestFault[]>> = {
  rest500: [500, 503],
  rest429: [{ status: 429, headers: false }, { status: 429, headers: false }, { status: 429, headers: false }],
  rest429RetryAfter: [{ status: 429, retryAfter: '2' }, { status: 429, retryAfter: '2' }, { status: 429, retryAfter: '2' }],
  restHang: ['hang'],
  restLoop: ['loop-token', 'loop-token'],
};

/** Alpaca's stream and REST API (`FakeAlpacaServer`). */
export const ALPACA: SoakTarget = {
  name: 'alpaca',
  encodings: ['json', 'msgpack'],
  secrets: [ALPACA_KEYS.keyId, ALPACA_KEYS.secretKey],
  async start(clock: ManualClock): Promise<SoakServer> {
    const s = await FakeAlpacaServer.start({ keys: ALPACA_KEYS, clock });
    // Getters, not copies: the counts change as the run goes (Object.assign would copy their values once).
    const server: SoakServer & { fake: unknown } = {
        publish: (bars, options) => s.publish(bars, options),
        drop: () => s.drop(),
        refuse: (attempts) => s.refuse406({ attempts }),
        silence: (on) => s.silence(on),
        restFault: (f) => s.rest.failNext.push(...ALPACA_REST[f]),
        sendMalformed: (symbol, start, encoding) => {
          const bad = [{ T: 'b', S: symbol, t: new Date(start).toISOString(), o: 'x', h: 1, l: 1, c: 1, v: 1 }];
          s.sendRaw(encoding === 'msgpack' ? encode(bad) : JSON.stringify(bad));
        },
        sendEcho: (text) => s.sendError(400, text),
        close: () => s.close(),
        get refused(): number {
          return s.stats.refused406;
        },
        get restFaultsLeft(): number {
          return s.rest.failNext.length;
        },
        get hangingRequests(): number {
          return s.hangingRequests;
        },
        fake: s,
    };
    return server;
  },
  history: (server, clock, onRetry) => new AlpacaHistoricalClient({ baseUrl: fakeOf<FakeAlpacaServer>(server).restUrl, keys: ALPACA_KEYS, clock, onRetry }),
  feed: (server, options) => {
    const s = fakeOf<FakeAlpacaServer>(server);
    return new AlpacaMultiSymbolFeed({ ...options, url: s.url(), restUrl: s.restUrl, keys: ALPACA_KEYS }) as unknown as SoakFeed;
  },
  isEcho: (e) => e.statsKey === '400',
};

const POLYGON_REST: Readonly<Record<SoakRestFault, readonly PolygonFault[]>> = {
  rest500: [{ status: 500 }, { status: 503 }],
  rest429: [{ status: 429 }, { status: 429 }, { status: 429 }],
  rest429RetryAfter: [{ status: 429, retryAfter: '2' }, { status: 429, retryAfter: '2' }, { status: 429, retryAfter: '2' }],
  restHang: [{ status: 'hang' }],
  restLoop: [{ status: 'loop' }, { status: 'loop' }],
};

/** Polygon's (Massive's) stream and REST API (`FakePolygonServer`): JSON only. */
export const POLYGON: SoakTarget = {
  name: 'polygon',
  encodings: ['json'],
  secrets: [POLYGON_KEY],
  async start(): Promise<SoakServer> {
    const s = await FakePolygonServer.start({ apiKey: POLYGON_KEY });
    // Getters, not copies: the counts change as the run goes (Object.assign would copy their values once).
    const server: SoakServer & { fake: unknown } = {
        publish: (bars, options) => s.publish(bars, options),
        drop: () => s.drop(),
        refuse: (attempts) => s.refuseConnections(attempts),
        silence: (on) => s.silence(on),
        restFault: (f) => s.fault(...POLYGON_REST[f]),
        sendMalformed: (symbol, start) => s.sendRaw(JSON.stringify([{ ev: 'AM', sym: symbol, s: start, e: start + 60_000, o: 'x', h: 1, l: 1, c: 1, v: 1 }])),
        sendEcho: (text) => s.sendStatus('error', text),
        close: () => s.close(),
        get refused(): number {
          return s.refusedConnections;
        },
        get restFaultsLeft(): number {
          return s.faultsLeft;
        },
        get hangingRequests(): number {
          return s.hangingRequests;
        },
        fake: s,
    };
    return server;
  },
  history: (server, clock, onRetry) => new PolygonHistoricalClient({ baseUrl: fakeOf<FakePolygonServer>(server).url, apiKey: POLYGON_KEY, clock, onRetry }),
  feed: (server, { encoding: _encoding, ...options }) => {
    const s = fakeOf<FakePolygonServer>(server);
    return new PolygonMultiSymbolFeed({ ...options, url: s.wsUrl, restUrl: s.url, apiKey: POLYGON_KEY }) as unknown as SoakFeed;
  },
  isEcho: (e) => /Polygon status 'error'/.test(e.message),
};

/** The fake server behind a target's `SoakServer`. */
function fakeOf<T>(server: SoakServer): T {
  return (server as SoakServer & { fake: T }).fake;
}

/** Every target, by name. */
export const TARGETS: Readonly<Record<string, SoakTarget>> = { alpaca: ALPACA, polygon: POLYGON };
