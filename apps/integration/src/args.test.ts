import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from './args.js';

describe('demo arguments', () => {
  it('defaults to speed 0 and no filters', () => {
    expect(parseArgs([])).toEqual({ data: undefined, speed: 0, date: undefined, symbols: undefined, config: undefined, simulate: false, help: false });
    expect(parseArgs(['--simulate']).simulate).toBe(true);
  });
  it('reads --flag value and --flag=value', () => {
    expect(parseArgs(['--data', '/d', '--speed=39', '--date', '2025-10-01..2025-10-16', '--symbols', 'tqqq, sds'])).toMatchObject({
      data: '/d',
      speed: 39,
      date: '2025-10-01..2025-10-16',
      symbols: ['TQQQ', 'SDS'],
    });
  });
  it('rejects unknown options, missing values and bad numbers or dates with a usage error', () => {
    expect(() => parseArgs(['--live'])).toThrowError(UsageError);
    expect(() => parseArgs(['--data'])).toThrowError(/--data needs a value/);
    expect(() => parseArgs(['--speed', '-1'])).toThrowError(/--speed must be a number >= 0/);
    expect(() => parseArgs(['--date', '16/10/2025'])).toThrowError(/--date must be YYYY-MM-DD/);
  });
});
