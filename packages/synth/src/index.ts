export type { LeveragedSpec, LeveragedOptions } from './leverage.js';
export { leveragedPrice, generateLeveraged, specFromConfig, MIN_PRICE } from './leverage.js';
export { sessionRanges } from './sessions.js';
export { REAL_DATA_HEADER, nyIso, realDataLine, writeRealDataCsv } from './csv-writer.js';
export type { VolModel, VolEtfOptions } from './vol-model.js';
export { VOL_MODELS, calibrateVolModel, generateVolEtf, correlation, SPY_BASE_VOL } from './vol-model.js';
export { Random } from './random.js';
export type { SimulatedAsset, SimulatorOptions } from './simulator.js';
export { simulateMarket, DEFAULT_ASSETS, volatilityShape, volumeShape } from './simulator.js';
