import { describe, expect, it } from 'vitest';
import { AlpacaHistoricalClient, AlpacaMultiSymbolFeed } from '@feed/alpaca';
import { ConfigError, ManualClock } from '@feed/core';
import { MultiSymbolDataManager } from '@feed/data-manager';
import { MockMultiSymbolFeed } from '@feed/mock';
import { PolygonMultiSymbolFeed } from '@feed/polygon';

/** The ConfigError a constructor throws, or why it did not. */
function refusal(make: () => unknown): ConfigError {
  try {
    make();
  } catch (error) {
    if (ConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('a misspelt option is a ConfigError naming it and the closest valid name, in every constructor', () => {
  it.each([
    ['MultiSymbolDataManager', () => new MultiSymbolDataManager({ symbols: ['TQQQ'], maxForwardFill: 3 } as never), 'maxForwardFill', 'maxForwardFills'],
    ['MockMultiSymbolFeed', () => new MockMultiSymbolFeed({ files: { TQQQ: 'x.csv' }, sped: 0 } as never), 'sped', 'speed'],
    ['AlpacaMultiSymbolFeed', () => new AlpacaMultiSymbolFeed({ symbols: ['TQQQ'], keys: { keyId: 'k', secretKey: 's' }, reconect: {} } as never), 'reconect', 'reconnect'],
    ['AlpacaMultiSymbolFeed (nested)', () => new AlpacaMultiSymbolFeed({ symbols: ['TQQQ'], keys: { keyId: 'k', secretKey: 's' }, reconnect: { initalDelayMs: 5 } } as never), 'reconnect.initalDelayMs', 'initialDelayMs'],
    ['PolygonMultiSymbolFeed', () => new PolygonMultiSymbolFeed({ symbols: ['TQQQ'], apiKey: 'k', gapfill: false } as never), 'gapfill', 'gapFill'],
  ])('%s', (_name, make, path, near) => {
    const e = refusal(make);
    expect(e.code).toBe('invalid_option');
    expect(e.issues).toContainEqual({ path, message: `unknown option (did you mean '${near}'?)` });
    expect(e.message).toContain(`${path}: unknown option (did you mean '${near}'?)`);
  });

  it('a name far from every option lists the valid ones', () => {
    const e = refusal(() => new MultiSymbolDataManager({ symbols: ['TQQQ'], zzzzzzzzzzzz: 1 } as never));
    expect(e.message).toMatch(/zzzzzzzzzzzz: unknown option \(valid: .*maxForwardFills/);
  });

  it('the options a constructor takes pass (no false alarm)', () => {
    expect(() => new MultiSymbolDataManager({ symbols: ['TQQQ'], clock: new ManualClock(0), maxForwardFills: 3 })).not.toThrow();
    expect(() => new AlpacaHistoricalClient({ keys: { keyId: 'k', secretKey: 's' } })).not.toThrow();
  });
});
