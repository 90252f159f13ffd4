/**
 * The demo shop's elements, server output only, with the testing kit's
 * renderToDocument (atoll/testing): queried through their real shadow roots.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderToDocument } from '../../testing/index.ts';
import { repoRoot } from '../helpers.ts';

describe('demo elements (server output, with the testing kit)', () => {
  test('<shop-product-card> shows name, link, price and an "Add to cart" button', async () => {
    const doc = await renderToDocument({ root: repoRoot, tag: 'shop-product-card', attributes: { 'product-id': 'stoneware-mug' } });
    const root = doc.querySelector('shop-product-card')!.shadowRoot!;
    assert.equal(root.querySelector('[part=link]')!.getAttribute('href'), '/products/stoneware-mug');
    assert.equal(root.querySelector('[part=link]')!.textContent, 'Stoneware Mug');
    assert.equal(root.querySelector('[part=price]')!.textContent, '$24.00');
    assert.equal(root.querySelector('button')!.textContent, 'Add to cart');
  });

  test('the home page nests the cards\' shadow roots inside the product list\'s', async () => {
    const doc = await renderToDocument({ root: repoRoot, route: '/home' });
    assert.equal(doc.status, 200);
    const list = doc.querySelector('shop-product-list')!;
    const cards = list.shadowRoot!.querySelectorAll('shop-product-card');
    assert.ok(cards.length > 1, 'several cards');
    for (const card of cards) assert.ok(card.shadowRoot!.querySelector('[part=price]'), 'each card has its own shadow root');
  });

  test('<shop-settings> renders the defaults: the system theme selected, no saves yet', async () => {
    const doc = await renderToDocument({ root: repoRoot, tag: 'shop-settings' });
    const root = doc.querySelector('shop-settings')!.shadowRoot!;
    assert.equal(root.querySelector('select option[selected]')!.getAttribute('value'), 'system');
    assert.equal(root.querySelector('.count')!.textContent, 'Saved 0 times');
  });
});
