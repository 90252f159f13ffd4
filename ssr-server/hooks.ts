/**
 * The server hooks an element may export from `server.ts` (SPEC 2), and the
 * context they receive.
 */

/** What an element's server hooks see for one instance on one request. */
export interface ElementContext {
  /** The requested URL. */
  url: URL;
  /** Route parameters of the enclosing routes. */
  params: Readonly<Record<string, string>>;
  /** The query string. */
  query: URLSearchParams;
  /**
   * The request headers the operator allows (`requestHeaders` in the
   * config). Made when a hook first reads them (a getter, like `signal`:
   * `{ ...ctx }` does not copy it).
   */
  readonly headers: Headers;
  /** This instance's attributes, after interpolation (reserved ones removed). */
  attributes: Readonly<Record<string, string>>;
  /**
   * Fires when the client goes away or the element's timeout passes. Made
   * when a hook first reads it (a getter, so `{ ...ctx }` does not copy it:
   * pass `ctx.signal` on explicitly); read after the request ended, it is
   * already aborted.
   */
  readonly signal: AbortSignal;
  /**
   * The site's public origin (the config's `publicOrigin`), for absolute URLs
   * a hook writes itself, such as those inside JSON-LD; undefined when it is
   * not configured (the request's `Host` is never trusted for this).
   */
  publicOrigin: string | undefined;
}

/** The optional exports of `elements/<tag>/server.ts`. */
export interface ServerHooks {
  /** Async data for one instance; its keys become properties before rendering. */
  data?: (ctx: ElementContext) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** This instance's response headers. */
  headers?: (ctx: ElementContext, data: Record<string, unknown> | undefined) => HeadersInit | undefined;
  /**
   * For `atoll export` only: the values of the route parameters this element
   * is under to pre-render, e.g. `[{ id: 'stoneware-mug' }]` (docs/export.md).
   */
  paths?: () => Promise<ReadonlyArray<Record<string, string>>> | ReadonlyArray<Record<string, string>>;
  /**
   * Attributes the hooks read that are not the element's own properties
   * (e.g. `["product-id"]` for a `data()` that looks the product up): they
   * pass through the fragment endpoint like the element's declared ones.
   */
  attributes?: readonly string[];
  /**
   * This instance's contribution to the document `<head>` (SPEC 9a,
   * docs/seo.md), as data that Atoll escapes: called synchronously when the
   * head is written, with the settled `data()`. Primary elements decide the
   * title; a non-primary element contributes only if its data has settled by
   * then.
   */
  head?: (ctx: ElementContext, data: Record<string, unknown> | undefined) => HeadContribution | undefined;
  /**
   * The render-cache tags of this instance's output (e.g.
   * `['product:42', 'catalog']`), called synchronously with the settled
   * `data()` when a rendering is stored: a purge of any of them
   * (`atoll.cache.purge(['product:42'])`, or `POST /_atoll/cache/purge`)
   * drops it on every instance (docs/caching.md). A tag is 1–128
   * characters of letters, digits and `._:/@+=-`; at most 32. A throw or
   * an invalid list means the output is not cached (one log line).
   */
  cacheTags?: (ctx: ElementContext, data: Record<string, unknown> | undefined) => readonly string[] | undefined;
}

/** What `head()` returns; every field optional, relative URLs resolve against `publicOrigin` (else the request). */
export interface HeadContribution {
  /** The page title; the layout's template (`data-atoll-template="%s — Shop"` on its `<title>`) wraps it. */
  title?: string;
  /** `<meta name="description">`. */
  description?: string;
  /** `<meta name="robots">`, e.g. `"noindex"`. */
  robots?: string;
  /** `<link rel="canonical">`. */
  canonical?: string;
  /** Other metas: `{ property: 'og:title', content }` or `{ name: 'twitter:card', content }`. */
  meta?: ReadonlyArray<{ name?: string; property?: string; content: string | number }>;
  /** `<link rel="alternate" hreflang href>`. */
  alternates?: ReadonlyArray<{ hreflang: string; href: string }>;
  /** JSON-LD objects, each written as its own `<script type="application/ld+json">`. */
  jsonLd?: Record<string, unknown> | ReadonlyArray<Record<string, unknown>>;
}

/**
 * Attributes that never pass the fragment endpoint, whatever an element
 * declares or the operator allows: event handlers run script, and these are
 * script or style sinks on a host element (or make one fire without a click).
 */
export function isForbiddenAttribute(name: string): boolean {
  return name.startsWith('on') || FORBIDDEN_ATTRIBUTES.has(name) || name.startsWith('xmlns');
}
const FORBIDDEN_ATTRIBUTES = new Set(['style', 'srcdoc', 'formaction', 'action', 'is', 'autofocus', 'href', 'src', 'xlink:href']);
