export type { CsvFormat } from './csv-format.js';
export { CSV_COLUMNS, detectCsvFormat } from './csv-format.js';
