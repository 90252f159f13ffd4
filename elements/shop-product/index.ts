import { LitElement, css, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { art, artStyles } from '../_lib/art.js';
import { formatPrice, getCategory, getProduct } from '../_lib/catalog.js';
import { starStyles, stars } from '../_lib/stars.js';
import { base, buttons, card, text, tight, tokens as t } from '../_lib/styles.js';

/**
 * A product's page: art, name, rating, price, description, selling points and
 * an "Add to cart" button (dispatches `atoll-cart-add`, like the cards). An
 * unknown `product-id` shows a friendly "Product not found" panel.
 */
export class ShopProduct extends LitElement {
  static override styles = [
    base,
    buttons,
    card,
    text,
    artStyles,
    starStyles,
    tight(css`
      .layout { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: clamp(1.5rem, 4vw, 3rem); align-items: start; }
      .art { border-radius: calc(${t.radius} * 1.4); }
      .art i { width: 46%; }
      .art:hover i { transform: rotate(-4deg) scale(1.04); }
      .crumbs { display: flex; gap: .5rem; font-size: .9rem; margin-bottom: 1rem; }
      .crumbs a { color: ${t.muted}; text-decoration: none; }
      .crumbs a:hover { color: ${t.accent}; text-decoration: underline; }
      h1 { font-size: clamp(1.8rem, 4vw, 2.6rem); letter-spacing: -.025em; margin: .4rem 0 .6rem; }
      .rating { display: flex; align-items: center; gap: .5rem; font-size: .95rem; }
      .stars { font-size: 1.1rem; }
      .price { font-size: 1.75rem; font-weight: 800; margin: 1.25rem 0 .75rem; }
      .desc { font-size: 1.08rem; line-height: 1.65; margin: 0 0 1.25rem; }
      ul { margin: 0 0 1.75rem; padding: 1rem 1.25rem; list-style: none; display: grid; gap: .5rem; }
      li::before { content: '✓'; color: ${t.accent}; font-weight: 700; margin-right: .6rem; }
      .actions { display: flex; flex-wrap: wrap; align-items: center; gap: .75rem; }
      .actions .btn:first-child { padding-inline: 2rem; }
      .note { font-size: .9rem; margin-top: 1rem; }
      .missing { text-align: center; padding: clamp(2rem, 6vw, 4rem) 1.5rem; }
      .missing p { margin: .75rem auto 1.5rem; max-width: 30rem; }
      @media (max-width: 760px) { .layout { grid-template-columns: 1fr; } }
    `),
  ];

  /** Catalogue id of the product to show. */
  @property({ attribute: 'product-id' }) accessor productId = '';

  /** How many times this product was added from this page. */
  @state() accessor added = 0;

  #addToCart(): void {
    const detail = { productId: this.productId };
    this.dispatchEvent(new CustomEvent('atoll-cart-add', { bubbles: true, composed: true, detail }));
    this.added++;
  }

  override render() {
    const p = getProduct(this.productId);
    if (!p) {
      return html`<section class="card missing" aria-labelledby="title">
        <span class="eyebrow">Error 404</span>
        <h1 id="title">Product not found</h1>
        <p class="muted">We couldn’t find a product called “${this.productId}”. It may have sold out for good, or the link may be mistyped.</p>
        <a class="btn" href="/home">Back to the shop</a>
      </section>`;
    }
    const category = getCategory(p.category);
    return html`<article class="layout" aria-labelledby="title">
      ${art(p)}
      <div>
        <nav class="crumbs muted" aria-label="Breadcrumb">
          <a href="/home">Shop</a><span aria-hidden="true">/</span>
          <a href="/category/${p.category}">${category?.name ?? p.category}</a>
        </nav>
        <h1 id="title">${p.name}</h1>
        <div class="rating">${stars(p.rating)}<span class="muted">${p.rating.toFixed(1)} · ${p.reviewCount} reviews</span></div>
        <p class="price">${formatPrice(p.price)}</p>
        <p class="desc">${p.description}</p>
        <ul class="card" aria-label="Highlights">
          ${(category?.features ?? []).map((f) => html`<li>${f}</li>`)}
          <li>Free shipping over $50 and 30-day returns</li>
        </ul>
        <div class="actions">
          <button class="btn" type="button" @click=${this.#addToCart}>Add to cart</button>
          <a class="btn ghost" href="/category/${p.category}">More ${category?.name.toLowerCase() ?? 'like this'}</a>
        </div>
        <p class="note muted" role="status">${this.added ? `Added to your cart${this.added > 1 ? ` (${this.added}×)` : ''}.` : nothing}</p>
      </div>
    </article>`;
  }
}

if (!customElements.get('shop-product')) customElements.define('shop-product', ShopProduct);
