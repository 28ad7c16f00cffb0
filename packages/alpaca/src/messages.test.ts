import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { decodeFrame, parseRfc3339 } from './messages.js';

describe('parseRfc3339', () => {
  it.each([
    ['2025-10-16T19:59:00Z', Date.UTC(2025, 9, 16, 19, 59)],
    ['2025-10-16T19:59:00.5Z', Date.UTC(2025, 9, 16, 19, 59, 0, 500)],
    ['2025-10-16T19:59:00.123456789Z', Date.UTC(2025, 9, 16, 19, 59, 0, 123)],
    ['2025-10-16T15:59:00-04:00', Date.UTC(2025, 9, 16, 19, 59)],
  ])('%s', (text, t) => {
    expect(parseRfc3339(text)).toBe(t);
  });
  it.each(['2025-02-30T10:00:00Z', '2025-13-01T10:00:00Z', '2025-10-16T25:00:00Z', 'yesterday', '2025-10-16T19:59:00.Z'])(
    'rejects %s',
    (text) => {
      expect(parseRfc3339(text)).toBeNaN();
    },
  );
});

describe('decodeFrame', () => {
  const msg = { T: 'b', S: 'TQQQ', o: 1, h: 2, l: 0.5, c: 1.5, v: 100, vw: 1.2, n: 7 };
  it('reads a msgpack timestamp extension as the bar start', () => {
    const frame = encode([{ ...msg, t: new Date(Date.UTC(2025, 9, 16, 13, 30)) }]);
    const d = decodeFrame(frame, 'msgpack', 123);
    expect(d.ok).toBe(true);
    const m = d.ok ? d.messages[0] : undefined;
    expect(m).toMatchObject({ kind: 'bar', type: 'b', bar: { symbol: 'TQQQ', start: Date.UTC(2025, 9, 16, 13, 30), end: Date.UTC(2025, 9, 16, 13, 31), vwap: 1.2, tradeCount: 7, receivedAt: 123 } });
  });
  it('gives JSON and msgpack frames the same bars', () => {
    const json = decodeFrame(JSON.stringify([{ ...msg, t: '2025-10-16T13:30:00Z' }]), 'json', 1);
    const pack = decodeFrame(encode([{ ...msg, t: new Date(Date.UTC(2025, 9, 16, 13, 30)) }]), 'msgpack', 1);
    expect(json).toEqual(pack);
  });
  it('reports a frame that is not an array', () => {
    expect(decodeFrame('{"T":"success"}', 'json', 0)).toEqual({ ok: false, reason: 'frame is not an array' });
  });
});
