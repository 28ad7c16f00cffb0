import type { BarFeed, FeedEvent } from '@feed/core';
import { NEW_YORK, wallTime } from '@feed/core';
import type { MultiSymbolDataManager, Snapshot } from '@feed/data-manager';
// A replay's own events; a live feed emits none of them.
import type { LoadedEvent, ProgressEvent } from '@feed/mock';

/** One closed minute as the report shows it. */
export interface SliceRecord {
  /** The slice's time (end of the minute), epoch ms. */
  readonly t: number;
  /** Symbols forward-filled in this slice. */
  readonly forwardFilled: number;
  /** Symbols with no usable price. */
  readonly missing: number;
  /** Mean staleness weight over the symbols (1 = fresh). */
  readonly avgWeight: number;
}

export interface ProgramResult {
  readonly lines: string[];
  readonly lastSlice: Snapshot | undefined;
  readonly slices: readonly SliceRecord[];
}

export interface ProgramOptions {
  readonly symbols: readonly string[];
  readonly print: (line: string) => void;
  /** Stop after this many slices (live runs); replays end with their files. */
  readonly stopAfterSlices?: number | undefined;
  /** Stops the feed when aborted (Ctrl-C). */
  readonly signal?: AbortSignal | undefined;
  /** Print a line per closed minute (live runs, which have no percentage to show). */
  readonly showSlices?: boolean;
  /** Runs between the feed's connect and start (live bars are held meanwhile): a handover fill. */
  readonly beforeStart?: () => Promise<void>;
}


const pad = (s: string, n: number): string => s.padStart(n);

/** A time as New York wall time, e.g. `2025-10-06 15:59 ET` (the exchange's, as in the report). */
export function nyTime(t: number): string {
  const w = wallTime(t, NEW_YORK);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)} ET`;
}

/**
 * The program both modes run, whatever the feed: connect, start, feed the data manager, show
 * progress, stop when the feed ends (replay), after N slices or on abort (live), then print the
 * per-symbol quality table and the last snapshot.
 */
export async function runProgram(feed: BarFeed, dm: MultiSymbolDataManager, o: ProgramOptions): Promise<ProgramResult> {
  let lastSlice: Snapshot | undefined;
  const slices: SliceRecord[] = [];
  dm.on('slice', (e) => {
    const s = e.slice;
    lastSlice = s;
    let weight = 0;
    for (const entry of s.entries) weight += entry.stalenessWeight;
    slices.push({ t: s.asOf, forwardFilled: s.forwardFilled, missing: s.missing.length, avgWeight: s.entries.length > 0 ? weight / s.entries.length : 0 });
  });
  dm.attach(feed);
  // A replay reports the files it loaded and its progress (a feed without these events never calls
  // the listeners); a live run shows each minute as it closes instead.
  const replayFeed = feed as BarFeed<FeedEvent | ProgressEvent | LoadedEvent>;
  let files: LoadedEvent['files'] = [];
  replayFeed.on('loaded', (e) => {
    files = e.files;
    o.print(`replaying ${files.map((r) => `${r.symbol} ${r.loaded.toLocaleString('en-US')}`).join(', ')} bars`);
  });
  // Progress: every 10 %, and at least once a second whatever the speed (at speed 1 a percent of a
  // session is minutes long).
  let lastShown = -10;
  let lastPrintAt = 0;
  let latest: ProgressEvent | undefined;
  const show = (p: ProgressEvent, bars: number): void => {
    lastPrintAt = performance.now();
    const bar = '#'.repeat(Math.round(p.percent / 5)).padEnd(20, '.');
    o.print(`  [${bar}] ${String(p.percent).padStart(3)}%  ${bars.toLocaleString('en-US')} bars  ${nyTime(feed.clock.now())}`);
  };
  replayFeed.on('progress', (p) => {
    latest = p;
    if (p.percent >= lastShown + 10 || p.percent === 100 || performance.now() - lastPrintAt >= 1000) {
      lastShown = p.percent;
      show(p, p.barsReplayed);
    }
  });
  const ticker = setInterval(() => {
    if (latest !== undefined && latest.percent < 100 && performance.now() - lastPrintAt >= 1000) show(latest, feed.stats().barsReceived);
  }, 1000);
  ticker.unref();
  dm.on('slice', (e) => {
    if (o.showSlices !== true) return;
    const s = e.slice;
    o.print(`  ${nyTime(s.asOf)}  ${s.validCount}/${s.entries.length} valid, ${s.forwardFilled} forward-filled${s.missing.length > 0 ? `, missing ${s.missing.join(' ')}` : ''}`);
    if (o.stopAfterSlices !== undefined && slices.length >= o.stopAfterSlices) void feed.stop();
  });
  const ended = new Promise<void>((resolve) => {
    feed.on('state', (e) => {
      if (e.to === 'stopped' || e.to === 'closed') resolve();
    });
  });
  const onAbort = (): void => {
    void feed.stop();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await feed.connect();
    await o.beforeStart?.();
    await feed.start();
    await ended;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    clearInterval(ticker);
  }
  dm.flush();

  const q = dm.stats();
  const feedStats = feed.stats();
  const lines = [
    '',
    `${'symbol'.padEnd(7)}${pad('bars', 9)}${pad('rejected', 10)}${pad('bad rows', 10)}${pad('fwd-filled', 12)}${pad('avg age s', 11)}${pad('price', 11)}${pad('weight', 8)}  valid`,
  ];
  for (const s of o.symbols) {
    const st = q.bySymbol[s];
    const e = lastSlice?.symbols[s];
    const bad = files.find((r) => r.symbol === s)?.badRows ?? 0;
    lines.push(
      `${s.padEnd(7)}${pad((st?.accepted ?? 0).toLocaleString('en-US'), 9)}${pad(String(st?.rejected ?? 0), 10)}${pad(String(bad), 10)}${pad(String(st?.forwardFilledIntervals ?? 0), 12)}${pad(st?.avgAgeMs === undefined || st.avgAgeMs === null ? '-' : (st.avgAgeMs / 1000).toFixed(1), 11)}${pad(e?.price === undefined || e.price === null ? '-' : e.price.toFixed(2), 11)}${pad(e ? e.stalenessWeight.toFixed(3) : '-', 8)}  ${e?.valid ? 'yes' : 'no'}`,
    );
  }
  const valid = lastSlice === undefined ? 0 : lastSlice.entries.filter((e) => e.valid).length;
  lines.push(
    '',
    `${q.slicesEmitted.toLocaleString('en-US')} slices; last as of ${lastSlice ? nyTime(lastSlice.asOf) : '-'}; usable: ${lastSlice?.usable ? 'yes' : 'no'} (${valid} of ${o.symbols.length} symbols valid${lastSlice?.usable ? '' : '; usable needs at least half'})`,
  );
  lines.push(`feed (${feed.type}): ${feedStats.barsReceived.toLocaleString('en-US')} bars, ${feedStats.errors} errors, ${feedStats.reconnects} reconnects, ${feedStats.barsRecovered} recovered by gap fill`);
  await feed.disconnect();
  return { lines, lastSlice, slices };
}
