/**
 * feed-alpaca-download: minute bars from Alpaca's historical API into one CSV per symbol, in the
 * real-data format, regular hours only (the shared command of `@feed/live`, with Alpaca's keys).
 *
 *   feed-alpaca-download --symbols TQQQ,SQQQ --from 2025-10-01 [--to 2025-10-16] [--out DIR]
 *                        [--feed iex|sip|delayed_sip] [--base-url URL] [--format csv|arrow] [--force]
 *
 * Keys come from APCA_API_KEY_ID / APCA_API_SECRET_KEY (or ALPACA_PAPER_API_KEY /
 * ALPACA_PAPER_SECRET_KEY). Exit codes: 0 done, 1 failed, 2 bad usage or no keys.
 */
import type { CliIo, DownloadProvider } from '@feed/live';
import { pathToFileURL } from 'node:url';
import { packageVersion, runDownloadCli } from '@feed/live';
import { missingKeysMessage, resolveCredentials } from './credentials.js';
import { AlpacaCorporateActionsClient } from './corporate-actions.js';
import { AlpacaHistoricalClient, DATA_URL } from './rest.js';

const USAGE = `usage: feed-alpaca-download --symbols A,B,... --from YYYY-MM-DD [--to YYYY-MM-DD] [--out DIR]
                            [--feed iex|sip|delayed_sip] [--base-url URL] [--format csv|arrow] [--force]
A file is written to a temporary name and renamed; an existing file holding more bars of the range
is kept unless --force. A symbol with no bars in the range is an error (exit 1).
Keys: APCA_API_KEY_ID and APCA_API_SECRET_KEY (or ALPACA_PAPER_API_KEY and ALPACA_PAPER_SECRET_KEY).`;

/** Alpaca's download command: the shared one with Alpaca's keys and feed. */
const ALPACA: DownloadProvider = {
  command: 'feed-alpaca-download',
  usage: USAGE,
  // (A CommonJS build has no import.meta: there __filename names the bundle.)
  version: packageVersion(typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url),
  flags: { feed: ['iex', 'sip', 'delayed_sip'] },
  options: (args, io) => {
    let keys;
    try {
      keys = resolveCredentials(undefined, io.env);
    } catch (error) {
      return (error as Error).message;
    }
    if (keys === undefined) return missingKeysMessage();
    const feed = (args.feed ?? 'iex') as 'iex' | 'sip' | 'delayed_sip';
    const baseUrl = args['base-url'] ?? DATA_URL;
    const fetchOption = io.fetch === undefined ? {} : { fetch: io.fetch };
    return {
      history: new AlpacaHistoricalClient({ keys, feed, baseUrl, ...fetchOption }),
      // Raw bars, recorded as such, with the actions to adjust them (TQQQ.basis.json, TQQQ.actions.csv).
      basis: { provider: 'alpaca', feed, adjustment: 'raw' },
      corporateActions: new AlpacaCorporateActionsClient({ keys, baseUrl, ...fetchOption }),
    };
  },
};

/** Runs `feed-alpaca-download`; returns the exit code. */
export function main(argv: readonly string[], io: CliIo): Promise<number> {
  return runDownloadCli(argv, io, ALPACA);
}
