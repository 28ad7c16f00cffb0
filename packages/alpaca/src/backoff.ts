import { ConfigError } from '@feed/core';

/** When and how often to reconnect. Defaults follow Alpaca's JS SDK 4.x, the best of Alpaca's own clients. */
export interface ReconnectPolicy {
  /**
   * Delay before the first retry, in milliseconds.
   * @default 1000
   */
  initialDelayMs?: number;
  /**
   * The longest delay between two attempts, in milliseconds.
   * @default 64000
   */
  maxDelayMs?: number;
  /**
   * Each retry waits this many times longer than the one before, up to `maxDelayMs`.
   * @default 2
   */
  multiplier?: number;
  /**
   * Random spread of each delay: `0.2` means +-20 %.
   * @default 0.2
   */
  jitter?: number;
  /**
   * Attempts in a row before giving up (`Infinity` for never). Reset by every successful auth.
   * @default 10
   */
  maxAttempts?: number;
}

export type ResolvedReconnectPolicy = Required<ReconnectPolicy>;

export const DEFAULT_RECONNECT_POLICY: ResolvedReconnectPolicy = Object.freeze({
  initialDelayMs: 1000,
  maxDelayMs: 64_000,
  multiplier: 2,
  jitter: 0.2,
  maxAttempts: 10,
});

export function resolveReconnectPolicy(policy: ReconnectPolicy = {}): ResolvedReconnectPolicy {
  const p = { ...DEFAULT_RECONNECT_POLICY, ...stripUndefined(policy) };
  const issues: { path: string; message: string }[] = [];
  if (!(p.initialDelayMs >= 0 && Number.isFinite(p.initialDelayMs))) issues.push({ path: 'reconnect.initialDelayMs', message: 'must be a finite number >= 0' });
  if (!(p.maxDelayMs >= p.initialDelayMs)) issues.push({ path: 'reconnect.maxDelayMs', message: 'must be >= initialDelayMs' });
  if (!(p.multiplier >= 1)) issues.push({ path: 'reconnect.multiplier', message: 'must be >= 1' });
  if (!(p.jitter >= 0 && p.jitter < 1)) issues.push({ path: 'reconnect.jitter', message: 'must be in [0, 1)' });
  if (!(p.maxAttempts >= 1) || (Number.isFinite(p.maxAttempts) && !Number.isInteger(p.maxAttempts))) {
    issues.push({ path: 'reconnect.maxAttempts', message: 'must be an integer >= 1, or Infinity' });
  }
  if (issues.length > 0) {
    throw new ConfigError(`invalid reconnect policy: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues, undefined, {
      code: 'invalid_option',
    });
  }
  return p;
}

/**
 * The delay before retry number `retry` (1 = the first retry): `initialDelayMs * multiplier^(retry-1)`,
 * capped at `maxDelayMs`, then spread by +-`jitter` using `random()` in [0, 1).
 */
export function backoffDelay(policy: ResolvedReconnectPolicy, retry: number, random: () => number): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, retry - 1));
  return Math.round(base * (1 + policy.jitter * (2 * random() - 1)));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
