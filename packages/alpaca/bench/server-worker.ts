/**
 * The fake server of the benchmarks, in its own thread: Alpaca is another machine, so the time it
 * takes to send is not the client's. Receives pre-encoded frames (named, so a benchmark can hold
 * several bursts), sends them all on 'go', and says when a client's subscription has arrived.
 */
import { parentPort } from 'node:worker_threads';
import { FakeAlpacaServer } from '../src/testing.js';

type Message =
  | { type: 'frames'; name?: string; frames: (string | Uint8Array)[] }
  | { type: 'go'; name?: string }
  | { type: 'wait-subscribe'; count: number }
  | { type: 'close' };

const port = parentPort;
if (port === null) throw new Error('server-worker.ts runs as a worker thread');
const server = await FakeAlpacaServer.start();
const sets = new Map<string, { data: Uint8Array; text: boolean }[]>();
port.on('message', (m: Message) => {
  if (m.type === 'frames') {
    // Encode text frames to UTF-8 once, as a server holding its data in memory would.
    sets.set(m.name ?? '', m.frames.map((f) => (typeof f === 'string' ? { data: Buffer.from(f), text: true } : { data: f, text: false })));
    port.postMessage({ type: 'ready' });
  } else if (m.type === 'go') {
    for (const f of sets.get(m.name ?? '') ?? []) server.sendRaw(f.data, { text: f.text });
  } else if (m.type === 'wait-subscribe') {
    void server.waitFor((s) => s.subscribeMessages >= m.count, 60_000).then(() => port.postMessage({ type: 'subscribed' }));
  } else {
    void server.close().then(() => port.close());
  }
});
port.postMessage({ type: 'started', url: server.url(), keys: server.keys });
