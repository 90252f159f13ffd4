/**
 * Browser helpers of Atoll's testing kit (`atoll-ssr/testing/browser`), for
 * tests run by web-test-runner with `atollTestPlugin` (`atoll-ssr/testing`).
 *
 * - {@link ssrFixture}: server-renders an element, a markup fragment or a
 *   route through the site's engine and loads it as a real page (in an
 *   iframe of the test page), with the real client build and island loader;
 *   not hydrated, or hydrated with a chosen strategy.
 * - {@link hydrate} / {@link hydrated}: start hydration of a server-rendered
 *   fixture / wait for it (`atoll:hydrated`, or reject on
 *   `atoll:hydration-error`).
 * - {@link expectNoHydrationMismatch}: hydration reused every server node,
 *   nothing was logged, and the result equals a client-side rendering.
 * - {@link csrFixture}: client-renders in the test page itself, for comparison.
 *
 * Fixtures are removed after each test (mocha's `afterEach`), or by
 * {@link fixtureCleanup}.
 */
import { executeServerCommand } from '@web/test-runner-commands';
import { render, type TemplateResult } from 'lit';
import {
  DEFER_HYDRATION,
  HYDRATE,
  HYDRATED_EVENT,
  HYDRATION_ERROR_EVENT,
  IMPORT_MAP_SELECTOR,
  parseHydrate,
  SPECIFIER_PREFIX,
} from '../islands/protocol.ts';
import {
  DEFAULT_SITE,
  DEFERRED_LOADER_TYPE,
  RECORDER_GLOBAL,
  RENDER_COMMAND,
  type FixtureRecorder,
  type FixtureRequest,
  type FixtureResponse,
} from './protocol.ts';

/** One microfrontend to render: tag, attributes and data (its properties). */
export interface ElementFixture {
  tag: string;
  /** Attributes, as in a layout (`hydrate`, `timeout` … included). */
  attributes?: Record<string, string | boolean>;
  /** Properties, instead of the element's `data()` hook; serialized for hydration like its result. */
  data?: Record<string, unknown>;
}

/** A route of the site, rendered with the site's own layouts. */
export interface RouteFixture {
  /** Path and query, e.g. `/products/p1`. */
  route: string;
  /** CSS selector of the element to resolve with (default: the first island of the page). */
  select?: string;
  /** Request headers. */
  headers?: Record<string, string>;
}

/** What {@link ssrFixture} renders: markup (a Lit template or a string), one element, or a route. */
export type FixtureInput = TemplateResult | string | ElementFixture | RouteFixture;

/**
 * How a fixture hydrates: `false` — server HTML only; the loader waits for
 * {@link hydrate} (the default); a strategy (`'load'`, `'visible'`,
 * `'idle'`, `'interaction'`, `'media:(…)'`) — set on the fixture's top-level
 * elements that have no `hydrate` attribute, with the loader running as the
 * page loads; `true` — the loader runs and every element keeps the strategy
 * its markup or layout gives it.
 */
export type HydrateOption = boolean | string;

/** Options of {@link ssrFixture}. */
export interface SsrFixtureOptions {
  hydrate?: HydrateOption;
  /**
   * With a strategy that fires by itself (`load`, `idle`, `visible`), wait
   * until the element has hydrated before resolving (default true).
   */
  waitForHydration?: boolean;
  /** Properties of the fixture's (first) element, instead of its `data()` hook. */
  data?: Record<string, unknown>;
  /** The URL the elements' `data()` hooks see (markup fixtures; default `/`). */
  url?: string;
  /** Which site's plugin renders it (`atollTestPlugin({ name })`); default `'default'`. */
  site?: string;
  /** Size of the fixture's viewport (default 800×600). */
  width?: number;
  height?: number;
}

type FixtureWindow = Window & typeof globalThis & { [RECORDER_GLOBAL]?: FixtureRecorder };
type Updatable = Element & { updateComplete?: Promise<unknown> };

const frames = new Set<HTMLIFrameElement>();
const containers = new Set<HTMLElement>();
const SELF_FIRING = new Set(['load', 'idle', 'visible']);

/** Removes every fixture (iframes and client-rendered containers). Runs after each mocha test. */
export function fixtureCleanup(): void {
  for (const f of frames) f.remove();
  for (const c of containers) c.remove();
  frames.clear();
  containers.clear();
}

declare const afterEach: ((fn: () => void) => void) | undefined;
if (typeof afterEach === 'function') afterEach(fixtureCleanup);

const escapeText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

const isTemplate = (v: unknown): v is TemplateResult =>
  typeof v === 'object' && v !== null && '_$litType$' in v && 'strings' in v && 'values' in v;

/**
 * Turns a Lit template into plain HTML for the server: attribute and text
 * values are interpolated and escaped, `?attr=${bool}` becomes present or
 * absent. Property (`.x`) and event (`@x`) bindings cannot cross to the
 * server and throw: pass properties as `data`.
 */
export function templateToHtml(template: TemplateResult | string): string {
  if (typeof template === 'string') return template;
  const strings = [...template.strings];
  const { values } = template;
  let out = '';
  for (let i = 0; i < values.length; i++) {
    const s = strings[i]!;
    const value = values[i];
    const attr = /(\s)([.?@]?)([^\s"'>/=]+)\s*=\s*(["']?)$/.exec(s);
    if (attr === null) {
      out += s + valueToHtml(value);
      continue;
    }
    const [whole, space, prefix, name, quote] = attr as unknown as [string, string, string, string, string];
    if (prefix === '.' || prefix === '@') {
      throw new Error(`ssrFixture: the binding ${prefix}${name}=\${…} cannot be server-rendered; pass properties as { data } instead`);
    }
    out += s.slice(0, s.length - whole.length) + space;
    if (prefix === '?') out += value ? name : '';
    else out += `${name}="${escapeAttr(String(value ?? ''))}"`;
    // A quoted binding's closing quote starts the next string.
    if (quote) strings[i + 1] = strings[i + 1]!.slice(1);
  }
  return out + strings[values.length]!;
}

function valueToHtml(value: unknown): string {
  // `nothing` and `noChange` are symbols.
  if (value === null || value === undefined || value === false || typeof value === 'symbol') return '';
  if (isTemplate(value)) return templateToHtml(value);
  if (Array.isArray(value)) return value.map(valueToHtml).join('');
  if (typeof value === 'object' || typeof value === 'function') {
    throw new Error('ssrFixture: only strings, numbers, booleans, templates and arrays of them can be server-rendered in a template; pass properties as { data }');
  }
  return escapeText(String(value));
}

/** The top-level elements of a markup fragment (parsed inertly). */
function fragmentElements(html: string): { template: HTMLTemplateElement; elements: Element[] } {
  const template = document.createElement('template');
  template.innerHTML = html;
  return { template, elements: [...template.content.children] };
}

/** Loads `url` in a new iframe of the test page; resolves with its window once loaded. */
async function loadFrame(url: string, width: number, height: number): Promise<FixtureWindow> {
  const iframe = document.createElement('iframe');
  iframe.style.cssText = `position: fixed; left: 0; top: 0; z-index: 1; border: 0; background: #fff; width: ${width}px; height: ${height}px`;
  // Laid out before its page loads, so that strategies see the final viewport.
  document.body.append(iframe);
  frames.add(iframe);
  void iframe.getBoundingClientRect();
  await new Promise<void>((resolve, reject) => {
    iframe.onload = () => resolve();
    iframe.onerror = () => reject(new Error(`ssrFixture: could not load ${url}`));
    iframe.src = url;
  });
  return iframe.contentWindow as FixtureWindow;
}

function recorderOf(el: Element): FixtureRecorder {
  const win = el.ownerDocument.defaultView as FixtureWindow | null;
  const rec = win?.[RECORDER_GLOBAL];
  if (rec === undefined) throw new Error(`<${el.localName}> is not in an Atoll fixture page (use ssrFixture)`);
  return rec;
}

/**
 * Server-renders `input` through the site's engine and loads the page in an
 * iframe of the test page, with the real client build and island loader;
 * resolves with the element (markup: the first top-level element; route:
 * `select`, or the page's first island).
 *
 * ```ts
 * const card = await ssrFixture<ShopProductCard>(html`<shop-product-card product-id="p1"></shop-product-card>`);
 * const live = await ssrFixture({ tag: 'my-list', data: { items: ['a'] } }, { hydrate: 'load' });
 * const page = await ssrFixture({ route: '/products/p1', select: 'shop-product' });
 * ```
 *
 * Throws with the server's log lines when an element failed on the server
 * (or, for a route, when it answered 5xx). Unhydrated fixtures (the
 * default) keep `defer-hydration` until {@link hydrate}.
 */
export async function ssrFixture<T extends Element = HTMLElement>(input: FixtureInput, options: SsrFixtureOptions = {}): Promise<T> {
  const site = options.site ?? DEFAULT_SITE;
  const hydrateOption = options.hydrate ?? false;
  const loader = hydrateOption === false ? 'defer' : 'run';
  let request: FixtureRequest;
  let select: string | undefined;
  if (typeof input === 'object' && 'route' in input) {
    if (typeof hydrateOption === 'string') {
      throw new Error('ssrFixture: a route keeps the strategies of its layout; use hydrate: true or false');
    }
    request = { kind: 'route', site, path: input.route, headers: input.headers, loader };
    select = input.select;
  } else {
    let html: string;
    let data: Record<string, Record<string, unknown>> | undefined;
    if (typeof input === 'object' && 'tag' in input) {
      html = `<${input.tag}`;
      for (const [name, value] of Object.entries(input.attributes ?? {})) {
        if (value === false) continue;
        html += value === true ? ` ${name}` : ` ${name}="${escapeAttr(value)}"`;
      }
      html += `></${input.tag}>`;
      if (input.data !== undefined) data = { [input.tag]: input.data };
    } else {
      html = templateToHtml(input);
    }
    const { template, elements } = fragmentElements(html);
    if (elements.length === 0) throw new Error('ssrFixture: the markup has no element');
    if (typeof hydrateOption === 'string') {
      for (const el of elements) if (el.localName.includes('-') && !el.hasAttribute(HYDRATE)) el.setAttribute(HYDRATE, hydrateOption);
      html = template.innerHTML;
    }
    if (options.data !== undefined) data = { ...data, [elements[0]!.localName]: options.data };
    request = { kind: 'html', site, html, data, url: options.url, loader };
  }

  let response: FixtureResponse;
  try {
    response = (await executeServerCommand(RENDER_COMMAND, request as unknown as Record<string, unknown>)) as FixtureResponse;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(
      /Unknown command/.test(message)
        ? `ssrFixture: no atollTestPlugin handles site "${site}": add atollTestPlugin({ root${site === DEFAULT_SITE ? '' : `, name: '${site}'`} }) to the web-test-runner config's plugins`
        : message,
    );
  }
  if (!response.ok) throw new Error(`ssrFixture: ${response.error}`);
  const win = await loadFrame(response.url, options.width ?? 800, options.height ?? 600);
  const doc = win.document;
  const el =
    select !== undefined
      ? doc.querySelector(select)
      : request.kind === 'route'
        ? doc.querySelector(`[${DEFER_HYDRATION}]`) ?? [...doc.body.querySelectorAll('*')].find((e) => e.localName.includes('-')) ?? null
        : doc.body.firstElementChild;
  if (el === null) throw new Error(`ssrFixture: nothing matches ${select ?? 'an island'} on ${request.kind === 'route' ? request.path : 'the fixture page'}`);
  if (hydrateOption !== false && options.waitForHydration !== false && willHydrateByItself(el)) await hydrated(el);
  return el as unknown as T;
}

/** True when `el` is an island whose strategy fires without a user (load, idle, visible). */
function willHydrateByItself(el: Element): boolean {
  const map = el.ownerDocument.querySelector(IMPORT_MAP_SELECTOR);
  const imports = map === null ? {} : (JSON.parse(map.textContent!) as { imports: Record<string, string> }).imports;
  if (!(SPECIFIER_PREFIX + el.localName in imports)) return false;
  const [strategy] = parseHydrate(el.getAttribute(HYDRATE));
  return SELF_FIRING.has(strategy);
}

/**
 * Resolves when the island loader has hydrated `el` (`atoll:hydrated`, even
 * if that happened before the call); rejects with the error when it
 * reported `atoll:hydration-error` (its module failed to load or threw, the
 * tag was not defined, or hydration threw, e.g. on a template mismatch).
 */
export function hydrated(el: Element): Promise<void> {
  const rec = recorderOf(el);
  const fail = (detail: { error?: unknown }): Error => {
    const cause = detail.error;
    const message = cause instanceof Error || (typeof cause === 'object' && cause !== null && 'message' in cause)
      ? String((cause as { message: unknown }).message)
      : String(cause);
    return new Error(`<${el.localName}> failed to hydrate: ${message}`, { cause });
  };
  const done = rec.results.get(el);
  if (done !== undefined) return done.type === HYDRATED_EVENT ? Promise.resolve() : Promise.reject(fail(done.detail));
  return new Promise((resolve, reject) => {
    const onDone = (): void => {
      el.removeEventListener(HYDRATED_EVENT, onDone);
      el.removeEventListener(HYDRATION_ERROR_EVENT, onError);
      resolve();
    };
    const onError = (e: Event): void => {
      el.removeEventListener(HYDRATED_EVENT, onDone);
      el.removeEventListener(HYDRATION_ERROR_EVENT, onError);
      reject(fail((e as CustomEvent<{ error?: unknown }>).detail));
    };
    el.addEventListener(HYDRATED_EVENT, onDone);
    el.addEventListener(HYDRATION_ERROR_EVENT, onError);
  });
}

/**
 * Hydrates `el` now with the real island loader and resolves when it has
 * (see {@link hydrated}). On a fixture rendered with `hydrate: false` it
 * sets `hydrate="load"` on `el` (other islands keep their strategies) and
 * starts the page's loader; otherwise it waits for `el`'s own strategy.
 */
export function hydrate(el: Element): Promise<void> {
  const doc = el.ownerDocument;
  const inert = doc.querySelector(`script[type="${DEFERRED_LOADER_TYPE}"]`);
  if (inert !== null) {
    if (el.hasAttribute(DEFER_HYDRATION) || !el.shadowRoot) el.setAttribute(HYDRATE, 'load');
    const script = doc.createElement('script');
    script.textContent = inert.textContent;
    inert.remove();
    doc.head.append(script);
  }
  return hydrated(el);
}

/** Every node of `host`'s shadow root, and of the shadow roots inside it, in document order. */
export function shadowNodes(host: Element): Node[] {
  const root = host.shadowRoot;
  if (root === null) throw new Error(`<${host.localName}> has no shadow root`);
  const nodes: Node[] = [];
  const walk = (r: ShadowRoot): void => {
    const walker = host.ownerDocument.createTreeWalker(r, NodeFilter.SHOW_ALL);
    while (walker.nextNode()) {
      const n = walker.currentNode;
      nodes.push(n);
      if (n.nodeType === Node.ELEMENT_NODE && (n as Element).shadowRoot) walk((n as Element).shadowRoot!);
    }
  };
  walk(root);
  return nodes;
}

const describe = (n: Node): string => {
  if (n.nodeType === Node.ELEMENT_NODE) {
    const e = n as Element;
    return `<${e.localName}${e.id ? `#${e.id}` : ''}${e.classList.length ? `.${[...e.classList].join('.')}` : ''}>`;
  }
  if (n.nodeType === Node.TEXT_NODE) return `text ${JSON.stringify((n.textContent ?? '').slice(0, 40))}`;
  if (n.nodeType === Node.COMMENT_NODE) return `<!--${(n.textContent ?? '').slice(0, 40)}-->`;
  return n.nodeName;
};

/**
 * A shadow root's content as canonical markup for comparison: comments
 * (Lit's markers) and `<style>` left out, attributes sorted, adjacent text
 * joined, nested shadow roots included.
 */
export function shadowMarkup(host: Element): string {
  const root = host.shadowRoot;
  if (root === null) throw new Error(`<${host.localName}> has no shadow root`);
  const children = (parent: ParentNode): string => {
    let out = '';
    for (const n of parent.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) out += escapeText(n.textContent ?? '');
      else if (n.nodeType === Node.ELEMENT_NODE) {
        const e = n as Element;
        if (e.localName === 'style') continue;
        const attrs = [...e.attributes]
          .filter((a) => a.name !== DEFER_HYDRATION)
          .map((a) => ` ${a.name}="${escapeAttr(a.value)}"`)
          .sort()
          .join('');
        const shadow = e.shadowRoot ? `#shadow(${children(e.shadowRoot)})` : '';
        out += `<${e.localName}${attrs}>${shadow}${children(e.localName === 'template' ? (e as HTMLTemplateElement).content : e)}</${e.localName}>`;
      }
    }
    return out;
  };
  return children(root);
}

/** Options of {@link expectNoHydrationMismatch}. */
export interface MismatchOptions {
  /**
   * Also render a twin of the element client-side in the same page (same
   * attributes and server data) and require the same shadow markup: finds
   * values that differ between server and browser, which Lit's hydration
   * keeps silently (default true).
   */
  compareWithClientRender?: boolean;
  /**
   * Also fail on text bindings that the server rendered empty (`''`,
   * `null`, `undefined`): Lit hydrates them with no text node, and the next
   * update writes the text into its end-marker comment, so it never shows
   * (lit/lit#4937; render `nothing` instead). Default true.
   */
  checkEmptyTextParts?: boolean;
}

/**
 * Lit's internal part fields, by their development names and the mangled
 * names of its production build (the same in every Lit 2/3 version, since
 * versions share parts across copies).
 */
const field = (o: object, dev: string, prod: string): unknown =>
  dev in o ? (o as Record<string, unknown>)[dev] : (o as Record<string, unknown>)[prod];

/**
 * Text bindings of `el`'s template (and nested templates) that hydrated
 * with an empty primitive value and no text node between their markers.
 * Reads Lit's internal part fields; finds nothing if they ever change.
 */
function emptyTextParts(el: Element): string[] {
  const found: string[] = [];
  const visit = (part: unknown, depth: number): void => {
    if (depth > 50 || typeof part !== 'object' || part === null) return;
    if (!('_$committedValue' in part) && !('_$AH' in part)) return;
    const v = field(part, '_$committedValue', '_$AH');
    const start = field(part, '_$startNode', '_$AA') as Node | undefined;
    const end = field(part, '_$endNode', '_$AB') as Node | null | undefined;
    if (start !== undefined && (v === '' || v === null || v === undefined) && start.nextSibling === end && end?.nodeType === Node.COMMENT_NODE) {
      const parent = start.parentNode;
      found.push(parent && parent.nodeType === Node.ELEMENT_NODE ? `<${(parent as Element).localName}>` : 'the shadow root');
      return;
    }
    if (typeof v === 'object' && v !== null) {
      const parts = field(v, '_$parts', '_$AV');
      if (Array.isArray(parts)) for (const child of parts) visit(child, depth + 1);
      if (Array.isArray(v)) for (const item of v) visit(item, depth + 1);
    }
  };
  const root = el.shadowRoot as (ShadowRoot & { _$litPart$?: unknown }) | null;
  visit(root?._$litPart$, 0);
  return found;
}

/**
 * Asserts that hydrating `el` — a fixture rendered with `hydrate: false` —
 * works and is invisible: it runs `action` (default: {@link hydrate}) and
 * fails unless `el` hydrated, every node of its shadow roots (nested ones
 * too) is the same object before and after, nothing was added, nothing was
 * logged with `console.warn`/`console.error`, no text binding hydrated
 * empty (a Lit bug that hides later text), and (by default) a client-side
 * rendering of the same element gives the same markup.
 */
export async function expectNoHydrationMismatch(
  el: Element,
  action: () => unknown = () => hydrate(el),
  options: MismatchOptions = {},
): Promise<void> {
  const tag = el.localName;
  if (!el.hasAttribute(DEFER_HYDRATION)) {
    throw new Error(`expectNoHydrationMismatch: <${tag}> is not server-rendered and waiting to hydrate (render it with ssrFixture(…, { hydrate: false }))`);
  }
  const rec = recorderOf(el);
  const logged = rec.console.length;
  const before = shadowNodes(el);
  const propsScript = el.querySelector(':scope > script[data-atoll-props]');
  // The server writes data() with devalue (undefined, Date, Map, … survive); its parse never evaluates code.
  const props = propsScript === null ? undefined : ((await import('devalue')).parse(propsScript.textContent!) as Record<string, unknown>);
  let after: Node[] | undefined;
  const snapshot = (): void => {
    after = shadowNodes(el);
  };
  el.addEventListener(HYDRATED_EVENT, snapshot, { once: true });
  try {
    await action();
    await hydrated(el);
  } finally {
    el.removeEventListener(HYDRATED_EVENT, snapshot);
  }
  after ??= shadowNodes(el);
  const problems: string[] = [];
  const kept = new Set(after);
  const removed = before.filter((n) => !kept.has(n));
  const old = new Set(before);
  const added = after.filter((n) => !old.has(n));
  if (removed.length > 0) problems.push(`${removed.length} server node(s) replaced: ${removed.slice(0, 5).map(describe).join(', ')}`);
  if (added.length > 0) problems.push(`${added.length} node(s) added by hydration: ${added.slice(0, 5).map(describe).join(', ')}`);
  if (removed.length === 0 && added.length === 0 && !before.every((n, i) => n === after![i])) problems.push('server nodes were moved');
  const messages = rec.console.slice(logged);
  if (messages.length > 0) problems.push(`logged during hydration:\n    ${messages.map((m) => `${m.level}: ${m.text}`).join('\n    ')}`);
  if (options.checkEmptyTextParts !== false) {
    const empty = emptyTextParts(el);
    if (empty.length > 0) {
      problems.push(`text binding(s) in ${empty.join(', ')} hydrated empty: Lit will write their next value into a comment (lit/lit#4937); render \`nothing\` instead of ''/null/undefined`);
    }
  }
  if (problems.length === 0 && options.compareWithClientRender !== false) {
    const mismatch = await compareWithClientRender(el, props);
    if (mismatch !== undefined) problems.push(mismatch);
  }
  if (problems.length > 0) throw new Error(`hydration mismatch in <${tag}>:\n  ${problems.join('\n  ')}`);
}

async function settle(el: Updatable): Promise<void> {
  for (let i = 0; i < 10; i++) if ((await el.updateComplete) !== false) return;
}

/** Renders a twin of `el` client-side in its own page; a message when the markup differs. */
async function compareWithClientRender(el: Updatable, props: Record<string, unknown> | undefined): Promise<string | undefined> {
  const doc = el.ownerDocument;
  const twin = doc.createElement(el.localName) as Updatable;
  for (const a of el.attributes) if (a.name !== HYDRATE && a.name !== DEFER_HYDRATION) twin.setAttribute(a.name, a.value);
  if (props !== undefined) Object.assign(twin, props);
  const box = doc.createElement('div');
  box.style.cssText = 'position: absolute; left: -10000px; top: 0; width: 800px';
  box.append(twin);
  doc.body.append(box);
  try {
    await settle(el);
    await settle(twin);
    if (twin.shadowRoot === null) return undefined;
    const server = shadowMarkup(el);
    const client = shadowMarkup(twin);
    if (server === client) return undefined;
    let i = 0;
    while (i < server.length && server[i] === client[i]) i++;
    const around = (s: string): string => JSON.stringify(s.slice(Math.max(0, i - 40), i + 60));
    return `the hydrated markup differs from a client rendering at character ${i}:\n    hydrated: ${around(server)}\n    client:   ${around(client)}`;
  } finally {
    box.remove();
  }
}

/**
 * Client-renders `template` (a Lit template or an HTML string) into a
 * container in the test page itself and resolves with its first element
 * after its first update. The test must import the element's module.
 */
export async function csrFixture<T extends Element = HTMLElement>(template: TemplateResult | string): Promise<T> {
  const container = document.createElement('div');
  document.body.append(container);
  containers.add(container);
  if (typeof template === 'string') container.innerHTML = template;
  else render(template, container);
  const el = container.firstElementChild as (T & Updatable) | null;
  if (el === null) throw new Error('csrFixture: the template has no element');
  await settle(el);
  return el;
}
