/** `2025-10-16T19:59:00Z` (Alpaca's form), or with nine fractional digits. */
export function formatTime(t: number, fractional = false): string {
  const iso = new Date(t).toISOString();
  return fractional ? `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000Z` : `${iso.slice(0, 19)}Z`;
}
