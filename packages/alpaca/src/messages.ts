import { Decoder, EXT_TIMESTAMP, ExtensionCodec, decodeTimestampToTimeSpec } from '@msgpack/msgpack';
import type { Bar, TradingEffect, TradingStatus } from '@feed/core';
import { MAX_SYMBOL_LENGTH, MINUTE_MS, barFromValues, makeTradingStatus, quoteSymbol } from '@feed/core';

/** How the stream's frames are encoded: JSON text, or msgpack (`Content-Type: application/msgpack`). */
export type StreamEncoding = 'json' | 'msgpack';

/** The kinds of bar message Alpaca sends: `b` minute bar, `u` updated (revised) minute bar, `d` daily bar. */
export type BarMessageType = 'b' | 'u' | 'd';

/** A control or data message of the stream, after decoding. Unknown types are kept as `other`. */
export type StreamMessage =
  | { readonly kind: 'success'; readonly msg: string }
  | { readonly kind: 'error'; readonly code: number; readonly msg: string }
  | { readonly kind: 'subscription'; readonly subscription: Subscription }
  | { readonly kind: 'bar'; readonly type: BarMessageType; readonly bar: Bar }
  | { readonly kind: 'status'; readonly status: TradingStatus }
  | { readonly kind: 'other'; readonly type: string }
  | { readonly kind: 'malformed'; readonly reason: string; readonly index: number };

/** The channels of a subscription; Alpaca's reply lists the whole current set (keys may be missing). */
export interface Subscription {
  readonly bars: readonly string[];
  readonly updatedBars: readonly string[];
  readonly dailyBars: readonly string[];
  readonly statuses: readonly string[];
  readonly lulds: readonly string[];
}

const DAY_MS = 86_400_000;

/** The text of each error code of the stream (alpaca-protocol.md). */
export const ALPACA_ERROR_TEXT: Readonly<Record<number, string>> = {
  400: 'invalid syntax',
  401: 'not authenticated',
  402: 'auth failed',
  403: 'already authenticated',
  404: 'auth timeout',
  405: 'symbol limit exceeded',
  406: 'connection limit exceeded',
  407: 'slow client',
  409: 'insufficient subscription',
  410: 'invalid subscribe action for this feed',
  500: 'internal error',
};

/**
 * Parses an RFC 3339 UTC time such as `2025-10-16T19:59:00Z` or `2025-10-16T19:59:00.123456789Z`
 * (the forms Alpaca sends) with a fast path, and any other RFC 3339 form with `Date.parse`.
 * Returns `NaN` when the text is not a time.
 */
export function parseRfc3339(text: string): number {
  const n = text.length;
  if (n >= 20 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45 && text.charCodeAt(10) === 84 &&
    text.charCodeAt(13) === 58 && text.charCodeAt(16) === 58 && text.charCodeAt(n - 1) === 90) {
    const y = digits(text, 0, 4);
    const mo = digits(text, 5, 2);
    const d = digits(text, 8, 2);
    const h = digits(text, 11, 2);
    const mi = digits(text, 14, 2);
    const s = digits(text, 17, 2);
    let ms = 0;
    if (n > 20) {
      // Fractional seconds: '.' then 1-9 digits, then 'Z'.
      if (text.charCodeAt(19) !== 46 || n - 21 < 1 || n - 21 > 9) return Date.parse(text);
      const frac = digits(text, 20, n - 21);
      if (frac < 0) return Number.NaN;
      ms = Math.floor(frac / 10 ** (n - 21 - 3));
    }
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) {
      return Number.NaN;
    }
    const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
    // Date.UTC rolls 2025-02-30 over to March: reject such dates instead.
    return new Date(t).getUTCDate() === d ? t : Number.NaN;
  }
  return Date.parse(text);
}

function digits(text: string, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

// The messages of one frame nearly always share their time: parse each distinct text once.
let lastTimeText = '';
let lastTime = Number.NaN;

function timeOf(t: unknown): number {
  if (typeof t === 'string') {
    if (t === lastTimeText) return lastTime;
    const v = parseRfc3339(t);
    lastTimeText = t;
    lastTime = v;
    return v;
  }
  // A msgpack timestamp extension, decoded to epoch milliseconds by our decoder (or to a Date by others).
  if (typeof t === 'number') return Number.isFinite(t) ? t : Number.NaN;
  if (t instanceof Date) return t.getTime();
  return Number.NaN;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number.NaN;
}

function strings(v: unknown): readonly string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

/** Untrusted text for an error message, cut to 40 characters. */
function cut(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}... (${text.length} characters)` : text;
}

/**
 * The bar of a bar message (`T` of `b`, `u` or `d`), or the reason it is malformed: a missing symbol,
 * a bad time, an OHLCV field that is not a finite number, a negative volume or a price not above 0. The REST API gives the symbol beside
 * the bars rather than in each (`symbol`).
 */
export function barOf(m: Record<string, unknown>, receivedAt: number, intervalMs: number, symbol: unknown = m.S): Bar | string {
  if (typeof symbol !== 'string' || symbol.length === 0) return 'bar message without a symbol (S)';
  // Untrusted text in an error message is cut short (a 10 000-character symbol, a huge time).
  const name = symbol.length <= MAX_SYMBOL_LENGTH ? symbol : quoteSymbol(symbol);
  const start = timeOf(m.t);
  if (!Number.isFinite(start)) return `${name}: bar time t=${cut(JSON.stringify(m.t) ?? 'missing')} is not an RFC 3339 time`;
  const open = num(m.o);
  const high = num(m.h);
  const low = num(m.l);
  const close = num(m.c);
  const volume = num(m.v);
  if (!(Number.isFinite(open) && Number.isFinite(high) && Number.isFinite(low) && Number.isFinite(close) && Number.isFinite(volume))) {
    const bad = ['o', 'h', 'l', 'c', 'v'].find((k) => !Number.isFinite(num(m[k]))) ?? 'o';
    return `${name}: field '${bad}' is ${m[bad] === undefined ? 'missing' : cut(JSON.stringify(m[bad]) ?? 'unprintable')}, not a number`;
  }
  if (volume < 0) return `${name}: field 'v' is ${volume}: a volume is never negative`;
  if (!(open > 0 && high > 0 && low > 0 && close > 0)) return `${name}: a price (o h l c = ${open} ${high} ${low} ${close}) is not > 0`;
  const vw = m.vw;
  const n = m.n;
  return barFromValues(
    symbol,
    start,
    intervalMs,
    open,
    high,
    low,
    close,
    volume,
    typeof vw === 'number' && Number.isFinite(vw) ? vw : Number.NaN,
    typeof n === 'number' && Number.isFinite(n) ? n : -1,
    receivedAt,
  );
}

/**
 * What an Alpaca status code means for trading (the codes of its "Trading Status" documentation):
 * CTA (tapes A, B) `2` Trading Halt and UTP (tapes C, O) `H` Trading Halt and `P` Volatility Trading
 * Pause halt; CTA `3` Resume and UTP `T` Trading Resumption resume; everything else (`Q` quotation
 * resumption, imbalances, `E` short-sale restriction, `F` LULD) leaves trading as it was.
 */
export function alpacaStatusEffect(code: string): TradingEffect {
  if (code === 'H' || code === 'P' || code === '2') return 'halt';
  if (code === 'T' || code === '3') return 'resume';
  return 'none';
}

function text(v: unknown): string {
  return typeof v === 'string' ? v.slice(0, 200) : '';
}

/**
 * The trading status of a status (`T` of `s`: `sc`, `sm`, `rc`, `rm`, `z`, `t`) or LULD (`T` of
 * `l`: `u` limit up, `d` limit down, `i` indicator, `z`, `t`) message, or why it is malformed.
 */
export function statusOf(m: Record<string, unknown>, receivedAt: number): TradingStatus | string {
  const symbol = m.S;
  if (typeof symbol !== 'string' || symbol.length === 0) return `${m.T === 'l' ? 'LULD' : 'status'} message without a symbol (S)`;
  const name = symbol.length <= MAX_SYMBOL_LENGTH ? symbol : quoteSymbol(symbol);
  const at = timeOf(m.t);
  if (!Number.isFinite(at)) return `${name}: status time t=${cut(JSON.stringify(m.t) ?? 'missing')} is not an RFC 3339 time`;
  if (m.T === 'l') {
    const up = num(m.u);
    const down = num(m.d);
    if (!(up > 0) || !(down > 0)) return `${name}: LULD bands u=${cut(JSON.stringify(m.u) ?? 'missing')} d=${cut(JSON.stringify(m.d) ?? 'missing')} are not prices > 0`;
    return makeTradingStatus({ symbol, at, kind: 'luld', effect: 'none', code: text(m.i), limitUp: up, limitDown: down, tape: text(m.z), receivedAt });
  }
  if (typeof m.sc !== 'string' || m.sc.length === 0) return `${name}: status message without a status code (sc)`;
  return makeTradingStatus({
    symbol,
    at,
    kind: 'status',
    effect: alpacaStatusEffect(m.sc),
    code: text(m.sc),
    message: text(m.sm),
    reasonCode: text(m.rc),
    reasonMessage: text(m.rm),
    tape: text(m.z),
    receivedAt,
  });
}

/**
 * Turns one decoded message object into a `StreamMessage`. A bar with a missing or non-numeric field
 * or a bad time is `malformed` (with the reason), never thrown.
 */
export function toMessage(raw: unknown, index: number, receivedAt: number): StreamMessage {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { kind: 'malformed', reason: 'message is not an object', index };
  }
  const m = raw as Record<string, unknown>;
  const T = m.T;
  if (T === 'b' || T === 'u' || T === 'd') {
    const bar = barOf(m, receivedAt, T === 'd' ? DAY_MS : MINUTE_MS);
    return typeof bar === 'string' ? { kind: 'malformed', reason: bar, index } : { kind: 'bar', type: T, bar };
  }
  if (T === 's' || T === 'l') {
    const status = statusOf(m, receivedAt);
    return typeof status === 'string' ? { kind: 'malformed', reason: status, index } : { kind: 'status', status };
  }
  if (T === 'success') return { kind: 'success', msg: typeof m.msg === 'string' ? m.msg : '' };
  if (T === 'error') {
    return { kind: 'error', code: typeof m.code === 'number' ? m.code : 0, msg: typeof m.msg === 'string' ? m.msg : '' };
  }
  if (T === 'subscription') {
    return {
      kind: 'subscription',
      subscription: { bars: strings(m.bars), updatedBars: strings(m.updatedBars), dailyBars: strings(m.dailyBars), statuses: strings(m.statuses), lulds: strings(m.lulds) },
    };
  }
  if (typeof T === 'string') return { kind: 'other', type: T };
  return { kind: 'malformed', reason: 'message without a type (T)', index };
}

/** The result of decoding one frame: its messages, or why the frame as a whole was unreadable. */
export type DecodedFrame =
  | { readonly ok: true; readonly messages: readonly StreamMessage[] }
  | { readonly ok: false; readonly reason: string };

/** Decodes one frame into its array of raw message objects, or the reason it cannot be read. Never throws. */
export function decodeRaw(data: string | Uint8Array, encoding: StreamEncoding): unknown[] | string {
  let raw: unknown;
  try {
    if (typeof data === 'string') raw = JSON.parse(data);
    else if (encoding === 'msgpack') raw = msgpackDecoder.decode(data);
    else raw = JSON.parse(textDecoder.decode(data));
  } catch (error) {
    return `undecodable ${encoding} frame (${(error as Error).message})`;
  }
  return Array.isArray(raw) ? raw : 'frame is not an array';
}

/** Decodes one frame (JSON text or msgpack bytes) into messages. Never throws. */
export function decodeFrame(data: string | Uint8Array, encoding: StreamEncoding, receivedAt: number): DecodedFrame {
  const raw = decodeRaw(data, encoding);
  if (typeof raw === 'string') return { ok: false, reason: raw };
  const messages: StreamMessage[] = new Array<StreamMessage>(raw.length);
  for (let i = 0; i < raw.length; i++) messages[i] = toMessage(raw[i], i, receivedAt);
  return { ok: true, messages };
}

const textDecoder = new TextDecoder();

// msgpack timestamps (Alpaca's `t`) decode straight to epoch milliseconds, without a Date per bar.
const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: EXT_TIMESTAMP,
  encode: () => null,
  decode: (data: Uint8Array) => {
    const { sec, nsec } = decodeTimestampToTimeSpec(data);
    return sec * 1000 + Math.floor(nsec / 1e6);
  },
});
const msgpackDecoder = new Decoder({ extensionCodec });
