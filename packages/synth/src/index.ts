export type { LeveragedSpec, LeveragedOptions } from './leverage.js';
export { leveragedPrice, generateLeveraged, specFromConfig, MIN_PRICE } from './leverage.js';
export { sessionRanges } from './sessions.js';
export { REAL_DATA_HEADER, nyIso, realDataLine, writeRealDataCsv } from './csv-writer.js';
