import { LitElement, css, html } from 'lit';
import { base, buttons, text, tight, tokens as t } from '../../../../../elements/_lib/styles.ts';

/**
 * Bench-only: the shop page's fifth element, a small newsletter sign-up box
 * (a heading, a line of text, an e-mail field and a button) between the
 * product grid and the footer — the kind of small independent microfrontend
 * a shop page carries besides its big ones.
 */
export class BenchNewsletter extends LitElement {
  static override styles = [
    base,
    buttons,
    text,
    tight(css`
      section { display: grid; gap: .75rem; padding: 1.5rem; border: 1px solid ${t.border}; border-radius: ${t.radius}; background: ${t.surface}; }
      h2 { margin: 0; font-size: 1.25rem; }
      p { margin: 0; }
      form { display: flex; flex-wrap: wrap; gap: .5rem; }
      input { flex: 1 1 14rem; font: inherit; padding: .5rem .75rem; border: 1px solid ${t.border}; border-radius: 99px; }
    `),
  ];

  override render() {
    return html`<section aria-labelledby="newsletter-title">
      <h2 id="newsletter-title">New things, once a month</h2>
      <p class="muted">One e-mail when a new batch is in. No tracking, unsubscribe with one click.</p>
      <form action="/newsletter" method="post">
        <input type="email" name="email" required placeholder="you@example.com" aria-label="E-mail address">
        <button class="btn" type="submit">Subscribe</button>
      </form>
    </section>`;
  }
}

if (!customElements.get('bench-newsletter')) customElements.define('bench-newsletter', BenchNewsletter);
