/**
 * The island protocol's `hydrate` parser and validator (`islands/protocol.ts`),
 * shared by the layout compiler and the browser: every strategy, `media:`
 * queries with colons, and hostile values.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_STRATEGY, isHydrateValue, parseHydrate, STRATEGIES } from '../../islands/protocol.ts';

test('parseHydrate splits at the first colon; no value is the default', () => {
  assert.deepEqual(parseHydrate(null), [DEFAULT_STRATEGY, '']);
  assert.deepEqual(parseHydrate(''), ['visible', '']);
  assert.deepEqual(parseHydrate('load'), ['load', '']);
  assert.deepEqual(parseHydrate('media:(min-width: 600px)'), ['media', '(min-width: 600px)']);
  assert.deepEqual(parseHydrate('media:(a:b) and\n(c:d)'), ['media', '(a:b) and\n(c:d)']);
  assert.deepEqual(parseHydrate(':x'), ['', 'x']);
});

test('isHydrateValue accepts each strategy and media with a query, nothing else', () => {
  for (const name of STRATEGIES) assert.equal(isHydrateValue(name), name !== 'media', name);
  assert.equal(isHydrateValue('media:(max-width: 600px)'), true);
  for (const bad of ['', 'media:', 'load:now', 'Load', ' visible', 'visible ', '__proto__', 'constructor', 'toString:x', ':', 'none:', 'x'.repeat(10_000)]) {
    assert.equal(isHydrateValue(bad), false, JSON.stringify(bad.slice(0, 20)));
  }
});
