/**
 * The fragment endpoint (SPEC 6): `GET /_atoll/fragment/<tag>?<attr>=…`
 * answers one element's markup — its host, declarative shadow root and
 * serialized data — with its headers, `Link` headers for its client module
 * (`modulepreload`, and Tailor's `fragment-script`), and CORS for the
 * origins the site allows. Every Atoll server is so a fragment server: other
 * Atoll servers use it for remote elements, Tailor-style composers and
 * `embed.js` too.
 *
 * It renders through the same page engine, with a one-element layout in
 * which the element is `primary`: its data decides the status, and a failure
 * answers non-2xx so the consumer falls back.
 */
import type { CoreRequest, CoreResponse, Engine } from './handle.ts';
import { RESERVED_ATTRIBUTES } from './layout/attributes.ts';
import type { CompiledLayout, ElementOp } from './layout/ops.ts';
import { renderPage, type PageRequest, type PageResult } from './render/page.ts';
import { textResponse } from './responses.ts';

/** Where fragments are served. */
export const FRAGMENT_PATH = '/_atoll/fragment/';

/** Most attributes a fragment request may carry. */
const MAX_ATTRIBUTES = 64;
const ATTRIBUTE_NAME = /^[a-z_][a-z0-9_.:-]*$/;

/** CORS headers for `origin` when the site allows it (else none). */
export function corsHeaders(engine: Engine, origin: string | null): Record<string, string> {
  const allowed = engine.site.config.cors?.origins ?? [];
  if (origin === null || allowed.length === 0) return {};
  if (!allowed.includes('*') && !allowed.includes(origin)) return {};
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}


const HOST = /^([\w.-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/i;

/**
 * Makes a root-relative URL absolute for the consumer of the fragment (which
 * is another server, or a page on another origin), from the request's Host.
 */
function absolute(path: string, headers: CoreRequest['headers']): string {
  if (!path.startsWith('/')) return path;
  const host = headers.get('host');
  if (host === null || !HOST.test(host)) return path;
  const proto = headers.get('x-forwarded-proto') === 'https' ? 'https' : 'http';
  return `${proto}://${host}${path}`;
}

/** Answers a request under {@link FRAGMENT_PATH}. */
export function respondFragment(engine: Engine, req: CoreRequest, url: URL, requestId: string): CoreResponse | Promise<CoreResponse> {
  let tag: string;
  try {
    tag = decodeURIComponent(url.pathname.slice(FRAGMENT_PATH.length));
  } catch {
    return textResponse(400, 'Bad Request\n', requestId);
  }
  const cors = corsHeaders(engine, req.headers.get('origin'));
  const def = engine.site.registry.get(tag);
  if (def === undefined || def.kind !== 'module') return textResponse(404, `No element <${tag}> here\n`, requestId, cors);
  if (req.method === 'OPTIONS') {
    const headers = new Headers(cors);
    if (cors['access-control-allow-origin'] !== undefined) {
      headers.set('access-control-allow-methods', 'GET, HEAD, OPTIONS');
      const asked = req.headers.get('access-control-request-headers');
      if (asked !== null) headers.set('access-control-allow-headers', asked);
      headers.set('access-control-max-age', '600');
    }
    return { status: 204, headers, body: { kind: 'none' }, requestId };
  }
  const attrs: Array<{ name: string; literal: string; parts: string[] }> = [];
  for (const [name, value] of url.searchParams) {
    if (!ATTRIBUTE_NAME.test(name)) return textResponse(400, `"${name}" is not an attribute name\n`, requestId, cors);
    // The consumed reserved attributes are the consumer's business; `hydrate` stays on the tag.
    if (RESERVED_ATTRIBUTES.has(name) && name !== 'hydrate') continue;
    if (attrs.length === MAX_ATTRIBUTES) return textResponse(400, 'Too many attributes\n', requestId, cors);
    attrs.push({ name, literal: value, parts: [value] });
  }
  const op: ElementOp = {
    kind: 'element',
    tag,
    loc: { file: '(fragment request)' },
    attrs,
    children: [],
    hydrate: 'visible',
    timeout: undefined,
    primary: true,
    cache: undefined,
    ssr: true,
  };
  const layout: CompiledLayout = { file: '(fragment request)', ops: [op], routeCount: 0, hasRoutes: false };
  const request: PageRequest = { url, headers: req.headers, signal: req.signal, requestId };
  const respond = (page: PageResult): CoreResponse => {
    if (page.type === 'redirect') {
      return { status: page.status, headers: new Headers({ location: page.location, ...cors }), body: { kind: 'none' }, requestId };
    }
    const headers = page.headers;
    headers.set('x-request-id', requestId);
    for (const [k, v] of Object.entries(cors)) headers.set(k, v);
    const modulePath = engine.moduleUrl?.(tag);
    if (modulePath !== undefined) {
      const moduleUrl = absolute(modulePath, req.headers);
      const links = [`<${moduleUrl}>; rel="modulepreload"`, `<${moduleUrl}>; rel="fragment-script"`];
      const prior = headers.get('link');
      headers.set('link', prior ? `${prior}, ${links.join(', ')}` : links.join(', '));
    }
    return { status: page.status, headers, body: { kind: 'html', result: page.body }, requestId };
  };
  const start = renderPage(engine, request, layout);
  return start.result instanceof Promise ? start.result.then(respond) : respond(start.result);
}
