/**
 * feed-polygon-download: minute bars from Polygon's (Massive's) aggregates into one file per symbol,
 * the same files, rules and exit codes as `feed-alpaca-download` (one shared command, `runDownloadCli`):
 *
 *   feed-polygon-download --symbols TQQQ,SQQQ --from 2025-10-01 [--to 2025-10-16] [--out DIR]
 *                         [--adjusted true|false] [--base-url URL] [--format csv|arrow] [--force]
 *
 * The key comes from POLYGON_API_KEY. Exit codes: 0 done, 1 failed, 2 bad usage or no key.
 */
import type { CliIo, DownloadProvider } from '@feed/live';
import { pathToFileURL } from 'node:url';
import { packageVersion, runDownloadCli } from '@feed/live';
import { PolygonCorporateActionsClient } from './corporate-actions.js';
import { KEY_VARIABLE, POLYGON_URL, PolygonHistoricalClient } from './history.js';

const USAGE = `usage: feed-polygon-download --symbols A,B,... --from YYYY-MM-DD [--to YYYY-MM-DD] [--out DIR]
                             [--adjusted true|false] [--base-url URL] [--format csv|arrow] [--force]
Regular hours with the closing-auction bar, one file per symbol (the real-data format, or Arrow).
A file is written to a temporary name and renamed; an existing file holding more bars of the range
is kept unless --force. A symbol with no bars in the range is an error (exit 1).
Key: ${KEY_VARIABLE}.`;

const POLYGON: DownloadProvider = {
  command: 'feed-polygon-download',
  usage: USAGE,
  // (A CommonJS build has no import.meta: there __filename names the bundle.)
  version: packageVersion(typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url),
  flags: { adjusted: ['true', 'false'] },
  options: (args, io) => {
    const apiKey = io.env[KEY_VARIABLE];
    if (apiKey === undefined || apiKey === '') return `no Polygon key: set ${KEY_VARIABLE}`;
    const baseUrl = args['base-url'] ?? POLYGON_URL;
    const fetchOption = io.fetch === undefined ? {} : { fetch: io.fetch };
    const adjusted = args.adjusted === 'true';
    return {
      history: new PolygonHistoricalClient({ apiKey, baseUrl, adjusted, ...fetchOption }),
      // What the bars are, recorded beside them, with the actions (TQQQ.basis.json, TQQQ.actions.csv).
      basis: { provider: 'polygon', feed: 'sip', adjustment: adjusted ? 'split' : 'raw' },
      corporateActions: new PolygonCorporateActionsClient({ apiKey, baseUrl, ...fetchOption }),
    };
  },
};

/** Runs `feed-polygon-download`; returns the exit code. */
export function main(argv: readonly string[], io: CliIo): Promise<number> {
  return runDownloadCli(argv, io, POLYGON);
}
