/**
 * bench/lib/stats.ts's paired ratios (`bench:islands` prints them beside the
 * ratio of the medians): pairs are made by run, never by position, so a
 * failed load of one variant does not shift every later pair; runs present
 * on one side only are left out; the count of pairs no later than the
 * reference is exact; the median's bootstrap interval holds it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pairedRatios } from '../../bench/lib/stats.ts';

describe('pairedRatios', () => {
  test('pairs by run: a gap on one side leaves that run out instead of shifting the rest', () => {
    // Run 1 of the variant failed; pairing by position would divide 120 by 100, 90 by 200, 300 by 150.
    const values = new Map([[0, 100], [2, 120], [3, 90], [4, 300]]);
    const reference = new Map([[0, 100], [1, 100], [2, 200], [3, 90], [4, 150]]);
    const r = pairedRatios(values, reference);
    assert.equal(r.n, 4);
    assert.equal(r.min, 0.6);
    assert.equal(r.max, 2);
    assert.equal(r.median, 1); // ratios 1, 0.6, 1, 2
    assert.equal(r.noLater, 3);
  });

  test('a drift that hits both loads of each run alike cancels out', () => {
    // The machine gets slower run by run; the variant is always 10 % faster than the reference.
    const reference = new Map(Array.from({ length: 9 }, (_, run) => [run, 500 + 100 * run] as [number, number]));
    const values = new Map([...reference].map(([run, ms]) => [run, ms * 0.9] as [number, number]));
    const r = pairedRatios(values, reference);
    assert.ok(Math.abs(r.median - 0.9) < 1e-9 && Math.abs(r.min - 0.9) < 1e-9 && Math.abs(r.max - 0.9) < 1e-9);
    assert.equal(r.noLater, 9);
    // Every pair the same ratio: the interval of the median is that ratio.
    assert.ok(Math.abs(r.low - 0.9) < 1e-9 && Math.abs(r.high - 0.9) < 1e-9);
  });

  test('the median comes with a 95 % bootstrap interval that holds it and widens with the spread', () => {
    const reference = new Map(Array.from({ length: 21 }, (_, run) => [run, 1000] as [number, number]));
    // Ratios 0.80, 0.82, …, 1.20 around a median of 1.00.
    const spread = new Map([...reference].map(([run]) => [run, 800 + 20 * run] as [number, number]));
    const r = pairedRatios(spread, reference);
    assert.equal(r.median, 1);
    assert.ok(r.low < 1 && r.high > 1, `[${r.low}, ${r.high}]`);
    assert.ok(r.low >= 0.8 && r.high <= 1.2);
    // A narrower spread (0.99 … 1.01) gives a narrower interval.
    const tight = pairedRatios(new Map([...reference].map(([run]) => [run, 990 + run] as [number, number])), reference);
    assert.ok(tight.high - tight.low < r.high - r.low);
  });

  test('no common run: nothing to summarize', () => {
    const r = pairedRatios(new Map([[0, 1]]), new Map([[1, 1]]));
    assert.equal(r.n, 0);
    assert.ok(Number.isNaN(r.median) && Number.isNaN(r.low) && Number.isNaN(r.high));
    assert.equal(r.noLater, 0);
  });
});
