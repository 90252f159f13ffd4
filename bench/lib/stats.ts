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
 * absent), `values ÷ reference` — summarized, with how many were ≤ 1. Loads
 * of one run are measured back to back, so the pairs cancel the machine's
 * drift that the ratio of two medians keeps.
 */
export function pairedRatios(values: ReadonlyMap<number, number>, reference: ReadonlyMap<number, number>): Summary & { noLater: number } {
  const ratios: number[] = [];
  for (const [run, value] of values) {
    const ref = reference.get(run);
    if (ref !== undefined) ratios.push(value / ref);
  }
  const summary = summarize(ratios);
  return { ...summary, noLater: ratios.filter((r) => Number.isFinite(r) && r <= 1).length };
}
