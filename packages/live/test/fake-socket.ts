import { EventEmitter } from 'node:events';
import type { WebSocketFactory, WebSocketLike } from '../src/socket.js';

/** A socket driven by the test: it opens, receives, closes and pongs when told, and records what was sent. */
export class FakeSocket extends EventEmitter implements WebSocketLike {
  readyState = 0;
  readonly sent: (string | Uint8Array)[] = [];
  pings = 0;
  terminated = false;

  open(): void {
    this.readyState = 1;
    this.emit('open');
  }

  receive(text: string): void {
    this.emit('message', Buffer.from(text), false);
  }

  serverClose(code = 1006): void {
    this.readyState = 3;
    this.emit('close', code, Buffer.from('bye'));
  }

  send(data: string | Uint8Array): void {
    this.sent.push(data);
  }

  ping(): void {
    this.pings++;
  }

  close(): void {
    this.serverClose(1000);
  }

  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
}

/** A factory that hands out fake sockets and keeps them, in order. */
export function fakeFactory(): { factory: WebSocketFactory; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  return {
    sockets,
    factory: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
  };
}
