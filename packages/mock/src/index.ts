export { MockMultiSymbolFeed } from './mock-feed.js';
export type {
  MockFeedOptions,
  MockFeedEvent,
  MockFeedStats,
  ProgressEvent,
  CompleteEvent,
  LoadedEvent,
  DateFilter,
} from './mock-feed.js';
export type { FileReport, BadRowReason } from './csv-loader.js';
export { loadCsv, readBarsFromCsv } from './csv-loader.js';
export type { ReadBarsOptions } from './csv-loader.js';
export type { CsvFormat } from './csv-format.js';
export { CSV_COLUMNS, detectCsvFormat } from './csv-format.js';
export { parseTime } from './parse-time.js';
export { REAL_DATA_HEADER, formatPrice, nyIso, realDataLine, realDataCsv, writeRealDataCsv } from './csv-writer.js';
