import { describe, expect, it } from 'vitest';
import { ConfigError, CsvError, FeedError, HttpError, StateError, findSecretPieces, redact, redactError } from './errors.js';

describe('FeedError', () => {
  it('carries a code and is recognized by isInstance along its class chain', () => {
    const e = new CsvError({ code: 'csv_row', message: 'bad number in column open', file: 'data/TQQQ.csv', line: 42, column: 'open' });
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
    Object.defineProperty(foreign, Symbol.for('@feed/core/FeedError'), { value: ['FeedError', 'HttpError'] });
    expect(HttpError.isInstance(foreign)).toBe(true);
    expect(foreign instanceof HttpError).toBe(false);
  });
  it('subclasses carry what a caller acts on', () => {
    const h = new HttpError({ status: 429, message: 'rate limited', url: 'https://x' });
    expect(h.status).toBe(429);
    expect(h.message).toBe('HTTP 429: rate limited');
    const s = new StateError({ operation: 'start', state: 'idle', allowed: ['connected', 'stopped'] });
    expect(s.message).toBe("cannot start() in state 'idle' (allowed in: connected, stopped)");
    expect(new ConfigError({ message: 'bad', issues: [{ path: 'a', message: 'b' }], source: 'f.json' }).issues).toHaveLength(1);
  });
  it('carries an optional detail and counts under its code unless a subclass says otherwise', () => {
    const e = new FeedError({ code: 'gap_unfilled', message: 'gap', detail: { symbols: ['TQQQ'], from: 1, to: 2 } });
    expect(e.detail).toEqual({ symbols: ['TQQQ'], from: 1, to: 2 });
    expect(e.statsKey).toBe('gap_unfilled');
    expect(new FeedError({ code: 'protocol', message: 'x' }).detail).toBeUndefined();
  });
  it('keeps the cause', () => {
    const cause = new Error('ENOENT');
    expect(new CsvError({ code: 'csv_file', message: 'cannot open', file: 'x.csv', cause }).cause).toBe(cause);
  });
});

describe('redact', () => {
  it('removes every occurrence of each secret', () => {
    expect(redact('key=PKABCDEF secret=shh123 again PKABCDEF', ['PKABCDEF', 'shh123', undefined])).toBe(
      'key=*** secret=*** again ***',
    );
  });
  it('removes any 8-character piece of a long secret, and leaves short values alone', () => {
    const secret = 'abcdefghijklmnopqrstuvwxyz0123456789ABCD';
    expect(redact(`echo: ${secret.slice(5, 15)} and ${secret.slice(0, 10)}...`, [secret])).toBe('echo: *** and ***...');
    expect(redact(`only seven: ${secret.slice(3, 10)}`, [secret])).toBe(`only seven: ${secret.slice(3, 10)}`);
    expect(redact('abc is short', ['abc'])).toBe('abc is short');
  });
  it('redactError cleans message, stack and the whole cause chain in place', () => {
    const secret = 'S3CR3T-VALUE-0123456789';
    const inner = new Error(`server said ${secret}`);
    const outer = new FeedError({ code: 'protocol', message: `wrapped: ${secret.slice(2, 12)}`, cause: inner });
    expect(redactError(outer, [secret])).toBe(outer);
    for (const e of [outer, inner]) {
      expect(e.message).not.toMatch(/CR3T-VAL|0123456789/);
      expect(e.stack ?? '').not.toMatch(/CR3T-VAL|0123456789/);
    }
    expect(FeedError.isInstance(outer)).toBe(true);
  });
});

describe('findSecretPieces', () => {
  it('finds the whole secret and every 8-character piece, and nothing in clean text', () => {
    const secret = 'sk_live_ABCDEFGHIJKLMNOP';
    expect(findSecretPieces('all clean: ***', [secret])).toEqual([]);
    expect(findSecretPieces(`key=${secret}`, [secret])).toContain(secret);
    expect(findSecretPieces('...EFGHIJKL...', [secret])).toEqual(['EFGHIJKL']);
    expect(findSecretPieces('EFGHIJK', [secret])).toEqual([]);
  });
});
