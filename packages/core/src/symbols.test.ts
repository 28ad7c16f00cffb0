import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { DEFAULT_SYMBOL_CONFIG, DEFAULT_SYMBOLS, loadSymbolConfig, parseSymbolConfig, symbolsOf } from './symbols.js';

const valid = (): Record<string, unknown> => JSON.parse(JSON.stringify(DEFAULT_SYMBOL_CONFIG)) as Record<string, unknown>;

/** The issues of a config that must fail, as `path: message` strings. */
function issues(input: unknown): string[] {
  try {
    parseSymbolConfig(input);
  } catch (e) {
    expect(ConfigError.isInstance(e)).toBe(true);
    return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the configuration to be rejected');
}

describe('symbol configuration', () => {
  it('ships the six-ETF universe', () => {
    expect(symbolsOf(DEFAULT_SYMBOL_CONFIG)).toEqual([...DEFAULT_SYMBOLS]);
    expect(DEFAULT_SYMBOL_CONFIG.symbols.SDS).toMatchObject({ underlying: 'SPY', leverage: -2 });
    expect(DEFAULT_SYMBOL_CONFIG.symbols.UVXY?.leverage).toBe(1.5);
  });

  it('accepts a user universe with another symbol (SSO = 2x SPY) and no correlations', () => {
    const cfg = parseSymbolConfig({
      version: 1,
      symbols: { SSO: { description: 'ProShares Ultra S&P 500', underlying: 'SPY', leverage: 2, expenseRatio: 0.0089 } },
    });
    expect(cfg.symbols.SSO?.leverage).toBe(2);
  });

  it('names a zero leverage', () => {
    const c = valid();
    (c.symbols as Record<string, Record<string, unknown>>).SDS!.leverage = 0;
    expect(issues(c)).toEqual(['symbols.SDS.leverage: must be a finite, non-zero number']);
  });

  it('names a leverage that is not a number', () => {
    const c = valid();
    (c.symbols as Record<string, Record<string, unknown>>).TQQQ!.leverage = '3x';
    expect(issues(c)).toEqual(['symbols.TQQQ.leverage: must be a number']);
  });

  it('names an expense ratio given in percent instead of a fraction', () => {
    const c = valid();
    (c.symbols as Record<string, Record<string, unknown>>).UPRO!.expenseRatio = 0.91;
    expect(issues(c)).toEqual(['symbols.UPRO.expenseRatio: must be <= 0.1 (a yearly fraction: 0.0095 is 0.95 %)']);
  });

  it('names a missing field and an unknown field', () => {
    const c = valid();
    const svix = (c.symbols as Record<string, Record<string, unknown>>).SVIX!;
    delete svix.underlying;
    svix.levrage = -1;
    const found = issues(c);
    expect(found).toContain('symbols.SVIX: unknown field(s): levrage');
    expect(found.some((i) => i.startsWith('symbols.SVIX.underlying:'))).toBe(true);
  });

  it('names a malformed symbol', () => {
    const found = issues({ version: 1, symbols: { tqqq: { description: 'x', underlying: 'QQQ', leverage: 3, expenseRatio: 0 } } });
    expect(found[0]).toMatch(/^symbols\.tqqq: "tqqq" must be a ticker/);
  });

  it('names a wrong version and an empty universe', () => {
    expect(issues({ version: 2, symbols: {} })).toEqual(['version: must be 1', 'symbols: must list at least one symbol']);
  });

  it('names a correlation outside [-1, 1] by matrix cell', () => {
    const c = valid();
    const corr = c.correlations as { matrix: number[][] };
    corr.matrix[2]![3] = -1.2;
    corr.matrix[3]![2] = -1.2;
    expect(issues(c)).toEqual(['correlations.matrix[2][3]: must be >= -1', 'correlations.matrix[3][2]: must be >= -1']);
  });

  it('names an asymmetric cell, a bad diagonal, a wrong size and an unknown symbol', () => {
    const c = valid();
    const corr = c.correlations as { symbols: string[]; matrix: number[][] };
    corr.matrix[1]![0] = -0.5;
    corr.matrix[4]![4] = 0.9;
    expect(issues(c)).toEqual([
      'correlations.matrix[1][0]: must equal matrix[0][1] (-0.97): the matrix must be symmetric',
      'correlations.matrix[4][4]: the diagonal must be 1',
    ]);
    corr.matrix.pop();
    expect(issues(c)).toEqual(['correlations.matrix: must have 6 rows (one per symbol), has 5']);
    const d = valid();
    (d.correlations as { symbols: string[] }).symbols[5] = 'SPXU';
    expect(issues(d)).toEqual(["correlations.symbols[5]: 'SPXU' is not in symbols"]);
  });

  it('the error message lists every problem with its path', () => {
    const c = valid();
    (c.symbols as Record<string, Record<string, unknown>>).SDS!.leverage = 0;
    expect(() => parseSymbolConfig(c, 'my.json')).toThrowError(/my\.json is invalid:\n {2}symbols\.SDS\.leverage: must be a finite, non-zero number/);
  });

  it('loads a file, and names the file when it is missing or not JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'feed-core-'));
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify(DEFAULT_SYMBOL_CONFIG));
    await expect(loadSymbolConfig(good)).resolves.toEqual(DEFAULT_SYMBOL_CONFIG);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"version": 1,');
    await expect(loadSymbolConfig(bad)).rejects.toThrowError(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON`));
    await expect(loadSymbolConfig(join(dir, 'none.json'))).rejects.toMatchObject({ code: 'invalid_config', source: join(dir, 'none.json') });
  });
});
