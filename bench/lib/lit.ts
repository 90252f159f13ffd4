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
import { PAGE_ELEMENTS, type PageTag, type ReferencePage } from './page.ts';

const OPTIONS = { deferHydration: true };

/** Each element as the layout writes it (same attributes). */
const TEMPLATES: Readonly<Record<PageTag, () => unknown>> = {
  'shop-navbar': () => html`<shop-navbar></shop-navbar>`,
  'shop-hero': () => html`<shop-hero></shop-hero>`,
  'shop-product-list': () => html`<shop-product-list query=""></shop-product-list>`,
  'shop-footer': () => html`<shop-footer hydrate="none"></shop-footer>`,
};

export type { ThunkedRenderResult };

/** One element's host and declarative shadow root, as a thunked result. */
export function renderElement(tag: PageTag): ThunkedRenderResult {
  return renderThunked(TEMPLATES[tag](), OPTIONS);
}

/** One element's HTML as a string. */
export function renderElementToString(tag: PageTag): string {
  return collectResultSync(renderElement(tag));
}

/** Waits `ms`, then renders `tag`: how a slow element looks to the peers. */
export async function renderElementAfter(tag: PageTag, ms: number): Promise<string> {
  await sleep(ms);
  return renderElementToString(tag);
}

/**
 * The whole page as one thunked result: the layout's static strings around
 * the elements. A slow element is a thunk returning a Promise; every delay
 * starts now, so slow elements wait in parallel.
 */
export function renderPage(page: ReferencePage, delays: Readonly<Record<string, number>>): ThunkedRenderResult {
  const out: ThunkedRenderResult = [page.segments[0]!];
  PAGE_ELEMENTS.forEach((tag, i) => {
    const ms = delays[tag];
    if (ms === undefined) out.push(...renderElement(tag));
    else {
      const ready = sleep(ms);
      out.push(() => ready.then(() => renderElement(tag)));
    }
    out.push(page.segments[i + 1]!);
  });
  return out;
}
