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
import type { Endpoint, EndpointRequest } from './endpoint.ts';
import { isForbiddenAttribute } from './hooks.ts';
import type { Engine } from './engine.ts';
import { RESERVED_ATTRIBUTES } from './layout/attributes.ts';
import type { CompiledLayout, ElementOp } from './layout/ops.ts';
import { renderPage, type PageRequest, type PageResult } from './render/page.ts';
import { textResponse } from './responses.ts';
import type { Site } from './site/load.ts';
import type { CoreResponse } from './wire.ts';

/** Where fragments are served. */
export const FRAGMENT_PATH = '/_atoll/fragment/';

/** Most attributes a fragment request may carry. */
const MAX_ATTRIBUTES = 64;
const ATTRIBUTE_NAME = /^[a-z_][a-z0-9_.:-]*$/;
const TAG = /^[a-z][a-z0-9._]*-[a-z0-9._-]*$/;

/** The attributes each element accepts through the fragment endpoint, per site. */
const allowedBySite = new WeakMap<Site, Map<string, ReadonlySet<string>>>();

/**
 * The attributes `<tag>` accepts from a fragment request: the ones the
 * element declares (its `observedAttributes` — for Lit, its reactive
 * properties' attribute names — and its server hooks' `attributes`), the
 * operator's `fragment.attributes`, and `hydrate`; never an event handler or
 * another sink.
 */
export function fragmentAttributes(site: Site, tag: string): ReadonlySet<string> {
  let perTag = allowedBySite.get(site);
  if (perTag === undefined) allowedBySite.set(site, (perTag = new Map()));
  let allowed = perTag.get(tag);
  if (allowed !== undefined) return allowed;
  const names = new Set<string>(['hydrate', ...(site.config.fragment?.attributes ?? []), ...(site.registry.get(tag)?.hooks.attributes ?? [])]);
  try {
    const cls = globalThis.customElements?.get(tag) as { observedAttributes?: unknown } | undefined;
    const observed = cls?.observedAttributes;
    if (Array.isArray(observed)) for (const n of observed) if (typeof n === 'string') names.add(n.toLowerCase());
  } catch {
    // An element whose observedAttributes getter throws accepts only the operator's list.
  }
  allowed = new Set([...names].filter((n) => ATTRIBUTE_NAME.test(n) && !isForbiddenAttribute(n)));
  perTag.set(tag, allowed);
  return allowed;
}

/** CORS headers for `origin` when the site allows it (else none). */
export function corsHeaders(engine: Engine, origin: string | null): Record<string, string> {
  const allowed = engine.site.config.cors?.origins ?? [];
  if (origin === null || allowed.length === 0) return {};
  if (!allowed.includes('*') && !allowed.includes(origin)) return {};
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}

/**
 * Makes a root-relative URL absolute for the consumer of the fragment (which
 * is another server, or a page on another origin) from the configured
 * `publicOrigin` — never from the request's `Host`, which the client
 * chooses. Without one, the URL stays root-relative.
 */
function absolute(path: string, publicOrigin: string | undefined): string {
  if (!path.startsWith('/') || publicOrigin === undefined) return path;
  try {
    return new URL(path, publicOrigin).href;
  } catch {
    return path;
  }
}

export const fragmentEndpoint: Endpoint = {
  name: 'fragment',
  methods: ['GET', 'HEAD', 'OPTIONS'],
  match: (pathname) => pathname.startsWith(FRAGMENT_PATH),
  respond: respondFragment,
};

/** Answers a request under {@link FRAGMENT_PATH}. */
export function respondFragment(engine: Engine, req: EndpointRequest): CoreResponse | Promise<CoreResponse> {
  const { url, requestId } = req;
  let tag: string;
  try {
    tag = decodeURIComponent(url.pathname.slice(FRAGMENT_PATH.length));
  } catch {
    return textResponse(400, 'Bad Request\n', requestId);
  }
  const cors = corsHeaders(engine, req.headers.get('origin'));
  const def = TAG.test(tag) ? engine.site.registry.get(tag) : undefined;
  if (def === undefined || def.kind !== 'module') {
    return textResponse(404, TAG.test(tag) ? `No element <${tag}> here\n` : 'Not Found\n', requestId, cors);
  }
  if (req.method === 'OPTIONS') {
    const headers = new Headers(cors);
    if (cors['access-control-allow-origin'] !== undefined) {
      headers.set('access-control-allow-methods', 'GET, HEAD, OPTIONS');
      const asked = req.headers.get('access-control-request-headers');
      if (asked !== null && /^[\w-]+(\s*,\s*[\w-]+)*$/.test(asked) && asked.length <= 1024) headers.set('access-control-allow-headers', asked);
      headers.set('access-control-max-age', '600');
    }
    return { status: 204, headers, body: { kind: 'none' }, requestId };
  }
  const allowed = fragmentAttributes(engine.site, tag);
  const attrs: Array<{ name: string; literal: string; parts: string[] }> = [];
  const seen = new Set<string>();
  for (const [name, value] of url.searchParams) {
    if (attrs.length === MAX_ATTRIBUTES) return textResponse(400, 'Too many attributes\n', requestId, cors);
    // Only the element's own attributes (and the operator's list) pass; anything else is dropped.
    if (!allowed.has(name) || seen.has(name)) continue;
    // The consumed reserved attributes are the consumer's business; `hydrate` stays on the tag.
    if (RESERVED_ATTRIBUTES.has(name) && name !== 'hydrate') continue;
    seen.add(name);
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
  const request: PageRequest = { url, headers: req.headers, signal: req.signal, end: req.end, requestId, started: req.started };
  const respond = (page: PageResult): CoreResponse => {
    if (page.type === 'redirect') {
      return { status: page.status, headers: new Headers({ location: page.location, ...cors }), body: { kind: 'none' }, requestId };
    }
    const headers = page.headers;
    headers.set('x-request-id', requestId);
    for (const [k, v] of Object.entries(cors)) {
      const prior = k === 'vary' ? headers.get('vary') : null;
      headers.set(k, prior ? `${prior}, ${v}` : v);
    }
    const modulePath = engine.moduleUrl?.(tag);
    if (modulePath !== undefined) {
      const moduleUrl = absolute(modulePath, engine.site.config.publicOrigin);
      const links = [`<${moduleUrl}>; rel="modulepreload"`, `<${moduleUrl}>; rel="fragment-script"`];
      const prior = headers.get('link');
      headers.set('link', prior ? `${prior}, ${links.join(', ')}` : links.join(', '));
    }
    return { status: page.status, headers, body: { kind: 'html', result: page.body }, requestId };
  };
  const start = renderPage(engine, request, layout);
  return start.result instanceof Promise ? start.result.then(respond) : respond(start.result);
}
