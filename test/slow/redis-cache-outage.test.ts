/**
 * A Redis outage costs cache hits, never a page: with the real redis-server
 * stopped mid-run, paused (the connection up, nothing answering) or absent
 * at start-up, pages still complete, at normal latency (bounded below), the
 * outage is logged once, and the shared layer is used again once Redis is
 * back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { control } from '../fixtures/redis-cache/control.ts';
import { fixture, serveSite, type TestServer } from '../helpers.ts';
import { startRedis, type TestRedis } from './redis-server.ts';

const root = fixture('redis-cache');
const ctl = control();
/** A page with six cached elements, each a local miss (a fresh id): six Redis reads when Redis is up. */
let fresh = 0;
const manyPath = () => `/many/o${++fresh}`;

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Loads `path` and returns the time to the last byte (ms), checking the page is whole. */
async function timedPage(server: TestServer, path: string): Promise<number> {
  const started = performance.now();
  const res = await server.get(path);
  const html = await res.text();
  const ms = performance.now() - started;
  assert.equal(res.status, 200);
  assert.equal((html.match(/<p class="product">/g) ?? []).length, 6, 'all six elements rendered');
  assert.match(html, /<\/html>/);
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

describe('render cache on Redis: outages', { timeout: 110_000 }, () => {
  let redis: TestRedis;
  let a: TestServer;
  let b: TestServer;
  const config = () => ({ cache: { store: 'redis' as const, url: redis.url, prefix: 'rc-outage:', readBudget: 30, statsInterval: 1000 } });
  const budgetMs = 30;
  const figures: Record<string, number> = {};

  before(async () => {
    redis = await startRedis();
    a = await serveSite({ root, config: config(), env: {} });
    b = await serveSite({ root, config: config(), env: {} });
    await until(() => a.atoll.cache.stats()?.connection === 'ready' && b.atoll.cache.stats()?.connection === 'ready', 5000, 'connected');
    for (let i = 0; i < 5; i++) await timedPage(a, manyPath()); // warm up the renderer
  });
  after(async () => {
    await a?.atoll.cache.close();
    await b?.atoll.cache.close();
    await a?.close();
    await b?.close();
    await redis?.stop();
    console.log(`# outage figures (ms): ${JSON.stringify(figures)}`);
  });

  test('Redis stopped mid-run: pages complete at normal latency, the loss is logged once, and the cache recovers when Redis returns', async () => {
    const up: number[] = [];
    for (let i = 0; i < 15; i++) up.push(await timedPage(a, manyPath()));
    figures.upMedian = median(up);
    // A hit through Redis, for the record.
    await timedPage(a, '/many/shared');
    await until(() => a.atoll.cache.stats()!.inFlight === 0, 2000, 'writes');
    const hitTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await (await b.get('/many/shared')).text();
      hitTimes.push(performance.now() - started);
    }
    figures.bFirstSharedHitPage = hitTimes[0]!;
    figures.bLocalHitPageMedian = median(hitTimes.slice(1));

    await redis.stop();
    await until(() => a.logs.some((l) => l.level === 'warn' && /Redis is unreachable|connection to Redis was lost/.test(String(l.msg))), 5000, 'the outage line');
    const errorsBefore = Number(a.atoll.cache.stats()!.unavailable) + a.atoll.cache.stats()!.errors;
    const down: number[] = [];
    for (let i = 0; i < 20; i++) down.push(await timedPage(a, manyPath()));
    figures.downMedian = median(down);
    figures.downMax = Math.max(...down);
    assert.ok(figures.downMax < 250, `every page complete within 250 ms while Redis is down (max ${figures.downMax.toFixed(1)} ms)`);
    assert.ok(figures.downMedian < figures.upMedian * 2 + 20, `no slower than with Redis up (median ${figures.downMedian.toFixed(1)} vs ${figures.upMedian.toFixed(1)} ms)`);
    assert.ok(Number(a.atoll.cache.stats()!.unavailable) + a.atoll.cache.stats()!.errors > errorsBefore, 'counted');
    const outageLines = a.logs.filter((l) => l.level === 'warn' && /Redis/.test(String(l.msg)));
    assert.equal(outageLines.length, 1, 'one line for the outage, not one per retry or request');
    // The in-process layer still answers what it holds.
    const local = a.atoll.cache.stats()!.localHits;
    await timedPage(a, '/many/shared');
    assert.equal(a.atoll.cache.stats()!.localHits, local + 6);

    const messages = a.atoll.cache.stats()!.purgeMessages;
    assert.ok(Number(a.atoll.cache.stats()!.localEntries) > 0);
    await redis.start();
    await until(() => a.logs.some((l) => /Redis is back/.test(String(l.msg))), 10_000, 'A reconnected');
    // Purge messages may have been missed while the channel was down: the local layer is cleared once it is back.
    await until(() => a.atoll.cache.stats()!.purgeMessages > messages, 10_000, 'the local layer cleared after the gap');
    assert.equal(a.atoll.cache.stats()!.localEntries, 0);
    await until(() => b.atoll.cache.stats()!.connection === 'ready', 10_000, 'B reconnected');
    const before = ctl.rendered.length;
    await timedPage(a, '/many/recovered');
    await until(() => a.atoll.cache.stats()!.inFlight === 0, 2000, 'writes');
    const hits = b.atoll.cache.stats()!.sharedHits;
    await timedPage(b, '/many/recovered');
    assert.equal(ctl.rendered.length, before + 6, 'B read the six renderings A stored after the restart');
    assert.equal(b.atoll.cache.stats()!.sharedHits, hits + 6);
  });

  test('Redis paused (the connection up, no answers): pages wait at most the read budget, and nothing piles up', async () => {
    await until(() => a.atoll.cache.stats()!.connection === 'ready', 10_000, 'connected');
    redis.pause();
    try {
      const paused: number[] = [];
      for (let i = 0; i < 20; i++) paused.push(await timedPage(a, manyPath()));
      figures.pausedMedian = median(paused);
      figures.pausedMax = Math.max(...paused);
      assert.ok(figures.pausedMax < budgetMs + 200, `a page waits for Redis at most its budget (${budgetMs} ms) in all (max ${figures.pausedMax.toFixed(1)} ms)`);
      assert.ok(a.atoll.cache.stats()!.timeouts >= 20, 'read budget spent: the other reads were not even sent');
      assert.ok(Number(a.atoll.cache.stats()!.inFlight) <= 256, 'bounded commands in flight');
    } finally {
      redis.resume();
    }
    await until(() => a.atoll.cache.stats()!.inFlight === 0, 5000, 'the answers after the pause');
  });

  test('Redis absent at start-up: the instance starts and serves, and connects when Redis comes', async () => {
    await redis.stop();
    const c = await serveSite({ root, config: config(), env: {} });
    try {
      const t: number[] = [];
      for (let i = 0; i < 5; i++) t.push(await timedPage(c, manyPath()));
      assert.ok(Math.max(...t) < 250, `pages at normal latency (max ${Math.max(...t).toFixed(1)} ms)`);
      assert.ok(c.logs.some((l) => l.level === 'warn' && /Redis is unreachable/.test(String(l.msg))));
      await redis.start();
      await until(() => c.atoll.cache.stats()!.connection === 'ready', 10_000, 'connected once Redis is there');
      await until(() => c.logs.some((l) => /Redis is back/.test(String(l.msg))), 2000, 'the line that says so');
    } finally {
      await c.atoll.cache.close();
      await c.close();
    }
  });
});
