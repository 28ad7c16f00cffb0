import type { FeedError } from '@feed/core';
import type { Channels } from './feed-options.js';
import type { Subscription } from './messages.js';

interface Waiter {
  resolve(): void;
  reject(error: FeedError): void;
}

/**
 * What the feed asked the server for and what the server confirmed: the subscribe messages, and the
 * calls of `subscribe()` and `unsubscribe()` waiting for the server's reply, in order.
 */
export class Subscriptions {
  #confirmed: Subscription = { bars: [], updatedBars: [], dailyBars: [], statuses: [], lulds: [] };
  #waiters: Waiter[] = [];

  constructor(private readonly channels: Required<Channels>) {}

  /** The server's last subscription reply. */
  get confirmed(): Subscription {
    return this.#confirmed;
  }

  /** Whether a bar channel is subscribed (the watchdog expects data only then). */
  get barsChannel(): boolean {
    return this.channels.bars || this.channels.updatedBars;
  }

  /** The message for `symbols` on every configured channel; undefined when there are none. */
  message(action: 'subscribe' | 'unsubscribe', symbols: readonly string[]): Record<string, unknown> | undefined {
    if (symbols.length === 0) return undefined;
    const m: Record<string, unknown> = { action };
    if (this.channels.bars) m.bars = symbols;
    if (this.channels.updatedBars) m.updatedBars = symbols;
    if (this.channels.dailyBars) m.dailyBars = symbols;
    if (this.channels.statuses) m.statuses = symbols;
    if (this.channels.lulds) m.lulds = symbols;
    return m;
  }

  /** A call waiting for the server's reply to the message just sent. */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** A reply arrived: the oldest waiter is answered (or all, when the reply completes a handshake). */
  confirm(subscription: Subscription, all: boolean): void {
    this.#confirmed = subscription;
    if (all) this.#settleAll(undefined);
    else this.#waiters.shift()?.resolve();
  }

  /** The server rejected the oldest pending message (400, 405). */
  rejectOldest(error: FeedError): void {
    this.#waiters.shift()?.reject(error);
  }

  /** Every pending call fails (the feed gave up or disconnected). */
  rejectAll(error: FeedError): void {
    this.#settleAll(error);
  }

  #settleAll(error: FeedError | undefined): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const x of w) {
      if (error === undefined) x.resolve();
      else x.reject(error);
    }
  }
}
