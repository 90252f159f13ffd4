/**
 * The page endpoint: every path that no other endpoint claims is a page of
 * the site's layouts. It hands the request to the renderer and turns its
 * result into a response (a redirect, or the streamed page).
 */
import { cspHeader, makeNonce } from './csp.ts';
import type { Endpoint } from './endpoint.ts';
import { renderPage, type PageRequest, type PageResult } from './render/page.ts';
import type { CoreResponse } from './wire.ts';

export const pageEndpoint: Endpoint = {
  name: 'page',
  methods: ['GET', 'HEAD'],
  match: () => true,
  respond(engine, req) {
    const { requestId } = req;
    // A strict CSP: a nonce per page for every inline script Atoll writes (see csp.ts).
    const csp = engine.site.config.csp;
    const nonce = csp === undefined ? undefined : makeNonce();
    const request: PageRequest = { url: req.url, headers: req.headers, signal: req.signal, end: req.end, requestId, started: req.started, nonce, ...req.page };
    const respond = (page: PageResult): CoreResponse => {
      if (page.type === 'redirect') {
        page.headers.set('location', page.location);
        return { status: page.status, headers: page.headers, body: { kind: 'none' }, requestId };
      }
      page.headers.set('x-request-id', requestId);
      if (csp !== undefined && nonce !== undefined) {
        const { name, value } = cspHeader(csp, nonce, engine.site);
        page.headers.set(name, value);
      }
      return { status: page.status, headers: page.headers, body: { kind: 'html', result: page.body }, requestId };
    };
    const start = renderPage(engine, request);
    if (start.earlyHints.length > 0) {
      try {
        req.onEarlyHints?.(start.earlyHints);
      } catch {
        // Early Hints are a hint: a transport that cannot send them loses nothing.
      }
    }
    return start.result instanceof Promise ? start.result.then(respond) : respond(start.result);
  },
};
