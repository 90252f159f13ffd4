/**
 * `ctx.signal` is made lazily (issue 14): an element whose hooks never read
 * it gets no `AbortController`, and every signal that is read still fires —
 * on the element's timeout, and when the request ends (client gone) — for
 * `data()`, for a `headers()` or `head()` hook that alone reads it, and
 * when it is first read after the request already ended.
 */
import assert from 'node:assert/strict';
import { before, beforeEach, describe, test } from 'node:test';
import { createAtoll, silentLogger, type Atoll } from '../../ssr-server/index.ts';
import { layout, litElement, makeSite } from '../helpers.ts';
import { PageRun } from '../../ssr-server/render/routing.ts';

/** The helpers' layout with an `<atoll-head>` (where head() hooks are merged). */
const withHead = (body: string): string => layout(body).replace('</head>', '<atoll-head></atoll-head></head>');

interface Seen {
  tag: string;
  signal?: AbortSignal;
  ctx?: { signal: AbortSignal };
}
const seen: Seen[] = ((globalThis as { __lazySignalSeen?: Seen[] }).__lazySignalSeen = []);

const hooks = (body: string): string => `const seen = globalThis.__lazySignalSeen;\n${body}\n`;

const SITE: Record<string, string> = {
  'layouts/index.html': withHead(`
<atoll-route path="/plain"><s-hdr-a></s-hdr-a><s-hdr-b></s-hdr-b><s-hdr-c></s-hdr-c><s-hdr-d></s-hdr-d><s-hdr-e></s-hdr-e></atoll-route>
<atoll-route path="/one"><s-hdr-a></s-hdr-a></atoll-route>
<atoll-route path="/data-plain"><s-data-plain timeout="60ms"></s-data-plain></atoll-route>
<atoll-route path="/headers-reads"><s-hdr-signal></s-hdr-signal><s-slow></s-slow></atoll-route>
<atoll-route path="/head-reads"><s-head-signal></s-head-signal><s-slow></s-slow></atoll-route>
<atoll-route path="/late"><s-hdr-keep></s-hdr-keep><s-slow></s-slow></atoll-route>
<atoll-route path="/data-timeout"><s-data-signal timeout="60ms"></s-data-signal></atoll-route>
<atoll-route path="/data-gone"><s-data-signal timeout="5s"></s-data-signal></atoll-route>
<atoll-route path="/reads-headers"><s-hdr-a></s-hdr-a><s-reads-headers></s-reads-headers></atoll-route>`),
  ...Object.fromEntries(
    ['s-hdr-a', 's-hdr-b', 's-hdr-c', 's-hdr-d', 's-hdr-e'].flatMap((tag) => [
      [`elements/${tag}/index.ts`, litElement(tag)],
      [`elements/${tag}/server.ts`, `export function headers() { return { 'cache-control': 'public, max-age=60' }; }\n`],
    ]),
  ),
  'elements/s-data-plain/index.ts': litElement('s-data-plain'),
  'elements/s-data-plain/server.ts': `export async function data() { await new Promise((r) => setTimeout(r, 400)); return {}; }\n`,
  'elements/s-hdr-signal/index.ts': litElement('s-hdr-signal'),
  'elements/s-hdr-signal/server.ts': hooks(`export function headers(ctx) { seen.push({ tag: 's-hdr-signal', signal: ctx.signal }); return {}; }`),
  'elements/s-head-signal/index.ts': litElement('s-head-signal'),
  'elements/s-head-signal/server.ts': hooks(`export function head(ctx) { seen.push({ tag: 's-head-signal', signal: ctx.signal }); return { title: 't' }; }`),
  'elements/s-hdr-keep/index.ts': litElement('s-hdr-keep'),
  'elements/s-hdr-keep/server.ts': hooks(`export function headers(ctx) { seen.push({ tag: 's-hdr-keep', ctx }); return {}; }`),
  'elements/s-data-signal/index.ts': litElement('s-data-signal'),
  'elements/s-data-signal/server.ts': hooks(`
export function data(ctx) {
  const signal = ctx.signal;
  seen.push({ tag: 's-data-signal', signal });
  return new Promise((resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
}`),
  'elements/s-reads-headers/index.ts': litElement('s-reads-headers', 'return html`<p>${this.lang}</p>`;').replace('render()', 'static properties = { lang: {} }; render()'),
  'elements/s-reads-headers/server.ts': `export function data(ctx) { return { lang: ctx.headers.get('accept-language') ?? 'none' }; }\n`,
  'elements/s-slow/index.ts': litElement('s-slow'),
  'elements/s-slow/server.ts': `export async function data() { await new Promise((r) => setTimeout(r, 3000)); return {}; }\n`,
};

/** Counts `new AbortController()` while `body` runs. */
async function controllersMade(body: () => Promise<void>): Promise<number> {
  const Original = globalThis.AbortController;
  let made = 0;
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      made++;
    }
  };
  try {
    await body();
  } finally {
    globalThis.AbortController = Original;
  }
  return made;
}

/** Starts a page, reads its first bytes, then goes away (as a client that disconnects). */
async function startThenLeave(atoll: Atoll, path: string): Promise<void> {
  const client = new AbortController();
  const res = await atoll.request(path, { signal: client.signal });
  const reader = res.body!.getReader();
  await reader.read();
  client.abort(new Error('the client went away'));
  await reader.cancel().catch(() => {});
  await new Promise((r) => setTimeout(r, 20));
}

describe('lazy abort signals', () => {
  let atoll: Atoll;
  before(async () => {
    atoll = await createAtoll({ root: makeSite(SITE), logger: silentLogger, cache: false });
  });
  beforeEach(() => {
    seen.length = 0;
  });

  test('elements whose hooks never read ctx.signal make no AbortController', async () => {
    const render = (path: string) => async () => {
      await (await atoll.request(path, { signal: new AbortController().signal })).text();
    };
    const one = await controllersMade(render('/one'));
    const five = await controllersMade(render('/plain'));
    assert.equal(five, one, 'four more headers()-only elements, no more controllers');
    // data() work that does not read the signal needs none either, and still times out.
    let html = '';
    const withData = await controllersMade(async () => {
      html = await (await atoll.request('/data-plain', { signal: new AbortController().signal })).text();
    });
    assert.equal(withData, one);
    assert.match(html, /<s-data-plain atoll-key="[0-9a-z]+" atoll-fallback="timeout"/);
  });

  test('a headers() hook that alone reads ctx.signal sees it fire when the client goes away', async () => {
    await startThenLeave(atoll, '/headers-reads');
    const s = seen.find((x) => x.tag === 's-hdr-signal')?.signal;
    assert.ok(s instanceof AbortSignal);
    assert.equal(s.aborted, true);
    assert.match(String((s.reason as Error).message), /went away/);
  });

  test('a head() hook that alone reads ctx.signal sees it fire when the client goes away', async () => {
    await startThenLeave(atoll, '/head-reads');
    const s = seen.find((x) => x.tag === 's-head-signal')?.signal;
    assert.ok(s instanceof AbortSignal);
    assert.equal(s.aborted, true);
  });

  test('a signal first read after the request ended is already aborted', async () => {
    await startThenLeave(atoll, '/late');
    const ctx = seen.find((x) => x.tag === 's-hdr-keep')?.ctx;
    assert.ok(ctx !== undefined);
    const s = ctx.signal;
    assert.equal(s.aborted, true);
    assert.equal(ctx.signal, s, 'one signal per element');
  });

  test("data()'s signal fires on the element's timeout, with a TimeoutError", async () => {
    const html = await (await atoll.request('/data-timeout')).text();
    assert.match(html, /<s-data-signal atoll-key="[0-9a-z]+" atoll-fallback="timeout"/);
    const s = seen.find((x) => x.tag === 's-data-signal')?.signal;
    assert.equal(s?.aborted, true);
    assert.equal((s?.reason as Error).name, 'TimeoutError');
  });

  test("data()'s signal fires when the client goes away", async () => {
    const client = new AbortController();
    const pending = atoll.request('/data-gone', { signal: client.signal }).then((r) => r.text()).catch(() => '');
    await new Promise((r) => setTimeout(r, 50));
    const s = seen.find((x) => x.tag === 's-data-signal')?.signal;
    assert.equal(s?.aborted, false);
    client.abort(new Error('the client went away'));
    await pending;
    assert.equal(s?.aborted, true);
    assert.match(String((s?.reason as Error).message), /went away/);
  });

  test('ctx.headers is made only when a hook reads it, once per page, with the allowed headers', async () => {
    const original = PageRun.prototype.allowedHeaders;
    let made = 0;
    PageRun.prototype.allowedHeaders = function (this: PageRun) {
      made++;
      return original.call(this);
    };
    try {
      await (await atoll.request('/plain')).text();
      assert.equal(made, 0, 'five headers() hooks that never read ctx.headers');
      const html = await (await atoll.request('/reads-headers', { headers: { 'accept-language': 'de-CH', cookie: 'secret=1' } })).text();
      assert.match(html, /<p><!--lit-part-->de-CH<!--\/lit-part--><\/p>/);
      assert.ok(made >= 1);
    } finally {
      PageRun.prototype.allowedHeaders = original;
    }
  });
});
