import { LitElement, html } from 'lit';
import { property } from 'lit/decorators.js';
import { products } from '../../../../../elements/_lib/catalog.ts';
import { ShopProductList } from '../../../../../elements/shop-product-list/index.ts';
import '../../../../../elements/shop-product-card/index.ts';

/**
 * Bench-only: a grid of exactly `count` `<shop-product-card>`s, cycling
 * through the demo's catalogue (66 products), with the demo product list's
 * look (its styles style the cards through their parts). The benchmark pages
 * `/shop-50` and `/cards-1000` use it where the demo's list would show all 66.
 */
export class BenchCardGrid extends LitElement {
  static override styles = ShopProductList.styles;

  /** How many cards to render (whole number, 0–10,000). */
  @property({ type: Number }) accessor count = 0;

  override render() {
    const n = Number.isInteger(this.count) ? Math.min(Math.max(this.count, 0), 10_000) : 0;
    const cards = Array.from({ length: n }, (_, i) => products[i % products.length]!);
    return html`<section aria-labelledby="list-title">
      <header>
        <div>
          <span class="eyebrow">The collection</span>
          <h2 id="list-title">Bench grid</h2>
          <p class="muted">${`${n} cards`}</p>
        </div>
      </header>
      <ul class="grid">
        ${cards.map((p) => html`<li><shop-product-card product-id=${p.id}></shop-product-card></li>`)}
      </ul>
    </section>`;
  }
}

if (!customElements.get('bench-card-grid')) customElements.define('bench-card-grid', BenchCardGrid);
