import { encode } from '@msgpack/msgpack';
import { FeedError } from '@feed/core';
import type { OutgoingFrame } from '@feed/live';
import { toFrames } from '@feed/live';
import { AlpacaError } from './errors.js';
import type { StreamEncoding, StreamMessage, Subscription } from './messages.js';
import { ALPACA_ERROR_TEXT } from './messages.js';

/**
 * The stream's handshake and control messages as a pure state machine: no socket, no timer, no
 * event. `handle()` takes one decoded control message and returns what to do; the feed carries it
 * out. Tested on its own (protocol.test.ts).
 */
export type HandshakePhase = 'opening' | 'auth' | 'subscribe' | 'ready';

/** What the feed must do after a control message. */
export type ProtocolAction =
  | { readonly kind: 'send'; readonly message: Record<string, unknown> }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'subscription'; readonly subscription: Subscription; readonly ready: boolean }
  | { readonly kind: 'ready' }
  /** An Alpaca error: during the handshake it fails the attempt (and every retry when fatal). */
  | { readonly kind: 'error'; readonly error: AlpacaError; readonly duringHandshake: boolean };

/** What the handshake needs: the auth mode, the keys, the subscribe message and redaction. */
export interface HandshakeOptions {
  readonly auth: 'message' | 'headers';
  readonly keyId: string;
  readonly secretKey: string;
  /** The subscribe message for every current symbol, or undefined when there is nothing to subscribe. */
  subscribeAll(): Record<string, unknown> | undefined;
  /** Removes secrets from text the server sent. */
  redact(text: string): string;
}

/** The stream's auth/subscribe handshake as a pure state machine: a control message in, actions out. */
export class AlpacaHandshake {
  #phase: HandshakePhase = 'opening';

  constructor(private readonly options: HandshakeOptions) {}

  get phase(): HandshakePhase {
    return this.#phase;
  }

  handle(m: StreamMessage): ProtocolAction[] {
    switch (m.kind) {
      case 'success':
        if (m.msg === 'connected' && this.#phase === 'opening') {
          this.#phase = 'auth';
          return this.options.auth === 'message'
            ? [{ kind: 'send', message: { action: 'auth', key: this.options.keyId, secret: this.options.secretKey } }]
            : [];
        }
        if (m.msg === 'authenticated' && (this.#phase === 'auth' || this.#phase === 'opening')) {
          const subscribe = this.options.subscribeAll();
          if (subscribe === undefined) {
            this.#phase = 'ready';
            return [{ kind: 'authenticated' }, { kind: 'ready' }];
          }
          this.#phase = 'subscribe';
          return [{ kind: 'authenticated' }, { kind: 'send', message: subscribe }];
        }
        return [];
      case 'subscription': {
        const ready = this.#phase === 'subscribe';
        if (ready) this.#phase = 'ready';
        return ready
          ? [{ kind: 'subscription', subscription: m.subscription, ready: true }, { kind: 'ready' }]
          : [{ kind: 'subscription', subscription: m.subscription, ready: false }];
      }
      case 'error': {
        const text = this.options.redact(m.msg || ALPACA_ERROR_TEXT[m.code] || 'unknown error');
        return [{ kind: 'error', error: new AlpacaError({ alpacaCode: m.code, message: text }), duringHandshake: this.#phase !== 'ready' }];
      }
      case 'bar':
      case 'status':
      case 'other':
      case 'malformed':
        return [];
    }
  }
}

/**
 * A message as the frames that carry it: one frame, or fragments of at most 32 KiB for a large
 * message (subscribing thousands of symbols), as Alpaca's own SDK sends it.
 */
export function encodeFrames(message: Record<string, unknown>, encoding: StreamEncoding): OutgoingFrame[] {
  const binary = encoding === 'msgpack';
  return toFrames(binary ? encode(message) : Buffer.from(JSON.stringify(message)), binary);
}

/**
 * The encoding a frame is in when it is not the one the feed asked for: a JSON client handed a
 * msgpack array, or a msgpack client handed text or JSON bytes. `undefined` when it matches (or
 * cannot be told).
 */
export function otherEncoding(data: string | Uint8Array, isBinary: boolean, expected: StreamEncoding): StreamEncoding | undefined {
  if (expected === 'msgpack') {
    if (!isBinary || typeof data === 'string') return 'json';
    // '[' opens a JSON array; no msgpack value starts with 0x5b as an array.
    return data.length > 0 && data[0] === 0x5b ? 'json' : undefined;
  }
  if (typeof data === 'string' || !isBinary || data.length === 0) return undefined;
  const b = data[0] as number;
  // msgpack arrays: fixarray 0x90-0x9f, array16 0xdc, array32 0xdd.
  return (b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd ? 'msgpack' : undefined;
}

/** The error for a frame in the other encoding: names both, and what usually causes it. */
export function encodingMismatch(expected: StreamEncoding, received: StreamEncoding, url: string): FeedError {
  return new FeedError({
    code: 'protocol',
    message:
      `the server at ${url} sends ${received} frames but the feed expects ${expected}` +
      (expected === 'msgpack'
        ? ' (it ignored Content-Type: application/msgpack; a proxy may strip it): use encoding: \'json\''
        : ' (use encoding: \'msgpack\')'),
    detail: { expected, received },
  });
}
