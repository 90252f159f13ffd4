/// <reference types="mocha" />
/**
 * The demo shop, built and served like `npm start`: its visible islands
 * hydrate in Chromium (the product list, and through it the nested cards),
 * and a card's button then works end to end across microfrontends.
 */
import { expect } from '@esm-bundle/chai';
import { loadPage, sameNodes, shadowNodes, until } from './islands-helpers.ts';

type Lit = HTMLElement & { hasUpdated?: boolean; updateComplete: Promise<boolean> };

describe('the demo shop with islands', function () {
  this.timeout(20_000);

  it('hydrates the product list and its nested cards in place, and "Add to cart" reaches the navbar', async () => {
    const page = await loadPage('/atoll/demo/home', { width: 1000, height: 580 });
    const list = page.doc.querySelector('shop-product-list') as Lit;
    const card = list.shadowRoot!.querySelector('shop-product-card') as Lit;
    const before = shadowNodes(card);
    card.scrollIntoView();
    await until(page.win, 'the first card to hydrate', () => card.hasUpdated === true);
    expect(list.hasAttribute('defer-hydration')).to.equal(false);
    expect(card.hasAttribute('defer-hydration')).to.equal(false);
    expect(sameNodes(before, shadowNodes(card)), 'the card kept its server nodes').to.equal(true);

    const navbar = page.doc.querySelector('shop-navbar') as Lit;
    await until(page.win, 'the navbar to hydrate', () => navbar.hasUpdated === true);
    const count = navbar.shadowRoot!.querySelector('.count')!;
    expect(count.textContent).to.equal('0');
    card.shadowRoot!.querySelector('button')!.click();
    await card.updateComplete;
    await navbar.updateComplete;
    expect(card.shadowRoot!.querySelector('button')!.textContent).to.equal('Added ✓');
    expect(count.textContent).to.equal('1');
  });
});
