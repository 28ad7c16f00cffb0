import WebSocket from 'ws';

/**
 * The part of a WebSocket the feed uses: the `ws` package's API. Inject your own through
 * `webSocketFactory` (a proxy, a test double, instrumentation).
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Sends a message, or with `fin: false` a fragment of one (the last fragment has `fin: true`). */
  send(data: string | Uint8Array, options: { binary: boolean; fin?: boolean }): void;
  ping(): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'open', listener: () => void): unknown;
  on(event: 'message', listener: (data: unknown, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: (code: number, reason: unknown) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'pong', listener: () => void): unknown;
  listenerCount(event: string): number;
}

/** Builds a socket for `url` with the given upgrade-request headers. */
export type WebSocketFactory = (url: string, init: { readonly headers: Readonly<Record<string, string>> }) => WebSocketLike;

/** The default factory: a `ws` WebSocket, without per-message compression (Alpaca does not use it). */
export const defaultWebSocketFactory: WebSocketFactory = (url, init) =>
  new WebSocket(url, { headers: { ...init.headers }, perMessageDeflate: false, skipUTF8Validation: true });

/** A frame's payload as ws hands it over (Buffer, ArrayBuffer or fragments), as bytes or text. */
export function frameData(data: unknown): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data)) return Buffer.concat(data as Uint8Array[]);
  return String(data);
}
