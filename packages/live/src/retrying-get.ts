import type { Clock } from '@feed/core';
import { ConfigError, FeedError, HttpError, SystemClock, redact, redactError, sleep, timeoutSignal } from '@feed/core';

/**
 * A GET that is bounded in every direction, shared by the providers' history clients: a timeout per
 * request (headers and body), retries of 5xx, network errors and timeouts with doubling delays, 429
 * waits that honour `Retry-After` and `X-RateLimit-Reset` up to a cap, a retry budget per call, a
 * budget of requests, of pages without a new bar and of time per call, an abort signal, and errors
 * that are typed and never hold a secret. Credentials stay with their origin: redirects are followed
 * by hand, only within the origin the client was given, and a request to any other origin is refused
 * before anything is sent.
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

/**
 * The origin (`https://host:port`) of a history client's base URL: the only one its credentials
 * may go to (`RetryingGetInit.origin`). Anything but an http:// or https:// URL is a `ConfigError`.
 */
export function originOf(baseUrl: string, option = 'baseUrl'): string {
  let url: URL | undefined;
  try {
    url = new URL(baseUrl);
  } catch {
    url = undefined;
  }
  if (url === undefined || !/^https?:$/.test(url.protocol)) {
    throw new ConfigError({ code: 'invalid_option', message: `${option} ${JSON.stringify(baseUrl)} is not an http:// or https:// URL`, issues: [{ path: option, message: 'must be an http:// or https:// URL' }] });
  }
  return url.origin;
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
  /**
   * Redirects (301, 302, 303, 307, 308) one request may follow, each within the client's origin and
   * each spending one retry of the call's budget. A redirect to another origin is never followed.
   * @default 5
   */
  maxRedirects?: number;
  /**
   * Requests one call (one `bars()` or `barsBySymbol()`, over all its pages and retries) may make.
   * @default 10000
   */
  maxRequestsPerCall?: number;
  /**
   * Pages one call may receive that bring no new bar (empty, or only bars it already had): a server
   * that hands out fresh page tokens forever is stopped here, not by the request budget.
   * @default 10
   */
  maxPagesWithoutBars?: number;
  /**
   * How long one call may take in all, pages, retries and waits included, in milliseconds of clock time.
   * @default 600000
   */
  callTimeoutMs?: number;
}

/** What a provider adds: its origin, headers and query credentials, its secrets (removed from every text), its words for a refusal. */
export interface RetryingGetInit {
  /**
   * The only origin (`https://host:port`) requests may go to: the origin of the base URL the user
   * named. A URL of any other origin, first or by redirect, is an `HttpError` and nothing is sent.
   */
  readonly origin: string;
  /** Headers of every request (the provider's keys go here, or in `authorize`). */
  readonly headers: () => Record<string, string>;
  /** The URL as requested, with the provider's query credentials added (Polygon's `apiKey`); called only for URLs of `origin`. */
  readonly authorize?: (url: URL) => URL;
  readonly secrets: () => readonly string[];
  /** The error for a status retrying cannot cure (401, 403, ...), in the provider's words; undefined: the generic one. */
  readonly refused?: (status: number, text: string, url: string) => FeedError | undefined;
}

/** One call's state (a call may span pages): its budgets, its signal (the caller's and the call's deadline), what it asked and what came. */
export interface CallState {
  retriesLeft: number;
  /** Aborts when the caller's signal does or the call's deadline (`callTimeoutMs`) passes. */
  readonly signal: AbortSignal;
  /** Requests made, pages received, pages that brought no new bar, bars kept. */
  requests: number;
  pages: number;
  pagesWithoutBars: number;
  bars: number;
  /** What the call asked, for error messages (`TQQQ,SQQQ from ... to ...`). */
  readonly asked: string;
  readonly startedAt: number;
  /** Ends the call's deadline timer (always, in a `finally`). */
  end(): void;
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
  readonly #maxRedirects: number;
  readonly #maxRequestsPerCall: number;
  readonly #maxPagesWithoutBars: number;
  readonly #callTimeoutMs: number;
  #redirects = 0;
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
    this.#maxRedirects = options.maxRedirects ?? 5;
    this.#maxRequestsPerCall = options.maxRequestsPerCall ?? 10_000;
    this.#maxPagesWithoutBars = options.maxPagesWithoutBars ?? 10;
    this.#callTimeoutMs = options.callTimeoutMs ?? 600_000;
  }

  /** The clock of every wait and timeout. */
  get clock(): Clock {
    return this.#clock;
  }

  /** A new call's state: the full budgets, and a deadline `callTimeoutMs` from now. `asked` says what the call asks for (in errors). */
  call(signal: AbortSignal | undefined, asked = 'the request'): CallState {
    const deadline = timeoutSignal(this.#clock, this.#callTimeoutMs, this.redact(`${asked}: the whole call`), signal);
    return { retriesLeft: this.#retryBudget, signal: deadline.signal, requests: 0, pages: 0, pagesWithoutBars: 0, bars: 0, asked: this.redact(asked), startedAt: this.#clock.now(), end: () => deadline.dispose() };
  }

  /**
   * Records a page of the call and how many new bars it brought; past `maxPagesWithoutBars` pages
   * that brought none, the call fails with a `limit` error saying what was asked and what came.
   */
  page(call: CallState, newBars: number, url: string): void {
    call.pages++;
    call.bars += newBars;
    if (newBars > 0) return;
    call.pagesWithoutBars++;
    if (call.pagesWithoutBars > this.#maxPagesWithoutBars) {
      throw this.#limit(call, url, `${call.pagesWithoutBars} pages brought no new bar (maxPagesWithoutBars ${this.#maxPagesWithoutBars}): the server keeps handing out pages`);
    }
  }

  /** Requests made, retries after errors, waits for the rate limit, timed-out requests and redirects followed, since construction. */
  stats(): { requests: number; retries: number; rateLimitWaits: number; timeouts: number; redirects: number } {
    return { requests: this.#requests, retries: this.#retries, rateLimitWaits: this.#rateLimitWaits, timeouts: this.#timeouts, redirects: this.#redirects };
  }

  /** The URL parsed, or a typed error naming it (a `next_url` that is not a URL); a relative one resolves against `base`. */
  parseUrl(text: string, base: string | undefined, what: string): URL {
    try {
      return base === undefined ? new URL(text) : new URL(text, base);
    } catch {
      throw new FeedError({ code: 'protocol', message: this.redact(`malformed response: ${what} ${snippet(JSON.stringify(text), 80)} is not a URL`), detail: { url: this.redact(base ?? '') } });
    }
  }

  /** Whether `url` is of the client's origin (the only one credentials may go to). */
  sameOrigin(url: URL): boolean {
    return url.origin === this.#init.origin;
  }

  /** `text` without the provider's secrets. */
  redact(text: string): string {
    return redact(text, this.#init.secrets());
  }

  /**
   * GET `url` under the call's budgets and signal: the body of a 2xx, or a typed error. `url` holds
   * no credential: the provider's headers and `authorize` add them, only for the client's origin.
   */
  async get(target: string, call: CallState): Promise<string> {
    let failures = 0;
    let waits = 0;
    let redirects = 0;
    let current = this.parseUrl(target, undefined, 'URL');
    for (;;) {
      const url = current.toString();
      throwIfAborted(call.signal);
      if (!this.sameOrigin(current)) {
        throw new HttpError({ status: 0, message: this.redact(`refused to send a request to ${current.origin}: credentials go only to ${this.#init.origin}, the origin of the base URL`), url: this.redact(url), detail: { origin: this.#init.origin, refused: current.origin } });
      }
      if (call.requests >= this.#maxRequestsPerCall) throw this.#limit(call, url, `${call.requests} requests made (maxRequestsPerCall ${this.#maxRequestsPerCall})`);
      call.requests++;
      this.#requests++;
      const timeout = timeoutSignal(this.#clock, this.#timeoutMs, `GET ${this.redact(url)}`, call.signal);
      let status: number;
      let text: string;
      let headers: Headers;
      try {
        const sent = this.#init.authorize === undefined ? current : this.#init.authorize(new URL(current));
        const response = await this.#fetch(sent.toString(), { headers: this.#init.headers(), signal: timeout.signal, redirect: 'manual' });
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
      if (status >= 300 && status < 400 && status !== 304) {
        // Followed by hand: fetch would carry custom headers (the keys) to any host a server names.
        const location = headers.get('location');
        if (location === null || location === '') throw new HttpError({ status, message: 'a redirect without a Location header', url: this.redact(url) });
        const next = this.parseUrl(location, url, `redirect Location`);
        if (!this.sameOrigin(next)) {
          throw new HttpError({
            status,
            message: this.redact(`redirect from ${current.origin} to another origin, ${next.origin}, refused: credentials go only to ${this.#init.origin}`),
            url: this.redact(url),
            detail: { origin: this.#init.origin, refused: next.origin },
          });
        }
        if (redirects >= this.#maxRedirects) throw new HttpError({ status, message: `more than ${this.#maxRedirects} redirects (maxRedirects)`, url: this.redact(url) });
        redirects++;
        this.#redirects++;
        if (call.retriesLeft <= 0) {
          throw new HttpError({ status, message: this.redact(`retry budget of ${this.#retryBudget} spent; last: a redirect to ${next.pathname}`), url: this.redact(url), detail: { retryBudget: this.#retryBudget } });
        }
        call.retriesLeft--;
        current = next;
        continue;
      }
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

  #limit(call: CallState, url: string, what: string): FeedError {
    const elapsed = this.#clock.now() - call.startedAt;
    return new FeedError({
      code: 'limit',
      message: this.redact(`${call.asked}: gave up: ${what}; came: ${call.pages} pages, ${call.bars} bars, ${call.requests} requests in ${elapsed} ms (last ${url})`),
      detail: { url: this.redact(url), pages: call.pages, bars: call.bars, requests: call.requests, pagesWithoutBars: call.pagesWithoutBars, elapsedMs: elapsed },
    });
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
