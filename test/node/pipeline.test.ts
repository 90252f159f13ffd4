/**
 * The request pipeline (handle.ts and its endpoints, page-head.ts): the
 * endpoint table's methods, the one error boundary, operator hooks that
 * return junk, Server-Timing, and remote elements' response heads deciding
 * the page's caching — with real HTTP on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parse as decodeProps } from 'devalue';
import { handle } from '../../ssr-server/handle.ts';
import { loadSite, memoryLogger, type RenderCacheStore } from '../../ssr-server/index.ts';
import { collect } from '../../ssr-server/render/chunks.ts';
import { layout, litElement, makeSite, serveSite, type TestServer } from '../helpers.ts';

const site = makeSite({
  'layouts/index.html': layout(`<atoll-head></atoll-head>
<atoll-route path="/plain"><p-one></p-one><p-two></p-two></atoll-route>
<atoll-route path="/cached"><p-one cache="60s"></p-one></atoll-route>
<atoll-route path="/remote-fast"><p-one></p-one><r-fast></r-fast></atoll-route>
<atoll-route path="/remote-slow"><p-one></p-one><r-slow></r-slow></atoll-route>
<atoll-route path="/remote-declared"><p-one></p-one><r-declared></r-declared></atoll-route>
<atoll-route path="/nothing"><p>no elements</p></atoll-route>`),
  'elements/p-one/index.ts': litElement('p-one'),
  'elements/p-one/server.ts': `export function headers() { return { 'cache-control': 'public, max-age=60' }; }`,
  'elements/p-two/index.ts': litElement('p-two'),
});

/** A remote whose head comes at once (/fast) or after 600 ms (/slow, /declared). */
function remoteServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const tag = req.url!.startsWith('/fast') ? 'r-fast' : req.url!.startsWith('/slow') ? 'r-slow' : 'r-declared';
    const send = (): void => {
      res.writeHead(200, {
        'content-type': 'text/html',
        'cache-control': 'private, max-age=5',
        vary: 'Accept-Language',
        'set-cookie': `${tag}=1; Path=/`,
      });
      res.end(`<${tag}><template shadowrootmode="open"><p>${tag}</p></template></${tag}>`);
    };
    if (tag === 'r-fast') send();
    else setTimeout(send, 600).unref();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })),
  );
}

describe('the request pipeline', () => {
  let s: TestServer;
  let remote: { url: string; server: Server };
  before(async () => {
    remote = await remoteServer();
    s = await serveSite({
      root: site,
      config: {
        remoteHeadDeadline: 100,
        elements: {
          'r-fast': { url: `${remote.url}/fast` },
          'r-slow': { url: `${remote.url}/slow` },
          'r-declared': { url: `${remote.url}/declared`, cacheControl: 'public, max-age=30' },
        },
      },
    });
  });
  after(async () => {
    await s.close();
    remote.server.close();
  });

  test('each endpoint answers its own methods; others get 405 with Allow', async () => {
    const post = await s.get('/plain', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal(post.headers.get('x-content-type-options'), 'nosniff');
    const options = await s.get('/plain', { method: 'OPTIONS' });
    assert.equal(options.status, 405);
    const fragmentOptions = await s.get('/_atoll/fragment/p-one', { method: 'OPTIONS' });
    assert.equal(fragmentOptions.status, 204);
    const put = await s.get('/_atoll/fragment/p-one', { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD, OPTIONS');
  });

  test('a target starting with // is a path on this server, never another host', async () => {
    const engine = { site: s.atoll.site, logger: memoryLogger() };
    const r = await handle(engine, { method: 'GET', target: '//evil.example/nowhere', headers: new Headers(), signal: new AbortController().signal });
    assert.equal(r.status, 404);
    // Not even a route's own path behind a host-like prefix (the URLPattern polyfill would read it as an authority).
    const lookalike = await handle(engine, { method: 'GET', target: '//evil.example/plain', headers: new Headers(), signal: new AbortController().signal });
    assert.equal(lookalike.status, 404);
    const bad = await handle(engine, { method: 'GET', target: 'http://evil.example/plain', headers: new Headers(), signal: new AbortController().signal });
    assert.equal(bad.status, 400);
  });

  test('Server-Timing always has a total, also with no primary element and with no element at all', async () => {
    for (const path of ['/plain', '/nothing']) {
      const r = await s.get(path);
      await r.text();
      assert.match(r.headers.get('server-timing') ?? '', /(^|, )total;dur=\d/, path);
    }
  });

  test("a non-primary remote's Cache-Control, Vary and Set-Cookie count when its head arrives in time", async () => {
    const r = await s.get('/remote-fast');
    const html = await r.text();
    assert.match(html, /<r-fast atoll-key="[0-9a-z]+"><template shadowrootmode="open"><p>r-fast<\/p>/);
    assert.equal(r.headers.get('cache-control'), 'private, max-age=5');
    assert.match(r.headers.get('vary') ?? '', /Accept-Language/);
    assert.deepEqual(r.headers.getSetCookie(), ['r-fast=1; Path=/']);
  });

  test('a remote whose head is late makes the page private, no-store (and says so once), and still renders it', async () => {
    const before = s.logs.length;
    const started = performance.now();
    const r = await s.get('/remote-slow');
    const headAfter = performance.now() - started;
    const html = await r.text();
    assert.ok(headAfter < 500, `the head waited ${headAfter} ms, not the 100 ms deadline`);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.match(html, /<r-slow atoll-key="[0-9a-z]+"><template shadowrootmode="open"><p>r-slow<\/p>/);
    const lines = s.logs.slice(before).filter((l) => l.element === 'r-slow' && /head deadline/.test(String(l.msg)));
    assert.equal(lines.length, 1);
  });

  test('a late remote whose entry declares cacheControl merges that instead', async () => {
    const r = await s.get('/remote-declared');
    await r.text();
    assert.equal(r.headers.get('cache-control'), 'public, max-age=30');
  });
});

describe('operator hooks and stores that misbehave', () => {
  const request = (target: string) => ({ method: 'GET', target, headers: new Headers(), signal: new AbortController().signal });

  test("junk from the operator's mergeHeaders is dropped and logged; a throw falls back to the default merge", async () => {
    const loaded = await loadSite({ root: site });
    const logger = memoryLogger();
    const junk = await handle(
      { site: loaded, logger, mergeHeaders: () => ({ 'x-ok': 'yes', 'x-bad': 'a\u0001b', 'bad name': 'x', 'x-euro': '€', 'content-length': '0', 'transfer-encoding': 'gzip' }) as unknown as Headers },
      request('/plain'),
    );
    assert.equal(junk.status, 200);
    assert.equal(junk.headers.get('x-ok'), 'yes');
    assert.equal(junk.headers.get('x-bad'), null);
    assert.equal(junk.headers.get('x-euro'), null);
    assert.equal(junk.headers.get('content-length'), null, 'framing is the transport\'s');
    assert.equal(junk.headers.get('transfer-encoding'), null);
    assert.ok(logger.lines.some((l) => /mergeHeaders were dropped/.test(String(l.msg))));

    const thrown = await handle({ site: loaded, logger, mergeHeaders: () => { throw new Error('boom'); } }, request('/plain'));
    assert.equal(thrown.status, 200);
    assert.equal(thrown.headers.get('cache-control'), 'public, max-age=60');
    assert.ok(logger.lines.some((l) => /mergeHeaders threw/.test(String(l.msg))));
  });

  test('a throwing <atoll-head> costs the head its extras, not the page', async () => {
    const loaded = await loadSite({ root: site });
    const logger = memoryLogger();
    const r = await handle({ site: loaded, logger, head: () => { throw new Error('head broke'); } }, request('/plain'));
    assert.equal(r.status, 200);
    assert.equal(r.body.kind, 'html');
    const html = r.body.kind === 'html' ? await collect(r.body.result) : '';
    assert.match(html, /<p-two[ >][\s\S]*<\/html>/);
    assert.ok(logger.lines.some((l) => /atoll-head/.test(String(l.msg))));
  });

  test('a render cache store that throws is a miss: the element renders fresh', async () => {
    const loaded = await loadSite({ root: site });
    const store: RenderCacheStore = {
      get() { throw new Error('store down'); },
      set() { throw new Error('store down'); },
    };
    const r = await handle({ site: loaded, logger: memoryLogger(), cache: store }, request('/cached'));
    const html = r.body.kind === 'html' ? await collect(r.body.result) : '';
    assert.match(html, /<p-one[^>]*><template shadowrootmode="open">/);
    assert.doesNotMatch(html, /atoll-fallback/);
  });
});

describe('fragment attributes declared by server hooks', () => {
  test('an attribute listed in the hooks\' `attributes` export passes the fragment endpoint; others do not', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<p>x</p>'),
      'elements/f-who/index.ts': litElement('f-who'),
      'elements/f-who/server.ts': `export const attributes = ['who'];\nexport function data(ctx) { return { seen: (ctx.attributes.who ?? 'none') + '/' + (ctx.attributes.other ?? 'none') }; }`,
    });
    const s = await serveSite({ root });
    try {
      const res = await s.get('/_atoll/fragment/f-who?who=ann&other=bob');
      const html = await res.text();
      assert.equal(res.status, 200);
      assert.match(html, /^<f-who who="ann"/);
      assert.deepEqual(decodeProps(/data-atoll-props>(.*?)<\/script>/.exec(html)![1]!), { seen: 'ann/none' });
    } finally {
      await s.close();
    }
  });

  test('an event handler in the hooks\' `attributes` export is a start-up error', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<f-bad></f-bad>'),
      'elements/f-bad/index.ts': litElement('f-bad'),
      'elements/f-bad/server.ts': `export const attributes = ['onclick'];`,
    });
    await assert.rejects(loadSite({ root }), /export "attributes": onclick can never pass the fragment endpoint/);
  });
});
