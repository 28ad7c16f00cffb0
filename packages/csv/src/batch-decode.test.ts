import { RecordBatchReader, Schema, Field, Float64, Utf8, tableFromIPC } from 'apache-arrow';
import type { RecordBatchFileReader } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { MIN, OPEN } from '../test/fixtures.js';
import { columnsOf, encodeArrow } from './arrow.js';
import { decodeBatchFast, fastLayoutOf } from './batch-decode.js';
import { BarColumns } from './columns.js';

/** `n` bars with fractional prices, some without vwap or trade count (nulls in the file). */
function bars(n: number): BarColumns {
  const b = new BarColumns(n);
  for (let i = 0; i < n; i++) {
    const c = 100 + i / 7;
    b.push(OPEN + i * MIN, c, c + 0.25, c - 0.25, c + 0.1, 1000 + i, i % 5 === 3 ? Number.NaN : c + 0.05, i % 7 === 2 ? -1 : 10 + i);
  }
  return b;
}

const plain = (c: BarColumns): Record<string, number[] | undefined> => ({
  start: Array.from(c.start.subarray(0, c.length)),
  open: Array.from(c.open.subarray(0, c.length)),
  high: Array.from(c.high.subarray(0, c.length)),
  low: Array.from(c.low.subarray(0, c.length)),
  close: Array.from(c.close.subarray(0, c.length)),
  volume: Array.from(c.volume.subarray(0, c.length)),
  vwap: c.vwap === undefined ? undefined : Array.from(c.vwap.subarray(0, c.length)),
  trades: c.trades === undefined ? undefined : Array.from(c.trades.subarray(0, c.length)),
});

/** Each record batch's message (metadata and body) as the file holds it, and its metadata length. */
function messages(bytes: Uint8Array): { message: Uint8Array; metaDataLength: number }[] {
  const reader = RecordBatchReader.from(bytes) as RecordBatchFileReader;
  reader.open();
  const out: { message: Uint8Array; metaDataLength: number }[] = [];
  for (let i = 0; i < reader.numRecordBatches; i++) {
    const block = reader.footer?.getRecordBatch(i);
    if (block === undefined || block === null) throw new Error('no block');
    const at = Number(block.offset);
    out.push({ message: bytes.slice(at, at + Number(block.metaDataLength) + Number(block.bodyLength)), metaDataLength: Number(block.metaDataLength) });
  }
  return out;
}

describe('decodeBatchFast: a record batch read without building Arrow tables', () => {
  for (const startAs of ['timestamp', 'float64'] as const) {
    it(`reads every batch exactly as the general path does (start as ${startAs}; nulls in vwap and trade count; aligned and unaligned buffers)`, () => {
      const bytes = encodeArrow(bars(500), { version: 1, symbol: 'A' }, { batchRows: 64, startAs });
      const table = tableFromIPC(bytes);
      const layout = fastLayoutOf(table.schema, 'test');
      expect(layout).toBeDefined();
      const list = messages(bytes);
      expect(list).toHaveLength(8);
      list.forEach(({ message, metaDataLength }, i) => {
        const batch = table.batches[i];
        if (batch === undefined) throw new Error('no batch');
        const general = plain(columnsOf(batch, batch.numRows, 'test'));
        const fast = decodeBatchFast(layout as NonNullable<typeof layout>, message, metaDataLength, 'test');
        expect(fast).toBeDefined();
        expect(plain(fast as BarColumns)).toEqual(general);
        // The same message 4 and 2 bytes off an 8-byte boundary: what cannot be viewed is copied.
        for (const by of [4, 2]) {
          const shifted = new Uint8Array(message.length + by);
          shifted.set(message, by);
          const unaligned = decodeBatchFast(layout as NonNullable<typeof layout>, shifted.subarray(by), metaDataLength, 'test');
          expect(plain(unaligned as BarColumns)).toEqual(general);
        }
      });
      // What the general path makes of the nulls: NaN vwap, -1 trades.
      const first = plain(decodeBatchFast(layout as NonNullable<typeof layout>, (list[0] as { message: Uint8Array }).message, (list[0] as { metaDataLength: number }).metaDataLength, 'test') as BarColumns);
      expect(Number.isNaN(first.vwap?.[3])).toBe(true);
      expect(first.trades?.[2]).toBe(-1);
    });
  }

  it('leaves to the general path a schema it does not fully understand, and a message it cannot read', () => {
    const withText = new Schema([new Field('start', new Float64()), new Field('open', new Float64()), new Field('note', new Utf8())]);
    expect(fastLayoutOf(withText, 'test')).toBeUndefined();
    const noVolume = new Schema(['start', 'open', 'high', 'low', 'close'].map((n) => new Field(n, new Float64())));
    expect(fastLayoutOf(noVolume, 'test')).toBeUndefined();
    const bytes = encodeArrow(bars(10), { version: 1, symbol: 'A' });
    const layout = fastLayoutOf(tableFromIPC(bytes).schema, 'test') as NonNullable<ReturnType<typeof fastLayoutOf>>;
    const [{ message, metaDataLength }] = messages(bytes) as [{ message: Uint8Array; metaDataLength: number }];
    // Cut short, or a metadata length past the message: undefined, never a wrong chunk.
    expect(decodeBatchFast(layout, message.subarray(0, message.length - 40), metaDataLength, 'test')).toBeUndefined();
    expect(decodeBatchFast(layout, message, message.length + 8, 'test')).toBeUndefined();
    // A layout of another file (more fields than this batch has): undefined.
    expect(decodeBatchFast({ ...layout, fields: layout.fields + 1 }, message, metaDataLength, 'test')).toBeUndefined();
  });
});
