/**
 * The request pipeline, free of any transport: from a method, a URL and
 * headers to a status, headers and a body in the internal output form. The
 * Node and Web adapters (`adapters/`) are thin translations of this.
 *
 * One dispatcher walks a table of endpoints (assets, embed, fragment, page —
 * the page endpoint takes every path the others do not) and is the one
 * error boundary for all of them, sync and async: whatever an endpoint, a
 * hook or a value throws or rejects with becomes a clean 500 here, and every
 * response leaves with a status and headers that the wire accepts.
 */
import { ASSET_PATH } from './build/manifest.ts';
import { embedEndpoint } from './embed/index.ts';
import type { Endpoint, EndpointRequest } from './endpoint.ts';
import type { Engine } from './engine.ts';
import { fragmentEndpoint } from './fragment.ts';
import { purgeEndpoint } from './cache/purge-endpoint.ts';
import { isHeaderValue } from './header-values.ts';
import { errorFields } from './log.ts';
import { pageEndpoint } from './page-endpoint.ts';
import { textResponse } from './responses.ts';
import type { CoreRequest, CoreResponse, RequestHeaders } from './wire.ts';

export type { CoreBody, CoreRequest, CoreResponse } from './wire.ts';
export type { Engine } from './engine.ts';

/** Longest request target accepted (path and query). */
export const MAX_URL_LENGTH = 8 * 1024;

const assetsEndpoint: Endpoint = {
  name: 'assets',
  methods: ['GET', 'HEAD'],
  match: (pathname) => pathname.startsWith(ASSET_PATH),
  respond: (engine, req) =>
    engine.assets?.respond(req.url.pathname.slice(ASSET_PATH.length), req.headers, req.requestId) ?? textResponse(404, 'Not Found\n', req.requestId),
};

/** A file of the site's `public/` folder: it wins over a page route of the same path (never over `/_atoll/`). */
const publicEndpoint: Endpoint = {
  name: 'public',
  methods: ['GET', 'HEAD'],
  match: (pathname, engine) => engine.publicFiles?.has(pathname) === true,
  respond: (engine, req) => engine.publicFiles!.respond(req.method, req.url.pathname, req.headers, req.requestId),
};

/** The dispatcher's table, tried in order; the page endpoint matches every path. */
export const ENDPOINTS: readonly Endpoint[] = [assetsEndpoint, embedEndpoint, fragmentEndpoint, purgeEndpoint, publicEndpoint, pageEndpoint];

let counter = 0;
const prefix = Math.random().toString(36).slice(2, 8);
const requestIdRe = /^[\w.:-]{1,64}$/;

/** A request id: the client's `x-request-id` when it is sane, else a new one. */
export function requestIdFor(headers: RequestHeaders): string {
  const given = headers.get('x-request-id');
  return given !== null && requestIdRe.test(given) ? given : `${prefix}-${(++counter).toString(36)}`;
}

/**
 * Handles one request. Synchronous unless something on the page is still
 * working. Never throws or rejects: internal errors become a 500.
 */
export function handle(engine: Engine, req: CoreRequest): CoreResponse | Promise<CoreResponse> {
  const started = performance.now();
  let requestId = 'unknown';
  let path = '';
  const failed = (e: unknown): CoreResponse => {
    try {
      engine.logger.error({ requestId, url: path, ...errorFields(e) }, 'request failed');
    } catch {
      // a logger that throws cannot stop the answer
    }
    return textResponse(500, 'Internal Server Error\n', requestId, { 'cache-control': 'no-store' });
  };
  try {
    requestId = requestIdFor(req.headers);
    if (req.target.length > MAX_URL_LENGTH) return textResponse(414, 'URI Too Long\n', requestId);
    let url: URL;
    try {
      if (!req.target.startsWith('/')) throw new Error('not a path');
      // Appended, not resolved: `//x/y` is the path `//x/y`, not another host.
      url = new URL(`http://atoll.invalid${req.target}`);
      if (url.host !== 'atoll.invalid') throw new Error('not a path');
    } catch {
      return textResponse(400, 'Bad Request\n', requestId);
    }
    path = url.pathname;
    const endpoint = ENDPOINTS.find((e) => e.match(url.pathname, engine))!;
    if (!endpoint.methods.includes(req.method)) {
      return textResponse(405, 'Method Not Allowed\n', requestId, { allow: endpoint.methods.join(', ') });
    }
    const request: EndpointRequest = { ...req, url, requestId, started };
    const response = endpoint.respond(engine, request);
    if (response instanceof Promise) return response.then((r) => wireSafe(engine, r), failed).then(undefined, failed);
    return wireSafe(engine, response);
  } catch (e) {
    return failed(e);
  }
}

/**
 * The last check before a response reaches an adapter: a status the wire
 * accepts and no header value Node's `writeHead` would throw on. Values are
 * checked where they enter, so this finds nothing unless an endpoint has a
 * bug; it then drops the value and logs it rather than crash the writer.
 */
function wireSafe(engine: Engine, response: CoreResponse): CoreResponse {
  const { status } = response;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    engine.logger.error({ requestId: response.requestId, status: String(status) }, 'a response had an invalid status; 500 was sent');
    return textResponse(500, 'Internal Server Error\n', response.requestId, { 'cache-control': 'no-store' });
  }
  let bad: string[] | undefined;
  response.headers.forEach((value, name) => {
    if (!isHeaderValue(value)) (bad ??= []).push(name);
  });
  for (const cookie of response.headers.getSetCookie()) if (!isHeaderValue(cookie)) (bad ??= []).push('set-cookie');
  if (bad !== undefined) {
    engine.logger.error({ requestId: response.requestId, headers: bad }, 'invalid header values were dropped from a response');
    for (const name of new Set(bad)) {
      if (name === 'set-cookie') {
        const keep = response.headers.getSetCookie().filter(isHeaderValue);
        response.headers.delete('set-cookie');
        for (const c of keep) response.headers.append('set-cookie', c);
      } else response.headers.delete(name);
    }
  }
  return response;
}
