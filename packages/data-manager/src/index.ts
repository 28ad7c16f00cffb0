/**
 * Multi-symbol market-data manager: latest snapshot with staleness weighting, forward fill, history rings, validation and per-minute slices.
 *
 * The guide is the package's README (below); the contract for time, snapshots and replay is
 * `docs/semantics.md`.
 * @document ../README.md
 * @module @feed/data-manager
 */
export { MultiSymbolDataManager } from './data-manager.js';
export type { DataManagerOptions, MarketHours, ResolvedOptions } from './options.js';
export { ALWAYS_OPEN } from './options.js';
export { stalenessWeight, DEFAULT_STALENESS_TAU_MS } from './staleness.js';
export { MinuteBarAggregator } from './minute-bars.js';
export { SessionEvents } from './session-events.js';
export type { SessionEvent, SessionEventsOptions, SessionEventCalendar } from './session-events.js';
export type { MinutesBar, MinutesBarEvent, MinuteBarOptions, SessionCalendar } from './minute-bars.js';
export type {
  ForwardFilledBar,
  SymbolSnapshot,
  Snapshot,
  UpdateResult,
  UpdateSummary,
  SymbolQuality,
  QualityStats,
  SliceEvent,
  RejectEvent,
  RevisionEvent,
  ListenerErrorEvent,
  DataManagerEvent,
  HaltEvent,
  ManagerTradingStatusEvent,
  ManagerWarmUpEvent,
  ManagerCorporateActionEvent,
} from './types.js';
export type { SessionCoverage, ReconcileReport, CoverageCalendar } from './coverage.js';
export { EndOfDayReconciler } from './reconciler.js';
export type { EndOfDayOptions, EndOfDayEvent } from './reconciler.js';
