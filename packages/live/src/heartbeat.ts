import type { Clock } from '@feed/core';
import type { KeepAliveOptions, WatchdogOptions } from './live-options.js';
import type { Session } from './connection.js';
import { TimerSet } from './timers.js';

/** Why a heartbeat gave up on a session. */
export type HeartbeatFault = 'pong timeout' | 'no-data watchdog';

/** What keep-alive and the watchdog need: the clock, their settings, whether data is expected, whom to tell of a fault. */
export interface HeartbeatOptions {
  readonly clock: Clock;
  readonly keepAlive: Required<KeepAliveOptions> | false;
  readonly watchdog: Required<WatchdogOptions> | false;
  /** Whether data is expected at all (symbols subscribed to a bar channel). */
  readonly expectsData: () => boolean;
  /** The session is dead: `detail` says how (for the error message). */
  readonly onFault: (session: Session, fault: HeartbeatFault, detail: string) => void;
}

/**
 * Keep-alive and the no-data watchdog for the ready session, on the clock's timers: a ping every
 * `pingIntervalMs` with a pong due within `pongTimeoutMs`; a look every `checkIntervalMs` for a
 * connection that answers pings but delivers no data while the market is open (alpaca-py issue 740).
 */
export class Heartbeat {
  readonly #timers: TimerSet;
  #session: Session | undefined;
  #pongDue: (() => void) | undefined;
  pongTimeouts = 0;
  watchdogTrips = 0;

  constructor(private readonly options: HeartbeatOptions) {
    this.#timers = new TimerSet(options.clock);
  }

  get timers(): number {
    return this.#timers.size;
  }

  /** Watches `session` (replacing any other). */
  start(session: Session): void {
    this.stop();
    this.#session = session;
    const { keepAlive, watchdog } = this.options;
    if (keepAlive !== false) this.#timers.set(keepAlive.pingIntervalMs, () => this.#ping(session, keepAlive));
    if (watchdog !== false) this.#timers.set(watchdog.checkIntervalMs, () => this.#check(session, watchdog));
  }

  stop(): void {
    this.#timers.clear();
    this.#pongDue = undefined;
    this.#session = undefined;
  }

  /** A pong arrived on `session`. */
  pong(session: Session): void {
    if (session !== this.#session) return;
    this.#pongDue?.();
    this.#pongDue = undefined;
  }

  #ping(session: Session, ka: Required<KeepAliveOptions>): void {
    if (session !== this.#session || session.phase !== 'ready') return;
    this.#timers.set(ka.pingIntervalMs, () => this.#ping(session, ka));
    if (this.#pongDue !== undefined) return; // the last ping's pong is still due
    this.#pongDue = this.#timers.set(ka.pongTimeoutMs, () => {
      this.#pongDue = undefined;
      if (session !== this.#session) return;
      this.pongTimeouts++;
      this.stop();
      this.options.onFault(session, 'pong timeout', `no pong within ${ka.pongTimeoutMs} ms`);
    });
    try {
      session.socket.ping();
    } catch {
      // A socket closing under us: its 'close' event does the rest.
    }
  }

  #check(session: Session, wd: Required<WatchdogOptions>): void {
    if (session !== this.#session || session.phase !== 'ready') return;
    this.#timers.set(wd.checkIntervalMs, () => this.#check(session, wd));
    if (!this.options.expectsData()) return;
    const now = this.options.clock.now();
    const open = wd.calendar.sessionAt(now);
    if (open === undefined) return;
    const since = Math.max(session.lastDataAt, open.open);
    if (now - since < wd.noDataMs) return;
    this.watchdogTrips++;
    this.stop();
    this.options.onFault(session, 'no-data watchdog', `no data for ${Math.round((now - since) / 1000)} s while the market is open`);
  }
}
