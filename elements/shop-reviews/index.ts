import { LitElement, css, html, nothing } from 'lit';
import { property } from 'lit/decorators.js';
import { formatDate, getProduct, getReviews } from '../_lib/catalog.js';
import { starStyles, stars } from '../_lib/stars.js';
import { base, card, text, tight, tokens as t } from '../_lib/styles.js';

/**
 * A product's customer reviews: the average, a bar per star level and each
 * review with its stars, newest first. An unknown `product-id` renders
 * nothing (the product element already explains).
 */
export class ShopReviews extends LitElement {
  static override styles = [
    base,
    card,
    text,
    starStyles,
    tight(css`
      section { display: grid; grid-template-columns: minmax(0, 16rem) minmax(0, 1fr); gap: clamp(1.5rem, 4vw, 3rem); padding-top: 2.5rem; border-top: 1px solid ${t.border}; }
      h2 { font-size: 1.5rem; margin-bottom: 1rem; }
      .average { font-size: 3rem; font-weight: 800; letter-spacing: -.03em; line-height: 1; }
      .summary .stars { font-size: 1.25rem; margin: .5rem 0; }
      .bars { display: grid; gap: .35rem; margin: 1.25rem 0 0; padding: 0; list-style: none; font-size: .85rem; }
      .bars li { display: grid; grid-template-columns: 2.2rem 1fr 1.2rem; align-items: center; gap: .5rem; }
      .bar { height: .5rem; border-radius: 99px; background: ${t.subtle}; overflow: hidden; }
      .bar span { display: block; height: 100%; border-radius: inherit; background: ${t.star}; }
      ol { display: grid; gap: 1rem; list-style: none; margin: 0; padding: 0; }
      /* Reviews below the fold are not laid out until they come near the viewport (docs/navigation.md). */
      ol > li { content-visibility: auto; contain-intrinsic-size: auto 170px; }
      article { padding: 1.1rem 1.25rem; }
      header { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem; }
      h3 { font-size: 1.02rem; margin: .6rem 0 .35rem; }
      article p { margin: 0; line-height: 1.6; }
      .by { font-size: .85rem; margin-top: .6rem; }
      .empty { padding: 1.5rem; }
      @media (max-width: 760px) { section { grid-template-columns: 1fr; } }
    `),
  ];

  /** Catalogue id of the product whose reviews to show. */
  @property({ attribute: 'product-id' }) accessor productId = '';

  override render() {
    const reviews = getReviews(this.productId);
    const product = getProduct(this.productId);
    // shop-product already says "Product not found"; don't add an empty section.
    if (!product) return nothing;
    if (reviews.length === 0) {
      return html`<section aria-labelledby="reviews-title">
        <h2 id="reviews-title">Customer reviews</h2>
        <p class="card empty muted">No reviews yet.</p>
      </section>`;
    }
    const levels = [5, 4, 3, 2, 1].map((level) => [level, reviews.filter((r) => r.rating === level).length] as const);
    return html`<section aria-labelledby="reviews-title">
      <div class="summary">
        <h2 id="reviews-title">Customer reviews</h2>
        <div class="average">${product.rating.toFixed(1)}</div>
        ${stars(product.rating)}
        <div class="muted">Based on ${reviews.length} reviews</div>
        <ul class="bars" aria-label="Reviews per rating">
          ${levels.map(
            ([level, count]) => html`<li>
              <span>${level}<span aria-hidden="true"> ★</span><span class="sr-only"> stars</span></span>
              <span class="bar"><span style="width:${(count / reviews.length) * 100}%"></span></span>
              <span class="muted">${count}</span>
            </li>`,
          )}
        </ul>
      </div>
      <ol>
        ${reviews.map(
          (r) => html`<li>
            <article class="card">
              <header>${stars(r.rating)}<time class="muted" datetime=${r.date}>${formatDate(r.date)}</time></header>
              <h3>${r.title}</h3>
              <p>${r.body}</p>
              <p class="by muted">${r.author} · Verified buyer</p>
            </article>
          </li>`,
        )}
      </ol>
    </section>`;
  }
}

if (!customElements.get('shop-reviews')) customElements.define('shop-reviews', ShopReviews);
