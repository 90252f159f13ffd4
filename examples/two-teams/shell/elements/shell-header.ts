import { LitElement, css, html } from 'lit';

/**
 * Team "shell": the site header, with a theme switch (its island behaviour).
 * The theme is a custom property on the page, so the recs team's element
 * follows it too.
 */
export class ShellHeader extends LitElement {
  static override properties = { dark: { state: true } };
  static override styles = css`
    :host { display: block; }
    header { display: flex; align-items: center; justify-content: space-between; padding: .75rem 0; border-bottom: 1px solid #0002; margin-bottom: 1.5rem; }
    strong { font-size: 1.2rem; letter-spacing: -.01em; }
    button { font: inherit; padding: .3rem .8rem; border-radius: 999px; border: 1px solid currentColor; background: transparent; color: inherit; cursor: pointer; }
  `;
  declare dark: boolean;

  constructor() {
    super();
    this.dark = false;
  }

  #toggle(): void {
    this.dark = !this.dark;
    document.documentElement.dataset.theme = this.dark ? 'dark' : 'light';
  }

  override render() {
    return html`<header>
      <strong>Lagoon Goods</strong>
      <button type="button" aria-pressed=${this.dark ? 'true' : 'false'} @click=${this.#toggle}>${this.dark ? 'Light' : 'Dark'} theme</button>
    </header>`;
  }
}

customElements.define('shell-header', ShellHeader);
