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
import { getElementRenderer, type ElementRenderer, type ElementRendererConstructor } from '@lit-labs/ssr/lib/element-renderer.js';
import type { RenderInfo } from '@lit-labs/ssr/lib/render-value.js';
import type { Site } from '../site/load.ts';
import { nonceUnknownStyles } from '../csp.ts';
import { escapeAttr } from '../html.ts';
import { DEFER_HYDRATION } from '../../islands/protocol.ts';
import { CHUNK_SIZE, collect, type Output, type Piece } from './chunks.ts';

/** True when the Lit fast path (see `lit-fastpath.ts`) is in effect. */
export function fastPathInEffect(): boolean {
  return litFastPathActive(() => {
    void collect(renderThunked(html`<i>${'probe'}</i>`));
  });
}

/** The renderers tried when none are configured. */
export const DEFAULT_RENDERERS: ElementRendererConstructor[] = [LitElementRenderer];


/**
 * A server-side DOM object in `@lit-labs/ssr-dom-shim`'s event model: events
 * dispatched on it travel to `__eventTargetParent`, and so on up; `__slots`
 * holds the `<slot>`s its shadow root rendered (by name; `undefined` is the
 * default slot), filled by Lit's `slot-element-open`.
 */
export interface EventNode {
  __eventTargetParent?: unknown;
  __host?: unknown;
  __slots?: Map<string | undefined, EventNode>;
}

/** Lit's root event target of a server render (`globalThis.litServerRoot`, from the DOM shim). */
export function serverRoot(): EventNode | undefined {
  return (globalThis as { litServerRoot?: EventNode }).litServerRoot;
}

/**
 * Where an element sits in the page's event path (see "Events during SSR"
 * in docs/architecture.md), and who wants its server instance.
 */
export interface HostPlacement {
  /**
   * The event target its events bubble to: its layout parent's element, or
   * the parent's `<slot>` it is assigned to. Default: Lit's `litServerRoot`,
   * as for a top-level element of a Lit server render.
   */
  eventParent?: EventNode;
  /** Receives the element's server instance once it exists (before `connectedCallback`). */
  onInstance?: (instance: ElementRenderer) => void;
}

/** Creates an element's server instance, placed in the event path, attributes and properties set, connected. */
function connect(
  renderInfo: RenderInfo,
  tag: string,
  attributes: ReadonlyArray<readonly [string, string]>,
  properties: Readonly<Record<string, unknown>> | undefined,
  placement: HostPlacement | undefined,
): ElementRenderer {
  const attrMap = new Map<string, string>(attributes);
  const instance = getElementRenderer(renderInfo, tag, undefined, attrMap);
  const element = instance.element as EventNode | undefined;
  if (element) {
    // What Lit's addElementToEventPath does for an element of a light DOM (no host).
    element.__host = undefined;
    element.__eventTargetParent = placement?.eventParent ?? serverRoot();
  }
  placement?.onInstance?.(instance);
  for (const [name, value] of attributes) instance.setAttribute(name, value);
  if (properties !== undefined) {
    for (const key of Object.keys(properties)) instance.setProperty(key, properties[key]);
  }
  instance.connectedCallback();
  return instance;
}

const newRenderInfo = (renderers: ElementRendererConstructor[]): RenderInfo => ({
  elementRenderers: renderers,
  customElementInstanceStack: [],
  customElementHostStack: [],
  eventTargetStack: [],
  slotStack: [],
  deferHydration: false,
});

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
 *
 * `placement` puts the element's server instance into the event path of
 * the layout it is nested in, as Lit's own render would.
 */
export function renderHost(
  tag: string,
  attributes: ReadonlyArray<readonly [string, string]>,
  properties: Readonly<Record<string, unknown>> | undefined,
  renderers: ElementRendererConstructor[],
  deferHydration: boolean,
  nonce?: string,
  placement?: HostPlacement,
): string | Promise<string> {
  const renderInfo = newRenderInfo(renderers);
  const instance = connect(renderInfo, tag, attributes, properties, placement);
  const attrs = collect(instance.renderAttributes());
  if (typeof attrs !== 'string') throw new Error(`internal error: attributes of <${tag}> rendered asynchronously`);
  renderInfo.customElementInstanceStack.push(instance);
  renderInfo.customElementHostStack.push(instance);
  if (instance.element) renderInfo.eventTargetStack.push(instance.element);
  const shadow = instance.renderShadow(renderInfo);
  const defer = deferHydration && shadow !== undefined ? ` ${DEFER_HYDRATION}` : '';
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

/**
 * An element's server instance without its rendering: created, placed in
 * the event path, given its attributes and properties and connected (so its
 * listeners and controllers — a `@lit/context` provider — are live). For an
 * element whose markup came from the render cache but whose nested layout
 * elements dispatch events to it. Its shadow root is not rendered, so it has
 * no `<slot>`s: events of slotted children reach the element itself.
 */
export function instantiateHost(
  tag: string,
  attributes: ReadonlyArray<readonly [string, string]>,
  properties: Readonly<Record<string, unknown>> | undefined,
  renderers: ElementRendererConstructor[],
  placement?: HostPlacement,
): ElementRenderer {
  return connect(newRenderInfo(renderers), tag, attributes, properties, placement);
}

/** The site config's `ssr.connectedCallback`: true (every element), a list of tags, or off. */
export function connectedCallbackSetting(config: unknown): true | ReadonlySet<string> | undefined {
  let v: unknown;
  try {
    v = (config as { ssr?: { connectedCallback?: unknown } } | undefined)?.ssr?.connectedCallback;
  } catch {
    return undefined;
  }
  if (v === true) return true;
  if (Array.isArray(v)) return new Set(v.filter((t): t is string => typeof t === 'string'));
  return undefined;
}

type RenderOptionsCallback = (element: HTMLElement) => { connectedCallback?: boolean; disableSsr?: boolean } | undefined | void;

const siteRendererLists = new WeakMap<object, ElementRendererConstructor[]>();

/**
 * The renderers a site's elements render with. When the site's config sets
 * `ssr.connectedCallback` (true, or a list of tags), every Lit renderer in
 * the list is replaced by a subclass that calls the element's
 * `connectedCallback()` during SSR — Lit's `renderOptions` with
 * `connectedCallback: true`, which `@lit/context` consumers need to ask for
 * their context — for those elements only, and only for this site: the
 * option is pushed onto Lit's global `LitElementRenderer.renderOptions` for
 * the one synchronous call and taken off again, so sites in one process do
 * not see each other's setting. Options a site pushed there itself still
 * apply (`disableSsr`, or an explicit `connectedCallback: false`).
 */
export function siteRenderers(site: Pick<Site, 'renderers' | 'config'>): ElementRendererConstructor[] {
  let list = siteRendererLists.get(site);
  if (list !== undefined) return list;
  const setting = connectedCallbackSetting(site.config);
  list = setting === undefined ? site.renderers : site.renderers.map((R) => withConnectedCallback(R, setting));
  siteRendererLists.set(site, list);
  return list;
}

function withConnectedCallback(R: ElementRendererConstructor, setting: true | ReadonlySet<string>): ElementRendererConstructor {
  if (R !== LitElementRenderer && !(R.prototype instanceof LitElementRenderer)) return R;
  const Base = R as unknown as typeof LitElementRenderer;
  const Wrapped = class extends Base {
    override connectedCallback(): void {
      const element = this.element;
      if (setting !== true && !setting.has(this.tagName)) return super.connectedCallback();
      const global = LitElementRenderer.renderOptions as RenderOptionsCallback[];
      const mine: RenderOptionsCallback = (el) => {
        if (el !== element) return undefined;
        for (const other of global) {
          if (other === mine) continue;
          const found = other(el);
          if (found) return { ...found, connectedCallback: found.connectedCallback ?? true };
        }
        return { connectedCallback: true };
      };
      global.unshift(mine);
      try {
        super.connectedCallback();
      } finally {
        const i = global.indexOf(mine);
        if (i >= 0) global.splice(i, 1);
      }
    }
  };
  return Wrapped as unknown as ElementRendererConstructor;
}

/** The open tag written when the element is not server-rendered. */
export function plainOpenTag(tag: string, attributes: ReadonlyArray<readonly [string, string]>, extra = ''): string {
  let s = `<${tag}`;
  for (const [name, value] of attributes) s += value === '' ? ` ${name}` : ` ${name}="${escapeAttr(value)}"`;
  return `${s}${extra}>`;
}

/** The tail of each pre-encoded host after its `<tag` (one view per buffer, so the run memo sees the same piece every time). */
const hostTails = new WeakMap<Uint8Array, Uint8Array>();
/** Each tag's `<tag` as bytes. */
const tagOpenBytes = new Map<string, Uint8Array>();
const utf8 = new TextEncoder();

/** True when `html` starts with `<tag` followed by white space, `>` or `/` (tag compared case-insensitively, as HTML does). */
function startsWithTag(html: string, tag: string): boolean {
  if (html.charCodeAt(0) !== 60 || html.length <= tag.length + 1) return false;
  const after = html.charCodeAt(tag.length + 1);
  if (!(after === 32 || after === 62 || after === 47 || after === 9 || after === 10 || after === 12 || after === 13)) return false;
  const name = html.slice(1, tag.length + 1);
  return name === tag || name.toLowerCase() === tag;
}

/**
 * Adds `extra` (an attribute, written with its leading space, e.g.
 * ` atoll-key="k"`) to the open tag of the host at the start of `output`
 * — an element's output as `ElementWork.render()` gives it, whatever its
 * host turned out to be: rendered, from the render cache (pre-encoded
 * bytes, which stay bytes: `<tag`, the attribute, and a view of the rest),
 * a fallback, a client-only (`ssr="none"`) or a remote element's markup.
 * The attribute goes right after the tag name, so it wins over one of the
 * same name in markup that came from elsewhere (HTML keeps the first).
 * The cached markup itself never holds it: one cache entry serves every
 * position. Output that does not start with the host is left as it is.
 */
export function withHostAttribute(output: Output, tag: string, extra: string, extraBytes: Uint8Array): Output {
  if (output.length === 0) return output;
  const first = output[0]!;
  if (typeof first === 'string') {
    if (!startsWithTag(first, tag)) return output;
    const open = `<${first.slice(1, tag.length + 1)}${extra}`;
    // A long host (a whole rendered element) is not rebuilt as one string: the
    // encoder would flatten and copy it a second time (a 1.17 M-character host:
    // +2.7 ms CPU per request). The tag with the attribute and the rest go as
    // two pieces, and the drain writes a piece that long as it is.
    if (first.length >= CHUNK_SIZE) output.splice(0, 1, open, first.slice(tag.length + 1));
    else output[0] = `${open}${first.slice(tag.length + 1)}`;
    return output;
  }
  if (first instanceof Uint8Array) {
    let tail = hostTails.get(first);
    if (tail === undefined) {
      // Only `<tag` and the byte after it are decoded to check (tag names are ASCII).
      const head = new TextDecoder().decode(first.subarray(0, tag.length + 2));
      if (!startsWithTag(head, tag)) return output;
      tail = first.subarray(tag.length + 1);
      hostTails.set(first, tail);
    }
    let open = tagOpenBytes.get(tag);
    if (open === undefined) {
      open = utf8.encode(`<${tag}`);
      if (tagOpenBytes.size < 4096) tagOpenBytes.set(tag, open);
    }
    output.splice(0, 1, open, extraBytes, tail);
    return output;
  }
  output[0] = () => {
    const r = first();
    if (r === undefined) return r;
    const add = (x: Piece | Output): Output => withHostAttribute(Array.isArray(x) ? x : [x], tag, extra, extraBytes);
    return r instanceof Promise ? r.then(add) : add(r);
  };
  return output;
}
