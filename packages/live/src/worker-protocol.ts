import type { ConfigIssue, FeedErrorCode } from '@feed/core';
import { BarValidationError, ConfigError, ConnectionError, FeedError, HttpError } from '@feed/core';

/**
 * What the main thread and a live feed's worker thread say to each other (`worker: true`, any
 * provider). Bars cross in batches of numbers in one transferred buffer; everything else is a small
 * structured-clone message. Messages keep their order on the port, so a batch is flushed before any
 * other event.
 */

/** Which feed the worker builds: the provider's module (a URL) and the class it exports, with plain options. */
export interface WorkerSpec {
  /** The module's URL (`import.meta.url` of the provider's entry, or a file URL of its CommonJS build). */
  readonly module: string;
  /** The name the module exports the feed class under. */
  readonly exportName: string;
  /** The feed's options, plain data (structured clone): no functions, no class instances. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** What the main thread hands the worker. */
export interface WorkerInit {
  readonly spec: WorkerSpec;
  /** The main thread's clock time (ms, in an Int64 slot), when the feed runs on a clock other than the system's. */
  readonly clock: SharedArrayBuffer | undefined;
}

/** Numbers per bar in a batch: worker symbol index, start, end, OHLC, volume, vwap (NaN: none), trades (-1: none), receivedAt, kind. */
export const BAR_STRIDE = 12;
/** The bar was delivered live (counts in latency), or recovered by gap fill. */
export const KIND_LIVE = 0;
export const KIND_RECOVERED = 1;
/** Bars per batch at most: a batch is one task on the main thread, so this bounds its length. */
export const MAX_BATCH = 2048;

/** The worker feed's counters: its `scalarStats()` as they were when the message left (names from the statistics object, not a list). */
export type WireCounters = Readonly<Record<string, number | boolean>>;

/** An error as it crosses threads: its class by name and the fields to rebuild it (a provider's own fields too). */
export interface WireError {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly detail?: Readonly<Record<string, unknown>> | undefined;
  readonly stack?: string | undefined;
  /** Every other own field of a primitive value (a provider error's code, `fatal`, ...). */
  readonly fields?: Readonly<Record<string, string | number | boolean>>;
  readonly status?: number;
  readonly url?: string;
  readonly reason?: string;
  readonly symbol?: string | undefined;
  readonly field?: string | undefined;
  readonly issues?: readonly ConfigIssue[];
  readonly source?: string | undefined;
}

/** Main -> worker. */
export type ToWorker =
  | { readonly type: 'call'; readonly id: number; readonly method: 'connect' | 'start' | 'stop' | 'disconnect' | 'sync' }
  | { readonly type: 'call'; readonly id: number; readonly method: 'subscribe' | 'unsubscribe'; readonly symbols: readonly string[] }
  /** The main thread's warm-up ended at these bar starts: the worker's feed continues after them. */
  | { readonly type: 'call'; readonly id: number; readonly method: 'seed'; readonly seeds: readonly (readonly [string, number])[]; readonly to: number }
  | { readonly type: 'tick'; readonly now: number };

/** Worker -> main. `counters` rides on every message, so the main thread's statistics stay current. */
export type FromWorker =
  | { readonly type: 'bars'; readonly data: Float64Array; readonly count: number; readonly names: readonly (readonly [number, string])[]; readonly counters: WireCounters }
  | { readonly type: 'event'; readonly event: WireEvent; readonly counters: WireCounters }
  | { readonly type: 'reply'; readonly id: number; readonly error?: WireError; readonly symbols?: readonly string[]; readonly counters: WireCounters }
  | { readonly type: 'fatal'; readonly error: WireError }
  /** The counters again, once the work an event started has settled (a gap fill ends after its event). */
  | { readonly type: 'counters'; readonly counters: WireCounters }
  /** When the worker's next timer is due on the mirrored clock (undefined: none), sent whenever it changes. */
  | { readonly type: 'timers'; readonly next: number | undefined };

/** The feed's events other than `bar`, with errors made plain (a `bar` field of an event is rebuilt frozen). */
export type WireEvent =
  | { readonly type: 'error'; readonly error: WireError }
  | { readonly type: 'state'; readonly from: string; readonly to: string }
  | { readonly type: string; readonly [key: string]: unknown };

/** Rebuilds a provider's own error from the wire (undefined: not one of its classes). */
export type ErrorReviver = (w: WireError) => FeedError | undefined;

const KNOWN = new Set(['name', 'code', 'message', 'stack', 'detail', 'status', 'url', 'reason', 'symbol', 'field', 'issues', 'source', 'cause']);

/** An error made plain for `postMessage` (structured clone would keep only name, message and stack). */
export function toWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'FeedError', code: 'connection', message: String(error) };
  const e = error as Error & Partial<Record<string, unknown>>;
  const out: Record<string, unknown> = {
    name: e.name,
    code: typeof e.code === 'string' ? e.code : 'connection',
    message: e.message,
    detail: FeedError.isInstance(error) ? error.detail : undefined,
    stack: e.stack,
  };
  for (const k of ['status', 'url', 'reason', 'symbol', 'field', 'issues', 'source']) if (e[k] !== undefined) out[k] = e[k];
  const fields: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(e)) if (!KNOWN.has(k) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) fields[k] = v;
  if (Object.keys(fields).length > 0) out.fields = fields;
  return out as unknown as WireError;
}

/** The error again, of its class (`isInstance`, `code` and `statsKey` hold as inline); `revive` rebuilds a provider's own. */
export function fromWire(w: WireError, revive?: ErrorReviver): FeedError {
  let e: FeedError;
  const extra = w.detail === undefined ? {} : { detail: w.detail };
  const own = revive?.(w);
  if (own !== undefined) e = own;
  else {
    switch (w.name) {
      case 'ConnectionError':
        e = new ConnectionError({ message: w.message, ...extra });
        break;
      case 'HttpError':
        e = new HttpError({ status: w.status ?? 0, url: w.url ?? '', message: w.message.replace(/^HTTP \d+: /, ''), ...extra });
        break;
      case 'ConfigError':
        e = new ConfigError({ code: w.code === 'invalid_option' ? 'invalid_option' : 'invalid_config', message: w.message, issues: w.issues ?? [], source: w.source, ...extra });
        break;
      case 'BarValidationError':
        e = new BarValidationError({ message: w.message, reason: w.reason ?? 'invalid', symbol: w.symbol, field: w.field, ...extra });
        break;
      default:
        e = new FeedError({ code: w.code as FeedErrorCode, message: w.message, ...extra });
    }
  }
  if (w.stack !== undefined) e.stack = `${e.name}: ${e.message}\n    (in the feed's worker thread)\n${w.stack.split('\n').slice(1).join('\n')}`;
  return e;
}
