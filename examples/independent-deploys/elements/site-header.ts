import { LitElement, css, html } from 'lit';

/** The host site's own element: built and served with the site, as always. */
export class SiteHeader extends LitElement {
  static override styles = css`
    header { display: flex; justify-content: space-between; align-items: baseline; border-bottom: 1px solid #0002; margin-bottom: 1rem; }
    h1 { font-size: 1.25rem; margin: 0 0 .5rem; }
  `;

  override render() {
    return html`<header><h1>The host site</h1><small>deployed with the site</small></header>`;
  }
}
customElements.define('site-header', SiteHeader);
