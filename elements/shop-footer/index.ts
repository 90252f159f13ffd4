import { LitElement, css, html } from 'lit';
import { categories } from '../_lib/catalog.js';
import { base, tight, tokens as t } from '../_lib/styles.js';

/**
 * The site footer: brand, category links, account links and a colophon.
 * Static: the layout gives it `hydrate="none"`, so it never loads JavaScript.
 */
export class ShopFooter extends LitElement {
  static override styles = [
    base,
    tight(css`
      footer { margin-top: 4rem; border-top: 1px solid ${t.border}; background: ${t.surface}; }
      .inner { display: grid; grid-template-columns: 2fr repeat(2, 1fr); gap: 2rem; max-width: var(--shop-page-width, 1200px); margin: 0 auto; padding: 2.5rem clamp(1rem, 4vw, 2rem); }
      .brand { font-weight: 800; font-size: 1.1rem; margin: 0 0 .5rem; color: ${t.text}; }
      p { margin: 0; line-height: 1.6; max-width: 28rem; color: ${t.muted}; }
      h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .08em; margin: 0 0 .75rem; color: ${t.muted}; }
      ul { list-style: none; margin: 0; padding: 0; display: grid; gap: .4rem; }
      a { color: ${t.text}; text-decoration: none; }
      a:hover { color: ${t.accent}; text-decoration: underline; }
      .legal { border-top: 1px solid ${t.border}; padding: 1rem clamp(1rem, 4vw, 2rem); max-width: none; text-align: center; font-size: .85rem; }
      @media (max-width: 640px) { .inner { grid-template-columns: 1fr 1fr; } .about { grid-column: 1 / -1; } }
    `),
  ];

  override render() {
    return html`<footer>
      <div class="inner">
        <div class="about">
          <p class="brand">Atoll Shop</p>
          <p>A small shop of everyday objects, and a demo of Atoll: every part of this page is a Lit element,
          rendered on the server to declarative shadow DOM and hydrated only where it is needed.</p>
        </div>
        <nav aria-label="Categories">
          <h2>Shop</h2>
          <ul>
            ${categories.map((c) => html`<li><a href="/category/${c.slug}">${c.name}</a></li>`)}
          </ul>
        </nav>
        <nav aria-label="Account">
          <h2>Account</h2>
          <ul>
            <li><a href="/home">All products</a></li>
            <li><a href="/settings/profile">Settings</a></li>
          </ul>
        </nav>
      </div>
      <p class="legal">© 2025 Atoll Shop · Prices in US dollars · Free shipping over $50</p>
    </footer>`;
  }
}

if (!customElements.get('shop-footer')) customElements.define('shop-footer', ShopFooter);
