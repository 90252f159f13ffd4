/**
 * The render cache: a bounded LRU behind a store interface; elements with a
 * `cache` lifetime render once per tag, attributes and data; the page's
 * Cache-Control never claims more than a cached part allows.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { LruStore, cacheKey, type CacheEntry, type RenderCacheStore } from '../../ssr-server/render/cache.ts';
import { control } from '../fixtures/streaming/control.ts';
import { fixture, serveSite, type TestServer } from '../helpers.ts';

describe('LruStore', () => {
  test('evicts the least recently used entry beyond maxEntries', () => {
    const s = new LruStore({ maxEntries: 2 });
    s.set('a', { html: 'A', expires: Infinity });
    s.set('b', { html: 'B', expires: Infinity });
    s.get('a');
    s.set('c', { html: 'C', expires: Infinity });
    assert.equal(s.get('b'), undefined);
    assert.equal(s.get('a')?.html, 'A');
    assert.equal(s.size, 2);
  });

  test('stays within maxChars, and refuses an entry larger than the whole cache', () => {
    const s = new LruStore({ maxChars: 100 });
    for (let i = 0; i < 10; i++) s.set(`k${i}`, { html: 'x'.repeat(30), expires: Infinity });
    assert.ok(s.size <= 3);
    s.set('huge', { html: 'x'.repeat(500), expires: Infinity });
    assert.equal(s.get('huge'), undefined);
  });

  test('expired entries are misses', () => {
    let t = 1000;
    const s = new LruStore({ now: () => t });
    s.set('a', { html: 'A', expires: 1500 });
    assert.equal(s.get('a')?.html, 'A');
    t = 1500;
    assert.equal(s.get('a'), undefined);
  });

  test('keys differ by tag, attributes (in any order) and data', () => {
    assert.equal(cacheKey('x-a', [['a', '1'], ['b', '2']], undefined), cacheKey('x-a', [['b', '2'], ['a', '1']], undefined));
    assert.notEqual(cacheKey('x-a', [['a', '1']], JSON.stringify({ n: 1 })), cacheKey('x-a', [['a', '1']], JSON.stringify({ n: 2 })));
    assert.notEqual(cacheKey('x-a', [], undefined), cacheKey('x-b', [], undefined));
  });
});

describe('render cache in pages', () => {
  let server: TestServer;
  const ctl = control();
  const asyncStore = new (class implements RenderCacheStore {
    map = new Map<string, CacheEntry>();
    async get(key: string) {
      await new Promise((r) => setTimeout(r, 1));
      return this.map.get(key);
    }
    async set(key: string, entry: CacheEntry) {
      this.map.set(key, entry);
    }
  })();
  before(async () => {
    server = await serveSite({ root: fixture('streaming') });
  });
  after(() => server.close());
  beforeEach(() => {
    ctl.rendered.length = 0;
    ctl.data = () => ({});
    ctl.headers = () => undefined;
  });

  test('an element with cache="60s" renders once for the same attributes; others every time', async () => {
    const first = await (await server.get('/cached/1')).text();
    const second = await (await server.get('/cached/1')).text();
    assert.equal(first, second.replace(/x-request-id/g, 'x-request-id'));
    assert.deepEqual(ctl.rendered, ['cached-1', 'uncached-1', 'uncached-1']);
    await (await server.get('/cached/2')).text();
    assert.deepEqual(ctl.rendered.slice(3), ['cached-2', 'uncached-2'], 'other attributes are another entry');
  });

  test('an asynchronous store (e.g. a shared one) works the same way', async () => {
    const s = await serveSite({ root: fixture('streaming'), cache: asyncStore });
    try {
      const a = await (await s.get('/cached/9')).text();
      const b = await (await s.get('/cached/9')).text();
      assert.equal(a, b);
      assert.deepEqual(ctl.rendered, ['cached-9', 'uncached-9', 'uncached-9']);
      assert.equal(asyncStore.map.size, 1);
    } finally {
      await s.close();
    }
  });

  test('the page never claims a longer lifetime than a cached part allows', async () => {
    ctl.data = () => ({ label: 'x' });
    ctl.headers = () => ({ 'cache-control': 'public, max-age=600' });
    const res = await server.get('/cachecap/1');
    await res.text();
    assert.equal(res.headers.get('cache-control'), 'public, max-age=30');
  });

  test('output marked private or no-store is never put in the shared render cache', async () => {
    ctl.data = () => ({ label: 'per-user' });
    ctl.headers = () => ({ 'cache-control': 'private, max-age=60' });
    await (await server.get('/cachecap/2')).text();
    await (await server.get('/cachecap/2')).text();
    assert.deepEqual(ctl.rendered, ['capped-2', 'capped-2']);
    ctl.headers = () => undefined;
    await (await server.get('/cachecap/3')).text();
    await (await server.get('/cachecap/3')).text();
    assert.deepEqual(ctl.rendered.slice(2), ['capped-3'], 'without private it is cached');
  });

  test('cache: false turns it off', async () => {
    const s = await serveSite({ root: fixture('streaming'), cache: false });
    try {
      await (await s.get('/cached/5')).text();
      await (await s.get('/cached/5')).text();
      assert.deepEqual(ctl.rendered, ['cached-5', 'uncached-5', 'cached-5', 'uncached-5']);
    } finally {
      await s.close();
    }
  });
});
