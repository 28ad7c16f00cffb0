export type { LeveragedSpec, LeveragedOptions } from './leverage.js';
export { leveragedPrice, generateLeveraged, specFromConfig, MIN_PRICE } from './leverage.js';
export { sessionRanges } from './sessions.js';
// The real-data CSV writer lives with the reader in @feed/mock; re-exported for existing users.
export { REAL_DATA_HEADER, formatPrice, nyIso, realDataLine, realDataCsv, writeRealDataCsv } from '@feed/mock';
export type { VolModel, VolEtfOptions } from './vol-model.js';
export { VOL_MODELS, calibrateVolModel, generateVolEtf, correlation, SPY_BASE_VOL } from './vol-model.js';
export { Random } from './random.js';
export type { SimulatedAsset, SimulatorOptions } from './simulator.js';
export { simulateMarket, DEFAULT_ASSETS, volatilityShape, volumeShape } from './simulator.js';
export type { GenerateOptions, GeneratedFile } from './generate.js';
export { generateFiles, DEFAULT_START_PRICES, DEFAULT_NO_TRADE_CHANCE, thinTrading } from './generate.js';
