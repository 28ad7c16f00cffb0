/**
 * `@feed/live/testing`: the plumbing of a test server for a live feed, with no protocol in it. An
 * HTTP server and a WebSocket server on 127.0.0.1 (a free port), recording what clients sent, for
 * tests that write the protocol themselves: a hostile server, a provider's fake, a proxy.
 * @module @feed/live/testing
 */
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { findSecretPieces } from '@feed/core';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';

/** One request a test HTTP server received. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** A running test HTTP server. */
export interface TestHttpServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** How a test HTTP server answers: `url` is the request's URL parsed against the server's. */
export type TestHttpHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

/** Starts an HTTP server on 127.0.0.1 that records each request and hands it to `handler`. */
export async function startHttpServer(handler: TestHttpHandler): Promise<TestHttpServer> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '', headers: req.headers });
    handler(req, res, new URL(req.url ?? '/', 'http://127.0.0.1'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes a JSON answer (a string body is sent as it is: malformed JSON on purpose). */
export function sendJson(res: ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** A running test WebSocket server. */
export interface TestWsServer {
  /** `ws://127.0.0.1:PORT` followed by `path`. */
  url(path?: string): string;
  /** Every client socket, in connection order (closed ones stay). */
  readonly sockets: WebSocket[];
  /** Every upgrade request's headers, in connection order. */
  readonly upgrades: IncomingHttpHeaders[];
  /** Sends to the newest client. */
  send(data: string | Uint8Array, binary?: boolean): void;
  close(): Promise<void>;
}

/** Starts a WebSocket server on 127.0.0.1; `onConnection` runs for each client (the protocol is the test's). */
export async function startWsServer(onConnection: (socket: WebSocket, upgrade: IncomingMessage) => void = () => undefined): Promise<TestWsServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const sockets: WebSocket[] = [];
  const upgrades: IncomingHttpHeaders[] = [];
  wss.on('connection', (socket, req) => {
    sockets.push(socket);
    upgrades.push(req.headers);
    onConnection(socket, req);
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: (path = '') => `ws://127.0.0.1:${port}${path}`,
    sockets,
    upgrades,
    send: (data, binary = false) => sockets[sockets.length - 1]?.send(data, { binary }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of wss.clients) s.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** Options of `startTestServer`. */
export interface TestServerOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Answers every HTTP request that is not a WebSocket upgrade. */
  readonly http: (req: IncomingMessage, res: ServerResponse) => void;
  /** Runs for each WebSocket client (any path); without it, upgrades are refused. */
  readonly ws?: (socket: WebSocket, upgrade: IncomingMessage) => void;
  /**
   * Answer pings with pongs automatically (a fake that can ignore pings turns this off and pongs itself).
   * @default true
   */
  readonly autoPong?: boolean;
}

/** A running HTTP + WebSocket test server on one loopback port: the scaffolding every fake provider shares. */
export interface TestServer {
  readonly port: number;
  /** `http://127.0.0.1:PORT`. */
  readonly httpUrl: string;
  /** `ws://127.0.0.1:PORT` followed by `path`. */
  wsUrl(path?: string): string;
  /** Holds a response without an answer (a hanging request) until the client gives up or `close()`. */
  hold(res: ServerResponse): void;
  /** Responses held now. */
  readonly held: number;
  /** Ends held responses, terminates every WebSocket client, closes every connection and the server. */
  close(): Promise<void>;
}

/** Starts the HTTP + WebSocket scaffolding of a fake provider on 127.0.0.1 (the protocol is the caller's). */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const server: Server = createServer((req, res) => options.http(req, res));
  const wss = new WebSocketServer({ noServer: true, autoPong: options.autoPong ?? true, perMessageDeflate: false });
  const held = new Set<ServerResponse>();
  server.on('upgrade', (req, socket, head) => {
    const onConnection = options.ws;
    if (onConnection === undefined) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: (path = '') => `ws://127.0.0.1:${port}${path}`,
    hold: (res) => {
      held.add(res);
      res.on('close', () => held.delete(res));
    },
    get held(): number {
      return held.size;
    },
    close: async () => {
      for (const res of held) res.destroy();
      held.clear();
      for (const s of wss.clients) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Every text a test run produced (errors with their causes, stacks and details; events), to scan for
 * secrets at the end: `leaks(secrets)` lists each whole secret or 8-character piece of one found,
 * with where (`findSecretPieces` of `@feed/core`).
 */
export class TextLog {
  /** The texts kept, in order. */
  readonly texts: string[] = [];

  /** Keeps an error (and its cause chain, stacks and details), a string, or any value as JSON. */
  keep(value: unknown): void {
    if (value instanceof Error) {
      for (let e: unknown = value; e instanceof Error; e = e.cause) {
        this.texts.push(e.message, e.stack ?? '', JSON.stringify((e as { detail?: unknown }).detail ?? {}));
      }
    } else this.texts.push(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** Each piece of a secret found, as `piece in <the text's first 80 characters>`; empty when clean. */
  leaks(secrets: readonly string[], extra: readonly string[] = []): string[] {
    return [...this.texts, ...extra].flatMap((t) => findSecretPieces(t, secrets).map((p) => `${p} in ${t.slice(0, 80)}`));
  }
}
