import { describe, expect, it } from 'vitest';
import { AlpacaError, ConfigError, CsvError, FeedError, HttpError, StateError, redact } from './errors.js';

describe('FeedError', () => {
  it('carries a code and is recognized by isInstance along its class chain', () => {
    const e = new CsvError('csv_row', 'bad number in column open', 'data/TQQQ.csv', 42, 'open');
    expect(e.code).toBe('csv_row');
    expect(e.message).toBe('data/TQQQ.csv:42: bad number in column open');
    expect(e.name).toBe('CsvError');
    expect(CsvError.isInstance(e)).toBe(true);
    expect(FeedError.isInstance(e)).toBe(true);
    expect(HttpError.isInstance(e)).toBe(false);
    expect(FeedError.isInstance(new Error('x'))).toBe(false);
    expect(FeedError.isInstance(null)).toBe(false);
  });
  it('recognizes an error from another copy of the package (same brand, different class)', () => {
    const foreign = new Error('copy');
    Object.defineProperty(foreign, Symbol.for('@feed/core/FeedError'), { value: ['FeedError', 'AlpacaError'] });
    expect(AlpacaError.isInstance(foreign)).toBe(true);
    expect(foreign instanceof AlpacaError).toBe(false);
  });
  it('subclasses carry what a caller acts on', () => {
    const a = new AlpacaError(406, 'connection limit exceeded', false);
    expect(a.message).toBe('Alpaca error 406: connection limit exceeded');
    expect(a.fatal).toBe(false);
    expect(new HttpError(429, 'rate limited', 'https://x').status).toBe(429);
    const s = new StateError('start', 'idle', ['connected', 'stopped']);
    expect(s.message).toBe("cannot start() in state 'idle' (allowed in: connected, stopped)");
    expect(new ConfigError('bad', [{ path: 'a', message: 'b' }], 'f.json').issues).toHaveLength(1);
  });
  it('keeps the cause', () => {
    const cause = new Error('ENOENT');
    expect(new CsvError('csv_file', 'cannot open', 'x.csv', undefined, undefined, { cause }).cause).toBe(cause);
  });
});

describe('redact', () => {
  it('removes every occurrence of each secret', () => {
    expect(redact('key=PKABCDEF secret=shh123 again PKABCDEF', ['PKABCDEF', 'shh123', undefined])).toBe(
      'key=[REDACTED] secret=[REDACTED] again [REDACTED]',
    );
  });
});
