/** Summaries of repeated measurements: median and spread. */

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  /** First and third quartile (linear interpolation). */
  q1: number;
  q3: number;
}

const quantile = (sorted: readonly number[], q: number): number => {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
};

/** Median, min, max and quartiles of the finite values in `xs` (NaN everywhere when there are none). */
export function summarize(xs: readonly number[]): Summary {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN, q1: NaN, q3: NaN };
  return { n: s.length, median: quantile(s, 0.5), min: s[0]!, max: s[s.length - 1]!, q1: quantile(s, 0.25), q3: quantile(s, 0.75) };
}

/**
 * Paired ratios: for every run present in both `values` and `reference`
 * (maps from a run's index to its measurement; a failed load is simply
 * absent, and a pair whose ratio is not finite is left out), `values ÷
 * reference` — summarized, with a 95 % bootstrap
 * interval of their median (`low`–`high`) and how many were ≤ 1. Loads
 * of one run are measured back to back, so the pairs cancel the machine's
 * drift that the ratio of two medians keeps.
 */
export function pairedRatios(values: ReadonlyMap<number, number>, reference: ReadonlyMap<number, number>): Summary & { low: number; high: number; noLater: number } {
  const ratios: number[] = [];
  for (const [run, value] of values) {
    const ref = reference.get(run);
    if (ref !== undefined && Number.isFinite(value / ref)) ratios.push(value / ref);
  }
  const { low, high } = medianWithInterval(ratios);
  return { ...summarize(ratios), low, high, noLater: ratios.filter((r) => r <= 1).length };
}

/** The median of `xs` (NaN for none). */
export function median(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : quantile([...xs].sort((a, b) => a - b), 0.5);
}

/**
 * The median of `xs` with a 95 % bootstrap interval (percentile method,
 * `resamples` draws from a fixed-seed generator, so a run's numbers can be
 * recomputed exactly).
 */
export function medianWithInterval(xs: readonly number[], resamples = 2000): { median: number; low: number; high: number } {
  if (xs.length === 0) return { median: NaN, low: NaN, high: NaN };
  let seed = 0x2545f491;
  const random = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const medians: number[] = [];
  const draw = new Array<number>(xs.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < xs.length; i++) draw[i] = xs[Math.floor(random() * xs.length)]!;
    medians.push(median(draw));
  }
  medians.sort((a, b) => a - b);
  return { median: median([...xs]), low: medians[Math.floor(resamples * 0.025)]!, high: medians[Math.ceil(resamples * 0.975) - 1]! };
}
