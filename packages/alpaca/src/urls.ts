import { ConfigError } from '@feed/core';

/** Alpaca's market-data stream feeds. */
export type AlpacaFeedName = 'iex' | 'sip' | 'delayed_sip' | 'test';

const FEEDS: readonly AlpacaFeedName[] = ['iex', 'sip', 'delayed_sip', 'test'];

/** The stream URL of a feed: `wss://stream.data.alpaca.markets/v2/{feed}` (or the sandbox host). */
export function streamUrl(feed: AlpacaFeedName = 'iex', options: { sandbox?: boolean } = {}): string {
  if (!FEEDS.includes(feed)) {
    throw new ConfigError(`unknown Alpaca feed '${String(feed)}' (expected one of ${FEEDS.join(', ')})`, [
      { path: 'feed', message: `must be one of ${FEEDS.join(', ')}` },
    ], undefined, { code: 'invalid_option' });
  }
  const host = options.sandbox === true ? 'stream.data.sandbox.alpaca.markets' : 'stream.data.alpaca.markets';
  return `wss://${host}/v2/${feed}`;
}
