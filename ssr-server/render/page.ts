/**
 * Renders one page for one request: routes it (`routing.ts`), starts the
 * work of every matched element at once (`element-work.ts`), waits only for
 * `primary` elements and — up to a short deadline — the response heads of
 * remote elements, then decides the status and headers (`page-head.ts`) and
 * returns the body as a thunked render result (the one internal form of
 * output; see `chunks.ts`). Nothing here knows about HTTP servers, streams
 * or HTTP clients: the remote fetcher comes in through the environment.
 */
import { encodeLocation } from '../header-values.ts';
import { layoutFor } from '../site/load.ts';
import type { Output } from './chunks.ts';
import { DEFAULT_REMOTE_HEAD_DEADLINE_MS, type PageEnvironment, type PageRequest } from './context.ts';
import { pageNavigation, RELOAD } from './navigation.ts';
import { decideHead, headElements, reloadAnswer, type PageResult } from './page-head.ts';
import { PageRun } from './routing.ts';

export {
  DEFAULT_TIMEOUT_MS,
  DEFAULT_REMOTE_HEAD_DEADLINE_MS,
  FALLBACK_ATTRIBUTE,
  type FailurePhase,
  type PageEnvironment,
  type PageRequest,
} from './context.ts';
export { ElementWork, type Outcome } from './element-work.ts';
export type { PageResult } from './page-head.ts';
export { PageRun } from './routing.ts';

/** The first part of a page render: what is known before any waiting. */
export interface PageStart {
  /** `Link` values for 103 Early Hints. */
  earlyHints: readonly string[];
  /** The page, or a Promise of it when a primary element (or a remote's head) is still coming. */
  result: PageResult | Promise<PageResult>;
}

/**
 * Routes a request and starts its page. Element work starts here, all at
 * once. `layout` overrides the site's choice (the fragment endpoint renders a
 * one-element layout). Throws (or the result rejects) only on an internal
 * error; the caller's error boundary answers 500 then, and the elements'
 * work is aborted.
 */
export function renderPage(env: PageEnvironment, request: PageRequest, layout = layoutFor(env.site, request.url.pathname)): PageStart {
  if (request.started === undefined) request.started = performance.now();
  // Client navigation (navigation.ts): a navigation from another layout (or build) is answered at once, with nothing rendered.
  const nav = pageNavigation(env.site, env.build, request.headers, layout);
  if (nav === RELOAD) return { earlyHints: [], result: reloadAnswer(request) };
  if (nav !== undefined) request.layoutId = nav.layoutId;
  const run = new PageRun(env, request, layout, nav);
  const body: Output = [];
  try {
    run.expand(layout.ops, {}, body);
    if (run.redirect !== undefined) {
      const { status, location } = run.redirect;
      return { earlyHints: [], result: { type: 'redirect', status, location: encodeLocation(location) ?? '/', headers: new Headers() } };
    }
    for (const el of run.elements) el.start();
  } catch (err) {
    run.close(err);
    throw err;
  }
  const onEnd = (reason: unknown): void => run.close(reason);
  if (request.end !== undefined) request.end.onEnd(onEnd);
  else if (request.signal !== undefined) {
    const signal = request.signal;
    signal.addEventListener('abort', () => onEnd(signal.reason), { once: true });
  }

  let earlyHints: readonly string[] = [];
  try {
    // Not for a navigation: browsers act on Early Hints only for document loads, not for the router's fetch.
    if (nav?.keep === undefined) earlyHints = env.preloads?.(run.elements) ?? [];
  } catch {
    earlyHints = [];
  }

  const waits: Array<Promise<unknown>> = [];
  // Primary elements render before the head; so do the microfrontends they are nested in, first (their
  // server instances are where a primary's events go during SSR): the head waits for those too.
  for (const e of headElements(run.elements)) if (e.settled !== undefined && e.outcome === undefined) waits.push(e.settled);
  const remoteHeads = run.elements.filter((e) => !e.op.primary && !e.headersKnown && e.headersReady !== undefined).map((e) => e.headersReady!);
  let deadline: ReturnType<typeof setTimeout> | undefined;
  if (remoteHeads.length > 0) {
    const ms = env.site.config.remoteHeadDeadline ?? DEFAULT_REMOTE_HEAD_DEADLINE_MS;
    waits.push(Promise.race([Promise.all(remoteHeads), new Promise<void>((resolve) => (deadline = setTimeout(resolve, ms)))]));
  }
  const finish = (): PageResult => {
    clearTimeout(deadline);
    try {
      return decideHead(env, run, body);
    } catch (err) {
      run.close(err);
      throw err;
    }
  };
  return { earlyHints, result: waits.length === 0 ? finish() : Promise.all(waits).then(finish) };
}
