import { LitElement, css, html } from 'lit';

/** One recommendation, as the server's `data()` hook gives it. */
export interface Rec {
  id: string;
  title: string;
  by: string;
  price: number;
}

/**
 * Team "recs": a row of recommendations for a `category`, each with a save
 * toggle (that is the island's behaviour). Themed through custom properties
 * (`--recs-accent`, `--recs-surface`), so every host page can match it. The
 * host's own children are shown under the title (a slot).
 */
export class RecsList extends LitElement {
  static override properties = {
    category: {},
    items: { attribute: false },
    saved: { state: true },
  };

  static override styles = css`
    :host { display: block; font: inherit; color: inherit; }
    h2 { font-size: 1.1rem; margin: 0 0 .25rem; }
    .note { margin: 0 0 .75rem; opacity: .75; font-size: .9rem; }
    ul { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .75rem; }
    li { padding: .75rem; border-radius: 10px; background: var(--recs-surface, #fff); border: 1px solid #0001; box-shadow: 0 1px 3px #0001; display: grid; gap: .3rem; }
    .title { font-weight: 600; }
    .by { font-size: .85rem; opacity: .7; }
    button { justify-self: start; font: inherit; font-size: .85rem; padding: .25rem .6rem; border-radius: 999px; border: 1px solid var(--recs-accent, #6b4eff); background: transparent; color: var(--recs-accent, #6b4eff); cursor: pointer; }
    button[aria-pressed='true'] { background: var(--recs-accent, #6b4eff); color: #fff; }
  `;

  declare category: string;
  declare items: Rec[];
  declare saved: ReadonlySet<string>;

  constructor() {
    super();
    this.category = 'books';
    this.items = [];
    this.saved = new Set();
  }

  #toggle(id: string): void {
    const next = new Set(this.saved);
    if (!next.delete(id)) next.add(id);
    this.saved = next;
  }

  override render() {
    const n = this.saved.size;
    return html`<h2>Recommended in ${this.category}</h2>
      <p class="note"><slot></slot>${n === 0 ? '' : html` · ${n} saved`}</p>
      <ul>
        ${this.items.map((r) => {
          const on = this.saved.has(r.id);
          return html`<li>
            <span class="title">${r.title}</span>
            <span class="by">${r.by} · $${r.price}</span>
            <button type="button" aria-pressed=${on ? 'true' : 'false'} @click=${() => this.#toggle(r.id)}>${on ? 'Saved' : 'Save'}</button>
          </li>`;
        })}
      </ul>`;
  }
}

customElements.define('recs-list', RecsList);
