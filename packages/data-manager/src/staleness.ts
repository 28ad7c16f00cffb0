/** Default staleness time constant: a bar whose close is 60 s old weighs exp(-1) = 0.368. */
export const DEFAULT_STALENESS_TAU_MS = 60_000;

/**
 * The weight of a price whose bar closed `ageMs` ago: exp(-age / tau), in (0, 1]. A bar that has
 * just closed (age 0) weighs 1; a negative age (a clock behind the bar) is treated as 0.
 */
export function stalenessWeight(ageMs: number, tauMs: number = DEFAULT_STALENESS_TAU_MS): number {
  return ageMs <= 0 ? 1 : Math.exp(-ageMs / tauMs);
}
