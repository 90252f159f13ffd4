/**
 * The transport-free request handler: from a method, a URL and headers to a
 * status, headers and a body in the internal output form. The Node and Web
 * adapters (`adapters/`) are thin translations of this.
 */
import { errorFields } from './log.ts';
import { renderPage, type PageEnvironment, type PageRequest, type PageResult } from './render/page.ts';
import type { AssetStore } from './assets/store.ts';
import { ASSET_PATH } from './build/manifest.ts';
import { respondEmbed } from './embed/index.ts';
import { FRAGMENT_PATH, respondFragment } from './fragment.ts';
import { textResponse } from './responses.ts';
import type { CoreRequest, CoreResponse } from './wire.ts';

export type { CoreBody, CoreRequest, CoreResponse } from './wire.ts';

/** Longest request target accepted (path and query). */
export const MAX_URL_LENGTH = 8 * 1024;

/** What the handler works with. */
export interface Engine extends PageEnvironment {
  /** The built client files, served at `/_atoll/assets/` (none: not built). */
  assets?: AssetStore;
  /** Compress HTML for clients that accept br or gzip (default true; Node adapter). */
  compress?: boolean;
  /** The URL of an element's client module, when there is a build. */
  moduleUrl?: (tag: string) => string | undefined;
}

let counter = 0;
const prefix = Math.random().toString(36).slice(2, 8);
const requestIdRe = /^[\w.:-]{1,64}$/;

/** A request id: the client's `x-request-id` when it is sane, else a new one. */
export function requestIdFor(headers: Headers): string {
  const given = headers.get('x-request-id');
  return given !== null && requestIdRe.test(given) ? given : `${prefix}-${(++counter).toString(36)}`;
}


/**
 * Handles one request. Synchronous unless a primary element is still working.
 * Never throws or rejects: internal errors become a 500.
 */
export function handle(engine: Engine, req: CoreRequest): CoreResponse | Promise<CoreResponse> {
  const requestId = requestIdFor(req.headers);
  if (req.target.length > MAX_URL_LENGTH) return textResponse(414, 'URI Too Long\n', requestId);
  const isFragment = req.target.startsWith(FRAGMENT_PATH);
  if (req.method !== 'GET' && req.method !== 'HEAD' && !(isFragment && req.method === 'OPTIONS')) {
    return textResponse(405, 'Method Not Allowed\n', requestId, { allow: isFragment ? 'GET, HEAD, OPTIONS' : 'GET, HEAD' });
  }
  let url: URL;
  try {
    url = new URL(req.target, 'http://atoll.invalid');
    if (!req.target.startsWith('/')) throw new Error('not a path');
  } catch {
    return textResponse(400, 'Bad Request\n', requestId);
  }
  if (isFragment) {
    try {
      return respondFragment(engine, req, url, requestId);
    } catch (e) {
      engine.logger.error({ requestId, url: url.pathname, ...errorFields(e) }, 'fragment request failed');
      return textResponse(500, 'Internal Server Error\n', requestId);
    }
  }
  if (url.pathname.startsWith(ASSET_PATH)) {
    const name = url.pathname.slice(ASSET_PATH.length);
    return engine.assets?.respond(name, req.headers, requestId) ?? textResponse(404, 'Not Found\n', requestId);
  }
  const embedded = respondEmbed(engine, url.pathname, req, requestId);
  if (embedded !== undefined) return embedded;
  const request: PageRequest = { url, headers: req.headers, signal: req.signal, requestId };
  const failed = (e: unknown): CoreResponse => {
    engine.logger.error({ requestId, url: url.pathname, ...errorFields(e) }, 'request failed');
    return textResponse(500, 'Internal Server Error\n', requestId);
  };
  const respond = (page: PageResult): CoreResponse => {
    if (page.type === 'redirect') {
      page.headers.set('location', page.location);
      return { status: page.status, headers: page.headers, body: { kind: 'none' }, requestId };
    }
    page.headers.set('x-request-id', requestId);
    return { status: page.status, headers: page.headers, body: { kind: 'html', result: page.body }, requestId };
  };
  try {
    const start = renderPage(engine, request);
    if (start.earlyHints.length > 0) req.onEarlyHints?.(start.earlyHints);
    const result = start.result;
    return result instanceof Promise ? result.then(respond, failed) : respond(result);
  } catch (e) {
    return failed(e);
  }
}
