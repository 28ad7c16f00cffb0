import { describe, expect, it } from 'vitest';
import { ConfigError } from '@feed/core';
import { DEFAULT_RECONNECT_POLICY, backoffDelay, resolveReconnectPolicy } from './backoff.js';

describe('backoffDelay', () => {
  const p = resolveReconnectPolicy();
  it('doubles from 1 s to 64 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((k) => backoffDelay(p, k, () => 0.5))).toEqual([
      1000, 2000, 4000, 8000, 16000, 32000, 64000, 64000, 64000, 64000,
    ]);
  });
  it('spreads each delay by +-20 %', () => {
    expect(backoffDelay(p, 3, () => 0)).toBe(3200);
    expect(backoffDelay(p, 3, () => 0.999999)).toBe(4800);
  });
  it('rejects a nonsense policy with the path of each problem', () => {
    expect(() => resolveReconnectPolicy({ maxAttempts: 0, jitter: 2 })).toThrow(ConfigError);
    expect(() => resolveReconnectPolicy({ maxAttempts: 0, jitter: 2 })).toThrow(/reconnect.jitter.*reconnect.maxAttempts|reconnect.maxAttempts/);
    expect(resolveReconnectPolicy({ maxAttempts: Infinity }).maxAttempts).toBe(Infinity);
    expect(DEFAULT_RECONNECT_POLICY).toMatchObject({ initialDelayMs: 1000, maxDelayMs: 64000, maxAttempts: 10, jitter: 0.2 });
  });
});

