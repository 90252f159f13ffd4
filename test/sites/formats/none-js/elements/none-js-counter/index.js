import { LitElement, css, html } from 'lit';

// Plain JavaScript: reactive properties declared with static properties.
export class FormatCounter extends LitElement {
  static properties = {
    count: { type: Number },
    label: {},
    clicks: { state: true },
  };

  static styles = css`button { font: inherit; }`;

  constructor() {
    super();
    this.count = 0;
    this.label = '';
    this.clicks = 0;
  }

  render() {
    return html`<p class="label">${this.label}</p>
      <button @click=${this.increment}>count ${this.count}</button>
      <span class="clicks">${this.clicks}</span>`;
  }

  increment() {
    this.count++;
    this.clicks++;
  }
}
customElements.define('none-js-counter', FormatCounter);
