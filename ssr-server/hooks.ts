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
  /** The request headers the operator allows (`requestHeaders` in the config). */
  headers: Headers;
  /** This instance's attributes, after interpolation (reserved ones removed). */
  attributes: Readonly<Record<string, string>>;
  /** Fires when the client goes away or the element's timeout passes. */
  signal: AbortSignal;
}

/** The optional exports of `elements/<tag>/server.ts`. */
export interface ServerHooks {
  /** Async data for one instance; its keys become properties before rendering. */
  data?: (ctx: ElementContext) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** This instance's response headers. */
  headers?: (ctx: ElementContext, data: Record<string, unknown> | undefined) => HeadersInit | undefined;
  /**
   * Attributes the hooks read that are not the element's own properties
   * (e.g. `["product-id"]` for a `data()` that looks the product up): they
   * pass through the fragment endpoint like the element's declared ones.
   */
  attributes?: readonly string[];
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
