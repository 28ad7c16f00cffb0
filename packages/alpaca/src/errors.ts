import type { FeedErrorOptions } from '@feed/core';
import { FeedError } from '@feed/core';

/** Alpaca error codes after which retrying cannot help. */
export const FATAL_CODES: ReadonlySet<number> = new Set([402, 409, 410]);

/**
 * An error Alpaca's stream reported (`{"T":"error","code":N,"msg":"..."}`), code `provider`.
 * `fatal` means retrying cannot help (402, 409, 410). Counted in `errorsByCode` under its number.
 */
export class AlpacaError extends FeedError {
  static override readonly errorName: string = 'AlpacaError';
  /** Alpaca's numeric code (400-410, 500). */
  readonly alpacaCode: number;
  readonly fatal: boolean;
  constructor(init: FeedErrorOptions & { alpacaCode: number; message: string; fatal?: boolean }) {
    super({ ...init, code: 'provider', message: `Alpaca error ${init.alpacaCode}: ${init.message}` });
    this.alpacaCode = init.alpacaCode;
    this.fatal = init.fatal ?? FATAL_CODES.has(init.alpacaCode);
  }

  override get statsKey(): string {
    return String(this.alpacaCode);
  }
}
