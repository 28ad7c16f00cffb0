/**
 * Every error the feed packages throw or emit is a `FeedError` with a `code` a caller can switch on.
 * `isInstance` works across duplicate copies of this package (where `instanceof` does not), because
 * it checks a brand registered with `Symbol.for`, not the class identity.
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
  | 'alpaca'
  | 'http'
  | 'calendar'
  | 'listener'
  | 'aborted';

const BRAND = Symbol.for('@feed/core/FeedError');

interface Branded {
  [BRAND]?: readonly string[];
}

export interface FeedErrorOptions {
  cause?: unknown;
}

export class FeedError extends Error {
  /** The name used by `isInstance`; subclasses override it. */
  static readonly errorName: string = 'FeedError';
  readonly code: FeedErrorCode;

  constructor(code: FeedErrorCode, message: string, options: FeedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
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
  constructor(
    message: string,
    readonly reason: string,
    readonly symbol: string | undefined,
    readonly field: string | undefined,
    options: FeedErrorOptions = {},
  ) {
    super('invalid_bar', message, options);
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
  constructor(
    message: string,
    readonly issues: readonly ConfigIssue[],
    readonly source: string | undefined,
    options: FeedErrorOptions & { code?: 'invalid_config' | 'invalid_option' } = {},
  ) {
    super(options.code ?? 'invalid_config', message, options);
  }
}

/** A lifecycle method was called in a state that does not allow it (for example `start()` before `connect()`). */
export class StateError extends FeedError {
  static override readonly errorName: string = 'StateError';
  constructor(
    readonly operation: string,
    readonly state: string,
    readonly allowed: readonly string[],
  ) {
    super(
      'invalid_state',
      `cannot ${operation}() in state '${state}' (allowed in: ${allowed.join(', ')})`,
    );
  }
}

/** A CSV file could not be read, lacks a column, or has a bad row. `line` is 1-based. */
export class CsvError extends FeedError {
  static override readonly errorName: string = 'CsvError';
  constructor(
    code: 'csv_file' | 'csv_column' | 'csv_row',
    message: string,
    readonly file: string,
    readonly line: number | undefined,
    readonly column: string | undefined,
    options: FeedErrorOptions = {},
  ) {
    super(code, `${file}${line === undefined ? '' : `:${line}`}: ${message}`, options);
  }
}

/** A network connection failed or was lost. */
export class ConnectionError extends FeedError {
  static override readonly errorName: string = 'ConnectionError';
  constructor(message: string, options: FeedErrorOptions = {}) {
    super('connection', message, options);
  }
}

/** An error reported by Alpaca (`{"T":"error","code":N}`). `fatal` means retrying cannot help. */
export class AlpacaError extends FeedError {
  static override readonly errorName: string = 'AlpacaError';
  constructor(
    readonly alpacaCode: number,
    message: string,
    readonly fatal: boolean,
    options: FeedErrorOptions = {},
  ) {
    super('alpaca', `Alpaca error ${alpacaCode}: ${message}`, options);
  }
}

/** An HTTP request failed with a status a caller may act on. */
export class HttpError extends FeedError {
  static override readonly errorName: string = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly url: string,
    options: FeedErrorOptions = {},
  ) {
    super('http', `HTTP ${status}: ${message}`, options);
  }
}

/** A date outside what the calendar can answer for, or a malformed date string. */
export class CalendarError extends FeedError {
  static override readonly errorName: string = 'CalendarError';
  constructor(message: string) {
    super('calendar', message);
  }
}

/**
 * Replaces every occurrence of each secret in `text` with `[REDACTED]`. Used on every message that
 * could echo a request (URLs, headers, server replies) before it leaves a package.
 */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('[REDACTED]');
  }
  return out;
}
