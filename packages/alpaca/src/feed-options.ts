import { parseOptions } from '@feed/core';
import type { GapFillOptions, KeepAliveOptions, LiveFeedOptions, ResolvedLiveOptions, WatchdogOptions } from '@feed/live';
import { liveOptionsShape, resolveLiveOptions } from '@feed/live';
import { z } from 'zod';
import type { AlpacaKeys } from './credentials.js';
import { Credentials, resolveCredentials } from './credentials.js';
import type { StreamEncoding } from './messages.js';
import { DATA_URL, SANDBOX_DATA_URL } from './rest.js';
import type { AlpacaFeedName } from './urls.js';
import { FEEDS, streamUrl } from './urls.js';

export type { GapFillOptions, KeepAliveOptions, WatchdogOptions };

/** The channels to subscribe for every symbol. */
export interface Channels {
  /**
   * Minute bars.
   * @default true
   */
  bars?: boolean;
  /**
   * Updated minute bars (late trades, ~30 s after the minute), delivered as revisions of the bar with
   * the same start.
   * @default false
   */
  updatedBars?: boolean;
  /**
   * Daily bars, emitted as `dailyBar` events (not `bar`: they are not minute bars).
   * @default false
   */
  dailyBars?: boolean;
  /**
   * Trading statuses (halts, volatility pauses, resumptions), emitted as `tradingStatus` events; a
   * data manager attached to the feed marks a halted symbol. Alpaca gives this channel on some
   * subscriptions only: a refusal (409, 410) ends the feed, so it is off unless asked for.
   * @default false
   */
  statuses?: boolean;
  /**
   * Limit-up/limit-down price bands, emitted as `tradingStatus` events of kind `luld`.
   * @default false
   */
  lulds?: boolean;
}

/** Options of `AlpacaMultiSymbolFeed`; each field has its default. */
export interface AlpacaFeedOptions extends LiveFeedOptions {
  /**
   * Alpaca's feed: `iex` (free), `sip`, `delayed_sip` or `test` (always open, symbol `FAKEPACA`).
   * @default 'iex'
   */
  feed?: AlpacaFeedName;
  /**
   * Use Alpaca's sandbox host.
   * @default false
   */
  sandbox?: boolean;
  /**
   * A full stream URL instead of `feed` and `sandbox` (a proxy, or a fake server in tests).
   * @default streamUrl(feed, { sandbox })
   */
  url?: string;
  /**
   * The key pair.
   * @default read from APCA_API_KEY_ID / APCA_API_SECRET_KEY, else ALPACA_PAPER_API_KEY / ALPACA_PAPER_SECRET_KEY
   */
  keys?: AlpacaKeys | Credentials;
  /**
   * Where the keys are read from when `keys` is not given.
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Authenticate with an `auth` message after connecting, or with headers on the upgrade request.
   * @default 'message'
   */
  auth?: 'message' | 'headers';
  /**
   * Frame encoding. `msgpack` is what Alpaca's own SDKs use; both carry the same data.
   * @default 'json'
   */
  encoding?: StreamEncoding;
  /**
   * Channels subscribed for every symbol.
   * @default { bars: true, updatedBars: false, dailyBars: false }
   */
  channels?: Channels;
  /**
   * The data API's base URL for gap fill.
   * @default 'https://data.alpaca.markets' (or the sandbox host with `sandbox`)
   */
  restUrl?: string;
}

/** The options after defaults and validation: what the feed's modules read. */
export interface ResolvedFeedOptions extends ResolvedLiveOptions {
  readonly url: string;
  readonly feed: AlpacaFeedName;
  readonly encoding: StreamEncoding;
  readonly credentials: Credentials | undefined;
  readonly auth: 'message' | 'headers';
  readonly channels: Required<Channels>;
  readonly restUrl: string;
  /** With `worker: true`: the options the worker thread builds its inline feed from. */
  readonly workerOptions: Readonly<Record<string, unknown>> | undefined;
}

const schema = z.object({
  ...liveOptionsShape,
  feed: z.enum(['iex', 'sip', 'delayed_sip', 'test']).default('iex'),
  keys: z
    .union([z.instanceof(Credentials), z.object({ keyId: z.string(), secretKey: z.string() })], 'must be { keyId, secretKey } or Credentials')
    .optional(),
  env: z.record(z.string(), z.string().optional(), 'must be an object of environment variables').optional(),
  sandbox: z.boolean().default(false),
  url: z.string().regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL').optional(),
  auth: z.enum(['message', 'headers']).default('message'),
  encoding: z.enum(['json', 'msgpack'], "must be 'json' or 'msgpack'").default('json'),
  channels: z
    .object({ bars: z.boolean().default(true), updatedBars: z.boolean().default(false), dailyBars: z.boolean().default(false), statuses: z.boolean().default(false), lulds: z.boolean().default(false) })
    .default({ bars: true, updatedBars: false, dailyBars: false, statuses: false, lulds: false }),
  restUrl: z.string().regex(/^https?:\/\//, 'must be an http:// or https:// URL').optional(),
});

/** Validates the feed's options once, at construction, and fills in every default. */
export function resolveFeedOptions(options: AlpacaFeedOptions): ResolvedFeedOptions {
  const o = parseOptions(schema, options, 'AlpacaMultiSymbolFeed options');
  const url = o.url ?? streamUrl(o.feed, { sandbox: o.sandbox });
  // The feed that gap fill reads: the URL's last segment when it names one.
  const last = url.replace(/\/+$/, '').split('/').pop() ?? '';
  const feed = o.url === undefined ? o.feed : (FEEDS.find((f) => f === last) ?? o.feed);
  const credentials = resolveCredentials(o.keys, o.env ?? process.env);
  const restUrl = o.restUrl ?? (o.sandbox ? SANDBOX_DATA_URL : DATA_URL);
  // The shared options are checked for the worker (and refused when they cannot cross) by resolveLiveOptions.
  const live = resolveLiveOptions(o);
  const workerOptions =
    live.worker === undefined
      ? undefined
      : {
          ...live.worker,
          url,
          feed: o.feed,
          ...(credentials === undefined ? { env: {} } : { keys: { keyId: credentials.keyId, secretKey: credentials.secretKey } }),
          auth: o.auth,
          encoding: o.encoding,
          channels: o.channels,
          restUrl,
        };
  return {
    ...live,
    workerOptions,
    url,
    feed,
    encoding: o.encoding,
    credentials,
    auth: o.auth,
    channels: o.channels,
    restUrl,
  };
}
