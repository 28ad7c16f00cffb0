import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FeedErrorCode } from '@feed/core';
import { FeedError, invalidOption } from '@feed/core';
import type { MockFeedOptions } from './mock-feed.js';

/**
 * The merge thread of a replay (`thread: true`, or `'auto'` where it pays): a worker reads, stages
 * and merges the files by time (the same `MockMultiSymbolFeed` code, at speed 0, writing rows instead
 * of making bars) into a ring of rows in shared memory; the replay thread turns the rows into bars
 * and hands them over. The ring: `ROW_WIDTH` numbers a row (symbol index, start with the loop's
 * shift, open, high, low, close, volume, vwap or NaN, trades or -1); a row with symbol index -1 ends
 * a pass. The writer publishes whole steps only (one start's rows, or one row without
 * `syncTimestamps`), so a step the replay thread reads is always complete, and it waits for room for
 * a whole step before writing one.
 */
export const ROW_WIDTH = 9;
const WRITE = 0;
const READ = 1;
const WAITING = 2;
const HELD = 3;
const PEAK = 4;
const CONTROL_SLOTS = 5;
/** Rows written before the writer publishes (and wakes the reader): fewer wake-ups than one a step. */
const PUBLISH_ROWS = 1024;

/** Where the merge thread's feed writes a step's rows instead of making bars (`attachRowSink`). */
export interface RowSink {
  /** Symbol `i`'s row at `k` of `rows` (the staged row layout), its start moved by `shift`. */
  row(i: number, rows: Float64Array, k: number, shift: number): void;
  /** A step's rows are written; `held`/`peakHeld`: the bars the merge holds now and at most. */
  endStep(held: number, peakHeld: number): void;
}

/** The options the merge thread's feed is built with: the replay's, as data (no function crosses threads). */
export type MergeOptions = Pick<
  MockFeedOptions,
  'files' | 'dates' | 'intervalMs' | 'onBadRow' | 'maxReportedErrors' | 'cache' | 'stream' | 'syncTimestamps' | 'loop' | 'corporateActions' | 'adjustment' | 'asOf'
>;

/** What the worker is started with. */
export interface MergeInit {
  readonly options: MergeOptions;
  readonly ring: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
  readonly capacity: number;
  /** Rows a step may write, and the pass-end row: the room the writer waits for. */
  readonly stepRows: number;
}

/** Messages from the merge thread. */
export type MergeMessage = { readonly type: 'ready' } | { readonly type: 'error'; readonly code: FeedErrorCode; readonly message: string } | { readonly type: 'failed'; readonly code: FeedErrorCode; readonly message: string };

/** The ring's capacity in rows: a power of two, at least four steps of every symbol. */
function ringCapacity(symbols: number): number {
  let c = 1 << 16;
  while (c < 4 * (symbols + 1)) c *= 2;
  return c;
}

/** `Atomics.waitAsync` (Node 16+; typed from ES2024, after this project's `lib`). */
const waitAsync = (Atomics as unknown as { waitAsync: (a: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string } }).waitAsync;

/** The writer's side (in the merge thread). */
export class RingWriter implements RowSink {
  private readonly rows: Float64Array;
  private readonly control: Int32Array;
  private readonly mask: number;
  private w = 0;
  private published = 0;

  constructor(private readonly init: MergeInit) {
    this.rows = new Float64Array(init.ring);
    this.control = new Int32Array(init.control);
    this.mask = init.capacity - 1;
  }

  row(i: number, rows: Float64Array, k: number, shift: number): void {
    const g = this.rows;
    const at = (this.w & this.mask) * ROW_WIDTH;
    g[at] = i;
    g[at + 1] = (rows[k] as number) + shift;
    g[at + 2] = rows[k + 1] as number;
    g[at + 3] = rows[k + 2] as number;
    g[at + 4] = rows[k + 3] as number;
    g[at + 5] = rows[k + 4] as number;
    g[at + 6] = rows[k + 5] as number;
    g[at + 7] = rows[k + 6] as number;
    g[at + 8] = rows[k + 7] as number;
    this.w = (this.w + 1) | 0;
  }

  endStep(held: number, peakHeld: number): void {
    Atomics.store(this.control, HELD, held);
    Atomics.store(this.control, PEAK, peakHeld);
    if (((this.w - this.published) | 0) >= PUBLISH_ROWS) this.publish();
    this.makeRoom();
  }

  /** The end of a pass: a row of symbol -1, published at once; `held`/`peakHeld` as in `endStep`. */
  endPass(held: number, peakHeld: number): void {
    Atomics.store(this.control, HELD, held);
    Atomics.store(this.control, PEAK, peakHeld);
    const at = (this.w & this.mask) * ROW_WIDTH;
    this.rows[at] = -1;
    this.w = (this.w + 1) | 0;
    this.publish();
    this.makeRoom();
  }

  private publish(): void {
    Atomics.store(this.control, WRITE, this.w);
    Atomics.notify(this.control, WRITE);
    this.published = this.w;
  }

  /** Waits until a whole step fits: what is written is published first, so the reader can make room. */
  private makeRoom(): void {
    const c = this.control;
    const free = (): number => this.init.capacity - ((this.w - Atomics.load(c, READ)) | 0);
    while (free() < this.init.stepRows) {
      if (this.w !== this.published) this.publish();
      Atomics.store(c, WAITING, 1);
      const read = Atomics.load(c, READ);
      if (this.init.capacity - ((this.w - read) | 0) < this.init.stepRows) Atomics.wait(c, READ, read, 100);
      Atomics.store(c, WAITING, 0);
    }
  }
}

/** The replay thread's side: starts the worker, reads its rows, forwards its errors. */
export class MergeLink {
  readonly rows: Float64Array;
  readonly mask: number;
  /** The next row to read (a wrapping 32-bit count, as the writer's). */
  read = 0;
  /** Why the merge thread stopped early, when it did. */
  failure: FeedError | undefined;
  private readonly control: Int32Array;
  private closing = false;

  private constructor(
    private readonly worker: Worker,
    private readonly init: MergeInit,
  ) {
    this.rows = new Float64Array(init.ring);
    this.control = new Int32Array(init.control);
    this.mask = init.capacity - 1;
  }

  /** Starts the merge thread and waits until its files are open; rejects with its error when they cannot be. */
  static async start(options: MergeOptions, symbols: number, onError: (error: FeedError) => void): Promise<MergeLink> {
    const capacity = ringCapacity(symbols);
    const init: MergeInit = {
      options,
      ring: new SharedArrayBuffer(capacity * ROW_WIDTH * Float64Array.BYTES_PER_ELEMENT),
      control: new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT),
      capacity,
      stepRows: symbols + 1,
    };
    // Kept alive (ref'd) until ready: a program awaiting connect() must not exit meanwhile.
    const worker = spawn(init);
    const link = new MergeLink(worker, init);
    await new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: MergeMessage) => {
        if (m.type === 'ready') {
          ready = true;
          resolve();
        } else if (m.type === 'failed') reject(new FeedError({ code: m.code, message: m.message }));
        else onError(new FeedError({ code: m.code, message: m.message }));
      });
      const fail = (error: FeedError): void => {
        if (link.closing) return;
        link.failure ??= error;
        if (!ready) reject(error);
        // Wakes a reader waiting for rows: it sees the failure.
        Atomics.notify(link.control, WRITE);
      };
      worker.on('error', (error) => fail(new FeedError({ code: 'csv_file', message: `the replay's merge thread failed: ${error.message}`, cause: error })));
      // Exit code 0: the last pass was written (its end row published) and the thread ended.
      worker.on('exit', (code) => {
        if (code !== 0) fail(new FeedError({ code: 'csv_file', message: `the replay's merge thread exited (code ${code})` }));
      });
    });
    link.hold(false);
    return link;
  }

  /**
   * The next step's start less `shift`, `undefined` at the end of a pass (its row is consumed), or
   * `null` when `running()` turned false or the merge thread failed while waiting for rows.
   */
  async nextStart(shift: number, running: () => boolean): Promise<number | undefined | null> {
    for (;;) {
      const w = Atomics.load(this.control, WRITE);
      if (w !== this.read) {
        const k = (this.read & this.mask) * ROW_WIDTH;
        if ((this.rows[k] as number) < 0) {
          this.consumed((this.read + 1) | 0);
          return undefined;
        }
        return (this.rows[k + 1] as number) - shift;
      }
      if (!running() || this.failure !== undefined) return null;
      const waited = waitAsync(this.control, WRITE, w);
      if (waited.async) await waited.value;
    }
  }

  /** Rows published and not read yet end at the returned count. */
  get published(): number {
    return Atomics.load(this.control, WRITE);
  }

  /** Rows up to `read` are read: their room goes back to the writer. */
  consumed(read: number): void {
    this.read = read;
    Atomics.store(this.control, READ, read);
    if (Atomics.load(this.control, WAITING) === 1) Atomics.notify(this.control, READ);
  }

  /** Wakes a reader waiting for rows (a `stop()`): `nextStart` then checks `running()`. */
  wake(): void {
    Atomics.notify(this.control, WRITE);
  }

  /** Bars held now: the merge thread's batches and the rows in the ring. */
  get held(): number {
    return Atomics.load(this.control, HELD) + ((this.published - this.read) | 0);
  }

  /** At most: the merge thread's peak and a full ring. */
  get peakHeld(): number {
    return Atomics.load(this.control, PEAK) + this.init.capacity;
  }

  /**
   * Whether the merge thread keeps the process alive: while the replay runs (a replay waiting for rows
   * must not let Node exit), not while it is stopped or done (a feed left connected does not hold
   * the process open, as a replay in one thread does not).
   */
  hold(on: boolean): void {
    if (on) this.worker.ref();
    else this.worker.unref();
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}

/** The merge worker's module, and tsx's API when it is a TypeScript source (`mergeWorkerEntry`). */
export interface MergeWorkerEntry {
  readonly url: URL;
  readonly tsx?: string;
}

/**
 * The merge worker's module for this module at `here` (its URL): the built `merge-worker` beside it,
 * or, when this module is a TypeScript source (tests, benchmarks run from sources), its source with
 * tsx's API. `undefined` when it is not there: a bundle that took this module without its worker.
 */
export function mergeWorkerEntry(here = moduleUrl()): MergeWorkerEntry | undefined {
  if (here.endsWith('.ts')) {
    const url = new URL('./merge-worker.ts', here);
    if (!existsSync(url)) return undefined;
    try {
      return { url, tsx: import.meta.resolve('tsx/esm/api') };
    } catch {
      return undefined;
    }
  }
  const url = new URL(here.endsWith('.cjs') ? './merge-worker.cjs' : './merge-worker.js', here);
  return existsSync(url) ? { url } : undefined;
}

function moduleUrl(): string {
  // CommonJS builds have no import.meta: there __filename names the bundle (dist/index.cjs). A global
  // __filename that is no path ('[eval]' under `node -e`, '[worker eval]') is not this module's.
  return typeof __filename === 'string' && isAbsolute(__filename) ? pathToFileURL(__filename).href : import.meta.url;
}

/** The worker (see `mergeWorkerEntry`); a `ConfigError` when its module is not there. */
function spawn(init: MergeInit): Worker {
  const entry = mergeWorkerEntry();
  if (entry === undefined) {
    throw invalidOption('thread', "the merge thread's module (merge-worker.js) is not beside @feed/mock's: was the package bundled without it? Use thread: false (or 'auto', which then merges in one thread)");
  }
  if (entry.tsx !== undefined) {
    // Node 20 ignores --import in a worker's execArgv: load TypeScript through tsx's API.
    return new Worker(`import(${JSON.stringify(entry.tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry.url.href)}); })`, { eval: true, workerData: init });
  }
  return new Worker(entry.url, { workerData: init });
}
