import type { FileHandle } from 'node:fs/promises';
import { readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { CsvError } from '@feed/core';
import type { AsyncRecordBatchFileReader } from 'apache-arrow';
import type { ArrowBatchIndexEntry } from './arrow.js';
import { ARROW_METADATA_KEY, columnsOf, isArrowPath } from './arrow.js';
import { arrowLibrary, hasArrowLibrary } from './arrow-library.js';
import type { FastLayout } from './batch-decode.js';
import { decodeBatchFast, fastLayoutOf } from './batch-decode.js';
import { BarColumns } from './columns.js';
import type { FileReport, LoadOptions } from './load.js';
import { cacheFileOf, loadBars, restoreReport } from './load.js';

/**
 * One symbol's bars in time order, a chunk at a time (`openBarStream`): what a replay reads so that
 * the bars it holds are bounded by chunks x symbols, not by the range.
 */
export interface BarStream {
  readonly symbol: string;
  /** The file named by the caller (a CSV's chunks come from its Arrow cache file). */
  readonly file: string;
  /** What the file holds: rows, bad rows (file and line), where the bars come from. `loaded` is the rows in the range. */
  readonly report: FileReport;
  /** Rows in the range. */
  readonly length: number;
  /** The first and the last start in the range (undefined when it holds none). */
  readonly first: number | undefined;
  readonly last: number | undefined;
  /** `batches`: read one Arrow record batch at a time; `memory`: loaded whole (a CSV without the cache, an adjusted Arrow input). */
  readonly mode: 'batches' | 'memory';
  /** The next chunk of rows in the range (never empty), or undefined at the end. One call at a time. */
  next(): Promise<BarColumns | undefined>;
  /** From the first chunk again. */
  rewind(): void;
  /** Releases the file. */
  close(): Promise<void>;
}

/** Options of `openBarStream`. */
export interface BarStreamOptions extends LoadOptions {
  /**
   * Stream: `true` reads Arrow data (a `.arrow` file, or a CSV's cache file) one record batch at a
   * time; `false` loads each file whole (as `loadBars`) and hands it over as one chunk.
   * @default true
   */
  readonly stream?: boolean;
}

/** The end-of-stream marker of the Arrow IPC stream format. */
const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
const EMPTY = new BarColumns(1);

/** A stream over columns already in memory: one chunk. */
class MemoryStream implements BarStream {
  readonly mode = 'memory';
  readonly length: number;
  readonly first: number | undefined;
  readonly last: number | undefined;
  #done = false;
  #bars: BarColumns;

  constructor(
    readonly symbol: string,
    readonly file: string,
    bars: BarColumns,
    readonly report: FileReport,
  ) {
    this.#bars = bars;
    this.length = bars.length;
    this.first = bars.length > 0 ? (bars.start[0]) : undefined;
    this.last = bars.length > 0 ? (bars.start[bars.length - 1]) : undefined;
  }

  next(): Promise<BarColumns | undefined> {
    if (this.#done || this.#bars.length === 0) return Promise.resolve(undefined);
    this.#done = true;
    return Promise.resolve(this.#bars);
  }

  rewind(): void {
    this.#done = false;
  }

  close(): Promise<void> {
    this.#done = true;
    return Promise.resolve();
  }
}

function validIndex(value: unknown, batches: number): readonly ArrowBatchIndexEntry[] | undefined {
  if (!Array.isArray(value) || value.length !== batches) return undefined;
  for (const e of value) {
    if (!Array.isArray(e) || e.length !== 3 || !e.every((x) => typeof x === 'number' && Number.isFinite(x))) return undefined;
  }
  return value as readonly ArrowBatchIndexEntry[];
}

/** An Arrow IPC file read one record batch at a time, through its batch index (feed's metadata, or built at open). */
class ArrowBatchStream implements BarStream {
  readonly mode = 'batches';
  length = 0;
  first: number | undefined;
  last: number | undefined;
  report!: FileReport;
  /** Batches [lo, hi) hold the range. */
  #lo = 0;
  #hi = 0;
  #next = 0;
  /** The last start handed over, for the order check across batches. */
  #prev = Number.NEGATIVE_INFINITY;
  /** Rows of the file before batch `#next` (for the row numbers of errors). */
  #rowsBefore: number[] = [];
  #closed = false;
  /** The schema as an IPC stream message, put before each batch's message to decode it alone. */
  #schemaMessage: Uint8Array | undefined;
  /** How the fast path reads this file's batches: null until known, undefined when it cannot. */
  #fast: FastLayout | undefined | null = null;
  /** The open file (closed once the range is read, opened again by a rewind). */
  private handle: FileHandle | undefined;
  private reader: AsyncRecordBatchFileReader | undefined;

  private constructor(
    readonly symbol: string,
    readonly file: string,
    private readonly path: string,
    handle: FileHandle,
    reader: AsyncRecordBatchFileReader,
    private readonly from: number,
    private readonly to: number,
  ) {
    this.handle = handle;
    this.reader = reader;
  }

  /** Opens the file for reading by batches; undefined for the Arrow stream format (no footer, no random access). */
  static async reader(path: string): Promise<{ handle: FileHandle; reader: AsyncRecordBatchFileReader } | undefined> {
    const { RecordBatchReader } = arrowLibrary(`reading ${path}`);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw new CsvError({ code: 'csv_file', message: `cannot read: ${(error as Error).message}`, file: path, cause: error });
    }
    try {
      const reader = (await RecordBatchReader.from(handle)) as unknown as AsyncRecordBatchFileReader;
      await reader.open();
      if (!reader.isFile()) {
        await handle.close();
        return undefined;
      }
      return { handle, reader };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw new CsvError({ code: 'csv_file', message: `not a readable Arrow IPC file: ${(error as Error).message}`, file: path, cause: error });
    }
  }

  static async open(symbol: string, file: string, path: string, from: number, to: number): Promise<{ stream: ArrowBatchStream; metadata: Record<string, unknown> | undefined } | undefined> {
    // The Arrow stream format (no footer, no random access) is loaded whole by the caller.
    const opened = await ArrowBatchStream.reader(path);
    if (opened === undefined) return undefined;
    const { handle, reader } = opened;
    try {
      const s = new ArrowBatchStream(symbol, file, path, handle, reader, from, to);
      const raw = reader.schema.metadata.get(ARROW_METADATA_KEY);
      let metadata: Record<string, unknown> | undefined;
      try {
        metadata = raw === undefined ? undefined : (JSON.parse(raw) as Record<string, unknown>);
      } catch {
        metadata = undefined;
      }
      await s.#index(validIndex(metadata?.batches, reader.numRecordBatches));
      return { stream: s, metadata };
    } catch (error) {
      await handle.close().catch(() => undefined);
      if (CsvError.isInstance(error)) throw error;
      throw new CsvError({ code: 'csv_file', message: `not a readable Arrow IPC file: ${(error as Error).message}`, file: path, cause: error });
    }
  }

  async #read(i: number): Promise<BarColumns> {
    if (this.reader === undefined || this.handle === undefined) {
      const opened = await ArrowBatchStream.reader(this.path);
      if (opened === undefined) throw new CsvError({ code: 'csv_file', message: 'no longer an Arrow IPC file with a footer', file: this.path });
      this.handle = opened.handle;
      this.reader = opened.reader;
    }
    const block = this.reader.footer?.getRecordBatch(i) ?? null;
    if (block === null) throw new CsvError({ code: 'csv_file', message: `Arrow record batch ${i} cannot be read`, file: this.path });
    if (this.#fast === null) this.#fast = fastLayoutOf(this.reader.schema, `reading ${this.path}`);
    if (this.#fast !== undefined) {
      // The batch's message alone, decoded without building tables (`batch-decode.ts`); a batch
      // the fast path does not read is read again below, the general way.
      const message = new Uint8Array(Number(block.metaDataLength) + Number(block.bodyLength));
      this.#readAt(message, 0, message.length, Number(block.offset), i);
      let fast: BarColumns | undefined;
      try {
        fast = decodeBatchFast(this.#fast, message, Number(block.metaDataLength), `reading ${this.path}`);
      } catch {
        fast = undefined;
      }
      if (fast !== undefined) return fast;
    }
    // The batch's message (metadata and body) in one read, behind the schema's message: a stream of one
    // batch, decoded at once (Arrow's own file reader makes three reads a batch, each a trip to the
    // thread pool).
    const { tableFromIPC, tableToIPC, Table } = arrowLibrary(`reading ${this.path}`);
    this.#schemaMessage ??= (() => {
      const bytes = tableToIPC(new Table((this.reader).schema), 'stream');
      return bytes.subarray(0, bytes.length - EOS.length);
    })();
    const head = this.#schemaMessage;
    const length = Number(block.metaDataLength) + Number(block.bodyLength);
    // A buffer of its own per batch (the chunk's columns are views of it): a stream of 5 000
    // symbols keeps no buffer per symbol between batches.
    const buffer = new Uint8Array(head.length + length + EOS.length);
    buffer.set(head, 0);
    // A synchronous read: one batch is ~100 KB, read from the page cache in ~10 us, where an
    // asynchronous one waits ~80 us for the thread pool (measured on this project's 2-core VMs) and a
    // replay of 500 symbols reads 25 000 batches a year. The replay reads ahead, so a slower disk
    // delays one read, not every bar.
    this.#readAt(buffer, head.length, length, Number(block.offset), i);
    buffer.set(EOS, head.length + length);
    let batch;
    try {
      batch = tableFromIPC(buffer).batches.find((b) => b.numRows > 0);
    } catch (error) {
      throw new CsvError({ code: 'csv_file', message: `Arrow record batch ${i} cannot be read: ${(error as Error).message}`, file: this.path, cause: error });
    }
    return batch === undefined ? EMPTY : columnsOf(batch, batch.numRows, this.path);
  }

  /** Reads `length` bytes of the file at `position` into `buffer` at `at` (record batch `i`'s). */
  #readAt(buffer: Uint8Array, at: number, length: number, position: number, i: number): void {
    const fd = (this.handle as FileHandle).fd;
    let got = 0;
    while (got < length) {
      let bytesRead: number;
      try {
        bytesRead = readSync(fd, buffer, at + got, length - got, position + got);
      } catch (error) {
        throw new CsvError({ code: 'csv_file', message: `cannot read Arrow record batch ${i}: ${(error as Error).message}`, file: this.path, cause: error });
      }
      if (bytesRead === 0) throw new CsvError({ code: 'csv_file', message: `Arrow record batch ${i} is cut short (the file changed under the replay?)`, file: this.path });
      got += bytesRead;
    }
  }

  /** Finds the batches of the range and counts its rows: only the batches at its two ends are read. */
  async #index(stored: readonly ArrowBatchIndexEntry[] | undefined): Promise<void> {
    const n = (this.reader as AsyncRecordBatchFileReader).numRecordBatches;
    let index = stored;
    if (index === undefined) {
      // A file feed did not write: every batch is read once (one at a time) to list it.
      const built: ArrowBatchIndexEntry[] = [];
      let rows = 0;
      for (let i = 0; i < n; i++) {
        const b = await this.#read(i);
        this.#checkOrder(b, rows, i === 0 ? Number.NEGATIVE_INFINITY : (built[i - 1]?.[2] ?? Number.NEGATIVE_INFINITY));
        built.push(b.length === 0 ? [0, Number.NaN, Number.NaN] : [b.length, b.start[0] as number, b.start[b.length - 1] as number]);
        rows += b.length;
      }
      index = built;
    }
    let rows = 0;
    let prevLast = Number.NEGATIVE_INFINITY;
    this.#rowsBefore = [];
    for (const [count, first, last] of index) {
      this.#rowsBefore.push(rows);
      if (count > 0) {
        if (!(first > prevLast) || last < first) {
          throw new CsvError({ code: 'csv_row', message: `Arrow rows are not in increasing time order at row ${rows}`, file: this.path, line: rows + 1 });
        }
        prevLast = last;
      }
      rows += count;
    }
    this.#rowsBefore.push(rows);
    let lo = 0;
    while (lo < n && ((index[lo] as ArrowBatchIndexEntry)[0] === 0 || (index[lo] as ArrowBatchIndexEntry)[2] < this.from)) lo++;
    let hi = lo;
    while (hi < n && !((index[hi] as ArrowBatchIndexEntry)[0] > 0 && (index[hi] as ArrowBatchIndexEntry)[1] >= this.to)) hi++;
    this.#lo = lo;
    this.#hi = hi;
    this.#next = lo;
    let length = 0;
    for (let i = lo; i < hi; i++) {
      const [count, first, last] = index[i] as ArrowBatchIndexEntry;
      if (count === 0) continue;
      let inFirst = first;
      let inLast = last;
      let inCount = count;
      if (first < this.from || last >= this.to) {
        const b = this.#cut(await this.#read(i));
        inCount = b.length;
        if (inCount === 0) continue;
        inFirst = b.start[0] as number;
        inLast = b.start[inCount - 1] as number;
      }
      this.first ??= inFirst;
      this.last = inLast;
      length += inCount;
    }
    this.length = length;
    this.report = { symbol: this.symbol, file: this.file, format: 'arrow', rows, badRows: 0, badByReason: {}, errors: [], loaded: length, filtered: rows - length, source: 'arrow' };
  }

  #cut(b: BarColumns): BarColumns {
    const lo = this.from === Number.NEGATIVE_INFINITY ? 0 : b.lowerBound(this.from);
    const hi = this.to === Number.POSITIVE_INFINITY ? b.length : b.lowerBound(this.to);
    return lo === 0 && hi === b.length ? b : b.slice(lo, Math.max(lo, hi));
  }

  #checkOrder(b: BarColumns, rowsBefore: number, prev: number): void {
    let last = prev;
    for (let k = 0; k < b.length; k++) {
      const t = b.start[k] as number;
      if (!(t > last)) throw new CsvError({ code: 'csv_row', message: `Arrow rows are not in increasing time order at row ${rowsBefore + k}`, file: this.path, line: rowsBefore + k + 1 });
      last = t;
    }
  }

  async next(): Promise<BarColumns | undefined> {
    while (!this.#closed && this.#next < this.#hi) {
      const i = this.#next++;
      const b = await this.#read(i);
      // Validated as read: a batch out of order (a file changed or written by another tool) is an error, never a silent reorder.
      this.#checkOrder(b, this.#rowsBefore[i] ?? 0, this.#prev);
      const kept = this.#cut(b);
      if (kept.length === 0) continue;
      this.#prev = kept.start[kept.length - 1] as number;
      return kept;
    }
    // The range is read: the file is let go until a rewind (a replay of many symbols keeps few open).
    await this.#release();
    return undefined;
  }

  async #release(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    this.reader = undefined;
    await h?.close().catch(() => undefined);
  }

  rewind(): void {
    this.#next = this.#lo;
    this.#prev = Number.NEGATIVE_INFINITY;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#release();
  }
}

/**
 * Opens one symbol's bars for a streaming replay: an Arrow file (or a CSV's Arrow cache file, built
 * first when missing: the CSV is parsed once, whole, one file at a time) is read one record batch at
 * a time, only the batches of the range; the row count, first and last bar of the range are known
 * at once from the batch index in feed's metadata (files of other tools are read once to list
 * their batches). Without the cache (`cache: false`, `open`, no `apache-arrow`), and for an Arrow
 * input adjusted as of a date, the file is loaded whole (`mode: 'memory'`). Bad rows are in
 * `report`, with their file and line, as `loadBars` gives them.
 */
export async function openBarStream(symbol: string, file: string, options: BarStreamOptions = {}): Promise<BarStream> {
  const from = options.from ?? Number.NEGATIVE_INFINITY;
  const to = options.to ?? Number.POSITIVE_INFINITY;
  const adjusting = options.adjust !== undefined && options.adjust.adjustment !== 'raw';
  const memory = async (): Promise<BarStream> => {
    const { bars, report } = await loadBars(symbol, file, options);
    return new MemoryStream(symbol, file, bars, report);
  };
  if (options.stream === false || !hasArrowLibrary()) return memory();
  if (isArrowPath(file)) {
    if (adjusting) return memory();
    const opened = await ArrowBatchStream.open(symbol, file, file, from, to);
    return opened === undefined ? memory() : opened.stream;
  }
  if (options.open !== undefined || options.cache === false) return memory();
  // A CSV: its cache file (raw, or adjusted as of the date) is found or built, then read by batches.
  const cached = await cacheFileOf(symbol, file, options);
  if (cached !== undefined) {
    const opened = await ArrowBatchStream.open(symbol, file, cached.path, from, to).catch(() => undefined);
    const digest = cached.report.adjusted?.actionsDigest;
    const meta = opened?.metadata;
    // A cache file whose metadata does not say what it should (another version, a write cut short) is built again.
    if (opened !== undefined && meta !== undefined && (adjusting ? meta.actionsDigest === digest : meta.report !== undefined)) {
      const s = opened.stream;
      const stored = meta.report as Record<string, unknown> | undefined;
      const base = stored === undefined ? cached.report : { ...cached.report, ...restoreReport(symbol, file, stored) };
      s.report = { ...base, loaded: s.length, filtered: base.rows - base.badRows - s.length };
      if (options.onBadRow === 'fail' && base.errors[0] !== undefined) {
        await s.close();
        throw base.errors[0];
      }
      return s;
    }
    await opened?.stream.close();
  }
  // Parsed (and adjusted) once, whole, and written to the cache; then read back by batches.
  const { from: _from, to: _to, ...whole } = options;
  const built = await loadBars(symbol, file, whole);
  const report = built.report;
  const path = adjusting ? report.adjusted?.cacheFile : report.cacheFile;
  const opened = path === undefined || report.cacheError !== undefined ? undefined : await ArrowBatchStream.open(symbol, file, path, from, to).catch(() => undefined);
  if (opened === undefined) {
    // The cache could not be written: the columns just parsed are replayed from memory.
    const lo = from === Number.NEGATIVE_INFINITY ? 0 : built.bars.lowerBound(from);
    const hi = to === Number.POSITIVE_INFINITY ? built.bars.length : built.bars.lowerBound(to);
    const kept = built.bars.slice(lo, Math.max(lo, hi));
    return new MemoryStream(symbol, file, kept, { ...report, loaded: kept.length, filtered: built.bars.length - kept.length });
  }
  const s = opened.stream;
  s.report = { ...report, loaded: s.length, filtered: built.bars.length - s.length };
  return s;
}
