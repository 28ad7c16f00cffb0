import { Decoder, Encoder } from '@msgpack/msgpack';
import type { Bar, TradingEffect, TradingStatus, TradingStatusKind } from '@feed/core';
import { barFromValues, makeTradingStatus } from '@feed/core';

/**
 * Payloads on the stream, msgpack arrays with the version first (a reader refuses what it does not know):
 *
 * - version 1, one bar: `[1, symbol, start, end, open, high, low, close, volume, vwap | null, tradeCount | null, receivedAt, revision]`
 * - version 2, a batch of bars (what `BarPublisher` sends when several bars are ready together: a
 *   frame, a minute of many symbols, a fast replay): `[2, count, ...12 fields of each bar]`, the
 *   fields of version 1 after its version number, bar after bar, flat (one array to read, not one per bar).
 *
 * Times in epoch ms; `revision` 0 for a bar's first version, then 1, 2, ... for each revision. An
 * array, not a map: 20 bytes less a bar than keyed fields. Readers of this package read both.
 */
export const PAYLOAD_VERSION = 2;
/** The version of a payload of one bar (`encodeBar`). */
export const SINGLE_BAR_VERSION = 1;
/** Numbers and strings per bar in a version-2 payload. */
const FIELDS = 12;

/** A bar and its revision number, as read from a message. */
export interface DecodedBar {
  readonly bar: Bar;
  readonly revision: number;
}

// One encoder and one decoder, reused: a new one per call allocates its 2 KiB buffer each time.
const encoder = new Encoder();
const decoder = new Decoder();

function push(out: unknown[], bar: Bar, revision: number): void {
  out.push(bar.symbol, bar.start, bar.end, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.vwap ?? null, bar.tradeCount ?? null, bar.receivedAt, revision);
}

/** The version-1 payload of `bar` at `revision`. */
export function encodeBar(bar: Bar, revision: number): Uint8Array {
  const out: unknown[] = [SINGLE_BAR_VERSION];
  push(out, bar, revision);
  return encoder.encode(out);
}

/** The payload of several bars: version 1 for one, version 2 for more. */
export function encodeBars(bars: readonly DecodedBar[]): Uint8Array {
  if (bars.length === 1) return encodeBar((bars[0] as DecodedBar).bar, (bars[0] as DecodedBar).revision);
  const out: unknown[] = [PAYLOAD_VERSION, bars.length];
  for (const b of bars) push(out, b.bar, b.revision);
  return encoder.encode(out);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The bar of the 12 fields at `v[o]`, or why not. */
function barAt(v: readonly unknown[], o: number): DecodedBar | string {
  const symbol = v[o];
  const start = v[o + 1];
  const end = v[o + 2];
  const vwap = v[o + 8];
  const trades = v[o + 9];
  const revision = v[o + 11];
  if (typeof symbol !== 'string' || symbol === '') return 'symbol is not a string';
  const names = ['start', 'end', 'open', 'high', 'low', 'close', 'volume'];
  for (let k = 0; k < 7; k++) if (!isNum(v[o + 1 + k])) return `${names[k] as string} is not a finite number`;
  if (!isNum(v[o + 10])) return 'receivedAt is not a finite number';
  if (!isNum(revision)) return 'revision is not a finite number';
  if (vwap !== null && !isNum(vwap)) return 'vwap is neither a number nor null';
  if (trades !== null && !isNum(trades)) return 'tradeCount is neither a number nor null';
  const s = start as number;
  return {
    bar: barFromValues(
      symbol,
      s,
      (end as number) - s,
      v[o + 3] as number,
      v[o + 4] as number,
      v[o + 5] as number,
      v[o + 6] as number,
      v[o + 7] as number,
      vwap === null ? Number.NaN : vwap,
      trades === null ? -1 : trades,
      v[o + 10] as number,
    ),
    revision,
  };
}

function read(payload: Uint8Array): unknown[] | string {
  let v: unknown;
  try {
    v = decoder.decode(payload);
  } catch (error) {
    return `not msgpack (${error instanceof Error ? error.message : String(error)})`;
  }
  return Array.isArray(v) ? v : 'not a bar array';
}

/** The bar of a version-1 payload, or why it cannot be read (never throws). */
export function decodeBar(payload: Uint8Array): DecodedBar | string {
  const v = read(payload);
  if (typeof v === 'string') return v;
  if (v[0] !== SINGLE_BAR_VERSION) return `payload version ${JSON.stringify(v[0])} is not a single bar (version ${SINGLE_BAR_VERSION})`;
  if (v.length < 1 + FIELDS) return `${v.length} fields, expected ${1 + FIELDS}`;
  return barAt(v, 1);
}

/**
 * The bars of a payload of either version, in order, or why it cannot be read (never throws). A
 * batch with one bad bar is refused whole: its publisher wrote it in one piece.
 */
export function decodeBars(payload: Uint8Array): DecodedBar[] | string {
  const v = read(payload);
  if (typeof v === 'string') return v;
  if (v[0] === SINGLE_BAR_VERSION) {
    if (v.length < 1 + FIELDS) return `${v.length} fields, expected ${1 + FIELDS}`;
    const one = barAt(v, 1);
    return typeof one === 'string' ? one : [one];
  }
  if (v[0] !== PAYLOAD_VERSION) return `payload version ${JSON.stringify(v[0])} (this reader knows ${SINGLE_BAR_VERSION} and ${PAYLOAD_VERSION})`;
  const count = v[1];
  if (!Number.isInteger(count) || (count as number) < 1) return `batch count ${JSON.stringify(count)} is not a whole number >= 1`;
  if (v.length !== 2 + (count as number) * FIELDS) return `batch of ${count as number} bars has ${v.length - 2} fields, expected ${(count as number) * FIELDS}`;
  const out: DecodedBar[] = [];
  for (let k = 0; k < (count as number); k++) {
    const one = barAt(v, 2 + k * FIELDS);
    if (typeof one === 'string') return `bar ${k + 1} of ${count as number}: ${one}`;
    out.push(one);
  }
  return out;
}

// A digest over the numbers' bits (not their text): a few multiplications a field.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function mix(h: number, x: number): number {
  f64[0] = x;
  h = Math.imul(h ^ (u32[0] as number), 0x01000193);
  return Math.imul(h ^ (u32[1] as number), 0x01000193);
}

/** A 32-bit digest of a bar version's market data (`receivedAt` and the revision number left out). */
export function digest(bar: Bar, h = 0x811c9dc5): number {
  h = mix(h, bar.open);
  h = mix(h, bar.high);
  h = mix(h, bar.low);
  h = mix(h, bar.close);
  h = mix(h, bar.volume);
  h = mix(h, bar.vwap ?? Number.NaN);
  h = mix(h, bar.tradeCount ?? -1);
  return mix(h, bar.end) >>> 0;
}

/**
 * The identity of a bar version: its symbol, its start and a digest of its market data
 * (`receivedAt` and the revision number left out). The same version always has the same id, from any
 * publisher, before or after a restart; a revision has other data, so another id. A message of one
 * bar carries it as its JetStream message id (so the duplicate window keeps one copy); readers skip
 * a version they have delivered by it.
 */
export function messageId(bar: Bar): string {
  return `${bar.symbol}:${bar.start}:${digest(bar).toString(16).padStart(8, '0')}`;
}

/**
 * The JetStream message id of a batch: the count, the first bar's symbol and start, and a digest of
 * every bar's symbol, start and market data. The same batch sent again (a retry after a lost
 * acknowledgement) has the same id, so JetStream keeps one copy; readers dedupe per bar in any case
 * (two publishers may batch the same bars differently).
 */
export function batchId(bars: readonly DecodedBar[]): string {
  if (bars.length === 1) return messageId((bars[0] as DecodedBar).bar);
  let h = 0x811c9dc5;
  for (const { bar } of bars) {
    for (let i = 0; i < bar.symbol.length; i++) h = Math.imul(h ^ bar.symbol.charCodeAt(i), 0x01000193);
    h = mix(h, bar.start);
    h = digest(bar, h);
  }
  const first = (bars[0] as DecodedBar).bar;
  return `batch:${bars.length}:${first.symbol}:${first.start}:${(h >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * The version of a trading-status payload (on `<prefix>._status`):
 * `[3, symbol, at, kind, effect, code, message, reasonCode, reasonMessage, limitUp | null, limitDown | null, tape]`.
 */
export const STATUS_VERSION = 3;

/** The payload of a trading status (`receivedAt` is not sent: a reader stamps its own). */
export function encodeStatus(s: TradingStatus): Uint8Array {
  return encoder.encode([STATUS_VERSION, s.symbol, s.at, s.kind, s.effect, s.code, s.message, s.reasonCode, s.reasonMessage, s.limitUp ?? null, s.limitDown ?? null, s.tape]);
}

const KINDS = new Set(['status', 'luld']);
const EFFECTS = new Set(['halt', 'resume', 'none']);

/** The trading status of a version-3 payload (stamped `receivedAt`), or why it cannot be read. */
export function decodeStatus(payload: Uint8Array, receivedAt: number): TradingStatus | string {
  let v: unknown;
  try {
    v = decoder.decode(payload);
  } catch (error) {
    return `not msgpack (${(error as Error).message})`;
  }
  if (!Array.isArray(v) || v[0] !== STATUS_VERSION || v.length !== 12) return `not a version-${STATUS_VERSION} status payload`;
  const [, symbol, at, kind, effect, code, message, reasonCode, reasonMessage, up, down, tape] = v as unknown[];
  const str = (x: unknown): x is string => typeof x === 'string';
  if (!str(symbol) || symbol === '' || !isNum(at) || !str(kind) || !KINDS.has(kind) || !str(effect) || !EFFECTS.has(effect)) return 'a status field (symbol, at, kind, effect) is missing or wrong';
  if (!str(code) || !str(message) || !str(reasonCode) || !str(reasonMessage) || !str(tape)) return 'a status text field is not a string';
  if ((up !== null && !isNum(up)) || (down !== null && !isNum(down))) return 'a status band is not a number';
  return makeTradingStatus({
    symbol,
    at,
    kind: kind as TradingStatusKind,
    effect: effect as TradingEffect,
    code,
    message,
    reasonCode,
    reasonMessage,
    limitUp: up === null ? undefined : (up),
    limitDown: down === null ? undefined : (down),
    tape,
    receivedAt,
  });
}

/** The message id of a status: one copy in the stream whoever publishes it. */
export function statusId(s: TradingStatus): string {
  return `status:${s.symbol}:${s.at}:${s.kind}:${s.effect}:${s.code}`;
}
