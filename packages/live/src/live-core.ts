import type { FeedState } from '@feed/core';
import { ConnectionError, FeedError } from '@feed/core';
import type { ResolvedReconnectPolicy } from './backoff.js';
import { backoffDelay } from './backoff.js';
import type { Connection, Session } from './connection.js';
import type { GapFiller } from './gap-fill.js';
import type { Heartbeat, HeartbeatFault } from './heartbeat.js';

/** What the lifecycle asks of the feed it runs: its state, its events, its counters. */
export interface LiveCoreHooks {
  readonly policy: ResolvedReconnectPolicy;
  readonly random: () => number;
  /** Whether gap fill is on, and how many bars a first start warms up with. */
  readonly gapFill: boolean;
  readonly warmupBars: number;
  state(): FeedState;
  setState(to: FeedState): void;
  isActive(): boolean;
  now(): number;
  report(error: FeedError): void;
  emit(event: { readonly type: 'disconnected'; readonly reason: string } | { readonly type: 'retry'; readonly attempt: number; readonly delayMs: number; readonly reason: string } | { readonly type: 'reconnected'; readonly attempts: number }): void;
  /** A reconnect succeeded (the feed counts it). */
  reconnected(): void;
  /** The feed ends for good after `error` (pending calls fail with it). */
  endedBy(error: FeedError): void;
  redact(text: string): string;
}

/**
 * The lifecycle every live feed shares, whatever its protocol: connect (the handshake is the feed's),
 * start with warm-up or restart gap fill, a lost connection (held live bars, backoff, reconnect, gap
 * fill of what was missed), keep-alive faults, giving up, disconnect. Alpaca's and Polygon's feeds
 * are this with their own messages.
 */
export class LiveCore {
  #reconnecting: Promise<void> | undefined;
  /** When the feed first started (gap fill recovers from here), or undefined before. */
  startedAt: number | undefined;

  constructor(
    readonly connection: Connection,
    readonly heartbeat: Heartbeat,
    readonly gap: GapFiller,
    private readonly hooks: LiveCoreHooks,
  ) {}

  /** Opens a connection (retried per the policy); a failure is reported, then thrown. */
  async connect(): Promise<void> {
    this.connection.reopen();
    try {
      await this.connection.connect();
    } catch (error) {
      this.connection.terminate();
      const e = FeedError.isInstance(error) ? error : new ConnectionError({ message: String(error), cause: error });
      this.hooks.report(e);
      throw e;
    }
    this.heartbeat.start(this.connection.session as Session);
  }

  /** Starts delivery: held bars released, or a warm-up (first start) or restart gap fill first. */
  async start(): Promise<void> {
    const first = this.startedAt === undefined;
    this.startedAt ??= this.hooks.now();
    if (!this.hooks.gapFill || (first && this.hooks.warmupBars === 0)) {
      // Bars that arrived since connect(), in order (the gap fill releases them otherwise).
      this.gap.releaseAll();
      return;
    }
    this.gap.hold();
    await this.gap.run(first ? 'warmup' : 'restart');
  }

  /** Stops delivery: a fill in flight is aborted; returns how many held bars were not delivered. */
  stop(): Promise<number> {
    return this.gap.abort();
  }

  /** Closes for good: keep-alive, the socket (cleanly), a reconnect in progress, a gap fill. */
  async disconnect(): Promise<void> {
    this.heartbeat.stop();
    await this.connection.close();
    const reconnecting = this.#reconnecting;
    if (reconnecting !== undefined) await reconnecting.catch(() => undefined);
    await this.gap.abort();
  }

  /** Keep-alive or the watchdog found the connection dead: reported, then handled as a loss. */
  heartbeatFault(session: Session, fault: HeartbeatFault, detail: string): void {
    this.hooks.report(new ConnectionError({ message: `${detail}: reconnecting`, detail: { fault } }));
    this.lost(session, fault);
  }

  /** A ready connection was lost: live bars are held, and the feed reconnects with backoff, then fills the gap. */
  lost(session: Session, reason: string): void {
    const h = this.hooks;
    this.heartbeat.stop();
    this.connection.drop(session);
    if (this.connection.closing || this.#reconnecting !== undefined) return;
    h.emit({ type: 'disconnected', reason: h.redact(reason) });
    if (h.state() === 'streaming') h.setState('reconnecting');
    // Live bars after the reconnect wait until the gap before them is filled.
    if (h.gapFill) this.gap.hold();
    const delayMs = backoffDelay(h.policy, 1, h.random);
    h.emit({ type: 'retry', attempt: 1, delayMs, reason: h.redact(reason) });
    this.#reconnecting = this.connection.connect(delayMs).then(
      (attempts) => {
        this.#reconnecting = undefined;
        h.reconnected();
        if (h.state() === 'reconnecting') h.setState('streaming');
        this.heartbeat.start(this.connection.session as Session);
        h.emit({ type: 'reconnected', attempts });
        if (h.gapFill && h.isActive()) void this.gap.run('reconnect');
      },
      (error: unknown) => {
        this.#reconnecting = undefined;
        if (this.connection.closing) return;
        this.giveUp(FeedError.isInstance(error) ? error : new ConnectionError({ message: String(error), cause: error }));
      },
    );
  }

  /** A fatal error or too many failed attempts: report, release everything, end in `closed`. */
  giveUp(error: FeedError): void {
    this.heartbeat.stop();
    this.connection.terminate();
    this.hooks.endedBy(error);
    void this.gap.abort();
    this.hooks.report(error);
    this.hooks.setState('closed');
  }
}
