/**
 * The demo shop (the repository's own site, what `npm start` serves) over
 * real HTTP: every page renders its elements as DSD with the expected content.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { repoRoot, serveSite, shadowTemplate, type TestServer } from '../helpers.ts';
import { parseDocument } from '../dom.ts';

let server: TestServer;
before(async () => {
  server = await serveSite({ root: repoRoot });
});
after(() => server.close());

const load = async (path: string) => {
  const res = await server.get(path);
  const html = await res.text();
  return { res, html, doc: parseDocument(html) };
};
const shadowHtml = (doc: Document, selector: string): string => {
  const el = doc.querySelector(selector);
  assert.ok(el, `${selector} is on the page`);
  const t = shadowTemplate(el);
  assert.ok(t, `${selector} has a declarative shadow root`);
  return t.innerHTML;
};

describe('demo shop', () => {
  test('/ redirects to /home', async () => {
    const res = await server.get('/');
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/home');
  });

  test('/home has the navbar, hero, at least 50 product cards and the footer, all server-rendered', async () => {
    const { res, html, doc } = await load('/home');
    assert.equal(res.status, 200);
    assert.match(shadowHtml(doc, 'shop-navbar'), /Atoll Shop/);
    assert.match(shadowHtml(doc, 'shop-hero'), /<h1/);
    const list = doc.querySelector('shop-product-list')!;
    const cards = shadowTemplate(list)!.content.querySelectorAll('shop-product-card');
    assert.ok(cards.length >= 50, `${cards.length} cards`);
    for (const card of cards) {
      assert.ok(card.hasAttribute('defer-hydration'), 'nested cards wait for their parent');
      assert.ok(shadowTemplate(card), 'each card is rendered too');
    }
    assert.ok(shadowTemplate(doc.querySelector('shop-footer')!));
    assert.equal(doc.querySelector('shop-footer')!.getAttribute('hydrate'), 'none', 'hydrate stays for the loader');
    assert.ok(html.length > 40_000, `the page is ${html.length} bytes`);
  });

  test('/home?q= filters the list, escaped', async () => {
    const { doc } = await load('/home?q=' + encodeURIComponent('mug"<x>'));
    assert.equal(doc.querySelector('shop-product-list')!.getAttribute('query'), 'mug"<x>');
  });

  test('a product page shows the product and its reviews', async () => {
    const { res, doc } = await load('/products/stoneware-mug');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=30', 'the product (60 s) and the reviews (30 s) merged');
    const product = doc.querySelector('shop-product')!;
    assert.equal(product.getAttribute('product-id'), 'stoneware-mug');
    assert.equal(product.hasAttribute('primary'), false, 'primary is consumed by the server');
    assert.match(shadowHtml(doc, 'shop-product'), /Stoneware Mug/);
    assert.match(shadowHtml(doc, 'shop-reviews'), /Customer reviews/);
    // The reviews' fallback stays as light DOM.
    assert.match(doc.querySelector('shop-reviews > p')!.textContent!, /unavailable/);
  });

  test('an unknown product answers 404: the primary element\'s data() says so, its fallback stays in place', async () => {
    const { res, doc } = await load('/products/no-such-thing');
    assert.equal(res.status, 404);
    const product = doc.querySelector('shop-product')!;
    assert.equal(product.getAttribute('atoll-fallback'), 'status', 'the browser renders it (its not-found panel)');
    assert.match(product.querySelector('p')!.textContent!, /couldn’t find that product/);
    assert.ok(shadowTemplate(doc.querySelector('shop-navbar')!), 'the rest of the page renders');
  });

  test('a category page lists only that category', async () => {
    const { doc } = await load('/category/audio');
    const list = doc.querySelector('shop-product-list')!;
    assert.equal(list.getAttribute('category'), 'audio');
    const cards = shadowTemplate(list)!.content.querySelectorAll('shop-product-card');
    assert.ok(cards.length > 0 && cards.length < 50, `${cards.length} audio cards`);
  });

  test('settings renders under /settings/*, titled by its head() hook', async () => {
    const { doc } = await load('/settings/profile');
    assert.equal(doc.querySelector('shop-settings')!.getAttribute('hydrate'), 'load');
    assert.match(shadowHtml(doc, 'shop-settings'), /<form/);
    assert.equal(doc.title, 'Settings — Atoll Shop');
    assert.match(doc.querySelector('meta[name=description]')?.getAttribute('content') ?? '', /^Choose how Atoll Shop looks/);
  });

  test('an unknown path is the 404 page', async () => {
    const { res, doc } = await load('/no/such/page');
    assert.equal(res.status, 404);
    assert.match(shadowHtml(doc, 'shop-not-found'), /href="\/home"/);
    assert.ok(shadowTemplate(doc.querySelector('shop-navbar')!), 'the navbar is still there');
  });
});
