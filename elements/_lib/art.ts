/**
 * CSS-drawn product "photos": a tinted backdrop and a simple silhouette, both
 * chosen per product in the catalogue. The shape travels in the element's
 * inline style (custom properties), so each shadow root carries only the two
 * rules in {@link artStyles}, not every shape.
 */
import { css, html } from 'lit';
import type { TemplateResult } from 'lit';
import type { ArtShape, Product } from './catalog.js';
import { tight } from './styles.js';

/** Border radius, optional clip path, width and aspect ratio of each silhouette. */
const SHAPES: Readonly<Record<ArtShape, string>> = {
  mug: '--r:8% 8% 40% 40%/8% 8% 30% 30%;--a:1',
  block: '--r:10%;--a:5/3',
  box: '--r:12%;--w:34%;--a:4/5',
  bar: '--r:99px;--w:13%;--a:1/4',
  dome: '--r:50% 50% 12% 12%/100% 100% 12% 12%;--a:2',
  disc: '--r:50%;--a:1',
  peak: '--r:0;--a:6/5;--c:polygon(50% 0,100% 100%,0 100%)',
  tag: '--r:0;--a:1;--c:polygon(30% 0,70% 0,100% 18%,88% 40%,78% 33%,78% 100%,22% 100%,22% 33%,12% 40%,0 18%)',
  vase: '--r:45% 45% 40% 40%/35% 35% 65% 65%;--a:3/4',
};

/** Declarations of the tinted backdrop (no selector), for `.art` or a `::part()`. */
export const artBox = css`display: grid; place-items: center; aspect-ratio: 4/3; background: radial-gradient(circle at 30% 25%, hsl(var(--h) 80% var(--shop-art-hi, 96%)), hsl(var(--h) 55% var(--shop-art-lo, 80%)) 70%);`;

/** Declarations of the silhouette (no selector), for `.art i` or a `::part()`. */
export const artShape = css`width: var(--w, 42%); aspect-ratio: var(--a); border-radius: var(--r); clip-path: var(--c, none); background: linear-gradient(160deg, hsl(var(--h) 50% 58%), hsl(var(--h) 45% 36%)); transition: transform .3s;`;

/** Styles for {@link art}; include them in the element's `static styles`. */
export const artStyles = tight(css`
  .art { ${artBox} }
  .art i { ${artShape} }
`);

/** The inline style that gives a `.art` box its hue and silhouette. */
export function artStyle(product: Product): string {
  return `--h:${product.hue};${SHAPES[product.shape]}`;
}

/** The art for a product: a `.art` box with the category's silhouette inside. */
export function art(product: Product): TemplateResult {
  return html`<div class="art" style=${artStyle(product)} aria-hidden="true"><i></i></div>`;
}
