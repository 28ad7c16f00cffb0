/**
 * The fake Polygon server of the benchmark, in its own thread (Polygon is another machine: its
 * sending is not the client's cost). Holds the frames it is given, sends them all on 'go'.
 */
import { parentPort } from 'node:worker_threads';
import { FakePolygonServer } from '../src/testing.js';

type Message = { type: 'frames'; frames: string[] } | { type: 'go' } | { type: 'close' };

const port = parentPort;
if (port === null) throw new Error('server-worker.ts runs as a worker thread');
const server = await FakePolygonServer.start();
let frames: string[] = [];
port.on('message', (m: Message) => {
  if (m.type === 'frames') {
    frames = m.frames;
    port.postMessage({ type: 'ready' });
  } else if (m.type === 'go') {
    for (const f of frames) server.sendRaw(f);
  } else {
    void server.close().then(() => port.close());
  }
});
port.postMessage({ type: 'started', wsUrl: server.wsUrl, url: server.url, apiKey: server.apiKey });
