/**
 * Bar files for feed: the CSV formats, a streaming reader that loses no good line, the writer, time parsing, and a columnar Apache Arrow cache.
 *
 * The guide is the package's README (below); the contract for time, snapshots and replay is
 * `docs/semantics.md`.
 * @document ../README.md
 * @module @feed/csv
 */
export type { CsvFormat } from './formats.js';
export { CSV_COLUMNS, detectCsvFormat } from './formats.js';
export { parseDecimal } from './decimal.js';
export { parseTime, isPlausibleTime, PLAUSIBLE_FROM, PLAUSIBLE_TO } from './time.js';
export { BarColumns } from './columns.js';
export { readLines } from './lines.js';
export type { BadRowReason, ParseReport, ParseOptions } from './reader.js';
export { parseCsv, readBarsFromCsv, openRegularFile, clip } from './reader.js';
export type { FileReport, LoadOptions } from './load.js';
export { loadBars, cacheKey, cacheFileOf, clearCache, defaultCacheDir } from './load.js';
export type { BarStream, BarStreamOptions } from './stream.js';
export { openBarStream } from './stream.js';
export type { ArrowBarMetadata, ArrowBatchIndexEntry } from './arrow.js';
export { ARROW_BATCH_ROWS, encodeArrow, decodeArrow, readArrowFile, isArrowPath, writeAtomically, ARROW_METADATA_KEY } from './arrow.js';
export type { BarFileFormat } from './writer.js';
export { REAL_DATA_HEADER, formatPrice, nyIso, realDataLine, realDataCsv, writeRealDataCsv, writeBarsFile } from './writer.js';
export { barFilePath, fileInside } from './paths.js';
export type { StatusesReport } from './statuses.js';
export { STATUS_COLUMNS, statusFilePath, statusesCsv, writeStatusesCsv, readStatusesCsv, parseStatusesCsv, hasStatusFile } from './statuses.js';
export type { FileHistoryOptions } from './file-history.js';
export { FileHistory } from './file-history.js';
export type { ActionsReport } from './actions.js';
export { ACTION_COLUMNS, FileCorporateActions, actionFilePath, actionsCsv, hasActionFile, parseActionsCsv, readActionsCsv, writeActionsCsv } from './actions.js';
export type { FileBasis } from './basis.js';
export { basisFilePath, checkBases, readBasis, writeBasis } from './basis.js';
