import { LitElement, css, html } from 'lit';
import { property } from 'lit/decorators.js';
import { base, buttons, text, tight, tokens as t } from '../_lib/styles.js';

/**
 * The home page banner: a heading, a short pitch, two calls to action and a
 * CSS-drawn atoll (a lagoon in a ring of sand, seen from above). `count`
 * (the number of products) is set by the server's data() hook (server.ts);
 * rendered without it (`ssr="none"` runs no data()), the pitch names no number.
 */
export class ShopHero extends LitElement {
  @property({ type: Number }) accessor count = 0;

  static override styles = [
    base,
    buttons,
    text,
    tight(css`
      section { display: grid; grid-template-columns: minmax(0, 1.2fr) minmax(0, 1fr); align-items: center; gap: 2rem; padding: clamp(1.75rem, 5vw, 3.5rem); border-radius: calc(${t.radius} * 1.6); background: linear-gradient(120deg, ${t.accentSoft}, ${t.surface} 70%); border: 1px solid ${t.border}; overflow: hidden; }
      h1 { font-size: clamp(2rem, 5vw, 3.4rem); line-height: 1.05; letter-spacing: -.03em; margin: .6rem 0 1rem; }
      p { font-size: 1.1rem; line-height: 1.6; max-width: 34rem; margin: 0 0 1.75rem; }
      .actions { display: flex; flex-wrap: wrap; gap: .75rem; }
      .scene { position: relative; width: min(100%, 320px); aspect-ratio: 1; justify-self: center; }
      .sea { position: absolute; inset: 0; border-radius: 50%; background: radial-gradient(circle at 50% 50%, #8fe0d3 0 30%, #f4e2b8 31% 40%, #31a899 41% 58%, #1f7f8c 59%); box-shadow: inset 0 0 0 10px #ffffff55, 0 20px 40px #1f7f8c33; animation: drift 12s ease-in-out infinite alternate; }
      .palm { position: absolute; width: 9%; aspect-ratio: 1; border-radius: 50% 0; background: #3f8f4a; }
      .palm:nth-child(2) { top: 22%; left: 58%; rotate: 20deg; }
      .palm:nth-child(3) { top: 60%; left: 26%; rotate: -40deg; }
      .palm:nth-child(4) { top: 50%; left: 68%; rotate: 80deg; width: 7%; }
      .boat { position: absolute; bottom: 24%; right: 18%; width: 10%; height: 3.5%; border-radius: 0 0 50% 50%; background: ${t.surface}; box-shadow: 0 4px 0 #0000001a; }
      @keyframes drift { to { transform: rotate(8deg) scale(1.02); } }
      @media (prefers-reduced-motion: reduce) { .sea { animation: none; } }
      @media (max-width: 720px) { section { grid-template-columns: 1fr; } .scene { width: 60%; grid-row: 1; } }
    `),
  ];

  override render() {
    return html`<section aria-labelledby="hero-title">
      <div>
        <span class="eyebrow">New season · Free shipping over $50</span>
        <h1 id="hero-title">Small things, made well.</h1>
        <p class="muted">
          ${this.count > 0 ? `${this.count} everyday objects` : 'Everyday objects'} from independent makers, chosen to be used daily and kept for
          years. Rendered on the server, streamed to you, and interactive where it matters.
        </p>
        <div class="actions">
          <a class="btn" href="/category/kitchen" data-atoll-prefetch="hover">Shop the kitchen</a>
          <a class="btn ghost" href="/category/audio" data-atoll-prefetch="hover">Explore audio</a>
        </div>
      </div>
      <div class="scene" aria-hidden="true">
        <div class="sea"></div>
        <span class="palm"></span><span class="palm"></span><span class="palm"></span>
        <span class="boat"></span>
      </div>
    </section>`;
  }
}

if (!customElements.get('shop-hero')) customElements.define('shop-hero', ShopHero);
