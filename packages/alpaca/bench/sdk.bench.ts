/**
 * Against Alpaca's official SDK (`@alpacahq/alpaca-trade-api` 4.0.2, msgpack, a dev dependency of this
 * benchmark only): the same fake server (in a worker thread), the same bursts of one bar per symbol
 * in frames of 100, at 10 000 and 100 000 symbols; the time from the server's first frame to the last
 * bar in the client's listener, on a cold connection (its first burst) and on a second burst over the
 * same, warm connection. The two clients alternate round by round. Prints SDK time / feed time
 * (above 1 = the feed is faster); target: at least 1.2x in each case.
 *
 * `BENCH_QUICK=1` runs fewer rounds (CI smoke). Run: pnpm bench (in this package).
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { encode } from '@msgpack/msgpack';
import { streaming } from '@alpacahq/alpaca-trade-api';
import { MINUTE_MS, ManualClock } from '@feed/core';
import type { AlpacaKeys } from '../src/index.js';
import { AlpacaMultiSymbolFeed } from '../src/index.js';
import { fmt, median, nextMessage, serverWorker } from './common.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 2 : 7;
const FRAME = 100;
const T0 = Date.UTC(2025, 9, 16, 13, 30);


function burst(symbols: readonly string[], minute: number): Uint8Array[] {
  const start = new Date(T0 + minute * MINUTE_MS);
  const out: Uint8Array[] = [];
  for (let f = 0; f < symbols.length; f += FRAME) {
    const msgs: Record<string, unknown>[] = [];
    for (let i = f; i < Math.min(f + FRAME, symbols.length); i++) {
      const p = 20 + (i % 500) / 7 + minute * 0.01;
      msgs.push({ T: 'b', S: symbols[i], o: p, h: p + 0.12, l: p - 0.1, c: p + 0.03, v: 1000 + i, t: start, n: 10 + (i % 50), vw: p + 0.01 });
    }
    out.push(encode(msgs));
  }
  return out;
}

/** One client of either kind: connect and subscribe, then count bars; `close` ends it. */
interface Client {
  onBars(listener: () => void): void;
  close(): Promise<void>;
}

async function feedClient(url: string, keys: AlpacaKeys, symbols: readonly string[]): Promise<Client> {
  const feed = new AlpacaMultiSymbolFeed({ symbols, url, keys, encoding: 'msgpack', clock: new ManualClock(T0 + 3600_000), keepAlive: false, watchdog: false, gapFill: false });
  await feed.connect();
  await feed.start();
  return { onBars: (l) => void feed.on('bar', l), close: () => feed.disconnect() };
}

async function sdkClient(url: string, keys: AlpacaKeys, symbols: readonly string[], worker: Worker, subscribes: number): Promise<Client> {
  const s = new streaming.StockDataStream({ credentials: { keyId: keys.keyId, secret: keys.secretKey }, url, reconnect: false });
  s.connect();
  const auth = await s.whenAuthenticated();
  if (!auth.authenticated) throw new Error(`the SDK did not authenticate: ${auth.message}`);
  const subscribed = nextMessage(worker, 'subscribed');
  worker.postMessage({ type: 'wait-subscribe', count: subscribes });
  s.subscribeForBars([...symbols]);
  await subscribed;
  return {
    onBars: (l) => void s.onBar(l),
    close: () => {
      s.disconnect();
      return Promise.resolve();
    },
  };
}

async function run(size: number): Promise<{ feed: { cold: number; warm: number }; sdk: { cold: number; warm: number } }> {
  const worker = serverWorker();
  const { url, keys } = await nextMessage<{ url: string; keys: AlpacaKeys }>(worker, 'started');
  const symbols = Array.from({ length: size }, (_, i) => `S${String(i).padStart(6, '0')}`);
  for (const [name, minute] of [['cold', 1], ['warm', 2]] as const) {
    worker.postMessage({ type: 'frames', name, frames: burst(symbols, minute) });
    await nextMessage(worker, 'ready');
  }
  const t = { feed: { cold: [] as number[], warm: [] as number[] }, sdk: { cold: [] as number[], warm: [] as number[] } };
  let subscribes = 0;
  for (let r = 0; r < ROUNDS + 1; r++) {
    // Alternate which client goes first, so that neither always runs on a fresher machine.
    for (const kind of r % 2 === 0 ? (['feed', 'sdk'] as const) : (['sdk', 'feed'] as const)) {
      subscribes++;
      const client = kind === 'feed' ? await feedClient(url, keys, symbols) : await sdkClient(url, keys, symbols, worker, subscribes);
      if (kind === 'feed') {
        // The feed's subscription was confirmed by connect(); keep the server's count in step.
        worker.postMessage({ type: 'wait-subscribe', count: subscribes });
        await nextMessage(worker, 'subscribed');
      }
      let received = 0;
      let done: (() => void) | undefined;
      client.onBars(() => {
        if (++received === size) done?.();
      });
      for (const name of ['cold', 'warm'] as const) {
        received = 0;
        const finished = new Promise<void>((resolve) => (done = resolve));
        const start = performance.now();
        worker.postMessage({ type: 'go', name });
        await finished;
        // Round 0 warms the JIT of both clients up; it is not counted.
        if (r > 0) t[kind][name].push(performance.now() - start);
      }
      await client.close();
    }
  }
  worker.postMessage({ type: 'close' });
  await once(worker, 'exit');
  return { feed: { cold: median(t.feed.cold), warm: median(t.feed.warm) }, sdk: { cold: median(t.sdk.cold), warm: median(t.sdk.warm) } };
}

console.log(`@feed/alpaca against the official SDK (@alpacahq/alpaca-trade-api 4.0.2, msgpack): bursts of one bar per symbol, medians of ${ROUNDS} alternating rounds${QUICK ? ' (quick smoke run: too few rounds to judge the target; the full run is `pnpm bench`)' : ''}`);
console.log('| symbols | connection | feed ms | SDK ms | SDK / feed | target |');
console.log('|---|---|---|---|---|---|');
for (const size of QUICK ? [10_000] : [10_000, 100_000]) {
  const r = await run(size);
  for (const c of ['cold', 'warm'] as const) {
    const ratio = r.sdk[c] / r.feed[c];
    console.log(`| ${fmt(size)} | ${c} | ${fmt(r.feed[c], 1)} | ${fmt(r.sdk[c], 1)} | ${fmt(ratio, 2)}x | >= 1.2x ${ratio >= 1.2 ? 'ok' : 'missed'} |`);
  }
}
