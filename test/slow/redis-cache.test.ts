/**
 * The render cache on a real redis-server (started here on a free port):
 * two Atoll instances over real HTTP on 127.0.0.1 share one cache, a purge
 * by tag on one reaches the other's both layers, entries expire with their
 * element's lifetime, a value over the size bound is not stored, and the
 * admin endpoint's authentication holds against hostile requests.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { control } from '../fixtures/redis-cache/control.ts';
import { fixture, serveSite, type TestServer } from '../helpers.ts';
import { startRedis, type TestRedis } from './redis-server.ts';

const TOKEN = 'test-token-0123456789abcdef';
const root = fixture('redis-cache');
const ctl = control();

/** Waits until `check` is true (polling), or fails after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const renders = (pid: string): number => ctl.rendered.filter((p) => p === pid).length;

describe('render cache on Redis: two instances', { timeout: 110_000 }, () => {
  let redis: TestRedis;
  let raw: Redis;
  let a: TestServer;
  let b: TestServer;
  const config = (extra: Record<string, unknown> = {}) => ({
    cache: { store: 'redis' as const, url: redis.url, prefix: 'rc-test:', maxValueBytes: 4096, statsInterval: 1000, purgeToken: TOKEN, ...extra },
  });

  before(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    a = await serveSite({ root, config: config(), env: {} });
    b = await serveSite({ root, config: config(), env: {} });
    await until(() => a.atoll.cache.stats()?.connection === 'ready' && b.atoll.cache.stats()?.connection === 'ready', 5000, 'both instances connected');
  });
  after(async () => {
    await a?.atoll.cache.close();
    await b?.atoll.cache.close();
    await a?.close();
    await b?.close();
    raw?.disconnect();
    await redis?.stop();
  });
  beforeEach(() => {
    ctl.rendered.length = 0;
    ctl.tags = (pid) => [`product:${pid}`, 'catalog'];
  });

  test('a render cached by instance A is a hit on instance B', async () => {
    const fromA = await (await a.get('/product/p1')).text();
    assert.match(fromA, /product p1/);
    assert.equal(renders('p1'), 1);
    // A's write is asynchronous: wait until Redis holds it.
    await until(() => (a.atoll.cache.stats()?.inFlight ?? 1) === 0, 2000, "A's write");
    const before = b.atoll.cache.stats()!.sharedHits;
    const fromB = await (await b.get('/product/p1')).text();
    assert.equal(renders('p1'), 1, 'B did not render: it read A\'s rendering from Redis');
    assert.equal(b.atoll.cache.stats()!.sharedHits, before + 1);
    const host = (html: string) => /<rc-product[\s\S]*?<\/rc-product>/.exec(html)![0];
    assert.equal(host(fromB), host(fromA));
    // Then B's own in-process layer answers.
    const local = b.atoll.cache.stats()!.localHits;
    await (await b.get('/product/p1')).text();
    assert.equal(b.atoll.cache.stats()!.localHits, local + 1);
    assert.equal(renders('p1'), 1);
    // The Redis value: namespaced by the prefix, with the element's lifetime.
    const keys = await raw.keys('rc-test:*');
    assert.ok(keys.some((k) => k === 'rc-test:t:product:p1'), `tag set present: ${keys.join(' ')}`);
    const entry = keys.find((k) => k.includes(':e:'))!;
    const ttl = await raw.pttl(entry);
    assert.ok(ttl > 55_000 && ttl <= 60_000, `TTL from cache="60s": ${ttl}`);
  });

  test('a purge by tag on A (admin endpoint) removes the entry on B, in Redis and in B\'s in-process layer', async () => {
    await (await a.get('/product/p2')).text();
    await until(() => a.atoll.cache.stats()!.inFlight === 0, 2000, "A's write");
    await (await b.get('/product/p2')).text(); // shared hit → now in B's local layer too
    await (await b.get('/product/p2')).text(); // local hit
    assert.equal(renders('p2'), 1);
    const messages = b.atoll.cache.stats()!.purgeMessages;
    const res = await a.get('/_atoll/cache/purge?tag=product:p2', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { tags: ['product:p2'], purged: 1 });
    await until(() => b.atoll.cache.stats()!.purgeMessages > messages, 2000, 'the purge message on B');
    assert.deepEqual(await raw.keys('rc-test:t:product:p2'), []);
    await (await b.get('/product/p2')).text();
    assert.equal(renders('p2'), 2, 'B rendered again: gone from both its layers');
    await until(() => b.atoll.cache.stats()!.inFlight === 0, 2000, "B's write");
    await (await a.get('/product/p2')).text();
    assert.equal(renders('p2'), 2, "A reads B's new rendering");
  });

  test('the programmatic purge (atoll.cache.purge) reaches every instance; a shared tag purges many entries', async () => {
    for (const id of ['q1', 'q2', 'q3']) await (await a.get(`/product/${id}`)).text();
    await until(() => a.atoll.cache.stats()!.inFlight === 0, 2000, "A's writes");
    for (const id of ['q1', 'q2', 'q3']) await (await b.get(`/product/${id}`)).text();
    assert.equal(ctl.rendered.length, 3);
    const messages = b.atoll.cache.stats()!.purgeMessages;
    const purged = await b.atoll.cache.purge(['catalog']);
    assert.ok(purged >= 3, `purged ${purged}`);
    await until(() => a.atoll.cache.stats()!.purgeMessages > messages - 1 && b.atoll.cache.stats()!.purgeMessages > messages, 2000, 'purge messages');
    await until(() => a.atoll.cache.stats()!.purgeMessages >= b.atoll.cache.stats()!.purgeMessages, 2000, 'the purge message on A');
    for (const id of ['q1', 'q2', 'q3']) await (await a.get(`/product/${id}`)).text();
    assert.equal(ctl.rendered.length, 6, 'A rendered all three again');
    await assert.rejects(b.atoll.cache.purge(['bad tag']), TypeError);
    await assert.rejects(b.atoll.cache.purge([]), TypeError);
  });

  test('entries expire with the element\'s lifetime (cache="1s"), in Redis and in the in-process layer', async () => {
    await (await a.get('/short/1')).text();
    await until(() => a.atoll.cache.stats()!.inFlight === 0, 2000, "A's write");
    await (await b.get('/short/1')).text();
    await (await a.get('/short/1')).text();
    assert.equal(renders('short-1'), 1);
    await new Promise((r) => setTimeout(r, 1100));
    assert.deepEqual((await raw.keys('rc-test:*')).filter((k) => k.endsWith('short-1')), []);
    await (await b.get('/short/1')).text();
    assert.equal(renders('short-1'), 2, 'expired everywhere');
  });

  test('a rendering over maxValueBytes is not stored in Redis (said once per element)', async () => {
    const before = (await raw.keys('rc-test:*')).length;
    await (await a.get('/big/1')).text();
    await (await a.get('/big/2')).text();
    await until(() => a.atoll.cache.stats()!.inFlight === 0, 2000, "A's writes");
    assert.equal((await raw.keys('rc-test:*')).length, before, 'nothing new in Redis');
    assert.ok(Number(a.atoll.cache.stats()!.tooLarge) >= 2);
    assert.equal(a.logs.filter((l) => String(l.msg).includes('larger than maxValueBytes')).length, 1);
    await (await b.get('/big/1')).text();
    assert.equal(ctl.rendered.filter((p) => p === 'big-1').length, 2, 'B had to render it');
  });

  test("the page's Cache-Control never claims more than a Redis hit has left", async () => {
    const first = await a.get('/product/cc');
    await first.text();
    const maxAge = (res: Response) => Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    assert.equal(maxAge(first), 60, 'fresh: the render-cache lifetime caps the element\'s 600 s');
    await until(() => a.atoll.cache.stats()!.inFlight === 0, 2000, "A's write");
    await new Promise((r) => setTimeout(r, 2100));
    const hit = await b.get('/product/cc');
    await hit.text();
    assert.equal(renders('cc'), 1, 'a hit on B');
    assert.ok(maxAge(hit) <= 58 && maxAge(hit) >= 50, `a hit 2 s later claims what the entry has left: ${hit.headers.get('cache-control')}`);
  });

  test('counters are logged when they change', async () => {
    await until(() => a.logs.some((l) => l.msg === 'render cache counters'), 3000, 'a counters line');
    const line = a.logs.findLast((l) => l.msg === 'render cache counters')!;
    for (const k of ['localHits', 'sharedHits', 'misses', 'errors', 'timeouts']) assert.equal(typeof line[k], 'number', k);
  });

  test('cacheTags() that throws or returns junk: the output is not cached, one line each', async () => {
    ctl.tags = (pid) => (pid === 'bad1' ? ['has space'] : (() => { throw new Error('no tags'); })());
    await (await a.get('/product/bad1')).text();
    await (await a.get('/product/bad1')).text();
    await (await a.get('/product/bad2')).text();
    await (await a.get('/product/bad2')).text();
    assert.equal(renders('bad1'), 2);
    assert.equal(renders('bad2'), 2);
    assert.ok(a.logs.some((l) => l.phase === 'cacheTags' && String(l.msg).includes('"has space"')));
    assert.ok(a.logs.some((l) => l.phase === 'cacheTags' && String(l.msg).includes('threw')));
  });

  describe('the admin endpoint', () => {
    const purge = (server: TestServer, init: RequestInit & { query?: string } = {}) =>
      server.get(`/_atoll/cache/purge${init.query ?? '?tag=product:x'}`, { method: 'POST', ...init });

    test('refuses a missing, wrong, malformed or huge token with 401; other methods 405', async () => {
      const cases: Array<Record<string, string>> = [
        {},
        { authorization: `Bearer ${TOKEN}x` },
        { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
        { authorization: TOKEN },
        { authorization: `Basic ${Buffer.from(`a:${TOKEN}`).toString('base64')}` },
        { authorization: `Bearer ${TOKEN} extra` },
        { authorization: 'Bearer ' },
        { authorization: `Bearer ${'x'.repeat(4000)}` },
        { authorization: `Bearer ${TOKEN.toUpperCase()}` },
      ];
      for (const headers of cases) {
        const res = await purge(a, { headers });
        assert.equal(res.status, 401, JSON.stringify(headers).slice(0, 80));
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
        await res.text();
      }
      const get = await a.get('/_atoll/cache/purge?tag=x', { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(get.status, 405);
      assert.equal(get.headers.get('allow'), 'POST');
      assert.equal((await purge(a, { headers: { authorization: `bearer   ${TOKEN}` } })).status, 200, 'the scheme is case-insensitive');
    });

    test('bad tag lists are 400; a hostile body is never read', async () => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      for (const query of ['', '?tag=', '?tag=a%20b', '?tag=%00', `?tag=${'x'.repeat(200)}`, `?${Array.from({ length: 101 }, (_, i) => `tag=t${i}`).join('&')}`, '?tags=a']) {
        const res = await purge(a, { headers: auth, query });
        assert.equal(res.status, 400, query.slice(0, 40));
        assert.match((await res.json()).error, /tag/);
      }
      // A megabyte of junk as the body, authorized and not: the answer does not depend on it.
      const junk = Buffer.alloc(1024 * 1024, 0xff);
      const ok = await purge(a, { headers: { ...auth, 'content-type': 'application/json' }, body: junk });
      assert.equal(ok.status, 200);
      const no = await purge(a, { body: junk });
      assert.equal(no.status, 401);
      // Duplicates count once.
      assert.deepEqual((await (await purge(a, { headers: auth, query: '?tag=z&tag=z' })).json()).tags, ['z']);
      // The server still answers pages.
      assert.equal((await a.get('/product/alive')).status, 200);
    });

    test('a request body that never ends does not hold the answer', async () => {
      const url = new URL(a.url);
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: '/_atoll/cache/purge?tag=a', headers: { authorization: `Bearer ${TOKEN}`, 'transfer-encoding': 'chunked' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        });
        req.on('error', reject);
        req.write('x'.repeat(1000)); // and never end it
      });
      assert.equal(status, 200);
    });

    test('an instance without a token has no endpoint: 404 for every method', async () => {
      const plain = await serveSite({ root, config: { cache: { store: 'redis', url: redis.url, prefix: 'rc-test:' } }, env: {} });
      try {
        for (const method of ['POST', 'GET', 'DELETE']) {
          const res = await plain.get('/_atoll/cache/purge?tag=a', { method, headers: { authorization: `Bearer ${TOKEN}` } });
          assert.equal(res.status, 404, method);
        }
      } finally {
        await plain.atoll.cache.close();
        await plain.close();
      }
    });

    test('ATOLL_PURGE_TOKEN and ATOLL_REDIS_URL in the environment win over the config', async () => {
      const envToken = 'env-token-abcdefghijklmnop';
      const s = await serveSite({ root, config: config({ url: 'redis://127.0.0.1:1' }), env: { ATOLL_PURGE_TOKEN: envToken, ATOLL_REDIS_URL: redis.url } });
      try {
        await until(() => s.atoll.cache.stats()?.connection === 'ready', 5000, 'connected through the environment URL');
        assert.equal((await purge(s, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 401);
        assert.equal((await purge(s, { headers: { authorization: `Bearer ${envToken}` } })).status, 200);
      } finally {
        await s.atoll.cache.close();
        await s.close();
      }
      await assert.rejects(serveSite({ root, config: config(), env: { ATOLL_PURGE_TOKEN: 'short' } }), /ATOLL_PURGE_TOKEN: the token must be 16-256/);
      await assert.rejects(serveSite({ root, config: config(), env: { ATOLL_REDIS_URL: 'http://x' } }), /ATOLL_REDIS_URL: .*redis:\/\//);
    });
  });
});
