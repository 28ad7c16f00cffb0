import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBar } from '@feed/core';
import { describe, expect, it } from 'vitest';
import { REAL_DATA_HEADER, formatPrice, nyIso, parseCsv, realDataCsv, realDataLine, writeRealDataCsv } from './index.js';
import fc from 'fast-check';

describe('formatPrice', () => {
  it('writes exactly what String() writes, for prices with up to 4 decimals and others (fast-check, saved seed)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999_999 }), fc.integer({ min: 0, max: 4 }), (k, d) => {
        const x = Math.round(k / 10 ** d * 10 ** d) / 10 ** d;
        expect(formatPrice(x)).toBe(String(x));
      }),
      { seed: 9_001, numRuns: 5000 },
    );
    for (const x of [0, 1, 20.0001, 0.0001, 102.3103, 56.68, 1 / 3, 1e21, 123.45678, 5e-7]) expect(formatPrice(x)).toBe(String(x));
  });
});

describe('real-data CSV writer', () => {
  it('writes, byte for byte, the header and realDataLine of every bar (fast-check, saved seed)', () => {
    const priceArb = fc.oneof(fc.integer({ min: 1, max: 9_999_999 }).map((k) => k / 10_000), fc.double({ min: 0.01, max: 5000, noNaN: true }));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 400_000 }), priceArb, fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e6, noNaN: true }))), { maxLength: 50 }), (rows) => {
        const bars = rows.map(([m, p, v]) => makeBar({ symbol: 'X', start: Date.UTC(2024, 0, 2, 14, 30) + m * 60_000, open: p, high: p, low: p, close: p, volume: v, receivedAt: 0 }));
        const text = Buffer.concat(realDataCsv(bars).chunks).toString('latin1');
        expect(text).toBe([REAL_DATA_HEADER, ...bars.map((b) => realDataLine(b)), ''].join('\n'));
      }),
      { seed: 9_002, numRuns: 300 },
    );
  });

  it('writes ts_utc with the New York offset, across a DST change', () => {
    expect(nyIso(Date.UTC(2025, 3, 1, 13, 30))).toBe('2025-04-01T09:30:00-04:00');
    expect(nyIso(Date.UTC(2025, 11, 1, 14, 30))).toBe('2025-12-01T09:30:00-05:00');
  });

  it('writes the format of the real files, and @feed/mock reads back the same bars', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feed-synth-'));
    const path = join(dir, 'UPRO.csv');
    const bars = [0, 1, 2].map((m) => {
      const start = Date.UTC(2025, 3, 1, 13, 30) + m * 60_000;
      return makeBar({ symbol: 'UPRO', start, open: 90.1234, high: 90.5, low: 90, close: 90.25, volume: 12_345 + m, receivedAt: start + 60_000 });
    });
    expect(await writeRealDataCsv(path, bars)).toBe(3);
    const text = readFileSync(path, 'utf8').split('\n');
    expect(text[0]).toBe('ts_utc,ts_nyt_epoch,open,high,low,close,volume');
    expect(text[1]).toBe('2025-04-01T09:30:00-04:00,1743514200,90.1234,90.5,90,90.25,12345.0');
    const back = await parseCsv('UPRO', path, { onBadRow: 'fail' });
    expect(Array.from(back.bars.start)).toEqual(bars.map((b) => b.start));
    expect(Array.from(back.bars.open)).toEqual(bars.map((b) => b.open));
    expect(Array.from(back.bars.volume)).toEqual(bars.map((b) => b.volume));
    expect(back.report.format).toBe('real');
  });
});
