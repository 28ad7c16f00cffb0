import { decode, encode } from '@msgpack/msgpack';
import type { Bar } from '@feed/core';
import { barFromValues } from '@feed/core';

/**
 * The payload of one bar on the stream, version 1: a msgpack array
 * `[1, symbol, start, end, open, high, low, close, volume, vwap | null, tradeCount | null, receivedAt, revision]`
 * (times in epoch ms, `revision` 0 for a bar's first version, then 1, 2, ... for each revision). An
 * array, not a map: 20 bytes less a bar than keyed fields, and the version first so that a reader
 * can refuse what it does not know. A later version adds fields at the end or changes the number.
 */
export const PAYLOAD_VERSION = 1;

/** A bar and its revision number, as read from a message. */
export interface DecodedBar {
  readonly bar: Bar;
  readonly revision: number;
}

/** The message payload of `bar` at `revision`. */
export function encodeBar(bar: Bar, revision: number): Uint8Array {
  return encode([
    PAYLOAD_VERSION,
    bar.symbol,
    bar.start,
    bar.end,
    bar.open,
    bar.high,
    bar.low,
    bar.close,
    bar.volume,
    bar.vwap ?? null,
    bar.tradeCount ?? null,
    bar.receivedAt,
    revision,
  ]);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The bar of a payload, or why it cannot be read (never throws). */
export function decodeBar(payload: Uint8Array): DecodedBar | string {
  let v: unknown;
  try {
    v = decode(payload);
  } catch (error) {
    return `not msgpack (${error instanceof Error ? error.message : String(error)})`;
  }
  if (!Array.isArray(v)) return 'not a bar array';
  if (v[0] !== PAYLOAD_VERSION) return `payload version ${JSON.stringify(v[0])} (this reader knows ${PAYLOAD_VERSION})`;
  if (v.length < 13) return `${v.length} fields, expected 13`;
  const [, symbol, start, end, open, high, low, close, volume, vwap, trades, receivedAt, revision] = v as unknown[];
  if (typeof symbol !== 'string' || symbol === '') return 'symbol is not a string';
  const numbers = { start, end, open, high, low, close, volume, receivedAt, revision };
  for (const [name, x] of Object.entries(numbers)) if (!isNum(x)) return `${name} is not a finite number`;
  if (vwap !== null && !isNum(vwap)) return 'vwap is neither a number nor null';
  if (trades !== null && !isNum(trades)) return 'tradeCount is neither a number nor null';
  const s = start as number;
  return {
    bar: barFromValues(
      symbol,
      s,
      (end as number) - s,
      open as number,
      high as number,
      low as number,
      close as number,
      volume as number,
      vwap === null ? Number.NaN : (vwap),
      trades === null ? -1 : (trades),
      receivedAt as number,
    ),
    revision: revision as number,
  };
}

/**
 * The JetStream message id of a bar version: its symbol, its start and a digest of its market data
 * (`receivedAt` and the revision number left out). The same version always has the same id, from any
 * publisher, before or after a restart, so JetStream's duplicate window keeps one copy; a revision
 * has other data, so another id, and is stored.
 */
export function messageId(bar: Bar): string {
  const text = `${bar.open},${bar.high},${bar.low},${bar.close},${bar.volume},${bar.vwap ?? ''},${bar.tradeCount ?? ''},${bar.end}`;
  // FNV-1a, 32 bits: a version's identity among the few versions of one bar, not a security hash.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return `${bar.symbol}:${bar.start}:${(h >>> 0).toString(16).padStart(8, '0')}`;
}
