import { LitElement, css, html } from 'lit';
import { categories } from '../_lib/catalog.js';
import { base, buttons, text, tight, tokens as t } from '../_lib/styles.js';

/** The 404 page: a friendly message, a link home and the categories. */
export class ShopNotFound extends LitElement {
  static override styles = [
    base,
    buttons,
    text,
    tight(css`
      section { text-align: center; padding: clamp(2.5rem, 8vw, 5rem) 1rem; }
      .code { display: inline-flex; align-items: center; gap: .15em; font-size: clamp(4rem, 14vw, 7rem); font-weight: 800; letter-spacing: -.05em; line-height: 1; color: ${t.accent}; }
      .ring { display: inline-block; width: .78em; height: .78em; border-radius: 50%; border: .16em solid ${t.accent}; background: ${t.accentSoft}; }
      h1 { font-size: clamp(1.6rem, 4vw, 2.2rem); margin: 1.25rem 0 .75rem; }
      p { max-width: 32rem; margin: 0 auto 1.75rem; line-height: 1.6; }
      ul { display: flex; flex-wrap: wrap; justify-content: center; gap: .5rem; list-style: none; margin: 2rem 0 0; padding: 0; }
      ul a { display: block; padding: .35rem .8rem; border: 1px solid ${t.border}; border-radius: 99px; color: ${t.text}; text-decoration: none; font-size: .9rem; }
      ul a:hover { border-color: ${t.accent}; color: ${t.accent}; }
    `),
  ];

  override render() {
    return html`<section aria-labelledby="nf-title">
      <div class="code" aria-hidden="true">4<span class="ring"></span>4</div>
      <h1 id="nf-title">We couldn’t find that page</h1>
      <p class="muted">The link may be old, or the page may have drifted out to sea. Let’s get you back to shore.</p>
      <a class="btn" href="/home">Back to the shop</a>
      <nav aria-label="Categories">
        <ul>
          ${categories.map((c) => html`<li><a href="/category/${c.slug}">${c.name}</a></li>`)}
        </ul>
      </nav>
    </section>`;
  }
}

if (!customElements.get('shop-not-found')) customElements.define('shop-not-found', ShopNotFound);
