import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from './args.js';

describe('demo arguments', () => {
  it('defaults to speed 0 and no filters', () => {
    expect(parseArgs([])).toEqual({
      data: undefined,
      speed: 0,
      date: undefined,
      symbols: undefined,
      config: undefined,
      simulate: false,
      live: false,
      provider: 'alpaca',
      feed: 'iex',
      url: undefined,
      minutes: undefined,
      report: undefined,
      publish: undefined,
      nats: undefined,
      help: false,
      version: false,
    });
    expect(parseArgs(['--simulate']).simulate).toBe(true);
  });
  it('reads the live options', () => {
    expect(parseArgs(['--live', '--feed', 'sip', '--url', 'ws://127.0.0.1:1/v2/iex', '--minutes', '3', '--report', 'r.html'])).toMatchObject({
      live: true,
      feed: 'sip',
      url: 'ws://127.0.0.1:1/v2/iex',
      minutes: 3,
      report: 'r.html',
    });
  });
  it('reads the NATS options: --live --publish URL holds the connection, --nats URL reads from it', () => {
    expect(parseArgs(['--live', '--publish', 'nats://127.0.0.1:4222'])).toMatchObject({ live: true, publish: 'nats://127.0.0.1:4222' });
    expect(parseArgs(['--nats', 'nats://10.0.0.2:4222', '--minutes', '5'])).toMatchObject({ live: false, nats: 'nats://10.0.0.2:4222', minutes: 5 });
    expect(() => parseArgs(['--publish', 'nats://127.0.0.1:4222'])).toThrowError(/--publish goes with --live/);
    expect(() => parseArgs(['--nats', 'nats://h:1', '--live'])).toThrowError(/--nats reads bars from NATS/);
    expect(() => parseArgs(['--nats', 'http://h:1'])).toThrowError(/must be a nats:\/\/ or tls:\/\/ URL/);
  });
  it('reads --provider with --live', () => {
    expect(parseArgs(['--live', '--provider', 'polygon'])).toMatchObject({ live: true, provider: 'polygon' });
    expect(() => parseArgs(['--provider', 'polygon'])).toThrowError(/--provider goes with --live/);
    expect(() => parseArgs(['--live', '--provider', 'iex'])).toThrowError(/--provider must be alpaca or polygon/);
  });
  it('reads --flag value and --flag=value', () => {
    expect(parseArgs(['--data', '/d', '--speed=39', '--date', '2025-10-01..2025-10-16', '--symbols', 'tqqq, sds'])).toMatchObject({
      data: '/d',
      speed: 39,
      date: '2025-10-01..2025-10-16',
      symbols: ['TQQQ', 'SDS'],
    });
  });
  it('rejects unknown options, missing values and bad numbers or dates with a usage error', () => {
    expect(() => parseArgs(['--bogus'])).toThrowError(UsageError);
    expect(() => parseArgs(['--live', '--data', '/d'])).toThrowError(/--live reads Alpaca: it takes no --data/);
    expect(() => parseArgs(['--minutes', '3'])).toThrowError(/--url and --minutes go with --live/);
    expect(() => parseArgs(['--live', '--url', 'http://x'])).toThrowError(/--url must be a ws:\/\/ or wss:\/\/ URL/);
    expect(() => parseArgs(['--live', '--feed', 'nasdaq'])).toThrowError(/--feed must be iex, sip, delayed_sip or test/);
    expect(() => parseArgs(['--data'])).toThrowError(/--data needs a value/);
    expect(() => parseArgs(['--speed', '-1'])).toThrowError(/--speed must be a number >= 0/);
    expect(() => parseArgs(['--date', '16/10/2025'])).toThrowError(/--date must be YYYY-MM-DD/);
  });
});
