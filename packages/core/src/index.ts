/**
 * Bars, the BarFeed interface, clocks, errors, symbol configuration and the NYSE calendar shared by every feed package.
 *
 * The guide is the package's README (below); the contract for time, snapshots and replay is
 * `docs/semantics.md`.
 * @document ../README.md
 * @module @feed/core
 */
export type { Bar, BarInit } from './bar.js';
export { MINUTE_MS, barFromValues, isFrozenBar, makeBar, sameBarData, withReceivedAt } from './bar.js';
export type { ParseBarResult } from './bar-schema.js';
export { BarSchema, barSchema, parseBar, safeParseBar } from './bar-schema.js';
export type {
  RejectReason,
  ValidationRules,
  ValidationContext,
  ResolvedValidationRules,
  BarRejection,
} from './validate.js';
export {
  REJECT_REASONS,
  DEFAULT_VALIDATION_RULES,
  resolveValidationRules,
  checkBar,
  passesFast,
  validateBar,
} from './validate.js';
export type { BarFeed, BarSource, FeedState, FeedStats, FeedEvent, BarEvent, ErrorEvent, StateEvent } from './bar-feed.js';
export { FEED_STATES } from './bar-feed.js';
export { AbstractBarFeed } from './abstract-feed.js';
export { ManualBarFeed } from './manual-feed.js';
export type { TypedEvent, Listener, Subscription, Unsubscribe } from './emitter.js';
export { TypedEmitter } from './emitter.js';
export type { Clock, CancelTimer, TickListener, SystemClockOptions } from './clock.js';
export { SystemClock, ManualClock, ReplayClock, sleep, timeoutSignal, yieldToEventLoop } from './clock.js';
export { ReplayPacer } from './replay-pacer.js';
export type { ReplayPacing } from './replay-pacer.js';
export { parseOptions, closestName, configIssues, formatPath, invalidOption } from './options.js';
export type { FeedErrorCode, FeedErrorOptions, FeedErrorInit, ConfigIssue } from './errors.js';
export {
  FeedError,
  BarValidationError,
  ConfigError,
  StateError,
  CsvError,
  ConnectionError,
  HttpError,
  CalendarError,
  redact,
  redactError,
  findSecretPieces,
} from './errors.js';
export type { SymbolConfig, SymbolInfo } from './symbols.js';
export {
  SymbolConfigSchema,
  parseSymbolConfig,
  loadSymbolConfig,
  DEFAULT_SYMBOLS,
  DEFAULT_SYMBOL_CONFIG,
  symbolsOf,
} from './symbols.js';
export type { MarketSession, MarketCalendarOptions } from './calendar.js';
export { MarketCalendar, nyse, NEW_YORK } from './calendar.js';
export type { WallTime } from './time-zone.js';
export { wallTime, zoneOffsetMs, zonedTimeToEpoch, newYorkOffsetMs } from './time-zone.js';
export type { HistoricalBars, HistoryRequest, WarmUpOptions, WarmUpResult, WarmUpEvent, WarmUpCalendar } from './history.js';
export { loadWarmUp, regularMinutesBack, requestTime, warmUpShortError } from './history.js';
export type { TradingStatus, TradingStatusEvent, TradingStatusInit, TradingEffect, TradingStatusKind } from './trading-status.js';
export { makeTradingStatus, statusReceivedAt } from './trading-status.js';
export { MAX_SYMBOL_LENGTH, checkSymbols, isSymbol, quoteSymbol, symbolFileName, symbolProblem, symbolSchema } from './symbol-name.js';
export type { CorporateAction, CorporateActionEvent, CorporateActionKind, CorporateActions, CorporateActionsRequest, Adjustment, AdjustResult, AdjustmentSegment } from './corporate-actions.js';
export { ADJUSTMENTS, CORPORATE_ACTION_KINDS, ExDateTracker, actionKey, actionsDigest, actionsFrom, adjustAll, adjustBars, adjustmentSegments, adjusts, exDateStart, makeCorporateAction, scaleBar } from './corporate-actions.js';
