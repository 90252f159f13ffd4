/**
 * Renders one microfrontend's host: its open tag with attributes and its
 * declarative shadow root, through `@lit-labs/ssr`'s `ElementRenderer`
 * interface (Lit's renderer by default; a site can add renderers for other
 * kinds of custom elements). Light-DOM children and the close tag are the
 * page's business.
 */
// Must come first: it patches a Lit helper before @lit-labs/ssr copies it.
import { litFastPathActive } from './lit-fastpath.ts';
import { LitElementRenderer, renderThunked } from '@lit-labs/ssr';
import { html } from 'lit';
import { getElementRenderer, type ElementRendererConstructor } from '@lit-labs/ssr/lib/element-renderer.js';
import type { RenderInfo } from '@lit-labs/ssr/lib/render-value.js';
import { nonceUnknownStyles } from '../csp.ts';
import { escapeAttr } from '../html.ts';
import { collect } from './chunks.ts';

/** True when the Lit fast path (see `lit-fastpath.ts`) is in effect. */
export function fastPathInEffect(): boolean {
  return litFastPathActive(() => {
    void collect(renderThunked(html`<i>${'probe'}</i>`));
  });
}

/** The renderers tried when none are configured. */
export const DEFAULT_RENDERERS: ElementRendererConstructor[] = [LitElementRenderer];


/**
 * Renders `<tag …attrs defer-hydration><template shadowrootmode>…</template>`
 * for one element, with `properties` set before it renders. Returns a string
 * when rendering is synchronous (almost always) and a Promise otherwise.
 * Throws (or rejects) when the element throws.
 *
 * With the request's CSP `nonce`, a `<style>` whose text is not one of the
 * element styles known at start-up (whose hashes are in the header) gets the
 * nonce; the markup then carries it and must not be cached (`carriesNonce`).
 * Lit's own `<style>` of an element's static styles never does.
 */
export function renderHost(
  tag: string,
  attributes: ReadonlyArray<readonly [string, string]>,
  properties: Readonly<Record<string, unknown>> | undefined,
  renderers: ElementRendererConstructor[],
  deferHydration: boolean,
  nonce?: string,
): string | Promise<string> {
  const renderInfo: RenderInfo = {
    elementRenderers: renderers,
    customElementInstanceStack: [],
    customElementHostStack: [],
    eventTargetStack: [],
    slotStack: [],
    deferHydration: false,
  };
  const attrMap = new Map<string, string>(attributes);
  const instance = getElementRenderer(renderInfo, tag, undefined, attrMap);
  for (const [name, value] of attributes) instance.setAttribute(name, value);
  if (properties !== undefined) {
    for (const key of Object.keys(properties)) instance.setProperty(key, properties[key]);
  }
  instance.connectedCallback();
  const attrs = collect(instance.renderAttributes());
  if (typeof attrs !== 'string') throw new Error(`internal error: attributes of <${tag}> rendered asynchronously`);
  renderInfo.customElementInstanceStack.push(instance);
  renderInfo.customElementHostStack.push(instance);
  if (instance.element) renderInfo.eventTargetStack.push(instance.element);
  const shadow = instance.renderShadow(renderInfo);
  const defer = deferHydration && shadow !== undefined ? ' defer-hydration' : '';
  const open = `<${tag}${attrs}${defer}>`;
  if (shadow === undefined) return open;
  const { mode = 'open', delegatesFocus } = instance.shadowRootOptions ?? {};
  const templateOpen = `<template shadowrootmode="${mode}"${delegatesFocus ? ' shadowrootdelegatesfocus' : ''}>`;
  const body = collect(shadow);
  const finish = nonce
    ? (s: string): string => `${open}${templateOpen}${nonceUnknownStyles(s, nonce)}</template>`
    : (s: string): string => `${open}${templateOpen}${s}</template>`;
  return typeof body === 'string' ? finish(body) : body.then(finish);
}

/** The open tag written when the element is not server-rendered. */
export function plainOpenTag(tag: string, attributes: ReadonlyArray<readonly [string, string]>, extra = ''): string {
  let s = `<${tag}`;
  for (const [name, value] of attributes) s += value === '' ? ` ${name}` : ` ${name}="${escapeAttr(value)}"`;
  return `${s}${extra}>`;
}
