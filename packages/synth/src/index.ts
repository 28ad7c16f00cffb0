/**
 * Synthetic leveraged-ETF minute bars from SPY and QQQ, and a seeded base-market simulator.
 *
 * The guide is the package's README (below); the contract for time, snapshots and replay is
 * `docs/semantics.md`.
 * @document ../README.md
 * @module @feed/synth
 */
export type { LeveragedSpec, LeveragedOptions } from './leverage.js';
export { leveragedPrice, generateLeveraged, specFromConfig, MIN_PRICE } from './leverage.js';
export { sessionRanges } from './sessions.js';
export type { VolModel, VolEtfOptions } from './vol-model.js';
export { VOL_MODELS, calibrateVolModel, generateVolEtf, correlation, SPY_BASE_VOL } from './vol-model.js';
export { Random } from './random.js';
export type { SimulatedAsset, SimulatorOptions } from './simulator.js';
export { simulateMarket, DEFAULT_ASSETS, volatilityShape, volumeShape } from './simulator.js';
export type { GenerateOptions, GeneratedFile, SyntheticSplit } from './generate.js';
export { generateFiles, applySplits, DEFAULT_START_PRICES, DEFAULT_NO_TRADE_CHANCE, thinTrading } from './generate.js';
