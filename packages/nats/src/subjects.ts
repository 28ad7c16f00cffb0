/** Subjects are `<prefix>.<SYMBOL>` by default `feed.bars.TQQQ`. */
export const DEFAULT_PREFIX = 'feed.bars';
/**
 * The last token of the subject of a batch of several symbols' bars (`feed.bars._batch`): never a
 * symbol (symbols are upper case), so a consumer of some symbols reads it beside theirs and keeps
 * the bars it wants.
 */
export const BATCH_TOKEN = '_batch';
/** The last token of the subject of trading statuses (`feed.bars._status`): never a symbol, read beside the bars. */
export const STATUS_TOKEN = '_status';
/** The stream both sides use unless told otherwise. */
export const DEFAULT_STREAM = 'FEED_BARS';

/** The subject of a symbol's bars. A symbol with a character NATS gives meaning to is refused. */
export function subjectOf(prefix: string, symbol: string): string {
  if (!/^[A-Za-z0-9_\-/:^$=]+$/.test(symbol)) throw new Error(`symbol '${symbol}' cannot be a NATS subject token`);
  return `${prefix}.${symbol}`;
}
