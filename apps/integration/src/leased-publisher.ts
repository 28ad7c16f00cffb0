/**
 * `--live --publish`: among several programs started so, exactly one holds the provider connection
 * (Alpaca allows one per account). Each takes part in a `ConnectionLease` on NATS; the holder
 * connects and publishes every bar; a standby waits, says so, and when the holder goes (the lease
 * not renewed for its TTL) takes the lease, connects, fills the minutes between the last bar stored
 * in the stream and now from the provider's REST history, then streams.
 */
import type { BarFeed, HistoricalBars } from '@feed/core';
import { MINUTE_MS } from '@feed/core';
import type { LeaseOptions } from '@feed/nats';
import { BarPublisher, ConnectionLease, latestStoredStart } from '@feed/nats';

export interface LeasedPublishing {
  readonly lease: ConnectionLease;
  /**
   * Once this program holds the lease and its feed is connected (live bars held until `start()`):
   * starts the publisher and publishes the fill from the last stored bar to now, then resolves.
   */
  handover(): Promise<BarPublisher>;
  /** Bars the handover fill published (0 for the first holder of an empty stream). */
  filled(): number;
  /** Closes the publisher (flushing) and gives the lease up. */
  close(): Promise<void>;
}

export interface LeasedPublishingOptions {
  readonly connection: LeaseOptions['connection'];
  readonly account: string;
  readonly holder?: string;
  readonly ttlMs?: number;
  readonly symbols: readonly string[];
  readonly feed: BarFeed;
  readonly history: HistoricalBars;
  /** Where a CLI prints what happens (a library never prints). */
  readonly log: (line: string) => void;
  /** The lease was lost: the program must let the provider connection go. */
  readonly onLost: (reason: string) => void;
  /** The time now. @default the feed's clock */
  readonly now?: () => number;
}

/** Competes for the lease from now on (`lease.whenHeld()` resolves once this program holds it). */
export async function startLeasedPublishing(o: LeasedPublishingOptions): Promise<LeasedPublishing> {
  const lease = await ConnectionLease.open({ connection: o.connection, account: o.account, ...(o.holder === undefined ? {} : { holder: o.holder }), ...(o.ttlMs === undefined ? {} : { ttlMs: o.ttlMs }) });
  lease.on('standby', (e) => o.log(`standby: ${e.holder} holds the provider connection (lease ${lease.key}); this program takes over if it goes for ${lease.ttlMs} ms`));
  lease.on('acquired', () => o.log(`holding the provider connection (lease ${lease.key}, renewed every ${Math.floor(lease.ttlMs / 3)} ms)`));
  lease.on('lost', (e) => {
    o.log(`lost the lease: ${e.reason}; letting the provider connection go`);
    o.onLost(e.reason);
  });
  lease.on('error', (e) => o.log(`lease: ${e.error.message}`));
  await lease.start();
  let filled = 0;
  let publisher: BarPublisher | undefined;
  const handover = async (): Promise<BarPublisher> => {
    if (!lease.held) throw new Error('handover() before the lease is held (await lease.whenHeld())');
    // Where the previous holder stopped: from a little before its last stored bar (overlaps are
    // skipped by the publisher and the readers), to now.
    const last = await latestStoredStart(o.connection);
    publisher = await BarPublisher.start({ feed: o.feed, connection: o.connection });
    if (last !== undefined) {
      const now = (o.now ?? (() => o.feed.clock.now()))();
      const bySymbol = await o.history.barsBySymbol({ symbols: o.symbols, start: last - 2 * MINUTE_MS, end: now });
      const bars = [...bySymbol.values()].flat().sort((a, b) => a.start - b.start || o.symbols.indexOf(a.symbol) - o.symbols.indexOf(b.symbol));
      for (const b of bars) publisher.publish(b);
      filled = bars.length;
      o.log(`handover: ${bars.length} bars from ${new Date(last - 2 * MINUTE_MS).toISOString()} filled from REST before streaming`);
    }
    return publisher;
  };
  return {
    lease,
    handover,
    filled: () => filled,
    close: async () => {
      await publisher?.close();
      await lease.release();
    },
  };
}
