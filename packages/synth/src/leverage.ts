/**
 * The daily-reset leverage model the funds follow: within a session,
 * price(t) = prevCloseEtf * (1 + L * (underlying(t) / prevCloseUnderlying - 1)).
 * Not a product of leveraged minute returns.
 */
export function leveragedPrice(
  prevCloseEtf: number,
  prevCloseUnderlying: number,
  underlying: number,
  leverage: number,
): number {
  return prevCloseEtf * (1 + leverage * (underlying / prevCloseUnderlying - 1));
}
