import { AbstractBarFeed } from './abstract-feed.js';
import type { Bar } from './bar.js';
import type { Clock } from './clock.js';
import { ManualClock } from './clock.js';
import type { FeedError } from './errors.js';
import { StateError } from './errors.js';

/**
 * A `BarFeed` driven by hand: `push(bar)` delivers a bar, `end()` stops. For tests of code that
 * consumes a feed (a strategy, the data manager) without files or a network.
 */
export class ManualBarFeed extends AbstractBarFeed {
  readonly type = 'manual';

  constructor(symbols: readonly string[], clock: Clock = new ManualClock()) {
    super(symbols, clock);
  }

  protected doConnect(): Promise<void> {
    return Promise.resolve();
  }
  protected doStart(): Promise<void> {
    return Promise.resolve();
  }
  protected doStop(): Promise<void> {
    return Promise.resolve();
  }
  protected doDisconnect(): Promise<void> {
    return Promise.resolve();
  }

  /** Delivers bars to listeners, in order. Throws a `StateError`-coded error unless streaming. */
  push(...bars: Bar[]): void {
    if (this.state !== 'streaming') {
      throw new StateError({ operation: 'push', state: this.state, allowed: ['streaming'] });
    }
    for (const bar of bars) this.deliver(bar);
  }

  /** Reports an error to listeners, as a real feed would. */
  fail(error: FeedError): void {
    this.reportError(error);
  }

  /** Ends delivery, as a replay reaching its end does (state `stopped`; iteration ends). */
  end(): void {
    if (this.state === 'streaming' || this.state === 'reconnecting') this.setState('stopped');
  }
}
