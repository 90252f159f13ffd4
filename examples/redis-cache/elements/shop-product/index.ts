import { LitElement, css, html } from 'lit';

/**
 * A product card. Its markup says which instance rendered it and when: a
 * page from the other instance showing the same line is a render-cache hit
 * through Redis.
 */
export class ShopProduct extends LitElement {
  static override properties = { name: {}, price: { type: Number } };
  static override styles = css`
    :host { display: block; padding: 1rem; border: 1px solid #0002; border-radius: 8px; max-width: 24rem; }
    .by { opacity: .7; font-size: .9rem; }
  `;
  declare name: string;
  declare price: number;

  override render() {
    const instance = globalThis.process?.env?.ATOLL_INSTANCE ?? '?';
    return html`<h2>${this.name}</h2><p>€${this.price}</p><p class="by">rendered by instance ${instance} at ${new Date().toISOString()}</p>`;
  }
}
customElements.define('shop-product', ShopProduct);
