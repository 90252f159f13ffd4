/**
 * Hand-rolled Lit SSR of the page's elements, shared by the Lit, single-spa
 * and Tailor peers: the same element modules Atoll serves, rendered with
 * `renderThunked(…, { deferHydration: true })` from server-only templates
 * (no hydration markers around the host, as in Atoll's output).
 */
// `@lit-labs/ssr` first: it installs the server `customElements` before the elements define themselves.
import { html, renderThunked } from '@lit-labs/ssr';
import { collectResultSync, type ThunkedRenderResult } from '@lit-labs/ssr/lib/render-result.js';
import { setTimeout as sleep } from 'node:timers/promises';
import '../../elements/shop-navbar/index.ts';
import '../../elements/shop-hero/index.ts';
import '../../elements/shop-product-list/index.ts';
import '../../elements/shop-footer/index.ts';
import '../sites/pages/elements/bench-card-grid/index.ts';
import '../sites/pages/elements/bench-newsletter/index.ts';
import type { PageElement, ReferencePage } from './page.ts';

const OPTIONS = { deferHydration: true };

/**
 * Each element as the layouts write it (same attributes), keyed by
 * {@link elementKey}. Static templates: a binding would add Lit's markers.
 */
const TEMPLATES: Readonly<Record<string, () => unknown>> = {
  'shop-navbar': () => html`<shop-navbar></shop-navbar>`,
  'shop-hero': () => html`<shop-hero></shop-hero>`,
  'shop-product-list query=""': () => html`<shop-product-list query=""></shop-product-list>`,
  'shop-footer hydrate="none"': () => html`<shop-footer hydrate="none"></shop-footer>`,
  'bench-card-grid count="50"': () => html`<bench-card-grid count="50"></bench-card-grid>`,
  'bench-card-grid count="1000"': () => html`<bench-card-grid count="1000"></bench-card-grid>`,
  'bench-newsletter': () => html`<bench-newsletter></bench-newsletter>`,
};

export const elementKey = (e: PageElement): string => (e.attrs ? `${e.tag} ${e.attrs}` : e.tag);

export type { ThunkedRenderResult };

/** One element's host and declarative shadow root, as a thunked result. */
export function renderElement(e: PageElement): ThunkedRenderResult {
  const template = TEMPLATES[elementKey(e)];
  if (template === undefined) throw new Error(`bench/lib/lit.ts has no template for <${elementKey(e)}>`);
  return renderThunked(template(), OPTIONS);
}

/** One element's HTML as a string. */
export function renderElementToString(e: PageElement): string {
  return collectResultSync(renderElement(e));
}

/** Waits `ms`, then renders the element: how a slow element looks to the peers. */
export async function renderElementAfter(e: PageElement, ms: number): Promise<string> {
  await sleep(ms);
  return renderElementToString(e);
}

/**
 * The whole page as one thunked result: the layout's static strings around
 * the elements. A slow element is a thunk returning a Promise; every delay
 * starts now, so slow elements wait in parallel.
 */
export function renderPage(elements: readonly PageElement[], page: ReferencePage, delays: Readonly<Record<string, number>>): ThunkedRenderResult {
  const out: ThunkedRenderResult = [page.segments[0]!];
  elements.forEach((e, i) => {
    const ms = delays[e.tag];
    if (ms === undefined) out.push(...renderElement(e));
    else {
      const ready = sleep(ms);
      out.push(() => ready.then(() => renderElement(e)));
    }
    out.push(page.segments[i + 1]!);
  });
  return out;
}
