/**
 * The server over real HTTP on 127.0.0.1 with a small fixture site (not the
 * demo): routes, nesting, redirects, default routes, 404, interpolation and
 * its escaping, DSD output and document order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fixture, serveSite, shadowTemplate, type TestServer } from '../helpers.ts';
import { parseDocument } from '../dom.ts';

let server: TestServer;
before(async () => {
  server = await serveSite({ root: fixture('basic') });
});
after(() => server.close());

const page = async (path: string) => {
  const res = await server.get(path);
  return { res, html: await res.text() };
};

describe('routing', () => {
  test('a matching route renders its children with the route params', async () => {
    const { res, html } = await page('/hello/ada');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html; charset=utf-8/);
    const doc = parseDocument(html);
    const greeting = doc.querySelector('main x-greeting')!;
    assert.equal(greeting.getAttribute('name'), 'ada');
    assert.match(shadowTemplate(greeting)!.innerHTML, /Hello, <b><!--lit-part-->ada<!--\/lit-part--><\/b>!/);
  });

  test('route tags themselves are not emitted', async () => {
    const { html } = await page('/hello/ada');
    assert.doesNotMatch(html, /atoll-route|atoll-redirect|atoll-head/);
  });

  test('nested routes join their paths to the parent and both render', async () => {
    const { res, html } = await page('/shop/items/42');
    assert.equal(res.status, 200);
    const doc = parseDocument(html);
    assert.ok(html.includes('<p>shop</p>'), 'the parent route renders its own children');
    assert.equal(doc.querySelector('main x-item')!.getAttribute('item-id'), '42');
    assert.equal(doc.querySelector('.shop-missing'), null, 'the nested default does not render when a sibling matched');
  });

  test('a nested default route renders when no sibling matched, and sets the status', async () => {
    const { res, html } = await page('/shop/nothing-here');
    assert.equal(res.status, 404);
    assert.ok(html.includes('<p>shop</p>'));
    assert.ok(html.includes('no such shop page'));
  });

  test('the top-level default route renders for unknown paths with its status', async () => {
    const { res, html } = await page('/no/such/page');
    assert.equal(res.status, 404);
    const doc = parseDocument(html);
    assert.ok(doc.querySelector('p.not-found'));
    assert.equal(doc.querySelector('p.shop-missing'), null);
    // Elements outside routes still render on the 404 page.
    assert.ok(shadowTemplate(doc.querySelector('header x-greeting')!));
  });

  test('a redirect answers before any body', async () => {
    const { res, html } = await page('/');
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/hello/world');
    assert.equal(html, '');
  });

  test('HEAD gets the headers and no body', async () => {
    const res = await server.get('/hello/ada', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });

  test('other methods get 405 with Allow', async () => {
    const res = await server.get('/hello/ada', { method: 'POST', body: 'x' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
  });

  test('an over-long URL gets 414', async () => {
    const res = await server.get('/hello/' + 'a'.repeat(9000));
    assert.equal(res.status, 414);
  });
});

describe('interpolation', () => {
  test('{query.x} is filled per request', async () => {
    const { html } = await page('/hello/ada?q=shoes');
    assert.equal(parseDocument(html).querySelector('main x-greeting')!.getAttribute('data-q'), 'shoes');
  });

  test('route params are percent-decoded', async () => {
    const { html } = await page('/hello/caf%C3%A9');
    assert.equal(parseDocument(html).querySelector('main x-greeting')!.getAttribute('name'), 'café');
  });

  const hostile = '"><script>alert(1)</script>';
  test('a hostile param is escaped in the attribute and in the shadow content', async () => {
    const { html } = await page('/hello/' + encodeURIComponent(hostile));
    assert.ok(!html.includes('<script>alert(1)</script>'), 'no live script tag');
    const doc = parseDocument(html);
    assert.equal(doc.querySelectorAll('script').length, 0);
    const el = doc.querySelector('main x-greeting')!;
    assert.equal(el.getAttribute('name'), hostile, 'the value survives unchanged');
    assert.ok(html.includes('<!--lit-part-->&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;<!--/lit-part-->'));
  });

  test('a hostile query value is escaped', async () => {
    const { html } = await page('/hello/ada?q=' + encodeURIComponent(hostile));
    assert.ok(!html.includes('<script>'));
    assert.equal(parseDocument(html).querySelector('main x-greeting')!.getAttribute('data-q'), hostile);
  });

  test('{params.x} look-alikes in request values are not interpolated again', async () => {
    const { html } = await page('/hello/' + encodeURIComponent('{params.who}') + '?q=' + encodeURIComponent('{query.q}{params.who}'));
    const el = parseDocument(html).querySelector('main x-greeting')!;
    assert.equal(el.getAttribute('name'), '{params.who}');
    assert.equal(el.getAttribute('data-q'), '{query.q}{params.who}');
  });
});

describe('rendering', () => {
  test('every microfrontend is declarative shadow DOM with defer-hydration', async () => {
    const { html } = await page('/box');
    const doc = parseDocument(html);
    for (const tag of ['x-greeting', 'x-box', 'x-item']) {
      const els = [...doc.querySelectorAll(tag)];
      assert.ok(els.length > 0, `${tag} is on the page`);
      for (const el of els) {
        assert.ok(el.hasAttribute('defer-hydration'), `${tag} has defer-hydration`);
        assert.ok(shadowTemplate(el), `${tag} has a declarative shadow root`);
      }
    }
  });

  test('styles go into the shadow root and only the standard shadowrootmode attribute is used', async () => {
    const { html } = await page('/hello/ada');
    assert.ok(html.includes('<template shadowrootmode="open"><style>p { color: rebeccapurple; }</style>'));
    assert.doesNotMatch(html, /<template shadowroot=/);
  });

  test('light-DOM children stay as slotted content, nested microfrontends render too', async () => {
    const { html } = await page('/box');
    const doc = parseDocument(html);
    const box = doc.querySelector('x-box')!;
    const children = [...box.children].map((c) => c.localName);
    assert.deepEqual(children, ['template', 'span', 'x-item']);
    assert.equal(box.querySelector(':scope > span.slotted')!.textContent, 'light child');
    const lightItem = box.querySelector(':scope > x-item')!;
    assert.match(shadowTemplate(lightItem)!.innerHTML, /item <!--lit-part-->nested/);
    // The element nested in the shadow root is rendered by Lit inside the template.
    assert.match(shadowTemplate(box)!.innerHTML, /<x-item\s+item-id="inside" defer-hydration(="")?><template shadowrootmode="open">/);
  });

  test('elements appear in document order', async () => {
    const { html } = await page('/shop/items/9');
    const order = [...html.matchAll(/<(x-[a-z]+)[\s>]/g)].map((m) => m[1]);
    assert.deepEqual(order, ['x-greeting', 'x-item', 'x-item']);
    assert.ok(html.indexOf('<header>') < html.indexOf('<main>'));
    assert.ok(html.indexOf('item-id="9"') < html.indexOf('item-id="footer"'));
  });

  test('a tag that is not in the registry is emitted as written, with one start-up warning', async () => {
    const { html } = await page('/hello/ada');
    assert.ok(html.includes('<client-only-thing></client-only-thing>'));
    const warnings = server.logs.filter((l) => l.level === 'warn' && String(l.msg).includes('client-only-thing'));
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0]!.at), /layouts\/index\.html:27:3$/);
  });

  test('each request is logged once with a request id', async () => {
    const res = await server.get('/hello/log-me', { headers: { 'x-request-id': 'req-123' } });
    await res.text();
    assert.equal(res.headers.get('x-request-id'), 'req-123');
    await new Promise((r) => setTimeout(r, 20));
    const lines = server.logs.filter((l) => l.requestId === 'req-123');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.status, 200);
  });

  test('the fetch adapter serves the same page as the Node adapter', async () => {
    const viaNode = await (await server.get('/box')).text();
    const viaFetch = await (await server.atoll.fetch(new Request('http://localhost/box'))).text();
    assert.equal(viaFetch, viaNode);
  });
});
