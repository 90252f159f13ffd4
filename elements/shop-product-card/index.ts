import { LitElement, css, html } from 'lit';
import { property, state } from 'lit/decorators.js';
import { artStyle } from '../_lib/art.js';
import { formatPrice, getProduct } from '../_lib/catalog.js';
import { tight } from '../_lib/styles.js';

/**
 * One product in a grid: art, name (linking to its page), rating, price and an
 * "Add to cart" button that dispatches a bubbling, composed `atoll-cart-add`
 * event whose `detail` is `{ productId }`.
 *
 * The card ships only its structural styles. Its look comes from its container
 * through the parts `card`, `art`, `shape`, `body`, `name`, `link`, `meta`,
 * `price` and `add` (see `shop-product-list`): a server-rendered page holds
 * dozens of cards, and each shadow root would otherwise repeat the whole
 * stylesheet in the HTML.
 */
export class ShopProductCard extends LitElement {
  static override styles = tight(css`
    :host { display: block; height: 100%; }
    article { position: relative; display: flex; flex-direction: column; height: 100%; overflow: hidden; }
    .body { display: flex; flex-direction: column; flex: 1; }
    .row { display: flex; align-items: center; justify-content: space-between; gap: .5rem; margin-top: auto; }
    button { position: relative; font: inherit; cursor: pointer; }
  `);

  /** Catalogue id of the product to show. */
  @property({ attribute: 'product-id' }) accessor productId = '';

  /** True for a moment after the button was pressed. */
  @state() accessor added = false;

  #timer: ReturnType<typeof setTimeout> | undefined;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.#timer);
  }

  #addToCart(): void {
    const detail = { productId: this.productId };
    this.dispatchEvent(new CustomEvent('atoll-cart-add', { bubbles: true, composed: true, detail }));
    this.added = true;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => (this.added = false), 1500);
  }

  override render() {
    const p = getProduct(this.productId);
    if (!p) return html`<article part="card"><p part="body meta">This product is no longer available.</p></article>`;
    // Few lines on purpose: this template's whitespace is repeated for every card on a page.
    return html`<article part="card"><div part="art" style=${artStyle(p)}><i part="shape"></i></div>
<div class="body" part="body"><h3 part="name"><a part="link" href="/products/${p.id}">${p.name}</a></h3>
<p part="meta">${`★ ${p.rating.toFixed(1)} · ${p.reviewCount} reviews`}</p>
<div class="row"><b part="price">${formatPrice(p.price)}</b><button part="add" type="button" @click=${this.#addToCart}>${this.added ? 'Added ✓' : 'Add to cart'}</button></div></div></article>`;
  }
}

if (!customElements.get('shop-product-card')) customElements.define('shop-product-card', ShopProductCard);
