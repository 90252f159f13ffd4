/**
 * The parts of the shared render cache that need no Redis (issue 17): tags
 * and purges in the in-process store, the two-layer store over a fake
 * shared store (local hits, the per-page read budget, failures as misses,
 * purge messages), the Redis value format, the purge endpoint's token
 * check, and the config's `cache` section with its errors at file:line:col.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bearerMatches } from '../../ssr-server/cache/purge-endpoint.ts';
import { decodeValue, encodeValue, redactedUrl } from '../../ssr-server/cache/redis.ts';
import { formatProblem, ProblemList } from '../../ssr-server/errors.ts';
import { createAtoll, memoryLogger } from '../../ssr-server/index.ts';
import {
  checkCacheTags,
  LayeredStore,
  LruStore,
  purgeTagsProblem,
  type CacheEntry,
  type SharedCacheStore,
} from '../../ssr-server/render/cache.ts';
import { loadConfig } from '../../ssr-server/site/config.ts';
import { fixture, makeSite } from '../helpers.ts';

const entry = (html: string, tags?: string[], expires = Date.now() + 60_000): CacheEntry => ({ html, expires, ...(tags ? { tags } : {}) });

describe('LruStore: tags and purges', () => {
  test('a purge drops exactly the entries carrying a tag, and the index follows evictions and overwrites', () => {
    const s = new LruStore({ maxEntries: 3 });
    s.set('a', entry('A', ['p:1', 'all']));
    s.set('b', entry('B', ['p:2', 'all']));
    s.set('c', entry('C'));
    assert.equal(s.purge(['p:1']), 1);
    assert.equal(s.get('a'), undefined);
    assert.equal(s.get('b')?.html, 'B');
    s.set('b', entry('B2', ['p:3'])); // overwritten without 'all'
    assert.equal(s.purge(['all']), 0);
    assert.equal(s.purge(['p:3']), 1);
    assert.equal(s.purge(['nothing']), 0);
    s.set('d', entry('D', ['x']));
    s.set('e', entry('E', ['x']));
    s.set('f', entry('F', ['x']));
    s.set('g', entry('G', ['x'])); // evicts
    assert.equal(s.purge(['x']), 3);
    assert.equal(s.size, 0);
  });

  test('maxTtl bounds how long an entry stays, whatever its own lifetime; clear() drops everything', () => {
    let t = 1000;
    const s = new LruStore({ maxTtl: 100, now: () => t });
    s.set('a', { html: 'A', expires: 100_000 });
    t = 1099;
    assert.equal(s.get('a')?.expires, 100_000, 'the entry keeps its own expiry (for Cache-Control)');
    t = 1100;
    assert.equal(s.get('a'), undefined);
    s.set('b', entry('B'));
    s.clear();
    assert.equal(s.size, 0);
  });
});

describe('cacheTags() values', () => {
  test('valid lists pass, de-duplicated; junk is a problem, never a throw', () => {
    assert.deepEqual(checkCacheTags(['product:42', 'catalog', 'product:42']), { tags: ['product:42', 'catalog'] });
    assert.deepEqual(checkCacheTags(undefined), { tags: [] });
    const hostile = new Proxy([], { get() { throw new Error('boom'); } });
    const bad: unknown[] = ['product:1', 42, {}, ['a b'], [''], ['x'.repeat(129)], [1], ['a,b'], ['é'], Array.from({ length: 33 }, (_, i) => `t${i}`), hostile];
    bad.forEach((value, i) => assert.ok('problem' in checkCacheTags(value), `case ${i}`));
  });

  test('purge lists: 1 to 100 valid tags', () => {
    assert.equal(purgeTagsProblem(['a', 'b:c']), undefined);
    assert.match(purgeTagsProblem([])!, /at least one/);
    assert.match(purgeTagsProblem('a')!, /array/);
    assert.match(purgeTagsProblem(Array.from({ length: 101 }, () => 'a'))!, /at most 100/);
    assert.match(purgeTagsProblem(['ok', 'no way'])!, /"no way" is not a tag/);
    assert.match(purgeTagsProblem([null])!, /object is not a tag/);
  });
});

/** A shared store in memory whose answers a test controls. */
class FakeShared implements SharedCacheStore {
  map = new Map<string, CacheEntry>();
  delay = 0;
  hang = false;
  fail = false;
  gets = 0;
  listeners: Array<(tags: readonly string[] | 'all') => void> = [];
  async get(key: string) {
    this.gets++;
    if (this.hang) return new Promise<never>(() => {});
    if (this.delay > 0) await new Promise((r) => setTimeout(r, this.delay));
    if (this.fail) throw new Error('down');
    return this.map.get(key);
  }
  async set(key: string, e: CacheEntry) {
    if (this.fail) throw new Error('down');
    this.map.set(key, e);
  }
  async purge(tags: readonly string[]) {
    let n = 0;
    for (const [k, e] of this.map) if (e.tags?.some((t) => tags.includes(t))) n += this.map.delete(k) ? 1 : 0;
    for (const l of this.listeners) l(tags);
    return n;
  }
  onPurge(l: (tags: readonly string[] | 'all') => void) {
    this.listeners.push(l);
  }
  async close() {}
}

describe('LayeredStore (two layers over a fake shared store)', () => {
  test('a shared hit is kept locally; the next read is a synchronous local hit', async () => {
    const shared = new FakeShared();
    shared.map.set('k', entry('<p>k</p>', ['t']));
    const s = new LayeredStore(shared);
    const first = s.get('k');
    assert.ok(first instanceof Promise);
    assert.equal((await first)?.html, '<p>k</p>');
    const second = s.get('k');
    assert.ok(!(second instanceof Promise));
    assert.equal(second?.html, '<p>k</p>');
    assert.ok(second?.bytes instanceof Uint8Array);
    assert.equal(shared.gets, 1);
    assert.deepEqual([s.stats().sharedHits, s.stats().localHits], [1, 1]);
  });

  test('a page waits on the shared store at most its read budget, all reads together', async () => {
    const shared = new FakeShared();
    shared.hang = true;
    const s = new LayeredStore(shared, { readBudget: 40 });
    const page = {};
    const started = performance.now();
    assert.equal(await s.get('a', page), undefined);
    const waited = performance.now() - started;
    assert.ok(waited >= 35 && waited < 200, `waited ${waited.toFixed(1)} ms`);
    // The budget is spent: the next reads of this page do not even ask.
    const gets = shared.gets;
    assert.equal(s.get('b', page), undefined);
    assert.equal(shared.gets, gets);
    // Another page has its own budget.
    assert.ok(s.get('c', {}) instanceof Promise);
    assert.ok(s.stats().timeouts >= 2);
  });

  test('a failing shared store is a miss (counted), never a rejection; a failed write keeps the local entry', async () => {
    const shared = new FakeShared();
    shared.fail = true;
    const s = new LayeredStore(shared);
    assert.equal(await s.get('a'), undefined);
    s.set('a', entry('A'));
    await new Promise((r) => setImmediate(r));
    assert.equal(s.stats().errors, 2);
    assert.equal((s.get('a') as CacheEntry | undefined)?.html, 'A');
  });

  test('an expired shared entry is a miss', async () => {
    const shared = new FakeShared();
    shared.map.set('k', entry('old', undefined, Date.now() - 1));
    const s = new LayeredStore(shared);
    assert.equal(await s.get('k'), undefined);
    assert.equal(s.stats().misses, 1);
  });

  test('purge messages drop tagged local entries; "all" (messages missed) drops everything local', async () => {
    const shared = new FakeShared();
    const s = new LayeredStore(shared);
    s.set('a', entry('A', ['p:1']));
    s.set('b', entry('B', ['p:2']));
    s.set('c', entry('C'));
    for (const l of shared.listeners) l(['p:1']);
    assert.equal(s.local!.get('a'), undefined);
    assert.equal(s.local!.get('b')?.html, 'B');
    for (const l of shared.listeners) l('all');
    assert.equal(s.local!.size, 0);
    assert.equal(s.stats().purgeMessages, 2);
  });

  test('localEntries: 0 means no in-process layer', async () => {
    const shared = new FakeShared();
    const s = new LayeredStore(shared, { localEntries: 0 });
    s.set('a', entry('A'));
    await new Promise((r) => setImmediate(r));
    assert.ok(s.get('a') instanceof Promise);
  });
});

describe('the Redis value format', () => {
  test('round-trips HTML bytes, expiry and tags', () => {
    const e = { html: '<p>héllo ✓</p>', expires: 1_900_000_000_123, tags: ['a', 'b:c'] };
    const d = decodeValue(encodeValue(e))!;
    assert.deepEqual([d.html, d.expires, d.tags], [e.html, e.expires, e.tags]);
    assert.deepEqual([...d.bytes!], [...new TextEncoder().encode(e.html)]);
    assert.equal(decodeValue(encodeValue({ html: 'x', expires: 5 }))!.tags, undefined);
  });

  test('anything else decodes to nothing', () => {
    const good = encodeValue({ html: 'x', expires: 5, tags: ['t'] });
    const badTags = Buffer.from(good);
    badTags.write('[1]', 11);
    const tooLong = Buffer.from(good);
    tooLong.writeUInt16BE(60_000, 9);
    for (const v of [Buffer.alloc(0), Buffer.from('<p>plain html</p>'), Buffer.from([2, ...good.subarray(1)]), badTags, tooLong]) assert.equal(decodeValue(v), undefined);
  });

  test('a URL in log lines hides its password', () => {
    assert.equal(redactedUrl('redis://user:secret@h:6379/1'), 'redis://user:***@h:6379/1');
    assert.ok(!redactedUrl('rediss://:s3cr3t@h').includes('s3cr3t'));
  });
});

describe('the purge endpoint token', () => {
  const token = 'abcdefghijklmnop0123';
  test('only "Bearer <token>" matches', () => {
    assert.ok(bearerMatches(`Bearer ${token}`, token));
    assert.ok(bearerMatches(`bearer ${token}`, token));
    for (const given of [null, '', token, `Bearer ${token}x`, `Bearer ${token.slice(1)}`, `Basic ${token}`, `Bearer ${token} ${token}`, `Bearer\t${token}`, 'Bearer ' + 'a'.repeat(5000)]) {
      assert.equal(bearerMatches(given, token), false, String(given).slice(0, 30));
    }
  });
});

describe('the cache config', () => {
  const problemsOf = async (config: unknown): Promise<string[]> => {
    const root = makeSite({ 'atoll.config.json': JSON.stringify({ cache: config }, null, 2) });
    const problems = new ProblemList();
    await loadConfig(root, problems);
    return problems.errors.map(formatProblem);
  };

  test('a valid Redis section resolves durations to ms', async () => {
    const root = makeSite({ 'atoll.config.json': JSON.stringify({ cache: { store: 'redis', url: 'redis://127.0.0.1:6379/2', prefix: 'shop:', readBudget: '50ms', localTtl: '2s', statsInterval: '1m', maxValueBytes: 65536, localEntries: 100, purgeToken: 'x'.repeat(16) } }) });
    const problems = new ProblemList();
    const config = await loadConfig(root, problems);
    assert.deepEqual(problems.errors, []);
    assert.deepEqual(JSON.parse(JSON.stringify(config.config.cache)), {
      store: 'redis', url: 'redis://127.0.0.1:6379/2', prefix: 'shop:', readBudget: 50, localTtl: 2000, statsInterval: 60000, maxValueBytes: 65536, localEntries: 100, purgeToken: 'x'.repeat(16),
    });
  });

  test('mistakes are errors at file:line:col', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ store: 'redis' }, /"redis" store needs a "url"/],
      [{ store: 'memcached' }, /"memcached" is not a store: use "memory" or "redis"/],
      [{ store: 'redis', url: 'http://127.0.0.1:6379' }, /not a redis:\/\/ or rediss:\/\/ URL/],
      [{ store: 'redis', url: 'redis://' }, /has no host|not a Redis URL/],
      [{ store: 'redis', url: 'redis://h:1/db' }, /database number/],
      [{ store: 'redis', url: 'redis://h:1/0 x' }, /percent-encode/],
      [{ url: 'redis://h:1' }, /for the shared store: add "store": "redis"/],
      [{ store: 'redis', url: 'redis://h', prefix: 'a b' }, /not a key prefix/],
      [{ store: 'redis', url: 'redis://h', readBudget: 5000 }, /readBudget/],
      [{ store: 'redis', url: 'redis://h', maxValueBytes: 10 }, /not a whole number of bytes from 1024/],
      [{ store: 'redis', url: 'redis://h', localEntries: -1 }, /from 0 to 1000000/],
      [{ store: 'redis', url: 'redis://h', purgeToken: 'short' }, /16-256 printable characters.*ATOLL_PURGE_TOKEN/],
      [{ store: 'redis', url: 'redis://h', purgeToken: 'has a space in it ok' }, /space or control character/],
      [{ store: 'redis', url: 'redis://h', ttl: 5 }, /ttl.*known: store, url/],
      ['redis', /must be an object such as \{ "store": "redis"/],
    ];
    for (const [config, re] of cases) {
      const errors = await problemsOf(config);
      assert.equal(errors.length, 1, `${JSON.stringify(config)}: ${errors.join(' | ')}`);
      assert.match(errors[0]!, /^atoll\.config\.json:\d+:\d+: /, errors[0]);
      assert.match(errors[0]!, re);
      assert.ok(!errors[0]!.includes('x'.repeat(16)));
    }
  });

  test('the environment: a bad ATOLL_PURGE_TOKEN refuses a start that has a cache, not one without (export, the testing kit); empty means unset', async () => {
    const root = fixture('redis-cache');
    await assert.rejects(createAtoll({ root, logger: memoryLogger(), env: { ATOLL_PURGE_TOKEN: 'short' } }), /ATOLL_PURGE_TOKEN: the token must be 16-256/);
    const none = await createAtoll({ root, logger: memoryLogger(), cache: false, env: { ATOLL_PURGE_TOKEN: 'short' } });
    assert.equal((await none.request('/_atoll/cache/purge?tag=a', { method: 'POST', headers: { authorization: 'Bearer short' } })).status, 404);
    const empty = await createAtoll({ root, logger: memoryLogger(), env: { ATOLL_PURGE_TOKEN: '', ATOLL_REDIS_URL: '' } });
    assert.equal((await empty.request('/_atoll/cache/purge?tag=a', { method: 'POST' })).status, 404);
  });

  test('the memory store with localEntries; Redis only loads for "redis"', async () => {
    const atoll = await createAtoll({ root: fixture('redis-cache'), logger: memoryLogger(), config: { cache: { store: 'memory', localEntries: 10 } } });
    assert.equal(atoll.cache.stats(), undefined);
    await (await atoll.request('/product/m1')).text();
    assert.equal(await atoll.cache.purge(['product:m1']), 1, 'the in-process store purges by tag too');
    await atoll.cache.close();
  });
});
