import { invalidOption } from '@feed/core';

/** Alpaca's market-data stream feeds. */
export type AlpacaFeedName = 'iex' | 'sip' | 'delayed_sip' | 'test';

export const FEEDS: readonly AlpacaFeedName[] = ['iex', 'sip', 'delayed_sip', 'test'];

/** The stream URL of a feed: `wss://stream.data.alpaca.markets/v2/{feed}` (or the sandbox host). */
export function streamUrl(feed: AlpacaFeedName = 'iex', options: { sandbox?: boolean } = {}): string {
  if (!FEEDS.includes(feed)) {
    throw invalidOption('feed', `must be one of ${FEEDS.join(', ')}`, `unknown Alpaca feed '${String(feed)}' (expected one of ${FEEDS.join(', ')})`);
  }
  const host = options.sandbox === true ? 'stream.data.sandbox.alpaca.markets' : 'stream.data.alpaca.markets';
  return `wss://${host}/v2/${feed}`;
}
