import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';

// Standard (TC39) decorators: reactive fields are `accessor`s.
@customElement('cjs-standard-counter')
export class FormatCounter extends LitElement {
  static override styles = css`button { font: inherit; }`;

  @property({ type: Number }) accessor count = 0;
  @property() accessor label = '';
  @state() private accessor clicks = 0;

  override render() {
    return html`<p class="label">${this.label}</p>
      <button @click=${this.increment}>count ${this.count}</button>
      <span class="clicks">${this.clicks}</span>`;
  }

  private increment(): void {
    this.count++;
    this.clicks++;
  }
}
