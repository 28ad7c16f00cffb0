import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { checkSymbols, isSymbol, symbolFileName, symbolProblem } from './symbol-name.js';

describe('symbols: one rule at every boundary', () => {
  it('accepts tickers, share classes and pairs', () => {
    for (const s of ['TQQQ', 'A', 'BRK.B', 'BF-B', 'BTC/USD', 'SPY', '1234', 'X'.repeat(21)]) expect(isSymbol(s), s).toBe(true);
  });

  it('refuses paths, prototype keys, lowercase, blanks, controls and overlong text', () => {
    const bad = ['', '../pwned', '..', '.', 'A/B/C', 'a/b', '/ETC', 'A\\B', '__proto__', 'constructor', 'tqqq', 'T QQQ', 'TQQQ\n', '-X', '.X', 'A_B', 'X'.repeat(22), 'X'.repeat(10_000), 'C:', 'NUL\0'];
    for (const s of bad) expect(isSymbol(s), JSON.stringify(s)).toBe(false);
    expect(isSymbol(42)).toBe(false);
    expect(symbolProblem(null)).toBe('must be a string, not null');
  });

  it('checkSymbols: a ConfigError names the bad one, where it came from, and why; the message stays short', () => {
    let error: unknown;
    try {
      checkSymbols(['TQQQ', '../pwned', 'X'.repeat(10_000)], '--symbols');
    } catch (e) {
      error = e;
    }
    expect(ConfigError.isInstance(error)).toBe(true);
    const e = error as ConfigError;
    expect(e.issues.map((i) => i.path)).toEqual(['symbols[1]', 'symbols[2]']);
    expect(e.message).toContain('"../pwned" must be a ticker');
    expect(e.message).toContain('(10000 characters)');
    expect(e.message.length).toBeLessThan(400);
    expect(checkSymbols(['TQQQ', 'BTC/USD'], 'x')).toEqual(['TQQQ', 'BTC/USD']);
  });

  it('symbolFileName: a pair writes its / as _, and nothing else is ever a file name', () => {
    expect(symbolFileName('TQQQ', 'csv')).toBe('TQQQ.csv');
    expect(symbolFileName('BTC/USD', 'arrow')).toBe('BTC_USD.arrow');
    expect(() => symbolFileName('../PWNED', 'csv')).toThrow(ConfigError);
    expect(() => symbolFileName('A/B/C', 'csv')).toThrow(ConfigError);
  });
});
