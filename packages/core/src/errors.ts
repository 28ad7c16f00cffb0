/**
 * Every error the feed packages throw or emit is a `FeedError` with a `code` a caller can switch on
 * and, where useful, a `detail` object (symbols, ranges, counts). Constructors take named arguments.
 * `isInstance` works across duplicate copies of this package (where `instanceof` does not), because
 * it checks a brand registered with `Symbol.for`, not the class identity. Core knows no provider:
 * a provider's own errors (`AlpacaError` in `@feed/alpaca`) are subclasses with code `provider`.
 */

export type FeedErrorCode =
  | 'invalid_bar'
  | 'invalid_config'
  | 'invalid_option'
  | 'invalid_state'
  | 'unknown_symbol'
  | 'csv_file'
  | 'csv_column'
  | 'csv_row'
  | 'connection'
  | 'protocol'
  | 'provider'
  | 'http'
  | 'calendar'
  | 'listener'
  | 'aborted'
  | 'timeout'
  | 'gap_unfilled'
  /** A bounded loop ran out of its budget (pages, requests, time): what was asked and what came are in the message. */
  | 'limit'
  /** An optional peer dependency a feature needs is not installed (`detail.package` names it). */
  | 'missing_dependency'
  /** A warm-up found fewer bars than asked for some symbols (`detail.short` names them, `detail.counts` says how many). */
  | 'warmup_short';

const BRAND = Symbol.for('@feed/core/FeedError');

interface Branded {
  [BRAND]?: readonly string[];
}

/** What every error constructor takes besides its own fields. */
export interface FeedErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
  /** Structured facts for a program to act on (symbols, a time range, counts). */
  detail?: Readonly<Record<string, unknown>>;
}

/** What `new FeedError(...)` takes: a code, a message, and optionally a detail and a cause. */
export interface FeedErrorInit extends FeedErrorOptions {
  code: FeedErrorCode;
  message: string;
}

/** The base of every error the feed packages throw or emit: a `code` to switch on, an optional `detail`; `isInstance` works across package copies. */
export class FeedError extends Error {
  /** The name used by `isInstance`; subclasses override it. */
  static readonly errorName: string = 'FeedError';
  readonly code: FeedErrorCode;
  readonly detail: Readonly<Record<string, unknown>> | undefined;

  constructor(init: FeedErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.detail = init.detail;
    const ctor = new.target as unknown as { errorName: string };
    this.name = ctor.errorName;
    // Record the whole class chain so `CsvError.isInstance` and `FeedError.isInstance` both hold.
    const names: string[] = [];
    for (let p: unknown = new.target; p && p !== Function.prototype; p = Object.getPrototypeOf(p)) {
      const n = (p as { errorName?: string }).errorName;
      if (n && !names.includes(n)) names.push(n);
    }
    Object.defineProperty(this, BRAND, { value: names, enumerable: false });
  }

  /**
   * The key this error is counted under in a feed's `errorsByCode`: its `code`, or a finer one a
   * subclass chooses (an Alpaca error counts under its numeric code).
   */
  get statsKey(): string {
    return this.code;
  }

  /** True for an error of this class (or a subclass), from any copy of `@feed/core`. */
  static isInstance<T extends FeedError>(this: { readonly errorName: string; readonly prototype: T }, value: unknown): value is T {
    if (typeof value !== 'object' || value === null) return false;
    const names = (value as Branded)[BRAND];
    return Array.isArray(names) && names.includes(this.errorName);
  }
}

/** A bar failed validation at a boundary (file, network, config). */
export class BarValidationError extends FeedError {
  static override readonly errorName: string = 'BarValidationError';
  /** Why, as a `RejectReason` or a short word. */
  readonly reason: string;
  readonly symbol: string | undefined;
  /** The offending field (`start`, `close`, ...). */
  readonly field: string | undefined;
  constructor(init: FeedErrorOptions & { message: string; reason: string; symbol?: string | undefined; field?: string | undefined }) {
    super({ ...init, code: 'invalid_bar' });
    this.reason = init.reason;
    this.symbol = init.symbol;
    this.field = init.field;
  }
}

/** One problem found in a configuration: where (`path`, e.g. `symbols.TQQQ.leverage`) and what. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** A configuration file or options object is malformed. `issues` lists every problem found. */
export class ConfigError extends FeedError {
  static override readonly errorName: string = 'ConfigError';
  readonly issues: readonly ConfigIssue[];
  /** Where the configuration came from (a file, `environment`), when known. */
  readonly source: string | undefined;
  constructor(
    init: FeedErrorOptions & {
      message: string;
      issues?: readonly ConfigIssue[];
      source?: string | undefined;
      /** `invalid_config` for files, `invalid_option` for options objects. @default 'invalid_config' */
      code?: 'invalid_config' | 'invalid_option';
    },
  ) {
    super({ ...init, code: init.code ?? 'invalid_config' });
    this.issues = init.issues ?? [];
    this.source = init.source;
  }
}

/** A lifecycle method was called in a state that does not allow it (for example `start()` before `connect()`). */
export class StateError extends FeedError {
  static override readonly errorName: string = 'StateError';
  readonly operation: string;
  readonly state: string;
  readonly allowed: readonly string[];
  constructor(init: { operation: string; state: string; allowed: readonly string[] }) {
    super({
      code: 'invalid_state',
      message: `cannot ${init.operation}() in state '${init.state}' (allowed in: ${init.allowed.join(', ')})`,
    });
    this.operation = init.operation;
    this.state = init.state;
    this.allowed = init.allowed;
  }
}

/** A CSV file could not be read, lacks a column, or has a bad row. `line` is 1-based. */
export class CsvError extends FeedError {
  static override readonly errorName: string = 'CsvError';
  readonly file: string;
  readonly line: number | undefined;
  readonly column: string | undefined;
  constructor(
    init: FeedErrorOptions & {
      code: 'csv_file' | 'csv_column' | 'csv_row';
      message: string;
      file: string;
      line?: number | undefined;
      column?: string | undefined;
    },
  ) {
    super({ ...init, message: `${init.file}${init.line === undefined ? '' : `:${init.line}`}: ${init.message}` });
    this.file = init.file;
    this.line = init.line;
    this.column = init.column;
  }
}

/** A network connection failed or was lost. */
export class ConnectionError extends FeedError {
  static override readonly errorName: string = 'ConnectionError';
  constructor(init: FeedErrorOptions & { message: string }) {
    super({ ...init, code: 'connection' });
  }
}

/** An HTTP request failed with a status a caller may act on (`0`: no response at all). */
export class HttpError extends FeedError {
  static override readonly errorName: string = 'HttpError';
  readonly status: number;
  /** The request's URL, without credentials. */
  readonly url: string;
  constructor(init: FeedErrorOptions & { status: number; message: string; url: string }) {
    super({ ...init, code: 'http', message: `HTTP ${init.status}: ${init.message}` });
    this.status = init.status;
    this.url = init.url;
  }
}

/** A date outside what the calendar can answer for, or a malformed date string. */
export class CalendarError extends FeedError {
  static override readonly errorName: string = 'CalendarError';
  constructor(init: FeedErrorOptions & { message: string }) {
    super({ ...init, code: 'calendar' });
  }
}

/** The shortest piece of a secret that `redact` also removes on its own. */
const SECRET_PIECE = 8;

/**
 * Replaces each secret in `text` with `***`, and also every piece of a secret of 8 characters or
 * more (a server that echoes a truncated or reformatted secret, a body cut at some length). Secrets
 * shorter than 4 characters are left alone (they would match ordinary text). Used on every message,
 * event and error a package produces from text that could hold a key, including what a server sent.
 */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s === undefined || s.length < 4) continue;
    out = out.split(s).join('***');
    if (s.length > SECRET_PIECE) out = redactPieces(out, s);
  }
  return out;
}

/** Every run of 8 or more characters of `secret` in `text`, extended as far as it matches, becomes `***`. */
function redactPieces(text: string, secret: string): string {
  let out = text;
  for (let i = 0; i + SECRET_PIECE <= secret.length; i++) {
    const piece = secret.slice(i, i + SECRET_PIECE);
    for (let pos = out.indexOf(piece); pos >= 0; pos = out.indexOf(piece, pos)) {
      let end = pos + SECRET_PIECE;
      for (let k = i + SECRET_PIECE; end < out.length && k < secret.length && out[end] === secret[k]; k++) end++;
      let begin = pos;
      for (let k = i; begin > 0 && k > 0 && out[begin - 1] === secret[k - 1]; k--) begin--;
      out = `${out.slice(0, begin)}***${out.slice(end)}`;
      pos = begin + 3;
    }
  }
  return out;
}

/**
 * Removes the secrets (see `redact`) from `error`'s message and stack and from every error in its
 * cause chain, in place, and returns it: for errors that wrap what a server or a library said.
 */
export function redactError<E extends Error>(error: E, secrets: readonly (string | undefined)[]): E {
  const seen = new Set<unknown>();
  const clean = (e: unknown): void => {
    if (typeof e !== 'object' || e === null || seen.has(e)) return;
    seen.add(e);
    const x = e as { message?: unknown; stack?: unknown; cause?: unknown };
    for (const key of ['message', 'stack'] as const) {
      const v = x[key];
      if (typeof v === 'string') {
        const r = redact(v, secrets);
        if (r !== v) Object.defineProperty(e, key, { value: r, writable: true, configurable: true, enumerable: false });
      }
    }
    clean(x.cause);
  };
  clean(error);
  return error;
}

/**
 * Every place a secret shows in `text`: the whole secret, or any piece of 8 or more characters of
 * it (what `redact` removes). Empty when the text is clean. For tests and log audits: scan every
 * error, event and output line a run produced for the keys it used.
 */
export function findSecretPieces(text: string, secrets: Iterable<string | undefined>): string[] {
  const found: string[] = [];
  for (const s of secrets) {
    if (s === undefined || s.length < 4) continue;
    if (text.includes(s)) found.push(s);
    for (let i = 0; i + SECRET_PIECE <= s.length; i++) {
      const piece = s.slice(i, i + SECRET_PIECE);
      if (text.includes(piece) && !found.includes(piece)) found.push(piece);
    }
  }
  return found;
}
