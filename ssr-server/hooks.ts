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
}
