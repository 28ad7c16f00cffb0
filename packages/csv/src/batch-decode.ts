import type { DataType, Field, Float, Schema } from 'apache-arrow';
import { UNIT_TO_MS, int64HalvesTo } from './arrow.js';
import { arrowLibrary } from './arrow-library.js';
import { BarColumns } from './columns.js';

/**
 * Reading one record batch of a bar file without building Arrow tables: the batch's message header
 * is decoded (Arrow's `Message`), and its columns become views of the body (or copies where a column
 * has nulls or sits unaligned). About 10 us a batch where `tableFromIPC` of the schema and the batch
 * took ~100 us (measured on this project's 2-core VM): a year of 500 symbols is ~23 000 batches.
 *
 * Only for the schemas it fully understands: every field a fixed-width number (2 buffers each, so
 * that field j's data is buffer 2j + 1), the bar columns doubles, the start a double or a 64-bit
 * integer or timestamp. Anything else (another type, compression, a null start, a header it does not
 * expect) returns undefined, and the caller reads the batch the general way, with the same result.
 */
export interface FastLayout {
  readonly fields: number;
  readonly start: number;
  /** 0: doubles (epoch ms); else 64-bit integers, times this to make ms. */
  readonly startUnit: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly vwap: number;
  readonly trades: number;
}

/** The layout of a bar schema the fast path can read, or undefined. */
export function fastLayoutOf(schema: Schema, what: string): FastLayout | undefined {
  const { DataType, Precision } = arrowLibrary(what);
  const fields = schema.fields as readonly Field<DataType>[];
  const index = (name: string): number => fields.findIndex((f) => f.name === name);
  const typeOf = (j: number): DataType => (fields[j] as Field<DataType>).type;
  const isDouble = (j: number): boolean => j >= 0 && DataType.isFloat(typeOf(j)) && (typeOf(j) as Float).precision === Precision.DOUBLE;
  for (let j = 0; j < fields.length; j++) {
    const t = typeOf(j);
    if (!(DataType.isFloat(t) || DataType.isInt(t) || DataType.isTimestamp(t))) return undefined;
  }
  // The same column the general path takes as the start.
  let start = index('start');
  if (start < 0) start = index('timestamp');
  if (start < 0) start = index('t');
  if (start < 0) return undefined;
  const st = typeOf(start);
  let startUnit: number;
  if (isDouble(start)) startUnit = 0;
  else if (DataType.isTimestamp(st)) startUnit = UNIT_TO_MS[st.unit] ?? 1;
  else if (DataType.isInt(st) && st.bitWidth === 64) startUnit = 1;
  else return undefined;
  const open = index('open');
  const high = index('high');
  const low = index('low');
  const close = index('close');
  const volume = index('volume');
  const vwap = index('vwap');
  const trades = index('trade_count');
  if (![open, high, low, close, volume].every(isDouble)) return undefined;
  if ((vwap >= 0 && !isDouble(vwap)) || (trades >= 0 && !isDouble(trades))) return undefined;
  return { fields: fields.length, start, startUnit, open, high, low, close, volume, vwap, trades };
}

/**
 * The bar columns of one record batch's message (its metadata, padded, then its body), or undefined
 * when the fast path cannot read it (the caller then reads it the general way).
 */
export function decodeBatchFast(layout: FastLayout, message: Uint8Array, metaDataLength: number, what: string): BarColumns | undefined {
  const { Message } = arrowLibrary(what);
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  if (metaDataLength < 8 || metaDataLength > message.byteLength) return undefined;
  // The metadata: the continuation marker and its length (or, before format 0.15, the length alone).
  const marker = view.getInt32(0, true);
  const at = marker === -1 ? 8 : 4;
  const size = marker === -1 ? view.getInt32(4, true) : marker;
  if (size <= 0 || at + size > metaDataLength) return undefined;
  const m = Message.decode(message.subarray(at, at + size));
  if (!m.isRecordBatch()) return undefined;
  const h = m.header();
  const compression = (h as { compression?: unknown }).compression;
  if (compression !== null && compression !== undefined) return undefined;
  const n = h.length;
  if (n === 0) return undefined;
  if (h.nodes.length !== layout.fields || h.buffers.length !== 2 * layout.fields) return undefined;
  const body = message.subarray(metaDataLength);
  /** Column j's doubles; `absent` fills its nulls (undefined: a null refuses the fast path). */
  const doubles = (j: number, absent: number | undefined): Float64Array | undefined => {
    const node = h.nodes[j];
    const data = h.buffers[2 * j + 1];
    if (node === undefined || data === undefined || node.length !== n) return undefined;
    const offset = Number(data.offset);
    if (Number(data.length) < n * 8 || offset + n * 8 > body.byteLength) return undefined;
    const from = body.byteOffset + offset;
    const values = from % 8 === 0 ? new Float64Array(body.buffer, from, n) : new Float64Array(body.slice(offset, offset + n * 8).buffer);
    if (node.nullCount === 0) return values;
    if (absent === undefined) return undefined;
    const validity = h.buffers[2 * j];
    if (validity === undefined || Number(validity.length) * 8 < n || Number(validity.offset) + Math.ceil(n / 8) > body.byteLength) return undefined;
    const bits = body.subarray(Number(validity.offset));
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = (((bits[i >> 3] as number) >> (i & 7)) & 1) === 1 ? (values[i] as number) : absent;
    return out;
  };
  let start: Float64Array | undefined;
  if (layout.startUnit === 0) start = doubles(layout.start, undefined);
  else {
    const node = h.nodes[layout.start];
    const data = h.buffers[2 * layout.start + 1];
    if (node === undefined || data === undefined || node.length !== n || node.nullCount !== 0) return undefined;
    const offset = Number(data.offset);
    if (Number(data.length) < n * 8 || offset + n * 8 > body.byteLength) return undefined;
    // 64-bit integers as two 32-bit halves, as the general path reads them (copied first when unaligned).
    const from = body.byteOffset + offset;
    const halves = from % 4 === 0 ? new Int32Array(body.buffer, from, n * 2) : new Int32Array(body.slice(offset, offset + n * 8).buffer);
    start = new Float64Array(n);
    int64HalvesTo(halves, n, layout.startUnit, start, 0);
  }
  const open = doubles(layout.open, undefined);
  const high = doubles(layout.high, undefined);
  const low = doubles(layout.low, undefined);
  const close = doubles(layout.close, undefined);
  const volume = doubles(layout.volume, undefined);
  const vwap = layout.vwap >= 0 ? doubles(layout.vwap, Number.NaN) : undefined;
  const trades = layout.trades >= 0 ? doubles(layout.trades, -1) : undefined;
  if (start === undefined || open === undefined || high === undefined || low === undefined || close === undefined || volume === undefined) return undefined;
  if ((layout.vwap >= 0 && vwap === undefined) || (layout.trades >= 0 && trades === undefined)) return undefined;
  return BarColumns.of({ start, open, high, low, close, volume, vwap, trades });
}
