import type { Bar, HistoricalBars, HistoryRequest } from '@feed/core';
import { FeedError, requestTime } from '@feed/core';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { decodeBars } from './codec.js';
import { DEFAULT_PREFIX, DEFAULT_STREAM, STATUS_TOKEN } from './subjects.js';

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Options of `NatsHistory`. */
export interface NatsHistoryOptions {
  /** An open NATS connection. */
  readonly connection: NatsConnection;
  /** @default 'FEED_BARS' */
  readonly stream?: string;
  /** @default 'feed.bars' */
  readonly prefix?: string;
}


/**
 * The bars a JetStream stream holds (what `BarPublisher` wrote) as a `HistoricalBars`: a warm-up
 * (`feed.warmUp({ history })`), a gap fill or a reconciliation can read them from NATS instead of a
 * provider's REST API, so that many programs share one provider connection for history too. Each
 * request reads the stream from the request's start (a bar is published after it ends, so nothing in
 * range is before) with an ordered consumer; the last version of each minute (revisions) wins.
 */
export class NatsHistory implements HistoricalBars {
  readonly stream: string;
  readonly prefix: string;
  readonly #nc: NatsConnection;

  constructor(options: NatsHistoryOptions) {
    this.#nc = options.connection;
    this.stream = options.stream ?? DEFAULT_STREAM;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
  }

  async barsBySymbol(request: HistoryRequest): Promise<Map<string, Bar[]>> {
    const from = requestTime(request.start, 0, 'start');
    const to = requestTime(request.end, Number.POSITIVE_INFINITY, 'end');
    const wanted = new Set(request.symbols);
    const found = new Map<string, Map<number, Bar>>();
    for (const s of request.symbols) found.set(s, new Map());
    const signal = request.signal;
    const aborted = (): FeedError => new FeedError({ code: 'aborted', message: 'NatsHistory: aborted', cause: signal?.reason });
    if (signal?.aborted === true) throw aborted();
    const consumer = await jetstream(this.#nc).consumers.get(this.stream, {
      filter_subjects: `${this.prefix}.>`,
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(Math.max(0, from)).toISOString(),
    });
    const info = await consumer.info();
    if (info.num_pending > 0) {
      const messages = await consumer.consume({ max_messages: 1000 });
      const onAbort = (): void => void messages.close();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const m of messages) {
          if (!m.subject.endsWith(`.${STATUS_TOKEN}`)) {
            const decoded = decodeBars(m.data);
            if (typeof decoded !== 'string') {
              for (const { bar } of decoded) {
                if (wanted.has(bar.symbol) && bar.start >= from && bar.start <= to) (found.get(bar.symbol) as Map<number, Bar>).set(bar.start, bar);
              }
            }
          }
          if (m.info.pending === 0) break;
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
        await messages.close();
      }
      // An abort may have come while reading.
      if (isAborted(signal)) throw aborted();
    }
    const out = new Map<string, Bar[]>();
    for (const [s, byStart] of found) out.set(s, [...byStart.values()].sort((a, b) => a.start - b.start));
    return out;
  }
}
