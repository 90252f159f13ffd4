/**
 * Star ratings drawn with text: five grey stars with five gold ones on top,
 * clipped to the rating. Screen readers hear "4.5 out of 5 stars".
 */
import { css, html } from 'lit';
import type { TemplateResult } from 'lit';
import { tight, tokens } from './styles.js';

/** Styles for {@link stars}; include them in the element's `static styles`. */
export const starStyles = tight(css`
  .stars { position: relative; display: inline-block; line-height: 1; letter-spacing: .1em; color: ${tokens.border}; }
  .stars::before, .stars span::before { content: '★★★★★'; }
  .stars span { position: absolute; inset: 0 auto 0 0; overflow: hidden; white-space: nowrap; color: ${tokens.star}; }
`);

/** A 0–5 star rating. */
export function stars(rating: number): TemplateResult {
  const clamped = Math.min(5, Math.max(0, rating));
  const label = `${clamped} out of 5 stars`;
  return html`<span class="stars" role="img" aria-label=${label}><span style="width:${clamped * 20}%"></span></span>`;
}
