import { parseOptions } from '@feed/core';
import { z } from 'zod';

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

/** A reconnect policy with every field filled in. */
export type ResolvedReconnectPolicy = Required<ReconnectPolicy>;

/** The default reconnect policy: 1 s doubling to 64 s, +-20 % jitter, 10 attempts in a row. */
export const DEFAULT_RECONNECT_POLICY: ResolvedReconnectPolicy = Object.freeze({
  initialDelayMs: 1000,
  maxDelayMs: 64_000,
  multiplier: 2,
  jitter: 0.2,
  maxAttempts: 10,
});

/** The reconnect policy's schema (also used inside the feed's options). */
export const reconnectPolicySchema = z
  .object({
    initialDelayMs: z.number('must be a finite number >= 0').min(0, 'must be a finite number >= 0').default(DEFAULT_RECONNECT_POLICY.initialDelayMs),
    maxDelayMs: z.number().min(0, 'must be >= 0').default(DEFAULT_RECONNECT_POLICY.maxDelayMs),
    multiplier: z.number().min(1, 'must be >= 1').default(DEFAULT_RECONNECT_POLICY.multiplier),
    jitter: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)').default(DEFAULT_RECONNECT_POLICY.jitter),
    // zod's number() refuses Infinity, which is a valid "never give up" here.
    maxAttempts: z
      .custom<number>((n) => n === Infinity || (typeof n === 'number' && Number.isInteger(n) && n >= 1), 'must be an integer >= 1, or Infinity')
      .default(DEFAULT_RECONNECT_POLICY.maxAttempts),
  })
  .refine((p) => p.maxDelayMs >= p.initialDelayMs, { message: 'must be >= initialDelayMs', path: ['maxDelayMs'] });

/** Validates a reconnect policy and fills in its defaults. */
export function resolveReconnectPolicy(policy: ReconnectPolicy = {}): ResolvedReconnectPolicy {
  return parseOptions(reconnectPolicySchema, policy, 'reconnect policy', 'reconnect');
}

/**
 * The delay before retry number `retry` (1 = the first retry): `initialDelayMs * multiplier^(retry-1)`,
 * capped at `maxDelayMs`, then spread by +-`jitter` using `random()` in [0, 1).
 */
export function backoffDelay(policy: ResolvedReconnectPolicy, retry: number, random: () => number): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, retry - 1));
  return Math.round(base * (1 + policy.jitter * (2 * random() - 1)));
}
