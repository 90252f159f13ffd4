/**
 * Shared styles for the shop's elements.
 *
 * Colours, radii and shadows are read from page-level custom properties
 * (`--shop-*`, set in `layouts/index.html`), which inherit into every shadow
 * root; each has a fallback so an element still looks right on a page that
 * does not define them. Every shadow root carries its own copy of its styles
 * in the server-rendered HTML, so the chunks are small and elements compose
 * only the ones they use.
 */
import { css, unsafeCSS } from 'lit';
import type { CSSResult } from 'lit';

/**
 * Collapses the whitespace of a stylesheet written readably in source. Shadow
 * roots rendered on the server each carry their own `<style>`, so on a page of
 * sixty cards every byte of a card's styles counts sixty times.
 */
export function tight(styles: CSSResult): CSSResult {
  const text = styles.cssText
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*([{};,>])\s*/g, '$1')
    .replace(/:\s+/g, ':')
    .replace(/;}/g, '}');
  return unsafeCSS(text.trim());
}

/** Design tokens, each a `var(--shop-*, fallback)` to interpolate into `css`. */
export const tokens = {
  surface: css`var(--shop-surface, #fff)`,
  subtle: css`var(--shop-subtle, #f1eee7)`,
  text: css`var(--shop-text, #1c222b)`,
  muted: css`var(--shop-muted, #5e6570)`,
  border: css`var(--shop-border, #e4dfd5)`,
  accent: css`var(--shop-accent, #0e7c6b)`,
  accentHover: css`var(--shop-accent-hover, #0a6356)`,
  onAccent: css`var(--shop-on-accent, #fff)`,
  accentSoft: css`var(--shop-accent-soft, #ddf1ec)`,
  star: css`var(--shop-star, #e3a21a)`,
  radius: css`var(--shop-radius, 14px)`,
  shadow: css`var(--shop-shadow, 0 1px 3px #0001)`,
  shadowRaised: css`var(--shop-shadow-raised, 0 8px 24px #0002)`,
} as const;

const t = tokens;

/** Host defaults, box sizing, links, focus ring and a screen-reader-only helper. */
export const base = tight(css`
  :host { display: block; }
  :host([hidden]) { display: none; }
  *, *::before, *::after { box-sizing: border-box; }
  a { color: ${t.accent}; }
  :focus-visible { outline: 2px solid ${t.accent}; outline-offset: 2px; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`);

/** `.btn` (filled, accent), `.btn.ghost` (outlined) and `.btn.small`. */
export const buttons = tight(css`
  .btn {
    display: inline-flex; align-items: center; justify-content: center; gap: .45em;
    font: inherit; font-weight: 600; font-size: .95rem; line-height: 1.2; text-decoration: none;
    padding: .65em 1.2em; border-radius: 999px; border: 1px solid transparent; cursor: pointer;
    background: ${t.accent}; color: ${t.onAccent};
    transition: background-color .15s, border-color .15s, transform .1s;
  }
  .btn:hover { background: ${t.accentHover}; }
  .btn:active { transform: translateY(1px); }
  .btn.ghost { background: transparent; color: ${t.text}; border-color: ${t.border}; }
  .btn.ghost:hover { background: ${t.subtle}; border-color: ${t.muted}; }
  .btn.small { font-size: .85rem; padding: .45em .9em; }
`);

/** A raised surface: `.card`. */
export const card = tight(css`
  .card {
    background: ${t.surface}; border: 1px solid ${t.border};
    border-radius: ${t.radius}; box-shadow: ${t.shadow};
  }
`);

/** Page-section headings and muted text: `.eyebrow`, `.muted`. */
export const text = tight(css`
  h1, h2, h3 { line-height: 1.2; letter-spacing: -.01em; margin: 0; }
  .eyebrow { font-size: .75rem; font-weight: 700; letter-spacing: .08em; text-transform: uppercase; color: ${t.accent}; }
  .muted { color: ${t.muted}; }
`);
