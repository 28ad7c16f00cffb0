import { open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CsvError } from '@feed/core';
import type { Table, Vector } from 'apache-arrow';
import { arrowLibrary } from './arrow-library.js';
import { BarColumns } from './columns.js';

/** Arrow's time units (0 s, 1 ms, 2 us, 3 ns) in milliseconds. */
/** Milliseconds per unit of an Arrow timestamp (`TimeUnit`: seconds, ms, us, ns). */
export const UNIT_TO_MS: Record<number, number> = { 0: 1000, 1: 1, 2: 1e-3, 3: 1e-6 };

/**
 * Writes `n` 64-bit integers, given as little-endian 32-bit halves, into `out` from `at` as numbers
 * times `unit`: no BigInt a row (~15x faster), exact below 2^53 (epoch ms, us and ns of any real date).
 */
export function int64HalvesTo(halves: Int32Array, n: number, unit: number, out: Float64Array, at: number): void {
  for (let k = 0; k < n; k++) out[at + k] = ((halves[2 * k + 1] as number) * 4_294_967_296 + ((halves[2 * k] as number) >>> 0)) * unit;
}

/** The schema-metadata key under which feed keeps what it knows of a file (symbol, interval, report). */
export const ARROW_METADATA_KEY = 'feed';

/** What an Arrow bar file carries besides its columns. */
export interface ArrowBarMetadata {
  /** The layout's version: a reader refuses a newer one. */
  readonly version: 1;
  readonly symbol?: string;
  readonly intervalMs?: number;
  /** For a cache file: the source and the report of its parse. */
  readonly [key: string]: unknown;
}

/** Whether a path names an Arrow IPC file (by its ending). */
export function isArrowPath(path: string): boolean {
  return /\.(arrow|feather|ipc)$/i.test(path);
}

/** Rows per record batch of the Arrow files feed writes: the unit a streaming replay reads and holds. */
export const ARROW_BATCH_ROWS = 2048;

/**
 * One record batch of a bar file, as feed's metadata lists it: its rows and its first and last
 * start (epoch ms). A streaming replay finds a date range's batches from it without reading bars.
 */
export type ArrowBatchIndexEntry = readonly [rows: number, first: number, last: number];

/**
 * Bars as an Arrow IPC file (the "file" format, readable by pandas `pyarrow.feather`, polars
 * `read_ipc`, DuckDB): `start` as a UTC millisecond timestamp, then `open`, `high`, `low`, `close`,
 * `volume` as doubles, and `vwap` and `trade_count` (nullable) when any bar has them. The rows are
 * written in record batches of `batchRows` (default `ARROW_BATCH_ROWS`), listed in the metadata
 * (`batches`: rows, first and last start of each), so that a replay reads one batch at a time.
 */
export function encodeArrow(bars: BarColumns, metadata: ArrowBarMetadata, options: { startAs?: 'timestamp' | 'float64'; batchRows?: number } = {}): Uint8Array {
  const { Float64, RecordBatch, Schema, Table, TimestampMillisecond, makeVector, tableToIPC, vectorFromArray } = arrowLibrary('writing an Arrow file');
  const total = bars.length;
  const per = Math.max(1, Math.floor(options.batchRows ?? ARROW_BATCH_ROWS));
  const batchTable = (from: number, to: number): InstanceType<typeof Table> => {
    const n = to - from;
    const sub = (a: Float64Array): Float64Array => a.subarray(from, to);
    let startVector: Vector;
    if (options.startAs === 'float64') {
      // The cache's layout: epoch ms as doubles, read back without a copy.
      startVector = makeVector(sub(bars.start));
    } else {
      const start = new BigInt64Array(n);
      for (let i = 0; i < n; i++) start[i] = BigInt(bars.start[from + i] as number);
      startVector = makeVector({ type: new TimestampMillisecond('UTC'), data: start });
    }
    const columns: Record<string, Vector> = {
      start: startVector,
      open: makeVector(sub(bars.open)),
      high: makeVector(sub(bars.high)),
      low: makeVector(sub(bars.low)),
      close: makeVector(sub(bars.close)),
      volume: makeVector(sub(bars.volume)),
    };
    if (bars.vwap !== undefined) {
      const v = bars.vwap;
      columns.vwap = vectorFromArray(Array.from({ length: n }, (_, i) => (Number.isNaN(v[from + i]) ? null : (v[from + i] as number))), new Float64());
    }
    if (bars.trades !== undefined) {
      const t = bars.trades;
      columns.trade_count = vectorFromArray(Array.from({ length: n }, (_, i) => ((t[from + i] as number) < 0 ? null : (t[from + i] as number))), new Float64());
    }
    return new Table(columns);
  };
  const tables: InstanceType<typeof Table>[] = [];
  const index: ArrowBatchIndexEntry[] = [];
  for (let from = 0; from < total || (total === 0 && tables.length === 0); from += per) {
    const to = Math.min(total, from + per);
    tables.push(batchTable(from, to));
    if (to > from) index.push([to - from, bars.start[from] as number, bars.start[to - 1] as number]);
  }
  const first = tables[0] as InstanceType<typeof Table>;
  const schema = new Schema(first.schema.fields, new Map([[ARROW_METADATA_KEY, JSON.stringify({ ...metadata, batches: index })]]));
  const batches = tables.flatMap((t) => t.batches).filter((b) => b.numRows > 0 || total === 0);
  return tableToIPC(new Table(schema, batches.map((b) => new RecordBatch(schema, b.data))), 'file');
}

/** Whatever holds columns by name: a table or one record batch. */
interface Columnar {
  getChild(name: string): Vector | null;
}

/** One column as a single Float64Array (copied only when the file split it into several batches). */
function doubles(table: Columnar, name: string, file: string, required: boolean): Float64Array | undefined {
  const col = table.getChild(name);
  if (col === null) {
    if (!required) return undefined;
    throw new CsvError({ code: 'csv_column', message: `Arrow file has no '${name}' column`, file, column: name });
  }
  if (String(col.type) !== 'Float64') throw new CsvError({ code: 'csv_column', message: `Arrow column '${name}' is ${String(col.type)}, not Float64`, file, column: name });
  if (col.nullCount > 0) {
    const out = new Float64Array(col.length);
    const absent = name === 'trade_count' ? -1 : Number.NaN;
    for (let i = 0; i < col.length; i++) out[i] = col.isValid(i) ? (col.get(i) as number) : absent;
    return out;
  }
  if (col.data.length === 1) return (col.data[0] as { values: Float64Array }).values.subarray(0, col.length);
  return col.toArray() as Float64Array;
}

/** The bar columns of a table or of one record batch (doubles read without a copy where they can be). */
export function columnsOf(table: Columnar, n: number, file: string): BarColumns {
  const { DataType } = arrowLibrary(`reading ${file}`);
  const startCol = table.getChild('start') ?? table.getChild('timestamp') ?? table.getChild('t');
  if (startCol === null) throw new CsvError({ code: 'csv_column', message: "Arrow file has no 'start' column", file, column: 'start' });
  // The cache's layout (one chunk of doubles) is read without a copy; timestamps are converted.
  const zeroCopy = String(startCol.type) === 'Float64' && startCol.data.length === 1 && startCol.nullCount === 0;
  const start = zeroCopy ? (startCol.data[0] as { values: Float64Array }).values.subarray(0, n) : new Float64Array(n);
  if (!zeroCopy) {
    let i = 0;
    for (const chunk of startCol.data) {
      const values = (chunk as { values: ArrayLike<number | bigint> }).values;
      // A timestamp in any unit becomes epoch ms; a plain number column is taken as epoch ms.
      const unit = DataType.isTimestamp(chunk.type) ? (UNIT_TO_MS[chunk.type.unit] ?? 1) : 1;
      if (values instanceof BigInt64Array) {
        int64HalvesTo(new Int32Array(values.buffer, values.byteOffset, chunk.length * 2), chunk.length, unit, start, i);
        i += chunk.length;
      } else for (let k = 0; k < chunk.length; k++) start[i++] = Number(values[k]) * unit;
    }
  }
  const bars = BarColumns.of({
    start,
    open: doubles(table, 'open', file, true) as Float64Array,
    high: doubles(table, 'high', file, true) as Float64Array,
    low: doubles(table, 'low', file, true) as Float64Array,
    close: doubles(table, 'close', file, true) as Float64Array,
    volume: doubles(table, 'volume', file, true) as Float64Array,
    vwap: doubles(table, 'vwap', file, false),
    trades: doubles(table, 'trade_count', file, false),
  });
  return bars;
}

/** Reads bars back from Arrow IPC bytes; the metadata is feed's, if the file has it. */
export function decodeArrow(bytes: Uint8Array, file: string): { bars: BarColumns; metadata: Record<string, unknown> | undefined } {
  const { tableFromIPC } = arrowLibrary(`reading ${file}`);
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (error) {
    throw new CsvError({ code: 'csv_file', message: `not a readable Arrow IPC file: ${(error as Error).message}`, file, cause: error });
  }
  const bars = columnsOf(table, table.numRows, file);
  const raw = table.schema.metadata.get(ARROW_METADATA_KEY);
  let metadata: Record<string, unknown> | undefined;
  if (raw !== undefined) {
    try {
      metadata = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      metadata = undefined;
    }
  }
  return { bars, metadata };
}

/** Reads an Arrow IPC bar file (see `decodeArrow`). */
export async function readArrowFile(file: string): Promise<{ bars: BarColumns; metadata: Record<string, unknown> | undefined }> {
  arrowLibrary(`reading ${file}`); // said before the file is read
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new CsvError({ code: 'csv_file', message: `cannot read: ${(error as Error).message}`, file, cause: error });
  }
  return decodeArrow(bytes, file);
}

/**
 * Writes `bytes` to `path` through a temporary file and a rename: a reader never sees half a file.
 * A failure is a `CsvError` (`csv_file`) naming `path` and why (a missing folder, no permission),
 * never the temporary name.
 */
export async function writeAtomically(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(tmp, bytes);
    // Flush before the rename, so a crash cannot leave the new name on empty blocks.
    const h = await open(tmp, 'r');
    await h.sync();
    await h.close();
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? `its folder ${dirname(path)} does not exist`
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a folder'
            : code === 'ENOSPC'
              ? 'no space left on the device'
              : (error as Error).message.split(tmp).join(path);
    throw new CsvError({ code: 'csv_file', message: `cannot write: ${why}`, file: path, cause: error, detail: { errno: code } });
  }
}
