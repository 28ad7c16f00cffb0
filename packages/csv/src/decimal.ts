/** Powers of ten that are exact doubles (10^0 ... 10^22). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** A decimal number: optional sign, digits with an optional point, an optional exponent. Nothing else. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses a decimal number (`-12.345`, `645786.0`, `1.5e6`) exactly as `Number()` would, and nothing
 * else: hex (`0x21C`), binary (`0b101`), `Infinity`, white space inside or an empty cell are NaN.
 * The common case is fast: digits are accumulated into an integer m (while m < 2^53) and the result
 * is m / 10^k, a division of two exact doubles, which IEEE 754 rounds correctly, as `Number()` does.
 * Surrounding spaces are allowed (some writers pad cells).
 */
export function parseDecimal(s: string): number {
  const n = s.length;
  if (n === 0 || n > 17) return slow(s);
  let i = 0;
  let neg = false;
  let c = s.charCodeAt(0);
  if (c === 45 /* - */) {
    neg = true;
    i = 1;
  } else if (c === 43 /* + */) i = 1;
  if (i === n) return Number.NaN;
  let m = 0;
  let frac = -1;
  let digits = 0;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      if (frac >= 0) frac++;
    } else if (c === 46 /* . */ && frac < 0) frac = 0;
    else return slow(s);
  }
  if (digits === 0 || digits > 15) return slow(s);
  const v = frac > 0 ? m / (POW10[frac] as number) : m;
  return neg ? -v : v;
}

function slow(s: string): number {
  const t = s.trim();
  return DECIMAL.test(t) ? Number(t) : Number.NaN;
}
