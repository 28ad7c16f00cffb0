import { NEW_YORK, zonedTimeToEpoch } from '@feed/core';
import { parseDecimal } from './decimal.js';

const ISO_LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/;
const HAS_ZONE = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/** Seconds since the epoch below this are taken as seconds, at or above as milliseconds (1973-03-03 in ms). */
const MS_THRESHOLD = 1e11;

/** The earliest bar time a file may hold: 1990-01-01T00:00Z. */
export const PLAUSIBLE_FROM = Date.UTC(1990, 0, 1);
/** The first time past the latest a file may hold: 2100-01-01T00:00Z. */
export const PLAUSIBLE_TO = Date.UTC(2100, 0, 1);

/**
 * Parses a bar time: epoch seconds or milliseconds (told apart by size), or ISO 8601 / RFC 3339.
 * An ISO time without an offset is New York wall time (the exchange's), never the machine's zone.
 * Returns epoch ms, or NaN when the text is not a time. Whether the time is plausible is a separate
 * question (`isPlausibleTime`): an epoch with an extra digit parses, as year 2522.
 */
export function parseTime(text: string): number {
  const n = parseDecimal(text); // the common case, epoch seconds or ms; NaN for an ISO time
  if (Number.isFinite(n)) {
    return Math.abs(n) < MS_THRESHOLD ? Math.round(n * 1000) : Math.round(n);
  }
  const s = text.trim();
  if (HAS_ZONE.test(s)) return Date.parse(s);
  const m = ISO_LOCAL.exec(s);
  if (m === null) return Number.NaN;
  return zonedTimeToEpoch(NEW_YORK, Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
}

/** A time in [1990-01-01, 2100-01-01): anything else in a bar file is a typo or the wrong unit. */
export function isPlausibleTime(t: number): boolean {
  return t >= PLAUSIBLE_FROM && t < PLAUSIBLE_TO;
}
