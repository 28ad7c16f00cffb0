import { describe, expect, it } from 'vitest';
import { detectCsvFormat } from './formats.js';

describe('detectCsvFormat', () => {
  it('recognizes the real-data header, with a BOM and extra columns', () => {
    const r = detectCsvFormat(['\uFEFFts_utc', 'ts_nyt_epoch', 'open', 'high', 'low', 'close', 'volume', 'extra']);
    expect(r).toEqual({ ok: true, format: 'real', indices: [1, 2, 3, 4, 5, 6] });
  });
  it("recognizes the original design's and Alpaca's headers", () => {
    expect(detectCsvFormat(['timestamp', 'open', 'high', 'low', 'close', 'volume'])).toMatchObject({ ok: true, format: 'original' });
    expect(detectCsvFormat(['t', 'o', 'h', 'l', 'c', 'v', 'vw', 'n'])).toMatchObject({ ok: true, format: 'alpaca' });
  });
  it('names the missing column of the closest layout', () => {
    expect(detectCsvFormat(['timestamp', 'open', 'high', 'low', 'close'])).toEqual({
      ok: false,
      missing: ['volume'],
      closest: 'original',
    });
  });
});
