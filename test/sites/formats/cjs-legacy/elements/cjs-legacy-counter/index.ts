import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';

// Lit's classic decorators: experimentalDecorators and
// useDefineForClassFields: false in tsconfig.json.
@customElement('cjs-legacy-counter')
export class FormatCounter extends LitElement {
  static override styles = css`button { font: inherit; }`;

  @property({ type: Number }) count = 0;
  @property() label = '';
  @state() private clicks = 0;

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
