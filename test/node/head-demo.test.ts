/**
 * The demo shop's document head over real HTTP, as a crawler sees it in the
 * first response (docs/seo.md): each product page has its own title,
 * description, canonical URL, Open Graph and schema.org Product JSON-LD;
 * category pages their own title/description/canonical; the 404 page says
 * noindex. With `publicOrigin` set, URLs are absolute on that origin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getCategory, products } from '../../elements/_lib/catalog.ts';
import { repoRoot, serveSite, type TestServer } from '../helpers.ts';
import { parseDocument } from '../dom.ts';

const ORIGIN = 'https://shop.example';
let server: TestServer;
before(async () => {
  server = await serveSite({ root: repoRoot, config: { publicOrigin: ORIGIN } });
});
after(() => server?.close());

const load = async (path: string) => {
  const res = await server.get(path);
  const html = await res.text();
  return { res, html, doc: parseDocument(html) };
};
const meta = (doc: Document, key: string): string | null =>
  (doc.querySelector(`meta[name="${key}"]`) ?? doc.querySelector(`meta[property="${key}"]`))?.getAttribute('content') ?? null;

describe('demo shop head', () => {
  test('every product page: its own title, description, canonical, og:* and Product JSON-LD', async () => {
    const titles = new Set<string>();
    // Three products spread over the catalogue (all of them would be ~1 s of requests for no new branch).
    for (const product of [products[0]!, products[Math.floor(products.length / 2)]!, products.at(-1)!]) {
      const { res, html, doc } = await load(`/products/${product.id}`);
      assert.equal(res.status, 200);
      const head = html.slice(0, html.indexOf('<body'));
      assert.equal(doc.querySelectorAll('title').length, 1);
      assert.equal(doc.title, `${product.name} — Atoll Shop`);
      titles.add(doc.title);
      assert.equal(doc.querySelectorAll('meta[name=description]').length, 1, 'the layout default was replaced, not duplicated');
      assert.equal(meta(doc, 'description'), product.description);
      const canonical = `${ORIGIN}/products/${product.id}`;
      assert.equal(doc.querySelector('link[rel=canonical]')!.getAttribute('href'), canonical);
      assert.equal(meta(doc, 'og:type'), 'product');
      assert.equal(meta(doc, 'og:title'), product.name);
      assert.equal(meta(doc, 'og:description'), product.description);
      assert.equal(meta(doc, 'og:url'), canonical);
      assert.equal(meta(doc, 'og:image'), `${ORIGIN}/favicon.svg`);
      assert.equal(meta(doc, 'product:price:amount'), (product.price / 100).toFixed(2));
      assert.equal(meta(doc, 'product:price:currency'), 'USD');
      const scripts = doc.querySelectorAll('script[type="application/ld+json"]');
      assert.equal(scripts.length, 1);
      assert.ok(head.includes('application/ld+json'), 'the JSON-LD is in the <head> of the first response');
      const ld = JSON.parse(scripts[0]!.textContent!);
      assert.equal(ld['@context'], 'https://schema.org');
      assert.equal(ld['@type'], 'Product');
      assert.equal(ld.name, product.name);
      assert.equal(ld.description, product.description);
      assert.equal(ld.sku, product.id);
      // Absolute, from the element context's publicOrigin (JSON-LD is opaque to Atoll's URL resolution).
      assert.equal(ld.image, `${ORIGIN}/favicon.svg`);
      assert.equal(ld.url, canonical);
      assert.equal(ld.offers.url, canonical);
      assert.equal(ld.category, getCategory(product.category)!.name);
      assert.equal(ld.offers['@type'], 'Offer');
      assert.equal(ld.offers.price, (product.price / 100).toFixed(2));
      assert.match(ld.offers.price, /^\d+\.\d{2}$/, 'schema.org price: digits and a dot');
      assert.equal(ld.offers.priceCurrency, 'USD');
      assert.equal(ld.offers.availability, 'https://schema.org/InStock');
      if (product.reviewCount > 0) {
        assert.equal(ld.aggregateRating['@type'], 'AggregateRating');
        assert.equal(ld.aggregateRating.reviewCount, product.reviewCount);
      }
    }
    assert.equal(titles.size, 3, 'each product page has its own title');
  });

  test('a category page: title, description and canonical', async () => {
    const { doc } = await load('/category/kitchen');
    const category = getCategory('kitchen');
    assert.ok(category, 'the demo has a kitchen category');
    assert.equal(doc.title, `${category.name} — Atoll Shop`);
    assert.match(meta(doc, 'description')!, new RegExp(category.name));
    assert.equal(doc.querySelector('link[rel=canonical]')!.getAttribute('href'), `${ORIGIN}/category/kitchen`);
    assert.equal(meta(doc, 'robots'), null);
  });

  test('the home page: the layout description, a canonical; search results are noindex', async () => {
    const home = await load('/home');
    assert.equal(home.doc.title, 'Everyday goods — Atoll Shop');
    assert.match(meta(home.doc, 'description')!, /^Atoll Shop: everyday goods/);
    assert.equal(home.doc.querySelector('link[rel=canonical]')!.getAttribute('href'), `${ORIGIN}/home`);
    const search = await load('/home?q=' + encodeURIComponent('mug"</title><x>'));
    assert.equal(search.doc.title, 'Results for “mug"</title><x>” — Atoll Shop', 'the query is text in the title');
    assert.equal(meta(search.doc, 'robots'), 'noindex, follow');
  });

  test('the 404 page says noindex; an unknown product answers 404 with the layout title', async () => {
    const missing = await load('/no/such/page');
    assert.equal(missing.res.status, 404);
    assert.equal(meta(missing.doc, 'robots'), 'noindex');
    assert.equal(missing.doc.title, 'Page not found — Atoll Shop');
    const product = await load('/products/no-such-product');
    assert.equal(product.res.status, 404);
    assert.equal(product.doc.querySelectorAll('title').length, 1);
    assert.equal(product.doc.querySelector('link[rel=canonical]'), null, 'no canonical for a product that does not exist');
  });
});
