import type { Clock } from '@feed/core';
import { FeedError, HttpError, SystemClock, redact, redactError, sleep, timeoutSignal } from '@feed/core';

/**
 * A GET that is bounded in every direction, shared by the providers' history clients: a timeout per
 * request (headers and body), retries of 5xx, network errors and timeouts with doubling delays, 429
 * waits that honour `Retry-After` and `X-RateLimit-Reset` up to a cap, a retry budget per call, an
 * abort signal, and errors that are typed and never hold a secret.
 */

/** A wait before a retry of a history request. */
export interface RetryInfo {
  /** The retry's number for this request (1 = the first). */
  readonly attempt: number;
  /** How long the client waits before it, in milliseconds. */
  readonly delayMs: number;
  /** Why: `server error (503)`, `rate limited (429)`, a network error. */
  readonly reason: string;
  /** The HTTP status that caused it, or 0 for no response. */
  readonly status: number;
}

/** The limits of every request and call (each provider's client takes them as options). */
export interface RetryingGetOptions {
  /**
   * The fetch function.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * How long one request may take, headers and body, in milliseconds of clock time; a request that
   * takes longer is aborted and retried like a network error.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Retries of one request after a 5xx, a network error or a timeout, with doubling delays.
   * @default 4
   */
  maxRetries?: number;
  /**
   * Delay before the first retry after a 5xx or network error, in milliseconds; it doubles each time.
   * @default 500
   */
  retryDelayMs?: number;
  /**
   * Waits on HTTP 429 in a row before giving up.
   * @default 20
   */
  maxRateLimitWaits?: number;
  /**
   * The longest single wait a 429 may ask for (`Retry-After` or `X-RateLimit-Reset`), in milliseconds.
   * A longer one fails the call with an `HttpError` 429 instead of sleeping through it.
   * @default 60000
   */
  maxRateLimitWaitMs?: number;
  /**
   * Retries of every kind (5xx, network, timeout, 429) that one call of `bars()` or `barsBySymbol()`
   * may make over all its pages; past it the call fails with the last error.
   * @default 20
   */
  retryBudget?: number;
  /**
   * The clock of every wait and timeout, and the wall time that `X-RateLimit-Reset` (epoch seconds)
   * and an HTTP-date `Retry-After` are read against.
   * @default new SystemClock()
   */
  clock?: Clock;
  /** Told before every wait for a retry (for logging, metrics, or a test driving a `ManualClock`). */
  onRetry?: (info: RetryInfo) => void;
}

/** What a provider adds: its headers, its secrets (removed from every text), its words for a refusal. */
export interface RetryingGetInit {
  readonly headers: () => Record<string, string>;
  readonly secrets: () => readonly string[];
  /** The error for a status retrying cannot cure (401, 403, ...), in the provider's words; undefined: the generic one. */
  readonly refused?: (status: number, text: string, url: string) => FeedError | undefined;
}

/** One call's state (a call may span pages): its retry budget and its signal. */
export interface CallState {
  retriesLeft: number;
  readonly signal: AbortSignal | undefined;
}

/** The bounded GET (see the module's comment). */
export class RetryingGet {
  readonly #init: RetryingGetInit;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #retryDelayMs: number;
  readonly #maxRateLimitWaits: number;
  readonly #maxRateLimitWaitMs: number;
  readonly #retryBudget: number;
  readonly #clock: Clock;
  readonly #onRetry: ((info: RetryInfo) => void) | undefined;
  #requests = 0;
  #retries = 0;
  #rateLimitWaits = 0;
  #timeouts = 0;

  constructor(options: RetryingGetOptions, init: RetryingGetInit) {
    this.#init = init;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxRetries = options.maxRetries ?? 4;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
    this.#maxRateLimitWaits = options.maxRateLimitWaits ?? 20;
    this.#maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 60_000;
    this.#retryBudget = options.retryBudget ?? 20;
    this.#clock = options.clock ?? new SystemClock();
    this.#onRetry = options.onRetry;
  }

  /** The clock of every wait and timeout. */
  get clock(): Clock {
    return this.#clock;
  }

  /** A new call's state: the full retry budget. */
  call(signal: AbortSignal | undefined): CallState {
    return { retriesLeft: this.#retryBudget, signal };
  }

  /** Requests made, retries after errors, waits for the rate limit and timed-out requests, since construction. */
  stats(): { requests: number; retries: number; rateLimitWaits: number; timeouts: number } {
    return { requests: this.#requests, retries: this.#retries, rateLimitWaits: this.#rateLimitWaits, timeouts: this.#timeouts };
  }

  /** `text` without the provider's secrets. */
  redact(text: string): string {
    return redact(text, this.#init.secrets());
  }

  /** GET `url` under the call's budget and signal: the body of a 2xx, or a typed error. */
  async get(url: string, call: CallState): Promise<string> {
    let failures = 0;
    let waits = 0;
    for (;;) {
      throwIfAborted(call.signal);
      this.#requests++;
      const timeout = timeoutSignal(this.#clock, this.#timeoutMs, `GET ${this.redact(url)}`, call.signal);
      let status: number;
      let text: string;
      let headers: Headers;
      try {
        const response = await this.#fetch(url, { headers: this.#init.headers(), signal: timeout.signal });
        status = response.status;
        headers = response.headers;
        // The body is read under the same timeout: a server may send headers and then stall.
        text = await response.text();
      } catch (error) {
        timeout.dispose();
        throwIfAborted(call.signal);
        const reason: unknown = timeout.signal.aborted ? timeout.signal.reason : error;
        if (timeout.signal.aborted) this.#timeouts++;
        const what = FeedError.isInstance(reason) ? reason.message : errorText(error);
        if (failures >= this.#maxRetries) {
          throw redactError(new HttpError({ status: 0, message: this.redact(`no response after ${failures + 1} attempts: ${what}`), url: this.redact(url), cause: error }), this.#init.secrets());
        }
        await this.#retry(call, { attempt: ++failures, delayMs: this.#retryDelayMs * 2 ** (failures - 1), reason: what, status: 0 }, url);
        continue;
      }
      timeout.dispose();
      if (status === 429) {
        if (waits >= this.#maxRateLimitWaits) {
          throw new HttpError({ status: 429, message: `rate limited ${waits + 1} times in a row; giving up`, url: this.redact(url) });
        }
        waits++;
        const delayMs = this.#rateLimitDelay(headers, waits);
        if (delayMs > this.#maxRateLimitWaitMs) {
          throw new HttpError({
            status: 429,
            message: `rate limited; the server asks to wait ${Math.round(delayMs / 1000)} s, more than maxRateLimitWaitMs (${this.#maxRateLimitWaitMs} ms)`,
            url: this.redact(url),
            detail: { waitMs: delayMs },
          });
        }
        this.#rateLimitWaits++;
        await this.#retry(call, { attempt: waits, delayMs, reason: 'rate limited (429)', status }, url);
        continue;
      }
      if (status >= 500) {
        if (failures >= this.#maxRetries) {
          throw new HttpError({ status, message: this.redact(`server error after ${failures + 1} attempts: ${snippet(text)}`), url: this.redact(url) });
        }
        await this.#retry(call, { attempt: ++failures, delayMs: this.#retryDelayMs * 2 ** (failures - 1), reason: `server error (${status})`, status }, url);
        continue;
      }
      const refused = this.#init.refused?.(status, text, url);
      if (refused !== undefined) throw refused;
      if (status < 200 || status >= 300) throw new HttpError({ status, message: this.redact(snippet(text) || `status ${status}`), url: this.redact(url) });
      return text;
    }
  }

  /** Spends one retry of the call's budget and waits; the wait ends at once if the call is aborted. */
  async #retry(call: CallState, info: RetryInfo, url: string): Promise<void> {
    if (call.retriesLeft <= 0) {
      throw new HttpError({
        status: info.status,
        message: this.redact(`retry budget of ${this.#retryBudget} spent; last: ${info.reason}`),
        url: this.redact(url),
        detail: { retryBudget: this.#retryBudget },
      });
    }
    call.retriesLeft--;
    this.#retries++;
    this.#onRetry?.(info);
    await sleep(this.#clock, info.delayMs, call.signal);
  }

  /**
   * How long a 429 asks to wait: `Retry-After` (seconds or an HTTP date), else until
   * `X-RateLimit-Reset` (epoch seconds) plus a little, else a doubling backoff.
   */
  #rateLimitDelay(headers: Headers, waits: number): number {
    const retryAfter = headers.get('retry-after');
    if (retryAfter !== null) {
      const seconds = Number(retryAfter);
      if (retryAfter.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
      const at = Date.parse(retryAfter);
      if (Number.isFinite(at)) return Math.max(0, at - this.#clock.now());
    }
    const reset = headers.get('x-ratelimit-reset');
    const at = reset === null || reset.trim() === '' ? Number.NaN : Number(reset) * 1000;
    if (Number.isFinite(at)) return Math.max(0, at - this.#clock.now()) + 50;
    return Math.min(60_000, this.#retryDelayMs * 2 ** (waits - 1));
  }

}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted !== true) return;
  const reason: unknown = signal.reason;
  throw FeedError.isInstance(reason) ? reason : new FeedError({ code: 'aborted', message: 'the request was aborted', cause: reason });
}

function errorText(error: unknown): string {
  const e = error as { message?: unknown; cause?: { message?: unknown } };
  const base = typeof e?.message === 'string' ? e.message : String(error);
  return typeof e?.cause?.message === 'string' ? `${base} (${e.cause.message})` : base;
}

/** The first `max` characters of a body, for an error message. */
export function snippet(text: string, max = 200): string {
  const t = text.trim();
  return t.length > max ? `${t.slice(0, max)}...` : t;
}
