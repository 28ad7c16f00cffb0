/**
 * What a trading-status message says about whether a symbol can trade: `halt` (a trading halt or a
 * volatility pause begins), `resume` (trading resumes), or `none` (anything else: a price band, an
 * imbalance, a quotation-only period, a short-sale restriction).
 */
export type TradingEffect = 'halt' | 'resume' | 'none';

/** Which kind of message it came from: a trading status (halt, pause, resume, ...) or a limit-up/limit-down band. */
export type TradingStatusKind = 'status' | 'luld';

/**
 * One trading-status or limit-up/limit-down message of one symbol, decoded from any provider (Alpaca's
 * `statuses` and `lulds` channels, Polygon's `LULD` events) or read back from a replay's sidecar file.
 * The provider's own codes are kept as sent; `effect` is what they mean for trading.
 */
export interface TradingStatus {
  readonly symbol: string;
  /** When the status took effect, epoch milliseconds (the provider's timestamp). */
  readonly at: number;
  readonly kind: TradingStatusKind;
  readonly effect: TradingEffect;
  /** The provider's status code (Alpaca `sc`, e.g. `H`, `T`, `2`; an LULD indicator; Polygon's indicators joined by commas). */
  readonly code: string;
  /** The provider's text for the code (Alpaca `sm`), or `''`. */
  readonly message: string;
  /** The reason code (Alpaca `rc`, e.g. `T12`, `LUDP`), or `''`. */
  readonly reasonCode: string;
  /** The reason's text (Alpaca `rm`), or `''`. */
  readonly reasonMessage: string;
  /** The upper price band (LULD), when sent. */
  readonly limitUp?: number;
  /** The lower price band (LULD), when sent. */
  readonly limitDown?: number;
  /** The tape (`A`, `B`, `C`, `O`; Polygon's 1, 2, 3 as text), or `''`. */
  readonly tape: string;
  /** When the feed handed it over, on the feed's clock. */
  readonly receivedAt: number;
}

/** `feed.on('tradingStatus', ({ status }) => ...)`: a trading status or band arrived for a subscribed symbol. */
export interface TradingStatusEvent {
  readonly type: 'tradingStatus';
  readonly status: TradingStatus;
}

/** Fields of a trading status as a decoder produces them; the optional text fields default to `''`. */
export interface TradingStatusInit {
  symbol: string;
  at: number;
  kind: TradingStatusKind;
  effect: TradingEffect;
  code: string;
  message?: string | undefined;
  reasonCode?: string | undefined;
  reasonMessage?: string | undefined;
  limitUp?: number | undefined;
  limitDown?: number | undefined;
  tape?: string | undefined;
  receivedAt: number;
}

/** A frozen `TradingStatus` with a fixed property order (so that statuses compare field by field across sources). */
export function makeTradingStatus(init: TradingStatusInit): TradingStatus {
  const s: { -readonly [K in keyof TradingStatus]: TradingStatus[K] } = {
    symbol: init.symbol,
    at: init.at,
    kind: init.kind,
    effect: init.effect,
    code: init.code,
    message: init.message ?? '',
    reasonCode: init.reasonCode ?? '',
    reasonMessage: init.reasonMessage ?? '',
    tape: init.tape ?? '',
    receivedAt: init.receivedAt,
  };
  if (init.limitUp !== undefined && Number.isFinite(init.limitUp)) s.limitUp = init.limitUp;
  if (init.limitDown !== undefined && Number.isFinite(init.limitDown)) s.limitDown = init.limitDown;
  return Object.freeze(s);
}

/** The same status with another `receivedAt`. */
export function statusReceivedAt(status: TradingStatus, receivedAt: number): TradingStatus {
  return makeTradingStatus({ ...status, receivedAt });
}
