/**
 * bench/lib/stats.ts's paired ratios (`bench:islands` prints them beside the
 * ratio of the medians): pairs are made by run, never by position, so a
 * failed load of one variant does not shift every later pair; runs present
 * on one side only are left out; the count of pairs no later than the
 * reference is exact.
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
  });

  test('no common run: nothing to summarize', () => {
    const r = pairedRatios(new Map([[0, 1]]), new Map([[1, 1]]));
    assert.equal(r.n, 0);
    assert.ok(Number.isNaN(r.median));
    assert.equal(r.noLater, 0);
  });
});
