import { LitElement, css, html } from 'lit';
import { RELEASE } from './release.js';

/**
 * Team Greeting's element. It says which release rendered it, on the server
 * (`data-release` on its paragraph, what load.mjs counts) and in the browser
 * (a click counter that only works once this release's client module has
 * hydrated it).
 */
export class TeamGreeting extends LitElement {
  static override properties = {
    name: {},
    greeting: { attribute: false },
    clicks: { state: true },
  };

  static override styles = css`
    p { padding: .75rem 1rem; border-radius: 8px; background: #e6f4f1; }
    button { margin-left: .5rem; }
  `;

  // Declared, set in the constructor: a class field would shadow Lit's reactive accessors.
  declare name: string;
  declare greeting: string;
  declare clicks: number;

  constructor() {
    super();
    this.name = 'world';
    this.greeting = 'Hello';
    this.clicks = 0;
  }

  override render() {
    return html`<p data-release=${RELEASE}>
      ${this.greeting}, ${this.name}! (release ${RELEASE})
      <button @click=${() => this.clicks++}>clicked ${this.clicks}</button>
    </p>`;
  }
}
customElements.define('team-greeting', TeamGreeting);
