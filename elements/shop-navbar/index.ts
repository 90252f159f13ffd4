import { LitElement, css, html, isServer } from 'lit';
import { state } from 'lit/decorators.js';
import { applyTheme, loadPrefs } from '../_lib/prefs.js';
import { base, tight, tokens as t } from '../_lib/styles.js';

/** Category links shown in the bar (slug, label). */
const LINKS: readonly (readonly [string, string])[] = [
  ['/home', 'Shop all'],
  ['/category/kitchen', 'Kitchen'],
  ['/category/audio', 'Audio'],
  ['/category/outdoors', 'Outdoors'],
];

/**
 * The site bar: brand, main links, a product search (`GET /home?q=…`) and a
 * cart counter. The counter goes up when the button is clicked and whenever an
 * `atoll-cart-add` event reaches `window` (cards dispatch it, composed).
 * Once hydrated it also applies the theme saved on the settings page, and
 * its search box shows the URL's `q` (after every client navigation too).
 */
export class ShopNavbar extends LitElement {
  static override styles = [
    base,
    tight(css`
      nav { display: flex; flex-wrap: wrap; align-items: center; gap: .75rem 1.5rem; max-width: var(--shop-page-width, 1200px); margin: 0 auto; padding: .75rem clamp(1rem, 4vw, 2rem); }
      .brand { display: inline-flex; align-items: center; gap: .55rem; font-weight: 800; font-size: 1.15rem; letter-spacing: -.02em; color: ${t.text}; text-decoration: none; }
      .mark { width: 1.6rem; height: 1.6rem; border-radius: 50%; border: .3rem solid ${t.accent}; background: ${t.accentSoft}; box-shadow: 0 0 0 .2rem ${t.accentSoft}; }
      ul { display: flex; gap: .25rem; list-style: none; margin: 0; padding: 0; overflow-x: auto; }
      ul a { display: block; padding: .45rem .7rem; border-radius: 8px; color: ${t.muted}; text-decoration: none; font-weight: 500; white-space: nowrap; }
      ul a:hover { color: ${t.text}; background: ${t.subtle}; }
      form { flex: 1 1 14rem; display: flex; max-width: 24rem; margin-left: auto; }
      input { flex: 1; min-width: 0; font: inherit; padding: .5rem .9rem; border: 1px solid ${t.border}; border-right: 0; border-radius: 99px 0 0 99px; background: ${t.surface}; color: ${t.text}; }
      input:focus { outline: none; border-color: ${t.accent}; box-shadow: 0 0 0 3px ${t.accentSoft}; }
      form button { font: inherit; font-weight: 600; padding: .5rem 1rem; border: 1px solid ${t.accent}; border-radius: 0 99px 99px 0; background: ${t.accent}; color: ${t.onAccent}; cursor: pointer; }
      form button:hover { background: ${t.accentHover}; }
      .icons { display: flex; align-items: center; gap: .5rem; }
      .icons a, .cart { display: inline-flex; align-items: center; gap: .4rem; padding: .45rem .8rem; border: 1px solid ${t.border}; border-radius: 99px; background: ${t.surface}; color: ${t.text}; font: inherit; font-weight: 600; text-decoration: none; cursor: pointer; }
      .icons a:hover, .cart:hover { border-color: ${t.text}; }
      .count { min-width: 1.4rem; padding: .1rem .4rem; border-radius: 99px; background: ${t.accent}; color: ${t.onAccent}; font-size: .8rem; text-align: center; }
      @media (max-width: 720px) { nav { column-gap: .5rem; } .icons { margin-left: auto; gap: .35rem; } .icons a, .cart { padding: .4rem .7rem; } ul { order: 1; flex-basis: 100%; } form { order: 2; flex-basis: 100%; max-width: none; } }
    `),
  ];

  /** Items in the cart (kept in memory for this page view). */
  @state() accessor cartCount = 0;

  #onCartAdd = (): void => {
    this.cartCount++;
  };

  /**
   * Shows the URL's `q` in the search box (browser only, once hydrated). The
   * navbar is kept across client navigations (docs/navigation.md): without
   * this, the box would keep the last typed query on every page. The value
   * is set as a property, outside the template: the server renders the box
   * empty and hydration has nothing to compare.
   */
  #showQuery = (): void => {
    const input = this.renderRoot.querySelector<HTMLInputElement>('input[name=q]');
    if (input !== null) input.value = new URLSearchParams(location.search).get('q') ?? '';
  };

  #listen(on: boolean): void {
    const method = on ? 'addEventListener' : 'removeEventListener';
    window[method]('atoll-cart-add', this.#onCartAdd);
    // The router's event after each client navigation (`atoll:navigated`, docs/navigation.md), and history steps.
    document[method]('atoll:navigated', this.#showQuery);
    window[method]('popstate', this.#showQuery);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (isServer) return;
    applyTheme(loadPrefs().theme);
    // Counting and the search box's query start once hydrated (see firstUpdated), so
    // that the first client render matches the server's HTML; this covers reconnection.
    if (this.hasUpdated) {
      this.#listen(true);
      this.#showQuery();
    }
  }

  override firstUpdated(): void {
    this.#listen(true);
    this.#showQuery();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (!isServer) this.#listen(false);
  }

  override render() {
    const items = this.cartCount === 1 ? '1 item' : `${this.cartCount} items`;
    return html`<nav aria-label="Main">
      <a class="brand" href="/home" data-atoll-prefetch="hover"><span class="mark" aria-hidden="true"></span>Atoll Shop</a>
      <ul>
        ${LINKS.map(([href, label]) => html`<li><a href=${href} data-atoll-prefetch="hover">${label}</a></li>`)}
      </ul>
      <form role="search" action="/home" method="get">
        <label class="sr-only" for="q">Search products</label>
        <input id="q" name="q" type="search" placeholder="Search products…" autocomplete="off" />
        <button type="submit">Search</button>
      </form>
      <div class="icons">
        <a href="/settings/profile">Settings</a>
        <button class="cart" type="button" aria-label=${`Cart, ${items}`} @click=${() => this.cartCount++}>
          Cart <span class="count">${this.cartCount}</span>
        </button>
      </div>
    </nav>`;
  }
}

if (!customElements.get('shop-navbar')) customElements.define('shop-navbar', ShopNavbar);
