/**
 * The streaming engine over real HTTP on 127.0.0.1: parallel work, output in
 * document order, early flush, timeouts and faults, primary elements deciding
 * the status, serialized data, disconnects and backpressure.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as decodeProps } from 'devalue';
import { notFound, redirect } from '../../ssr-server/index.ts';
import type { ElementContext } from '../../ssr-server/hooks.ts';
import { control } from '../fixtures/streaming/control.ts';
import { fixture, serveSite, type TestServer } from '../helpers.ts';
import { parseDocument } from '../dom.ts';

let server: TestServer;
const ctl = control();
before(async () => {
  server = await serveSite({ root: fixture('streaming') });
});
after(() => server.close());
beforeEach(() => {
  ctl.data = () => ({});
  ctl.headers = () => undefined;
  ctl.rendered.length = 0;
  server.logs.length = 0;
});

const slots = (html: string): string[] => [...html.matchAll(/slot <!--lit-part-->([\w-]+)<!--\/lit-part-->:/g)].map((m) => m[1]!);

/** A raw GET that exposes the response as it arrives. */
function rawGet(path: string): { response: Promise<IncomingMessage>; destroy(): void } {
  const req = httpRequest(server.url + path, { agent: false });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  req.end();
  return { response, destroy: () => req.destroy() };
}

/** Reads a response until `predicate(text so far)` holds. */
function readUntil(res: IncomingMessage, predicate: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString();
      if (predicate(text)) {
        res.off('data', onData);
        res.pause();
        resolve(text);
      }
    };
    res.on('data', onData);
    res.on('error', reject);
    res.on('end', () => resolve(text));
  });
}

describe('order and parallelism', () => {
  test('elements come out in document order whatever order their data arrives in', async () => {
    for (let round = 0; round < 12; round++) {
      const delays = new Map(['a', 'b', 'c', 'd', 'e', 'f'].map((sid) => [sid, Math.floor(Math.random() * 25)]));
      ctl.data = async (sid) => {
        await sleep(delays.get(sid) ?? 0);
        return { label: `L${sid}` };
      };
      const html = await (await server.get('/order')).text();
      assert.deepEqual(slots(html), ['a', 'b', 'c', 'd', 'e', 'f'], `delays ${JSON.stringify([...delays])}`);
      assert.ok(html.indexOf('id="top"') < html.indexOf('slot <!--lit-part-->a<') && html.indexOf('slot <!--lit-part-->f<') < html.indexOf('id="bottom"'));
    }
  });

  test('all data() calls start at once: the page takes about the slowest, not the sum', async () => {
    const started: number[] = [];
    ctl.data = async (_sid, ctx) => {
      started.push(performance.now());
      await sleep(150, undefined, { signal: ctx.signal });
      return { label: 'x' };
    };
    const t0 = performance.now();
    const html = await (await server.get('/order')).text();
    const total = performance.now() - t0;
    assert.equal(slots(html).length, 6);
    const sum = 6 * 150;
    assert.ok(total < sum / 2, `took ${total.toFixed(0)} ms; the serial sum is ${sum} ms`);
    assert.ok(Math.max(...started) - Math.min(...started) < 150, 'every data() started before the first finished');
  });
});

describe('early flush', () => {
  test('the head and the elements before a slow one reach the client while it is pending', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    ctl.data = async (sid) => {
      if (sid === 'b') await gate;
      return { label: `L${sid}` };
    };
    const { response } = rawGet('/early');
    const res = await response;
    assert.equal(res.statusCode, 200);
    const early = await readUntil(res, (t) => t.includes('slot <!--lit-part-->a<'));
    assert.ok(early.includes('id="top"'), 'the layout before the elements is out');
    assert.ok(!early.includes('slot <!--lit-part-->b<'), 'the slow element is not');
    assert.ok(!early.includes('slot <!--lit-part-->c<'), 'nor what comes after it');
    release();
    res.resume();
    const rest = await readUntil(res, () => false);
    assert.deepEqual(slots(early + rest), ['a', 'b', 'c']);
    assert.ok((early + rest).trimEnd().endsWith('</html>'));
  });
});

describe('timeouts and faults', () => {
  test('timeout, throwing data() and throwing render each fall back in place; the rest is intact', async () => {
    const aborted: string[] = [];
    ctl.data = async (sid, ctx) => {
      if (sid === 'slow') {
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => {
          aborted.push(sid);
          reject(ctx.signal.reason);
        }));
      }
      if (sid === 'throws') throw new Error('data exploded');
      return { label: `L${sid}` };
    };
    const res = await server.get('/faults', { headers: { 'x-request-id': 'faults-1' } });
    assert.equal(res.status, 200);
    const html = await res.text();
    const doc = parseDocument(html);
    assert.deepEqual(slots(html), ['ok1', 'ok2']);
    const fallbacks = [...doc.querySelectorAll('[atoll-fallback]')].map((e) => [e.localName, e.getAttribute('atoll-fallback'), e.querySelector('.fb')!.textContent]);
    assert.deepEqual(fallbacks, [
      ['s-slot', 'timeout', 'fallback slow'],
      ['s-slot', 'data', 'fallback throws'],
      ['s-boom', 'render', 'fallback boom'],
    ]);
    for (const el of doc.querySelectorAll('[atoll-fallback]')) {
      assert.equal(el.hasAttribute('defer-hydration'), false, 'the browser renders it from scratch');
      assert.equal(el.querySelector('template'), null);
    }
    assert.deepEqual(aborted, ['slow'], 'the timed-out element saw its signal fire');
    assert.ok(html.includes('id="bottom"'));
    await sleep(10);
    const failures = server.logs.filter((l) => l.msg === 'element failed; its fallback was rendered');
    assert.deepEqual(failures.map((l) => `${l.element} ${l.phase} ${l.requestId}`).sort(), [
      's-boom render faults-1',
      's-slot data faults-1',
      's-slot timeout faults-1',
    ]);
  });
});

describe('primary elements', () => {
  test('a primary element waits for its data and decides the headers', async () => {
    ctl.data = async (sid) => {
      await sleep(20);
      return { label: sid };
    };
    ctl.headers = (sid, _ctx, data) => (sid === 'primary-ok' ? { 'x-from': `primary:${(data as { label: string }).label}` } : { 'x-from': sid });
    const res = await server.get('/primary/ok');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-from'), 'primary:primary-ok', 'the primary wins, and sees its data');
    assert.deepEqual(slots(await res.text()), ['primary-ok', 'other']);
  });

  test('notFound() from a primary data() answers 404 with the fallback in place', async () => {
    ctl.data = (sid) => {
      if (sid === 'primary-missing') throw notFound();
      return { label: sid };
    };
    const res = await server.get('/primary/missing');
    assert.equal(res.status, 404);
    const html = await res.text();
    assert.ok(html.includes('primary fallback'));
    assert.deepEqual(slots(html), ['other'], 'the rest of the page still renders');
  });

  test('redirect() from a primary data() answers before any body and stops the other work', async () => {
    let otherAborted = false;
    ctl.data = async (sid, ctx) => {
      if (sid === 'primary-moved') throw redirect('/primary/ok', 301);
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => {
        otherAborted = true;
        resolve();
      }));
      return {};
    };
    const res = await server.get('/primary/moved');
    assert.equal(res.status, 301);
    assert.equal(res.headers.get('location'), '/primary/ok');
    assert.equal(await res.text(), '');
    await sleep(10);
    assert.equal(otherAborted, true);
  });

  test('a primary that times out makes the page a 504, still complete', async () => {
    ctl.data = (sid, ctx) => (sid === 'primary-slow' ? new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))) : { label: sid });
    const res = await server.get('/primary/slow');
    assert.equal(res.status, 504);
    const html = await res.text();
    assert.ok(html.includes('primary fallback') && html.includes('id="bottom"'));
  });
});

describe('headers', () => {
  test('element headers are merged into the response, with Server-Timing for data', async () => {
    ctl.data = () => ({ label: 'x' });
    const bySid: Record<string, Record<string, string>> = {
        h1: { 'cache-control': 'public, max-age=600', vary: 'Accept-Language', 'x-team': 'h1', 'set-cookie': 'a=1', 'content-length': '5' },
        h2: { 'cache-control': 'max-age=60', vary: 'Cookie, accept-language', 'x-team': 'h2' },
        h3: { 'cache-control': 'max-age=120', 'x-team': 'h3', 'set-cookie': 'a=2', connection: 'close' },
    };
    ctl.headers = (sid) => bySid[sid];
    const res = await server.get('/headers', { headers: { 'accept-encoding': 'identity' } });
    await res.text();
    assert.equal(res.headers.get('cache-control'), 'max-age=60');
    assert.equal(res.headers.get('vary'), 'Accept-Language, Cookie, atoll-navigation', "the elements' Vary, and the client router's header (a cacheable page, docs/navigation.md)");
    assert.equal(res.headers.get('x-team'), 'h2', 'the primary wins');
    assert.deepEqual(res.headers.getSetCookie(), ['a=2']);
    assert.equal(res.headers.get('connection'), 'keep-alive', 'hop-by-hop headers from elements are dropped');
    assert.match(res.headers.get('server-timing') ?? '', /data;desc="s-slot";dur=[\d.]+/);
    assert.match(res.headers.get('server-timing') ?? '', /render;desc="s-slot";dur=[\d.]+/);
  });
});

describe('compression', () => {
  test('pages are compressed for clients that accept it, and still flush before every wait', async () => {
    const { createBrotliDecompress } = await import('node:zlib');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    ctl.data = async (sid) => {
      if (sid === 'b') await gate;
      return { label: `L${sid}` };
    };
    const req = httpRequest(server.url + '/early', { agent: false, headers: { 'accept-encoding': 'br' } });
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.headers['content-encoding'], 'br');
    assert.match(String(res.headers.vary), /Accept-Encoding/);
    const inflate = createBrotliDecompress();
    res.pipe(inflate);
    let text = '';
    await new Promise<void>((resolve) => {
      inflate.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('slot <!--lit-part-->a<')) resolve();
      });
    });
    assert.ok(!text.includes('slot <!--lit-part-->b<'), 'the compressed stream flushed before the slow element');
    release();
    await new Promise((r) => inflate.on('end', r));
    assert.deepEqual(slots(text), ['a', 'b', 'c']);
    assert.ok(text.trimEnd().endsWith('</html>'));
  });

  test('compress: false sends identity', async () => {
    const s = await serveSite({ root: fixture('streaming'), compress: false });
    try {
      const res = await s.get('/order', { headers: { 'accept-encoding': 'br, gzip' } });
      await res.text();
      assert.equal(res.headers.get('content-encoding'), null);
    } finally {
      await s.close();
    }
  });
});

describe('serialized data', () => {
  test('hostile strings survive the round trip unchanged and inert', async () => {
    const hostile = '</script><script>alert(1)</script><!-- \u2028\u2029 "quotes" & <b>';
    ctl.data = () => ({ label: hostile, nested: { list: [hostile, 1, true, null] } });
    const html = await (await server.get('/hostile')).text();
    const doc = parseDocument(html);
    const scripts = [...doc.querySelectorAll('script')];
    assert.equal(scripts.length, 1, 'only the props script, nothing injected');
    assert.equal(scripts[0]!.getAttribute('type'), 'application/json');
    assert.deepEqual(decodeProps(scripts[0]!.textContent!), { label: hostile, nested: { list: [hostile, 1, true, null] } });
    assert.ok(!/</.test(scripts[0]!.textContent!), 'no < at all in the props script');
    assert.ok(!/\u2028|\u2029/.test(scripts[0]!.textContent!), 'line separators are escaped');
    assert.equal(doc.querySelector('s-slot')!.lastElementChild, scripts[0], 'the props are the last child of the element');
  });
});

describe('disconnects and backpressure', () => {
  test('a client that goes away aborts pending data() and nothing later renders', async () => {
    let signalled!: () => void;
    const sawAbort = new Promise<void>((r) => (signalled = r));
    ctl.data = async (sid, ctx: ElementContext) => {
      if (sid === 'b') {
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => {
          signalled();
          reject(ctx.signal.reason);
        }));
      }
      return { label: sid };
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on('unhandledRejection', onUnhandled);
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    const { response, destroy } = rawGet('/early');
    const res = await response;
    await readUntil(res, (t) => t.includes('slot <!--lit-part-->a<'));
    destroy();
    await sawAbort;
    await sleep(50);
    process.off('unhandledRejection', onUnhandled);
    assert.deepEqual(ctl.rendered, ['a'], 'b and c never rendered');
    assert.deepEqual(unhandled, []);
    assert.ok(timers() <= timersBefore, `no element timeout timer is left behind (${timersBefore} before, ${timers()} after)`);
    assert.equal(server.logs.filter((l) => l.level === 'error').length, 0, 'a disconnect is not an element failure');
  });

  test('a paused reader does not make the server render the whole page ahead', async () => {
    const { response, destroy } = rawGet('/big');
    const res = await response;
    res.pause();
    await sleep(400);
    const renderedWhilePaused = ctl.rendered.length;
    assert.ok(renderedWhilePaused < 150, `${renderedWhilePaused} of 300 elements (100 KB each) rendered for a reader that read nothing`);
    res.resume();
    let bytes = 0;
    res.on('data', (d: Buffer) => (bytes += d.length));
    await new Promise((r) => res.on('end', r));
    assert.equal(ctl.rendered.length, 300);
    assert.ok(bytes > 300 * 100 * 1024);
    destroy();
  });
});
