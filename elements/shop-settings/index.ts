import { LitElement, css, html, nothing } from 'lit';
import { state } from 'lit/decorators.js';
import { applyTheme, defaultPrefs, isTheme, loadPrefs, savePrefs } from '../_lib/prefs.js';
import type { Theme } from '../_lib/prefs.js';
import { base, buttons, card, text, tight, tokens as t } from '../_lib/styles.js';

const THEMES: readonly (readonly [Theme, string])[] = [
  ['system', 'Match my system'],
  ['light', 'Light'],
  ['dark', 'Dark'],
];

/**
 * The settings page: a theme select (previewed at once), a newsletter
 * checkbox and a save button that counts saves. The server renders the
 * defaults; once hydrated, the stored preferences are loaded and applied.
 * An unsaved preview ends when the element leaves the page (the saved
 * theme applies again). Its page title comes from `server.ts`'s `head()`.
 */
export class ShopSettings extends LitElement {
  static override styles = [
    base,
    buttons,
    card,
    text,
    tight(css`
      section { max-width: 40rem; margin: 0 auto; }
      h1 { font-size: clamp(1.8rem, 4vw, 2.4rem); margin: .4rem 0 .5rem; }
      .intro { margin: 0 0 1.75rem; line-height: 1.6; }
      form { padding: clamp(1.25rem, 4vw, 2rem); display: grid; gap: 1.5rem; }
      fieldset { border: 0; margin: 0; padding: 0 0 1.5rem; border-bottom: 1px solid ${t.border}; display: grid; gap: .6rem; }
      legend { font-weight: 700; font-size: 1.05rem; padding: 0; margin-bottom: .6rem; }
      label { font-weight: 600; }
      .hint { font-size: .9rem; margin: 0; }
      select { font: inherit; padding: .6rem .8rem; border: 1px solid ${t.border}; border-radius: 10px; background: ${t.surface}; color: ${t.text}; max-width: 20rem; }
      select:focus { outline: none; border-color: ${t.accent}; box-shadow: 0 0 0 3px ${t.accentSoft}; }
      .check { display: flex; gap: .75rem; align-items: flex-start; font-weight: 400; }
      .check input { width: 1.15rem; height: 1.15rem; margin: .15rem 0 0; accent-color: ${t.accent}; }
      .check strong { display: block; }
      .actions { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; }
      .count { padding: .15rem .6rem; border-radius: 99px; background: #ffffff33; font-size: .85rem; font-weight: 600; }
      output { font-size: .9rem; }
    `),
  ];

  @state() accessor theme: Theme = defaultPrefs.theme;
  @state() accessor newsletter = defaultPrefs.newsletter;
  /** Saves in this page view. */
  @state() accessor saved = 0;

  override firstUpdated(): void {
    // Browser only (after hydration): bring in what was stored last time.
    const prefs = loadPrefs();
    this.theme = prefs.theme;
    this.newsletter = prefs.newsletter;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Moved (a navigation took it along): its preview, dropped when it left, applies again.
    if (this.hasUpdated) applyTheme(this.theme);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // Leaving the page (a client navigation keeps the document): an unsaved preview must not
    // carry over to other pages. Browser only: the server never disconnects.
    applyTheme(loadPrefs().theme);
  }

  #onTheme(event: Event): void {
    const value = (event.target as HTMLSelectElement).value;
    if (!isTheme(value)) return;
    this.theme = value;
    applyTheme(value);
  }

  #onNewsletter(event: Event): void {
    this.newsletter = (event.target as HTMLInputElement).checked;
  }

  #onSubmit(event: SubmitEvent): void {
    event.preventDefault();
    savePrefs({ theme: this.theme, newsletter: this.newsletter });
    this.saved++;
  }

  override render() {
    const times = this.saved === 1 ? 'time' : 'times';
    return html`<section aria-labelledby="settings-title">
      <span class="eyebrow">Your account</span>
      <h1 id="settings-title">Settings</h1>
      <p class="intro muted">Choose how the shop looks and what we send you. Preferences are stored in this browser only.</p>
      <form class="card" @submit=${this.#onSubmit}>
        <fieldset>
          <legend>Appearance</legend>
          <label for="theme">Theme</label>
          <select id="theme" name="theme" @change=${this.#onTheme}>
            ${THEMES.map(([value, label]) => html`<option value=${value} ?selected=${value === this.theme}>${label}</option>`)}
          </select>
          <p class="hint muted">Changes are previewed right away and kept when you save.</p>
        </fieldset>
        <fieldset>
          <legend>Email</legend>
          <label class="check">
            <input type="checkbox" name="newsletter" ?checked=${this.newsletter} @change=${this.#onNewsletter} />
            <span><strong>Monthly newsletter</strong><span class="hint muted">New makers and restocks, once a month. No spam.</span></span>
          </label>
        </fieldset>
        <div class="actions">
          <button class="btn" type="submit">Save settings <span class="count">Saved ${this.saved} ${times}</span></button>
          <output class="muted" aria-live="polite">${this.saved ? 'Your preferences are saved.' : nothing}</output>
        </div>
      </form>
    </section>`;
  }
}

if (!customElements.get('shop-settings')) customElements.define('shop-settings', ShopSettings);
