/**
 * The main thread ↔ generation worker protocol (adapters/worker-link.ts),
 * both ends in this thread over a real MessageChannel: an html body streams
 * in order and whole; the worker stops posting at its credit while the main
 * side takes nothing; a request's early end reaches the worker's
 * `RequestEnd` (an element's `ctx.signal` aborts); Early Hints come across
 * before the head; a worker that goes away fails its requests (before the
 * head: a rejection; after: the body throws) without touching others.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { CREDIT_BYTES, linkTo, serve, headerLines, LineHeaders } from '../../ssr-server/adapters/worker-link.ts';
import { collect, drainTo } from '../../ssr-server/render/chunks.ts';
import { createAtoll, memoryLogger, type Atoll } from '../../ssr-server/index.ts';
import { layout, makeSite } from '../helpers.ts';

const ELEMENTS = 60;
const PER_ELEMENT = 20_000;

describe('worker link', () => {
  let atoll: Atoll;
  before(async () => {
    const big = Array.from({ length: ELEMENTS }, (_, i) => `<wl-big n="${i}"></wl-big>`).join('\n');
    const root = makeSite({
      'layouts/index.html': layout(`${big}\n<wl-wait></wl-wait>\n<p>end</p>`),
      'elements/wl-big.ts': `import { LitElement, html } from 'lit';
class Big extends LitElement { static properties = { n: {} }; render() { return html\`<p>\${this.n}:\${'x'.repeat(${PER_ELEMENT})}</p>\`; } }
customElements.define('wl-big', Big);`,
      'elements/wl-wait/index.ts': `import { LitElement, html } from 'lit';
class W extends LitElement { render() { return html\`<i>waited</i>\`; } }
customElements.define('wl-wait', W);`,
      'elements/wl-wait/server.ts': `export async function data(ctx) {
  if (ctx.query.get('hold') !== '1') return {};
  await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
  globalThis.__wlAborted = (globalThis.__wlAborted ?? 0) + 1;
  return {};
}`,
    });
    atoll = await createAtoll({ root, logger: memoryLogger() });
  });
  after(() => {
    delete (globalThis as { __wlAborted?: number }).__wlAborted;
  });

  test('an html body streams whole and in order; the worker stops at its credit while nothing is taken', async () => {
    const { port1, port2 } = new MessageChannel();
    const credit = 64 * 1024;
    const stop = serve(port2, atoll.engine, { credit });
    let posted = 0;
    port1.on('message', (m: { t?: string; data?: Uint8Array }) => {
      if (m.t === 'chunk') posted += m.data!.byteLength;
    });
    const link = linkTo(port1);
    const r = await link.forward({ method: 'GET', target: '/', headers: new Headers({ 'x-request-id': 'link-1' }) });
    assert.equal(r.status, 200);
    assert.equal(r.requestId, 'link-1');
    assert.equal(r.body.kind, 'html');
    // Nothing is pulled yet: the worker must stop after its credit (plus the one write that crossed it).
    await new Promise((res) => setTimeout(res, 300));
    assert.ok(posted >= credit, `posted ${posted}`);
    assert.ok(posted < credit + 2 * PER_ELEMENT + 16 * 1024, `the worker posted ${posted} bytes without acknowledgements (credit ${credit})`);
    assert.equal(link.inFlight, 1);
    const html = await collect((r.body as { result: import('../../ssr-server/render/chunks.ts').Output }).result);
    assert.ok(html.length > ELEMENTS * PER_ELEMENT);
    for (let i = 1; i < ELEMENTS; i++) assert.ok(html.indexOf(`n="${i}" defer-hydration`) > html.indexOf(`n="${i - 1}" defer-hydration`), `element ${i} in order`);
    assert.equal(html.split('x'.repeat(PER_ELEMENT)).length - 1, ELEMENTS, 'every element whole');
    assert.match(html, /<p>end<\/p>[\s\S]*<\/html>\s*$/);
    assert.equal(link.inFlight, 0);
    stop();
    port1.close();
  });

  test('a whole body (a fully cached page) reaches the sink\'s writeWhole as the same buffer on every request, so it is compressed once', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<p>static</p><wl-c></wl-c>'),
      'elements/wl-c.ts': `import { LitElement, html } from 'lit';\nclass C extends LitElement { render() { return html\`<b>c</b>\`; } }\ncustomElements.define('wl-c', C);`,
      'atoll.config.json': JSON.stringify({ elements: { 'wl-c': { cache: '60s' } } }),
    });
    const cached = await createAtoll({ root, logger: memoryLogger() });
    const { port1, port2 } = new MessageChannel();
    const stop = serve(port2, cached.engine);
    const link = linkTo(port1);
    const copies: boolean[] = [];
    const heads: Array<string | undefined> = [];
    port1.on('message', (m: { t?: string; data?: unknown; then?: { t?: string; data?: unknown } }) => {
      // A cached page's head carries its whole body in the same message.
      if (m.t === 'head') heads.push(m.then?.t);
      const body = m.t === 'head' ? m.then : m;
      if (body?.t === 'whole') copies.push(body.data !== undefined);
    });
    const wholes: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await link.forward({ method: 'GET', target: '/', headers: new Headers() });
      const result = (r.body as { result: import('../../ssr-server/render/chunks.ts').Output }).result;
      let text = '';
      await drainTo(result, {
        write: (c) => ((text += typeof c === 'string' ? c : new TextDecoder().decode(c)), true),
        writeWhole: (b) => {
          wholes.push(b);
          text += new TextDecoder().decode(b);
        },
        drain: async () => {},
        closed: false,
      });
      assert.match(text, /<p>static<\/p>[\s\S]*<b>c<\/b>[\s\S]*<\/html>/);
    }
    // The first request renders (no whole body); from then on the cached page comes whole, as one buffer.
    assert.ok(wholes.length >= 2, `writeWhole was called ${wholes.length} times`);
    assert.ok(wholes.every((b) => b === wholes[0]), 'the same buffer every time');
    // Its bytes crossed once: later answers name the kept body by id.
    assert.deepEqual(copies, [true, ...copies.slice(1).map(() => false)]);
    // And it crossed with its head: one message per cached answer.
    assert.equal(heads.filter((t) => t === 'whole').length, copies.length);
    stop();
    port1.close();
  });

  test('the default credit is bounded', () => {
    assert.ok(CREDIT_BYTES >= 64 * 1024 && CREDIT_BYTES <= 4 * 1024 * 1024);
  });

  test('an early end reaches the worker: the element\'s signal aborts and the request leaves the count', async () => {
    const { port1, port2 } = new MessageChannel();
    const stop = serve(port2, atoll.engine);
    const link = linkTo(port1);
    const controller = new AbortController();
    const r = await link.forward({ method: 'GET', target: '/?hold=1', headers: new Headers(), signal: controller.signal });
    assert.equal(r.status, 200);
    assert.equal(link.inFlight, 1);
    controller.abort(new Error('client went away'));
    for (let i = 0; i < 100 && (globalThis as { __wlAborted?: number }).__wlAborted === undefined; i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal((globalThis as { __wlAborted?: number }).__wlAborted, 1, 'the data hook saw its signal abort');
    assert.equal(link.inFlight, 0);
    // The main side's drain ends without an error (the client is gone: no failure to log).
    await collect((r.body as { result: import('../../ssr-server/render/chunks.ts').Output }).result);
    stop();
    port1.close();
  });

  test('Early Hints cross before the head; a worker that goes away fails only its own requests', async () => {
    const { port1, port2 } = new MessageChannel();
    // A hand-written worker side: hints and then nothing for request 1; a head and one chunk for request 2.
    port2.on('message', (m: { t: string; n: number }) => {
      if (m.t !== 'req') return;
      if (m.n === 1) port2.postMessage({ t: 'hints', n: 1, links: ['</a.js>; rel=preload; as=script'] });
      else {
        port2.postMessage({ t: 'head', n: 2, status: 200, names: ['content-type', 'set-cookie', 'set-cookie'], values: ['text/html', 'a=1', 'b=2'], requestId: 'r2', body: { kind: 'html' } });
        port2.postMessage({ t: 'chunk', n: 2, data: new TextEncoder().encode('<p>part') });
      }
    });
    const link = linkTo(port1);
    const hints: string[][] = [];
    const first = link.forward({ method: 'GET', target: '/', headers: new Headers(), onEarlyHints: (l) => hints.push([...l]) });
    const second = await link.forward({ method: 'GET', target: '/', headers: new Headers() });
    assert.deepEqual(second.headers.getSetCookie(), ['a=1', 'b=2']);
    assert.equal(second.headers.get('content-type'), 'text/html');
    await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(hints, [['</a.js>; rel=preload; as=script']]);
    assert.equal(link.inFlight, 2);
    link.failAll('exit code 1');
    await assert.rejects(first, /stopped mid-response: exit code 1/);
    const body = (second.body as { result: import('../../ssr-server/render/chunks.ts').Output }).result;
    await assert.rejects(Promise.resolve().then(() => collect(body)), /stopped mid-response/);
    assert.equal(link.inFlight, 0);
    await assert.rejects(link.forward({ method: 'GET', target: '/', headers: new Headers() }), /the generation is gone/);
    port1.close();
  });

  test('request headers cross as lines and read as the Node adapter reads them', () => {
    const lines = headerLines({ raw: ['Cookie', 'a=1', 'cookie', 'b=2', 'Accept', 'x', 'accept', 'y', ':path', '/'] } as never);
    const h = new LineHeaders(lines);
    assert.equal(h.get('cookie'), 'a=1; b=2');
    assert.equal(h.get('ACCEPT'), 'x, y');
    assert.equal(h.get(':path'), null);
    assert.equal(new LineHeaders(headerLines(new Headers({ 'x-a': ' v ' }))).get('x-a'), 'v');
  });
});
