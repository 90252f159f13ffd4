/**
 * In-process rendering, in the spirit of Hono's `app.request()`: a page by
 * path or `Request` (`atoll.request`) and a piece of layout markup or one
 * element as a complete page (`atoll.renderMarkup`), both through the same
 * engine as `atoll serve` — routing, element work, the head decision,
 * `<atoll-head>` with the client build and the island loader — with no
 * socket. The testing kit (`atoll-ssr/testing`) is built on these two alone.
 */
import { cspHeader, makeNonce } from './csp.ts';
import type { Engine } from './engine.ts';
import { SiteError, ProblemList, type SiteProblem } from './errors.ts';
import { requestIdFor } from './handle.ts';
import { toWebHeaders } from './header-values.ts';
import { escapeAttr, escapeText } from './html.ts';
import { compileLayout } from './layout/compile.ts';
import { collect } from './render/chunks.ts';
import { renderPage, type PageRequest, type PageResult } from './render/page.ts';
import type { ElementDefinition } from './site/registry.ts';
import type { Site } from './site/load.ts';
import type { CoreRequest } from './wire.ts';

/** How an in-process render writes the page (never reachable from the network). */
export interface RenderOptions {
  /**
   * How `<atoll-head>` writes the island loader: `'inline'` (the default, as
   * `atoll serve`: it runs as the page loads), `'inert'` (a
   * `<script type="text/x-atoll-deferred-loader">` — `INERT_LOADER_TYPE` in
   * `islands/protocol.ts` — that does not run until a test copies it into a
   * new script), or `'none'` (no loader: server HTML only; the import map and
   * preloads stay).
   */
  loader?: 'inline' | 'inert' | 'none';
  /**
   * A classic script to run first on the page: written at the start of
   * `<atoll-head>`'s output (with the page's CSP nonce), before the import
   * map and the loader. A layout without `<atoll-head>` gets none. It may
   * not contain `</script` or `<!--`.
   */
  headScript?: string;
}

/** Where and how a markup render runs. */
interface MarkupContext {
  /** The page URL the elements' `data()` hooks see: a path with query (default `/`). */
  url?: string;
  /** Request headers the hooks see (`x-request-id` names the render in log lines). */
  headers?: HeadersInit;
  signal?: AbortSignal;
  /** The page's `<title>` (default `Atoll`). */
  title?: string;
  /** The page's `lang` (default `en`). */
  lang?: string;
}

/** What {@link renderMarkup} renders: layout markup, or one element. */
export type MarkupInput =
  | (MarkupContext & {
      /**
       * Markup as the inside of a layout's `<body>`: elements of the site
       * (with `hydrate`, `primary`, light DOM…), any HTML, even routes.
       */
      html: string;
      /** Properties by tag, used instead of that element's `data()` hook (and serialized for hydration like its result). */
      data?: Record<string, Record<string, unknown>>;
    })
  | (MarkupContext & {
      /** One element of the site. */
      tag: string;
      /** Its attributes, as in a layout (`true`: present, `false`: absent). */
      attributes?: Record<string, string | boolean>;
      /** Its properties, instead of its `data()` hook. */
      data?: Record<string, unknown>;
    });

/** Options of {@link renderMarkup}. */
export interface MarkupOptions extends RenderOptions {
  /**
   * Reject on the layout compiler's warnings too (e.g. a dashed tag that is
   * no element of the site, most often a typo). Default false: warnings
   * are logged.
   */
  strict?: boolean;
}

/** The file name markup problems are reported under. */
export const MARKUP_FILE = '(markup)';

const TAG = /^[a-z][a-z0-9._]*-[a-z0-9._-]*$/;
const ATTRIBUTE_NAME = /^[a-zA-Z_:][a-zA-Z0-9_.:-]*$/;

/** Checks the in-process render options; throws a TypeError on bad ones. */
export function checkRenderOptions(options: RenderOptions | undefined): CoreRequest['page'] {
  if (options === undefined) return undefined;
  const { loader, headScript } = options;
  if (loader !== undefined && loader !== 'inline' && loader !== 'inert' && loader !== 'none') {
    throw new TypeError(`loader must be 'inline', 'inert' or 'none', got ${JSON.stringify(loader)}`);
  }
  if (headScript !== undefined) {
    if (typeof headScript !== 'string') throw new TypeError('headScript must be a string of JavaScript');
    if (/<\/script|<!--/i.test(headScript)) throw new TypeError('headScript may not contain "</script" or "<!--" (it is written inside a <script> element)');
  }
  return { loader, headScript };
}

/** An http(s) URL as is; anything else is a path on `http://localhost`. */
export function requestOf(input: string | URL | Request, init?: RequestInit): Request {
  if (input instanceof Request) return init === undefined ? input : new Request(input, init);
  const text = String(input);
  const url = /^https?:\/\//i.test(text) ? text : `http://localhost${text.startsWith('/') ? '' : '/'}${text}`;
  return new Request(url, init);
}

/** `site` with the `data()` hook of each tag in `data` replaced by its given properties. */
function withData(site: Site, data: Record<string, Record<string, unknown>> | undefined): Site {
  if (data === undefined) return site;
  if (typeof data !== 'object' || data === null) throw new TypeError('data must be an object of properties by tag');
  const tags = Object.keys(data);
  if (tags.length === 0) return site;
  const registry = new Map(site.registry);
  for (const tag of tags) {
    const props = data[tag];
    const def = registry.get(tag);
    if (def === undefined) throw new TypeError(`data was given for <${tag.slice(0, 100)}>, which is not an element of the site at ${site.root}`);
    if (def.kind !== 'module') throw new TypeError(`data was given for <${tag}>, a remote element: only an element rendered here has a data() hook to replace`);
    if (typeof props !== 'object' || props === null || Array.isArray(props)) throw new TypeError(`data for <${tag}> must be an object of its properties`);
    const patched: ElementDefinition = { ...def, hooks: { ...def.hooks, data: () => props } };
    registry.set(tag, patched);
  }
  return { ...site, registry };
}

/** `{ tag, attributes }` as markup; throws on a name that markup cannot carry. */
function elementMarkup(tag: string, attributes: Record<string, string | boolean> | undefined): string {
  if (typeof tag !== 'string' || !TAG.test(tag)) throw new TypeError(`tag ${JSON.stringify(String(tag).slice(0, 100))} is not a custom element name`);
  let html = `<${tag}`;
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (!ATTRIBUTE_NAME.test(name)) throw new TypeError(`<${tag}>: ${JSON.stringify(name.slice(0, 100))} is not an attribute name`);
    if (value === false) continue;
    if (value !== true && typeof value !== 'string') throw new TypeError(`<${tag}>: attribute ${name} must be a string or a boolean`);
    html += value === true ? ` ${name}` : ` ${name}="${escapeAttr(value)}"`;
  }
  return `${html}></${tag}>`;
}

/** The markup's problems at their place in the caller's markup (it starts on the shell's second line). */
const inMarkup = (p: SiteProblem): SiteProblem => (p.file === MARKUP_FILE && typeof p.line === 'number' && p.line > 1 ? { ...p, line: p.line - 1 } : p);

/**
 * Renders `input` as the body of a minimal page (`<!doctype html>`, a
 * title, `<atoll-head>`) through the engine, buffered into a `Response`.
 * Rejects with a `SiteError` (file `(markup)`, line:col in the markup) when
 * the markup does not compile, and with a `TypeError` on bad input; an
 * element that fails at run time is logged (with the render's request id)
 * and falls back, as on a page.
 */
export async function renderMarkup(engine: Engine, input: MarkupInput, options: MarkupOptions = {}): Promise<Response> {
  if (typeof input !== 'object' || input === null) throw new TypeError('renderMarkup: give { html } or { tag }');
  const page = checkRenderOptions(options);
  let html: string;
  let data: Record<string, Record<string, unknown>> | undefined;
  if ('tag' in input) {
    html = elementMarkup(input.tag, input.attributes);
    if (input.data !== undefined) data = { [input.tag]: input.data };
  } else if (typeof input.html === 'string') {
    html = input.html;
    data = input.data;
  } else {
    throw new TypeError('renderMarkup: html must be a string');
  }
  const site = engine.site;
  const source =
    `<!doctype html><html lang="${escapeAttr(input.lang ?? 'en')}"><head><meta charset="utf-8"><title>${escapeText(input.title ?? 'Atoll')}</title><atoll-head></atoll-head></head><body>\n` +
    `${html}\n</body></html>\n`;
  const problems = new ProblemList();
  const layout = compileLayout({ file: MARKUP_FILE, source, isElement: (tag) => site.registry.has(tag), problems });
  const refused = options.strict === true ? [...problems.errors, ...problems.warnings] : problems.errors;
  if (refused.length > 0) throw new SiteError(refused.map(inMarkup));
  const headers = new Headers(input.headers);
  const requestId = requestIdFor(headers);
  for (const w of problems.warnings) engine.logger.warn({ requestId, at: `${MARKUP_FILE}:${inMarkup(w).line ?? 0}:${w.col ?? 0}` }, w.message);

  const target = input.url ?? '/';
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//')) throw new TypeError(`url must be a path (with query), got ${JSON.stringify(String(target).slice(0, 100))}`);
  const url = new URL(`http://atoll.invalid${target}`);
  if (url.host !== 'atoll.invalid') throw new TypeError(`url must be a path (with query), got ${JSON.stringify(target.slice(0, 100))}`);
  const csp = site.config.csp;
  const nonce = csp === undefined ? undefined : makeNonce();
  const request: PageRequest = { url, headers, signal: input.signal ?? new AbortController().signal, requestId, nonce, ...page };
  const start = renderPage({ ...engine, site: withData(site, data) }, request, layout);
  const result: PageResult = await start.result;
  if (result.type === 'redirect') {
    result.headers.set('location', result.location);
    result.headers.set('x-request-id', requestId);
    return new Response(null, { status: result.status, headers: toWebHeaders(result.headers) });
  }
  result.headers.set('x-request-id', requestId);
  if (csp !== undefined && nonce !== undefined) {
    const { name, value } = cspHeader(csp, nonce, site);
    result.headers.set(name, value);
  }
  return new Response(await collect(result.body), { status: result.status, headers: toWebHeaders(result.headers) });
}
