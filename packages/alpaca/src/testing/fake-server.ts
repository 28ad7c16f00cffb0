import type { IncomingMessage, ServerResponse } from 'node:http';
import { decode, encode } from '@msgpack/msgpack';
import type { Bar, BarSource, CorporateAction, TradingStatus, Unsubscribe } from '@feed/core';
import type { TestServer } from '@feed/live/testing';
import { startTestServer } from '@feed/live/testing';
import type { WebSocket } from 'ws';
import type { AlpacaKeys } from '../credentials.js';
import { ALPACA_ERROR_TEXT } from '../messages.js';
import { BarStore } from './bar-store.js';
import type { RestFaults } from './rest-handler.js';
import { handleActionsRequest, handleBarsRequest } from './rest-handler.js';
import { formatTime } from './time-format.js';

/** Options of `FakeAlpacaServer.start`. */
export interface FakeAlpacaServerOptions {
  /**
   * Port on 127.0.0.1; 0 picks a free one.
   * @default 0
   */
  port?: number;
  /**
   * The only key pair the server accepts.
   * @default { keyId: 'FAKEKEYID', secretKey: 'FAKESECRET' }
   */
  keys?: AlpacaKeys;
  /**
   * Close a connection that has not authenticated within this time (error 404), in milliseconds.
   * @default 10000
   */
  authTimeoutMs?: number;
  /**
   * Most symbols per channel a connection may subscribe (error 405 beyond).
   * @default Infinity
   */
  symbolLimit?: number;
  /**
   * Feeds (the last path segment, `v2/{feed}`) this account may not read: subscribing there gets 409.
   * @default []
   */
  forbiddenFeeds?: readonly string[];
  /**
   * Write bar times with fractional seconds (`...:00.000000000Z`), as Alpaca sometimes does.
   * @default false
   */
  fractionalSeconds?: boolean;
  /**
   * Send every frame in this encoding whatever the client asked for (a proxy that ignores
   * `Content-Type: application/msgpack`, or a server that only speaks msgpack).
   * @default the encoding each client asked for
   */
  forceEncoding?: 'json' | 'msgpack';
  /**
   * The server's idea of now (epoch ms), for `X-RateLimit-Reset` and `refuse406({ ms })`: pass the
   * feed's `ManualClock` so that they agree.
   * @default Date.now
   */
  clock?: { now(): number };
}

/** What the server has seen and done, for assertions. */
export interface FakeServerStats {
  /** WebSocket connections accepted, in total. */
  connections: number;
  /** Connections open now. */
  open: number;
  /** Connections authenticated now. */
  authenticated: number;
  auths: number;
  authFailures: number;
  subscribeMessages: number;
  unsubscribeMessages: number;
  refused406: number;
  pingsReceived: number;
  framesSent: number;
  barsSent: number;
  /** REST requests served (any status). */
  restRequests: number;
  /** Connections the client closed cleanly (close code 1000). */
  cleanCloses: number;
}

/** One step of a script played by `play()`. */
export type ScriptStep =
  | { readonly bars: readonly Bar[]; readonly updated?: boolean; readonly frameSize?: number }
  | { readonly drop: true }
  | { readonly refuse406: { readonly ms?: number; readonly attempts?: number } }
  | { readonly slowClient: true }
  | { readonly ignorePings: boolean }
  | { readonly silence: boolean }
  | { readonly malformed: string | Uint8Array }
  | { readonly error: number; readonly msg?: string }
  | { readonly waitMs: number }
  | { readonly waitForClients: number; readonly timeoutMs?: number };

interface Client {
  readonly ws: WebSocket;
  readonly msgpack: boolean;
  readonly feed: string;
  authed: boolean;
  muted: boolean;
  readonly bars: Set<string>;
  readonly updatedBars: Set<string>;
  readonly dailyBars: Set<string>;
  readonly statuses: Set<string>;
  readonly lulds: Set<string>;
  authTimer: ReturnType<typeof setTimeout> | undefined;
}


/**
 * A fake of Alpaca's market-data service on 127.0.0.1 for tests: the stream (JSON and msgpack, auth by
 * message or header, subscribe/unsubscribe with full-set replies, bars, updated bars, errors 400-410)
 * and the historical bars endpoint, with fault injection. Every bar published is also kept, so the REST
 * endpoint can serve what a disconnected client missed, as Alpaca's does.
 */
export class FakeAlpacaServer {
  /** The shared HTTP + WebSocket scaffolding (`@feed/live/testing`); the protocol is this class's. */
  #server: TestServer | undefined;
  readonly #keys: AlpacaKeys;
  readonly #authTimeoutMs: number;
  readonly #symbolLimit: number;
  readonly #forbidden: ReadonlySet<string>;
  readonly #fractional: boolean;
  readonly #forceEncoding: 'json' | 'msgpack' | undefined;
  readonly #now: () => number;
  readonly #clients = new Set<Client>();
  readonly #watchers = new Set<() => void>();
  readonly #store = new BarStore();
  readonly #actions: CorporateAction[] = [];
  #ignorePings = false;
  #refuseUntil = 0;
  #refuseAttempts = 0;
  #subscribeFailure: number | undefined;
  /** Faults of the REST endpoint (see `rest`). */
  readonly rest: RestFaults = { failNext: [], rateLimitNext: 0, pageLimit: 10_000 };
  readonly stats: FakeServerStats = {
    connections: 0,
    open: 0,
    authenticated: 0,
    auths: 0,
    authFailures: 0,
    subscribeMessages: 0,
    unsubscribeMessages: 0,
    refused406: 0,
    pingsReceived: 0,
    framesSent: 0,
    barsSent: 0,
    restRequests: 0,
    cleanCloses: 0,
  };

  private constructor(options: FakeAlpacaServerOptions) {
    this.#keys = options.keys ?? { keyId: 'FAKEKEYID', secretKey: 'FAKESECRET' };
    this.#authTimeoutMs = options.authTimeoutMs ?? 10_000;
    this.#symbolLimit = options.symbolLimit ?? Infinity;
    this.#forbidden = new Set(options.forbiddenFeeds ?? []);
    this.#fractional = options.fractionalSeconds ?? false;
    this.#forceEncoding = options.forceEncoding;
    const clock = options.clock;
     
    this.#now = clock === undefined ? () => Date.now() : () => clock.now();
  }

  /** Starts a server on 127.0.0.1. */
  static async start(options: FakeAlpacaServerOptions = {}): Promise<FakeAlpacaServer> {
    const server = new FakeAlpacaServer(options);
    server.#server = await startTestServer({
      ...(options.port === undefined ? {} : { port: options.port }),
      http: (req, res) => server.#onHttp(req, res),
      ws: (ws, req) => server.#onConnection(ws, req),
      autoPong: false,
    });
    return server;
  }

  /** The key pair the server accepts. */
  get keys(): AlpacaKeys {
    return this.#keys;
  }

  /** The stream URL of a feed on this server, e.g. `ws://127.0.0.1:PORT/v2/iex`. */
  url(feed = 'iex'): string {
    return this.#kit.wsUrl(`/v2/${feed}`);
  }

  /** The base URL of the REST API, e.g. `http://127.0.0.1:PORT`. */
  get restUrl(): string {
    return this.#kit.httpUrl;
  }

  /** REST requests the server is holding open without an answer (the `'hang'` fault). */
  get hangingRequests(): number {
    return this.#kit.held;
  }

  /** Every bar published so far, per symbol, in start order (updated bars replace their original). */
  history(symbol: string): readonly Bar[] {
    return this.#store.bars(symbol);
  }

  /** Adds bars to the history the REST endpoint serves, without streaming them. */
  addHistory(bars: Iterable<Bar>): void {
    for (const b of bars) this.#store.put(b);
  }

  /** Corporate actions the REST endpoint `GET /v1/corporate-actions` serves (with the bars' faults and page limit). */
  addCorporateActions(actions: Iterable<CorporateAction>): void {
    for (const a of actions) this.#actions.push(a);
  }

  /**
   * Streams bars to every authenticated client subscribed to their symbol, `frameSize` messages per
   * frame, and keeps them for the REST endpoint. `updated` sends them as updated bars (`T: "u"`).
   * Muted (`silence`) or absent clients miss them; they stay available over REST (unless `keep` is
   * false: a bad bar the REST endpoint must not serve). Returns the frames sent.
   */
  publish(bars: readonly Bar[], options: { updated?: boolean; daily?: boolean; frameSize?: number; keep?: boolean } = {}): number {
    const type = options.daily === true ? 'd' : options.updated === true ? 'u' : 'b';
    if (type !== 'd' && options.keep !== false) for (const b of bars) this.#store.put(b);
    const frameSize = options.frameSize ?? 100;
    let frames = 0;
    for (const c of this.#clients) {
      if (!c.authed || c.ws.readyState !== 1 || c.muted) continue;
      const channel = type === 'b' ? c.bars : type === 'u' ? c.updatedBars : c.dailyBars;
      const all = channel.has('*');
      let frame: Record<string, unknown>[] = [];
      for (const b of bars) {
        if (!all && !channel.has(b.symbol)) continue;
        frame.push(this.#barMessage(type, b, c.msgpack));
        if (frame.length >= frameSize) {
          this.#sendTo(c, frame);
          this.stats.barsSent += frame.length;
          frames++;
          frame = [];
        }
      }
      if (frame.length > 0) {
        this.#sendTo(c, frame);
        this.stats.barsSent += frame.length;
        frames++;
      }
    }
    return frames;
  }

  /**
   * Sends trading statuses (`T: "s"`, with Alpaca's `sc`/`sm`/`rc`/`rm`) and LULD bands (`T: "l"`,
   * `u`/`d`/`i`) to every authenticated client subscribed to their symbol on the `statuses` or
   * `lulds` channel, in one frame per client. Returns the messages sent.
   */
  publishStatus(statuses: readonly TradingStatus[]): number {
    let sent = 0;
    for (const c of this.#clients) {
      if (!c.authed || c.ws.readyState !== 1 || c.muted) continue;
      const frame: Record<string, unknown>[] = [];
      for (const st of statuses) {
        const channel = st.kind === 'luld' ? c.lulds : c.statuses;
        if (!channel.has('*') && !channel.has(st.symbol)) continue;
        // Statuses carry sub-second times (Alpaca sends nanoseconds): always with fractional seconds.
        const t = c.msgpack ? new Date(st.at) : formatTime(st.at, true);
        frame.push(
          st.kind === 'luld'
            ? { T: 'l', S: st.symbol, u: st.limitUp, d: st.limitDown, i: st.code, t, z: st.tape }
            : { T: 's', S: st.symbol, sc: st.code, sm: st.message, rc: st.reasonCode, rm: st.reasonMessage, t, z: st.tape },
        );
      }
      if (frame.length === 0) continue;
      this.#sendTo(c, frame);
      sent += frame.length;
    }
    return sent;
  }

  /**
   * Publishes every bar a source emits (for example a `MockMultiSymbolFeed` replaying files), batching
   * the bars emitted in one synchronous run into frames. Returns the function that stops it.
   */
  streamFrom(source: BarSource, options: { frameSize?: number } = {}): Unsubscribe {
    let batch: Bar[] = [];
    let scheduled = false;
    const flush = (): void => {
      scheduled = false;
      const b = batch;
      batch = [];
      this.publish(b, options);
    };
    const off = source.on('bar', (e) => {
      batch.push(e.bar);
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    });
    return () => {
      off();
      if (batch.length > 0) flush();
    };
  }

  /**
   * Sends a raw frame to every authenticated client: for malformed-data tests and pre-encoded bursts.
   * A string goes as a text frame, bytes as a binary frame unless `text` is true (UTF-8 JSON bytes).
   */
  sendRaw(frame: string | Uint8Array, options: { text?: boolean } = {}): void {
    const binary = typeof frame !== 'string' && options.text !== true;
    for (const c of this.#clients) if (c.authed && c.ws.readyState === 1) c.ws.send(frame, { binary });
    this.stats.framesSent++;
  }

  /** Sends `[{"T":"error","code":code}]` to every open client; 406 and 407 then close the connection, as Alpaca does. */
  sendError(code: number, msg?: string): void {
    for (const c of this.#clients) {
      if (c.ws.readyState !== 1) continue;
      this.#error(c, code, msg);
      if (code === 406 || code === 407 || code === 404) c.ws.close(1008, ALPACA_ERROR_TEXT[code]);
    }
  }

  /** Drops every connection abruptly (no close frame), like a network fault. */
  drop(): void {
    for (const c of this.#clients) c.ws.terminate();
  }

  /** Answers every auth with 406 and closes, for `ms` milliseconds and/or the next `attempts` auths. */
  refuse406(options: { ms?: number; attempts?: number }): void {
     
    if (options.ms !== undefined) this.#refuseUntil = this.#now() + options.ms;
    if (options.attempts !== undefined) this.#refuseAttempts = options.attempts;
  }

  /** Sends 407 (slow client) to every client and closes their connections. */
  slowClient(): void {
    this.sendError(407);
  }

  /** Stops (or resumes) answering pings. */
  ignorePings(on: boolean): void {
    this.#ignorePings = on;
  }

  /**
   * Makes the connections open now go silent: they stay open and answer pings but get no data (bars
   * are still kept for REST). New connections are not affected, as with a stuck server-side session.
   * `silence(false)` unmutes them all.
   */
  silence(on: boolean): void {
    for (const c of this.#clients) c.muted = on;
  }

  /** The next subscribe message gets this error code (409 or 410, say) instead of a reply. */
  failNextSubscribe(code: number): void {
    this.#subscribeFailure = code;
  }

  /** Plays a script of bars and faults, in order. */
  async play(steps: Iterable<ScriptStep>): Promise<void> {
    for (const step of steps) {
      if ('bars' in step) this.publish(step.bars, { updated: step.updated ?? false, frameSize: step.frameSize ?? 100 });
      else if ('drop' in step) this.drop();
      else if ('refuse406' in step) this.refuse406(step.refuse406);
      else if ('slowClient' in step) this.slowClient();
      else if ('ignorePings' in step) this.ignorePings(step.ignorePings);
      else if ('silence' in step) this.silence(step.silence);
      else if ('malformed' in step) this.sendRaw(step.malformed);
      else if ('error' in step) this.sendError(step.error, step.msg);
      else if ('waitMs' in step) await new Promise((r) => setTimeout(r, step.waitMs));
      else await this.waitFor((s) => s.authenticated >= step.waitForClients, step.timeoutMs);
    }
  }

  /**
   * Resolves when `predicate(stats)` holds, checked after every change the server sees; rejects after
   * `timeoutMs` with the stats in the message.
   */
  waitFor(predicate: (stats: Readonly<FakeServerStats>) => boolean, timeoutMs = 5000): Promise<void> {
    if (predicate(this.stats)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.stats)) return;
        clearTimeout(timer);
        this.#watchers.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#watchers.delete(check);
        reject(new Error(`FakeAlpacaServer.waitFor timed out after ${timeoutMs} ms; stats: ${JSON.stringify(this.stats)}`));
      }, timeoutMs);
      this.#watchers.add(check);
    });
  }

  /** Closes every connection and the server (hanging REST requests are ended). */
  async close(): Promise<void> {
    for (const c of this.#clients) {
      if (c.authTimer !== undefined) clearTimeout(c.authTimer);
      c.ws.terminate();
    }
    await this.#kit.close();
  }

  // ---- internals ---------------------------------------------------------------------------------

  get #kit(): TestServer {
    return this.#server as TestServer;
  }

  #changed(): void {
    for (const w of [...this.#watchers]) w();
  }

  #onHttp(req: IncomingMessage, res: ServerResponse): void {
    this.stats.restRequests++;
    const ctx = { keys: this.#keys, store: this.#store, faults: this.rest, now: this.#now, hold: (r: ServerResponse) => this.#kit.hold(r) };
    if (req.method === 'GET' && (req.url ?? '').startsWith('/v1/corporate-actions')) handleActionsRequest(req, res, { ...ctx, actions: this.#actions });
    else handleBarsRequest(req, res, ctx);
    this.#changed();
  }

  #onConnection(ws: WebSocket, req: IncomingMessage): void {
    const contentType = req.headers['content-type'] ?? '';
    const feed = (req.url ?? '').split('?')[0]?.split('/').filter(Boolean).pop() ?? '';
    const client: Client = {
      ws,
      msgpack: this.#forceEncoding === undefined ? contentType.includes('application/msgpack') : this.#forceEncoding === 'msgpack',
      feed,
      authed: false,
      muted: false,
      bars: new Set(),
      updatedBars: new Set(),
      dailyBars: new Set(),
      statuses: new Set(),
      lulds: new Set(),
      authTimer: undefined,
    };
    this.#clients.add(client);
    this.stats.connections++;
    this.stats.open++;
    ws.on('ping', (data) => {
      this.stats.pingsReceived++;
      if (!this.#ignorePings) ws.pong(data);
      this.#changed();
    });
    ws.on('message', (data, isBinary) => this.#onMessage(client, data as Buffer, isBinary));
    ws.on('close', (code) => {
      if (code === 1000) this.stats.cleanCloses++;
      if (client.authTimer !== undefined) clearTimeout(client.authTimer);
      this.#clients.delete(client);
      this.stats.open--;
      if (client.authed) this.stats.authenticated--;
      this.#changed();
    });
    ws.on('error', () => undefined);
    this.#sendTo(client, [{ T: 'success', msg: 'connected' }]);
    const id = req.headers['apca-api-key-id'];
    const secret = req.headers['apca-api-secret-key'];
    if (id !== undefined || secret !== undefined) {
      this.#authenticate(client, String(id), String(secret));
    } else {
      client.authTimer = setTimeout(() => {
        this.#error(client, 404);
        ws.close(1008, 'auth timeout');
      }, this.#authTimeoutMs);
    }
    this.#changed();
  }

  #authenticate(client: Client, key: string, secret: string): void {
    if (client.authTimer !== undefined) clearTimeout(client.authTimer);
    client.authTimer = undefined;
    if (client.authed) {
      this.#error(client, 403);
      return;
    }
    this.stats.auths++;
    if (key !== this.#keys.keyId || secret !== this.#keys.secretKey) {
      this.stats.authFailures++;
      this.#error(client, 402);
      client.ws.close(1008, 'auth failed');
      return;
    }
     
    if (this.#refuseAttempts > 0 || this.#now() < this.#refuseUntil) {
      if (this.#refuseAttempts > 0) this.#refuseAttempts--;
      this.stats.refused406++;
      this.#error(client, 406);
      client.ws.close(1008, 'connection limit exceeded');
      return;
    }
    client.authed = true;
    this.stats.authenticated++;
    this.#sendTo(client, [{ T: 'success', msg: 'authenticated' }]);
  }

  #onMessage(client: Client, data: Buffer, isBinary: boolean): void {
    let m: unknown;
    try {
      m = isBinary ? decode(data) : JSON.parse(data.toString('utf8'));
    } catch {
      this.#error(client, 400);
      return;
    }
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      this.#error(client, 400);
      return;
    }
    const msg = m as Record<string, unknown>;
    const action = msg.action;
    if (action === 'auth') {
      this.#authenticate(client, String(msg.key), String(msg.secret));
    } else if (action === 'subscribe' || action === 'unsubscribe') {
      if (!client.authed) {
        this.#error(client, 401);
      } else {
        this.#subscribe(client, action, msg);
      }
    } else {
      this.#error(client, 400);
    }
    this.#changed();
  }

  #subscribe(client: Client, action: 'subscribe' | 'unsubscribe', msg: Record<string, unknown>): void {
    if (action === 'subscribe') this.stats.subscribeMessages++;
    else this.stats.unsubscribeMessages++;
    if (action === 'subscribe' && this.#forbidden.has(client.feed)) {
      this.#error(client, 409);
      return;
    }
    if (action === 'subscribe' && this.#subscribeFailure !== undefined) {
      const code = this.#subscribeFailure;
      this.#subscribeFailure = undefined;
      this.#error(client, code);
      return;
    }
    const channels = [
      ['bars', client.bars],
      ['updatedBars', client.updatedBars],
      ['dailyBars', client.dailyBars],
      ['statuses', client.statuses],
      ['lulds', client.lulds],
    ] as const;
    for (const [key, set] of channels) {
      const list = msg[key];
      if (list === undefined) continue;
      if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) {
        this.#error(client, 400);
        return;
      }
      const next = new Set(set);
      for (const s of list) {
        if (action === 'subscribe') next.add(s);
        else next.delete(s);
      }
      if (next.size > this.#symbolLimit) {
        this.#error(client, 405);
        return;
      }
      set.clear();
      for (const s of next) set.add(s);
    }
    this.#sendTo(client, [
      {
        T: 'subscription',
        trades: [],
        quotes: [],
        bars: [...client.bars],
        updatedBars: [...client.updatedBars],
        dailyBars: [...client.dailyBars],
        statuses: [...client.statuses],
        lulds: [...client.lulds],
      },
    ]);
  }

  #error(client: Client, code: number, msg?: string): void {
    this.#sendTo(client, [{ T: 'error', code, msg: msg ?? ALPACA_ERROR_TEXT[code] ?? 'error' }]);
  }

  #sendTo(client: Client, messages: readonly Record<string, unknown>[]): void {
    if (client.ws.readyState !== 1) return;
    client.ws.send(client.msgpack ? encode(messages) : JSON.stringify(messages));
    this.stats.framesSent++;
  }

  #barMessage(type: 'b' | 'u' | 'd', b: Bar, msgpack: boolean): Record<string, unknown> {
    const m: Record<string, unknown> = {
      T: type,
      S: b.symbol,
      o: b.open,
      h: b.high,
      l: b.low,
      c: b.close,
      v: b.volume,
      // msgpack carries the time as a timestamp extension (a Date encodes to one); JSON as RFC 3339.
      t: msgpack ? new Date(b.start) : formatTime(b.start, this.#fractional),
    };
    if (b.tradeCount !== undefined) m.n = b.tradeCount;
    if (b.vwap !== undefined) m.vw = b.vwap;
    return m;
  }
}
