import { LitElement, css, html, nothing } from 'lit';
import { property } from 'lit/decorators.js';
import { categories, findProducts, getCategory } from '../_lib/catalog.js';
import { artBox, artShape } from '../_lib/art.js';
import { base, buttons, text, tight, tokens as t } from '../_lib/styles.js';
import '../shop-product-card/index.js';

/**
 * A responsive grid of `<shop-product-card>`s, optionally narrowed to one
 * category (`category`, a slug) and/or a case-insensitive name search
 * (`query`; empty means everything).
 */
export class ShopProductList extends LitElement {
  static override styles = [
    base,
    buttons,
    text,
    tight(css`
      header { display: flex; flex-wrap: wrap; align-items: end; justify-content: space-between; gap: 1rem; margin-bottom: 1.25rem; }
      h2 { font-size: clamp(1.4rem, 2.5vw, 1.8rem); margin-top: .25rem; }
      p { margin: .35rem 0 0; }
      nav ul { display: flex; flex-wrap: wrap; gap: .4rem; list-style: none; margin: 0; padding: 0; }
      nav a { display: block; padding: .35rem .8rem; border-radius: 999px; border: 1px solid ${t.border}; color: ${t.text}; text-decoration: none; font-size: .875rem; }
      nav a:hover { border-color: ${t.accent}; color: ${t.accent}; }
      nav a[aria-current] { background: ${t.text}; border-color: ${t.text}; color: ${t.surface}; }
      .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 215px), 1fr)); gap: 1.25rem; list-style: none; margin: 0; padding: 0; }
      .grid > li { content-visibility: auto; contain-intrinsic-size: auto 360px; }
      .empty { padding: 3rem 1rem; text-align: center; border: 1px dashed ${t.border}; border-radius: ${t.radius}; }
      .empty p { margin: .5rem 0 1.25rem; }
    `),
    // The cards' look, through their parts (see ShopProductCard).
    tight(css`
      shop-product-card::part(card) { background: ${t.surface}; border: 1px solid ${t.border}; border-radius: ${t.radius}; box-shadow: ${t.shadow}; transition: box-shadow .2s, transform .2s; }
      shop-product-card:hover::part(card) { box-shadow: ${t.shadowRaised}; transform: translateY(-3px); }
      shop-product-card::part(art) { ${artBox} }
      shop-product-card::part(shape) { ${artShape} }
      shop-product-card:hover::part(shape) { transform: scale(1.08) rotate(-4deg); }
      shop-product-card::part(body) { gap: .3rem; padding: .85rem 1rem 1rem; }
      shop-product-card::part(name) { margin: 0; font-size: 1rem; line-height: 1.3; }
      shop-product-card::part(link) { color: inherit; text-decoration: none; }
      shop-product-card::part(link)::after { content: ''; position: absolute; inset: 0; }
      shop-product-card::part(link):focus-visible { outline: 2px solid ${t.accent}; outline-offset: 2px; }
      shop-product-card::part(meta) { margin: 0 0 .5rem; font-size: .85rem; color: ${t.muted}; }
      shop-product-card::part(meta)::first-letter { color: ${t.star}; }
      shop-product-card::part(price) { font-weight: 700; font-size: 1.05rem; }
      shop-product-card::part(add) { font-size: .85rem; font-weight: 600; padding: .45em .95em; border: 0; border-radius: 99px; background: ${t.accent}; color: ${t.onAccent}; transition: background-color .15s; }
      shop-product-card::part(add):hover { background: ${t.accentHover}; }
      shop-product-card::part(add):focus-visible { outline: 2px solid ${t.accent}; outline-offset: 2px; }
    `),
  ];

  /** Category slug to show, or empty for all categories. */
  @property() accessor category = '';

  /** Name search; empty shows every product. */
  @property() accessor query = '';

  #heading(): { eyebrow: string; title: string; blurb: string } {
    const category = getCategory(this.category);
    const query = this.query.trim();
    if (this.category && !category) return { eyebrow: 'Category', title: 'Unknown category', blurb: '' };
    const eyebrow = category ? 'Category' : query ? 'Search' : 'The collection';
    const scope = category ? category.name : 'All products';
    return { eyebrow, title: query ? `Results for “${query}”` : scope, blurb: category?.blurb ?? '' };
  }

  override render() {
    const list = this.category && !getCategory(this.category) ? [] : findProducts(this.category, this.query);
    const { eyebrow, title, blurb } = this.#heading();
    return html`<section aria-labelledby="list-title">
      <header>
        <div>
          <span class="eyebrow">${eyebrow}</span>
          <h2 id="list-title">${title}</h2>
          <p class="muted">${blurb ? `${blurb} ` : ''}${list.length} ${list.length === 1 ? 'product' : 'products'}</p>
        </div>
        <nav aria-label="Categories">
          <ul>
            <li><a href="/home" aria-current=${this.category || this.query.trim() ? nothing : 'page'}>All</a></li>
            ${categories.map(
              (c) => html`<li><a href="/category/${c.slug}" aria-current=${c.slug === this.category ? 'page' : nothing}>${c.name}</a></li>`,
            )}
          </ul>
        </nav>
      </header>
      ${list.length
        ? html`<ul class="grid">
            ${list.map((p) => html`<li><shop-product-card product-id=${p.id}></shop-product-card></li>`)}
          </ul>`
        : html`<div class="empty">
            <h3>Nothing here yet</h3>
            <p class="muted">We couldn’t find products matching that. Try another search or browse everything.</p>
            <a class="btn" href="/home">Browse all products</a>
          </div>`}
    </section>`;
  }
}

if (!customElements.get('shop-product-list')) customElements.define('shop-product-list', ShopProductList);
