/** Powers of ten that are exact doubles (10^0 ... 10^22). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Parses a plain decimal (`-12.345`, `645786.0`) exactly as `Number()` would, faster: digits are
 * accumulated into an integer m (while m < 2^53) and the result is m / 10^k, a division of two exact
 * doubles, which IEEE 754 rounds correctly, as `Number()` does. Anything else (exponents, more than
 * 15 significant digits, white space, hex) falls back to `Number()`. An empty string is NaN, not 0.
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
  if (s.trim() === '') return Number.NaN;
  return Number(s);
}
