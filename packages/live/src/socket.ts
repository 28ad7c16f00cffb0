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

/** One frame to send: a message's bytes or text, or a fragment of them (`fin` on the last). */
export interface OutgoingFrame {
  readonly data: string | Uint8Array;
  readonly binary: boolean;
  readonly fin: boolean;
}

/** The largest frame sent in one piece; a larger message goes out in fragments of this size. */
export const MAX_FRAME_BYTES = 32_768;

/**
 * A message as the frames that carry it: one frame, or fragments of at most 32 KiB for a large one
 * (subscribing thousands of symbols), as providers' own SDKs send them. Text goes as a text frame.
 */
export function toFrames(bytes: Uint8Array, binary: boolean): OutgoingFrame[] {
  if (bytes.byteLength <= MAX_FRAME_BYTES) {
    return [{ data: binary ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(), binary, fin: true }];
  }
  const frames: OutgoingFrame[] = [];
  for (let at = 0; at < bytes.byteLength; at += MAX_FRAME_BYTES) {
    frames.push({ data: bytes.subarray(at, at + MAX_FRAME_BYTES), binary, fin: at + MAX_FRAME_BYTES >= bytes.byteLength });
  }
  return frames;
}

/** A JSON message as the frames that carry it (text, fragmented past `MAX_FRAME_BYTES`). */
export function jsonFrames(message: unknown): OutgoingFrame[] {
  return toFrames(Buffer.from(JSON.stringify(message)), false);
}
