/**
 * The merge thread of a replay with `thread` (see `merge-thread.ts`): the replay's files, read
 * and merged by a `MockMultiSymbolFeed` at speed 0 whose rows go into the shared ring instead of
 * becoming bars. Errors after the files are open (a batch that cannot be read) are forwarded.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FeedError } from '@feed/core';
import type { MergeInit, MergeMessage } from './merge-thread.js';
import { RingWriter } from './merge-thread.js';
import { MockMultiSymbolFeed, attachRowSink } from './mock-feed.js';

const init = workerData as MergeInit;
const post = (m: MergeMessage): void => parentPort?.postMessage(m);
const o = init.options;
const feed = new MockMultiSymbolFeed({
  ...o,
  speed: 0,
  statuses: false,
  thread: false,
});
const writer = new RingWriter(init);
attachRowSink(feed, writer);
feed.on('complete', () => {
  const s = feed.stats();
  writer.endPass(s.barsHeld, s.peakBarsHeld);
});
async function run(): Promise<void> {
  try {
    await feed.connect();
  } catch (error) {
    const e = FeedError.isInstance(error) ? error : new FeedError({ code: 'csv_file', message: String(error), cause: error });
    post({ type: 'failed', code: e.code, message: e.message });
    return;
  }
  // Errors of connect() (bad rows) are the replay thread's own to report: only later ones are forwarded.
  feed.on('error', ({ error }) => post({ type: 'error', code: error.code, message: error.message }));
  post({ type: 'ready' });
  await feed.start();
  await feed.whenDone();
  await feed.disconnect();
}
void run();
