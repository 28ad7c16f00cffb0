export { MultiSymbolDataManager } from './data-manager.js';
export type { DataManagerOptions, MarketHours, ResolvedOptions } from './options.js';
export { ALWAYS_OPEN } from './options.js';
export { stalenessWeight, DEFAULT_STALENESS_TAU_MS } from './staleness.js';
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
  ListenerErrorEvent,
  DataManagerEvent,
} from './types.js';
