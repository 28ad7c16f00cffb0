import type { Clock } from '@feed/core';
import { ConnectionError, FeedError, sleep } from '@feed/core';
import type { ResolvedReconnectPolicy } from './backoff.js';
import { backoffDelay } from './backoff.js';
import type { OutgoingFrame, WebSocketFactory, WebSocketLike } from './socket.js';
import { TimerSet } from './timers.js';

/** One connection: its socket, and whether its handshake is done. */
export class Session {
  phase: 'handshake' | 'ready' | 'ended' = 'handshake';
  /** Clock time of the last data message (or of the handshake's end), for the no-data watchdog. */
  lastDataAt: number;
  /** @internal */
  settle: { resolve(): void; reject(error: FeedError): void } | undefined;

  constructor(
    readonly socket: WebSocketLike,
    /** This attempt's number since the feed was created. */
    readonly attempt: number,
    now: number,
  ) {
    this.lastDataAt = now;
  }

  /** Sends frames while the socket is open (a closing socket drops them: its close does the rest). */
  send(frames: readonly OutgoingFrame[]): void {
    if (this.socket.readyState !== 1) return;
    for (const f of frames) this.socket.send(f.data, f.fin ? { binary: f.binary } : { binary: f.binary, fin: false });
  }
}

/** What a connection tells the feed. */
export interface ConnectionEvents {
  /** The socket opened (the handshake starts). */
  open(session: Session): void;
  /** A frame arrived: the feed decodes it and drives the handshake. */
  frame(session: Session, data: unknown, isBinary: boolean): void;
  pong(session: Session): void;
  /** A ready session closed by itself (not by `drop()` or `close()`). */
  closed(session: Session, reason: string): void;
  /** An attempt failed and another follows after `delayMs`. */
  retry(attempt: number, delayMs: number, error: FeedError): void;
}

/** What a connection needs: where, how to open a socket, the clock, the retry policy, what is fatal, how to redact. */
export interface ConnectionOptions {
  readonly url: string;
  readonly headers: () => Record<string, string>;
  readonly factory: WebSocketFactory;
  readonly clock: Clock;
  readonly policy: ResolvedReconnectPolicy;
  readonly random: () => number;
  readonly connectTimeoutMs: number;
  /** Whether an error ends the retries at once (a fatal provider error, an encoding mismatch). */
  readonly isFatal: (error: FeedError) => boolean;
  readonly redact: (text: string) => string;
}

/**
 * Opens sessions and keeps one open: an attempt is open + handshake within `connectTimeoutMs`;
 * failed attempts are retried with backoff on the clock until `maxAttempts` in a row, a fatal error,
 * or `close()`. Knows nothing of Alpaca's messages: the feed drives each session's handshake and
 * calls `ready()` or `fail()`.
 */
export class Connection {
  #session: Session | undefined;
  #attempts = 0;
  /** Failed attempts in a row since the last authentication. */
  #failures = 0;
  #closing = false;
  #abort = new AbortController();
  readonly #timers: TimerSet;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.#timers = new TimerSet(options.clock);
  }

  get session(): Session | undefined {
    return this.#session;
  }

  /** Connection attempts since creation, successful or not. */
  get attempts(): number {
    return this.#attempts;
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** Timers set now (connect timeout, backoff wait), for leak checks. */
  get timers(): number {
    return this.#timers.size + (this.#waiting ? 1 : 0);
  }

  #waiting = false;

  /** Starts over after `close()`: a feed connects again. */
  reopen(): void {
    this.#closing = false;
    this.#abort = new AbortController();
  }

  /** A session authenticated: the count of failures in a row starts again. */
  authenticated(): void {
    this.#failures = 0;
  }

  /**
   * Attempts until one is ready. `firstRetry` > 0 continues a backoff (a reconnect waits before its
   * first attempt). Resolves with the number of attempts made; rejects with the fatal error, a
   * `ConnectionError` after `maxAttempts` failures in a row, or `aborted` on `close()`.
   */
  async connect(firstDelayMs?: number): Promise<number> {
    let made = 0;
    this.#failures = 0;
    if (firstDelayMs !== undefined) await this.#wait(firstDelayMs);
    for (;;) {
      if (this.#closing) throw aborted();
      made++;
      try {
        await this.#attempt();
        return made;
      } catch (error) {
        const e = FeedError.isInstance(error) ? error : new ConnectionError({ message: String(error), cause: error });
        if (this.#closing || e.code === 'aborted') throw aborted();
        if (this.options.isFatal(e)) throw e;
        this.#failures++;
        if (this.#failures >= this.options.policy.maxAttempts) {
          throw new ConnectionError({ message: this.options.redact(`gave up after ${this.#failures} attempts in a row; last: ${e.message}`), cause: e });
        }
        // A reconnect's first wait was retry 1; its failures continue from there.
        const retry = this.#failures + (firstDelayMs === undefined ? 0 : 1);
        const delayMs = backoffDelay(this.options.policy, retry, this.options.random);
        this.events.retry(retry, delayMs, e);
        await this.#wait(delayMs);
      }
    }
  }

  async #wait(ms: number): Promise<void> {
    this.#waiting = true;
    try {
      await sleep(this.options.clock, ms, this.#abort.signal);
    } finally {
      this.#waiting = false;
    }
  }

  /** One attempt: open and hand frames to the feed until it calls `ready()` or `fail()`. */
  #attempt(): Promise<void> {
    this.#attempts++;
    let socket: WebSocketLike;
    try {
      socket = this.options.factory(this.options.url, { headers: this.options.headers() });
    } catch (error) {
      return Promise.reject(new ConnectionError({ message: this.options.redact(`cannot open ${this.options.url}: ${String(error)}`), cause: error }));
    }
    const session = new Session(socket, this.#attempts, this.options.clock.now());
    this.#session = session;
    return new Promise<void>((resolve, reject) => {
      const cancel = this.#timers.set(this.options.connectTimeoutMs, () => {
        this.fail(session, new ConnectionError({ message: `no subscription reply within ${this.options.connectTimeoutMs} ms` }));
      });
      session.settle = {
        resolve: () => {
          cancel();
          resolve();
        },
        reject: (e) => {
          cancel();
          reject(e);
        },
      };
      socket.on('open', () => {
        if (this.#session === session) this.events.open(session);
      });
      socket.on('message', (data, isBinary) => {
        if (session.phase !== 'ended') this.events.frame(session, data, isBinary);
      });
      socket.on('pong', () => {
        if (session.phase !== 'ended') this.events.pong(session);
      });
      socket.on('error', (error) => {
        // ws always follows 'error' with 'close'; fail the handshake now so the reason is the error.
        if (session.phase === 'handshake') {
          this.fail(session, new ConnectionError({ message: this.options.redact(`${this.options.url}: ${error.message}`), cause: error }));
        }
      });
      socket.on('close', (code, reason) => {
        if (session.phase === 'ended') return;
        const text = this.options.redact(`connection closed (code ${code}${reasonText(reason) ? `: ${reasonText(reason)}` : ''})`);
        if (session.phase === 'handshake') {
          this.fail(session, new ConnectionError({ message: text }));
          return;
        }
        this.drop(session);
        this.events.closed(session, text);
      });
    });
  }

  /** The handshake of `session` is done: its attempt succeeds. */
  ready(session: Session): void {
    if (session.phase !== 'handshake') return;
    session.phase = 'ready';
    session.lastDataAt = this.options.clock.now();
    const s = session.settle;
    session.settle = undefined;
    s?.resolve();
  }

  /** The handshake of `session` failed: its attempt fails with `error` (and the socket goes). */
  fail(session: Session, error: FeedError): void {
    if (session.phase !== 'handshake') return;
    const s = session.settle;
    session.settle = undefined;
    this.drop(session);
    s?.reject(error);
  }

  /** Ends a session's socket; its late events are ignored from then on. */
  drop(session: Session): void {
    if (session.phase === 'ended') return;
    const settle = session.settle;
    session.settle = undefined;
    session.phase = 'ended';
    if (session.socket.readyState !== 3) session.socket.terminate();
    if (this.#session === session) this.#session = undefined;
    settle?.reject(aborted());
  }

  /** Stops for good at once: no further attempt, a wait ends, the socket is terminated. */
  terminate(): void {
    this.#closing = true;
    this.#abort.abort(aborted());
    const s = this.#session;
    if (s !== undefined) this.drop(s);
    this.#timers.clear();
  }

  /**
   * Stops for good: no further attempt, a wait ends at once, an open connection is closed cleanly
   * (code 1000, terminated if the server does not answer within `closeTimeoutMs`).
   */
  async close(closeTimeoutMs = 1000): Promise<void> {
    this.#closing = true;
    this.#abort.abort(aborted());
    const s = this.#session;
    if (s === undefined) return;
    if (s.phase === 'ready' && s.socket.readyState === 1) {
      s.phase = 'ended';
      this.#session = undefined;
      await new Promise<void>((resolve) => {
        const cancel = this.#timers.set(closeTimeoutMs, () => {
          s.socket.terminate();
          resolve();
        });
        s.socket.on('close', () => {
          cancel();
          resolve();
        });
        s.socket.close(1000, 'client disconnect');
      });
    } else {
      this.drop(s);
    }
    this.#timers.clear();
  }
}

function aborted(): FeedError {
  return new FeedError({ code: 'aborted', message: 'the feed was disconnected' });
}

function reasonText(reason: unknown): string {
  if (reason instanceof Uint8Array) return Buffer.from(reason).toString('utf8');
  return typeof reason === 'string' ? reason : '';
}
