/**
 * The fake server of the burst benchmark, in its own thread: Alpaca is another machine, so the time
 * it takes to send is not the client's. Receives pre-encoded frames, sends them all on 'go'.
 */
import { parentPort } from 'node:worker_threads';
import { FakeAlpacaServer } from '../src/testing.js';

const port = parentPort;
if (port === null) throw new Error('server-worker.ts runs as a worker thread');
const server = await FakeAlpacaServer.start();
let frames: { data: Uint8Array; text: boolean }[] = [];
port.on('message', (m: { type: 'frames'; frames: (string | Uint8Array)[] } | { type: 'go' } | { type: 'close' }) => {
  if (m.type === 'frames') {
    // Encode text frames to UTF-8 once, as a server holding its data in memory would.
    frames = m.frames.map((f) => (typeof f === 'string' ? { data: Buffer.from(f), text: true } : { data: f, text: false }));
    port.postMessage({ type: 'ready' });
  } else if (m.type === 'go') {
    for (const f of frames) server.sendRaw(f.data, { text: f.text });
  } else {
    void server.close().then(() => port.close());
  }
});
port.postMessage({ type: 'started', url: server.url(), keys: server.keys });
