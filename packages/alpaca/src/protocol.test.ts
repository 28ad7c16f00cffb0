import { decode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES } from '@feed/live';
import { AlpacaHandshake, encodeFrames, otherEncoding } from './protocol.js';
import type { StreamMessage } from './messages.js';

const subscription = { bars: ['TQQQ'], updatedBars: [], dailyBars: [], statuses: [], lulds: [] };
function handshake(auth: 'message' | 'headers', symbols: readonly string[] = ['TQQQ']): AlpacaHandshake {
  return new AlpacaHandshake({
    auth,
    keyId: 'KEYID123',
    secretKey: 'SECRET456',
    subscribeAll: () => (symbols.length === 0 ? undefined : { action: 'subscribe', bars: symbols }),
    redact: (t) => t.split('SECRET456').join('***'),
  });
}
const success = (msg: string): StreamMessage => ({ kind: 'success', msg });

describe('AlpacaHandshake (no socket)', () => {
  it('auth by message: connected -> auth; authenticated -> subscribe; subscription -> ready', () => {
    const h = handshake('message');
    expect(h.handle(success('connected'))).toEqual([{ kind: 'send', message: { action: 'auth', key: 'KEYID123', secret: 'SECRET456' } }]);
    expect(h.phase).toBe('auth');
    expect(h.handle(success('authenticated'))).toEqual([{ kind: 'authenticated' }, { kind: 'send', message: { action: 'subscribe', bars: ['TQQQ'] } }]);
    expect(h.phase).toBe('subscribe');
    expect(h.handle({ kind: 'subscription', subscription })).toEqual([{ kind: 'subscription', subscription, ready: true }, { kind: 'ready' }]);
    expect(h.phase).toBe('ready');
    // A later reply answers a subscribe() call; it does not complete anything again.
    expect(h.handle({ kind: 'subscription', subscription })).toEqual([{ kind: 'subscription', subscription, ready: false }]);
  });

  it('auth by headers sends nothing on connect; with no symbols it is ready on authentication', () => {
    const h = handshake('headers', []);
    expect(h.handle(success('connected'))).toEqual([]);
    expect(h.handle(success('authenticated'))).toEqual([{ kind: 'authenticated' }, { kind: 'ready' }]);
  });

  it('errors say whether they came during the handshake, carry the fatal flag, and are redacted', () => {
    const h = handshake('message');
    h.handle(success('connected'));
    const [a] = h.handle({ kind: 'error', code: 402, msg: 'auth failed for SECRET456' });
    expect(a).toMatchObject({ kind: 'error', duringHandshake: true, error: { alpacaCode: 402, fatal: true, message: 'Alpaca error 402: auth failed for ***' } });
    h.handle(success('authenticated'));
    h.handle({ kind: 'subscription', subscription });
    const [b] = h.handle({ kind: 'error', code: 406, msg: '' });
    expect(b).toMatchObject({ kind: 'error', duringHandshake: false, error: { alpacaCode: 406, fatal: false, message: 'Alpaca error 406: connection limit exceeded' } });
  });

  it('ignores repeated or out-of-order successes', () => {
    const h = handshake('message');
    expect(h.handle(success('authenticated'))).toHaveLength(2); // headers-style servers skip "connected"
    expect(h.handle(success('connected'))).toEqual([]);
    expect(h.handle(success('authenticated'))).toEqual([]);
  });
});

describe('framing', () => {
  it('a small message is one frame; a large one fragments of at most 32 KiB that join to the message', () => {
    expect(encodeFrames({ action: 'auth' }, 'json')).toEqual([{ data: '{"action":"auth"}', binary: false, fin: true }]);
    const big = { action: 'subscribe', bars: Array.from({ length: 5000 }, (_, i) => `SYM${i}`) };
    for (const encoding of ['json', 'msgpack'] as const) {
      const frames = encodeFrames(big, encoding);
      expect(frames.length).toBeGreaterThan(1);
      expect(frames.every((f) => (typeof f.data === 'string' ? f.data.length : f.data.byteLength) <= MAX_FRAME_BYTES)).toBe(true);
      expect(frames.map((f) => f.fin)).toEqual([...frames.slice(1).map(() => false), true]);
      const joined = Buffer.concat(frames.map((f) => Buffer.from(f.data as Uint8Array)));
      expect(encoding === 'json' ? JSON.parse(joined.toString()) : decode(joined)).toEqual(big);
    }
  });

  it('tells a frame in the other encoding', () => {
    const msgpackArray = new Uint8Array([0x91, 0x80]);
    expect(otherEncoding(msgpackArray, true, 'json')).toBe('msgpack');
    expect(otherEncoding('[{"T":"success"}]', false, 'msgpack')).toBe('json');
    expect(otherEncoding(Buffer.from('[{}]'), true, 'msgpack')).toBe('json');
    expect(otherEncoding(msgpackArray, true, 'msgpack')).toBeUndefined();
    expect(otherEncoding('[{}]', false, 'json')).toBeUndefined();
  });
});
