import { ConfigError } from '@feed/core';
import { describe, expect, it } from 'vitest';
import { streamUrl } from './urls.js';

describe('streamUrl', () => {
  it('defaults to the free IEX feed', () => {
    expect(streamUrl()).toBe('wss://stream.data.alpaca.markets/v2/iex');
  });
  it('builds the sandbox URL of the test feed', () => {
    expect(streamUrl('test', { sandbox: true })).toBe('wss://stream.data.sandbox.alpaca.markets/v2/test');
  });
  it('rejects an unknown feed with a typed error', () => {
    let caught: unknown;
    try {
      streamUrl('nasdaq' as never);
    } catch (e) {
      caught = e;
    }
    expect(ConfigError.isInstance(caught)).toBe(true);
    expect((caught as ConfigError).code).toBe('invalid_option');
  });
});
