/**
 * The page's status and headers, decided once the primary elements (and the
 * remote elements' response heads, up to their deadline) are known: a
 * redirect or status thrown by a primary `data()`, a failed primary, the
 * `default` route's status, and the merge of the layout's and every
 * element's headers (SPEC 4). Every value that reaches the wire is checked
 * here or where it entered; junk is dropped and logged.
 */
import { checkHeaders, encodeLocation, HeaderList, isPageStatus, MAX_PAGE_ELEMENT_HEADER_BYTES, REDIRECT_STATUSES, type HeaderFields } from '../header-values.ts';
import type { Site } from '../site/load.ts';
import type { Output } from './chunks.ts';
import type { PageEnvironment, PageRequest } from './context.ts';
import { KEEP_HEADER, NAV_HEADER, NAV_RELOAD } from '../../islands/protocol.ts';
import type { ElementWork } from './element-work.ts';
import { mergeLists, type HeaderPart, type ListPart } from './headers.ts';
import type { PageRun } from './routing.ts';

/**
 * The outcome of a page request before its body. `headers` is plain data
 * (a `HeaderList`) from the engine: the transport turns it into its own
 * form at the edge.
 */
export type PageResult =
  | { type: 'redirect'; status: number; location: string; headers: HeaderFields }
  | { type: 'page'; status: number; headers: HeaderFields; body: Output; elements: readonly ElementWork[] };

/** The `Cache-Control` a part gets when its headers are unknown and not declared. */
export const UNKNOWN_HEADERS_CACHE_CONTROL = 'private, no-store';

/** Headers only the transport may set. */
const FRAMING = ['connection', 'content-length', 'content-encoding', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

const round = (ms: number): number => Math.round(ms * 100) / 100;

/**
 * The layout's own headers (config `headers`), checked once per site. The
 * list is shared by every request: a part of the merge, never changed (the
 * page gets a copy when it is all there is).
 */
const layoutHeadersBySite = new WeakMap<Site, HeaderList>();
function layoutHeaders(env: PageEnvironment): HeaderList {
  let h = layoutHeadersBySite.get(env.site);
  if (h === undefined) {
    const checked = checkHeaders(env.site.config.headers ?? {});
    for (const issue of checked.issues) env.logger.error({ header: issue.name }, `config headers: ${issue.reason}; dropped`);
    h = checked.headers;
    h.set('content-type', 'text/html; charset=utf-8');
    layoutHeadersBySite.set(env.site, h);
  }
  return h;
}

/** The part of an element whose headers are unknown: its declared `Cache-Control`, or {@link UNKNOWN_HEADERS_CACHE_CONTROL}; one shared list per value. */
const unknownParts = new Map<string, HeaderList>();
function unknownHeaders(cacheControl: string): HeaderList {
  let h = unknownParts.get(cacheControl);
  if (h === undefined) {
    h = new HeaderList(['cache-control'], [cacheControl]);
    // Declared values come from config (checked, few); the table cannot grow per request.
    if (unknownParts.size < 1024) unknownParts.set(cacheControl, h);
  }
  return h;
}

/** The parts as an operator's `mergeHeaders` gets them: `Headers`, made only when there is such a merge. */
function asHeaderParts(parts: readonly ListPart[]): HeaderPart[] {
  return parts.map((p) => ({ source: p.source, primary: p.primary, headers: p.headers.toHeaders() }));
}

/**
 * The elements that render before the head is written, in the order they
 * must render: every primary element, and before it the server-rendered
 * module elements it is nested in (outermost first), so that events a
 * primary dispatches during SSR reach their instances as in a Lit template.
 */
export function headElements(elements: readonly ElementWork[]): ElementWork[] {
  const chosen = new Set<ElementWork>();
  for (const e of elements) {
    if (!e.op.primary) continue;
    for (const a of e.eventAncestors()) chosen.add(a);
    chosen.add(e);
  }
  return [...chosen].sort((a, b) => a.depth - b.depth);
}

/** Decides status and headers once the primary elements are ready. */
export function decideHead(env: PageEnvironment, run: PageRun, body: Output): PageResult {
  const log = (level: 'warn' | 'error', fields: Record<string, unknown>, message: string): void => {
    try {
      env.logger[level]({ requestId: run.request.requestId, ...fields }, message);
    } catch {
      // a broken logger does not decide the response
    }
  };
  const primaries = run.elements.filter((e) => e.op.primary);
  let status = run.status !== undefined && isPageStatus(run.status) ? run.status : 200;
  if (run.layout.hasRoutes && !run.matchedAnyRoute) status = 404;

  // 1. A redirect thrown by a primary answers before anything renders.
  let badSignal = false;
  for (const p of primaries) {
    const o = p.outcome;
    if (o?.kind !== 'status' || o.signal.location === undefined) continue;
    const location = encodeLocation(o.signal.location);
    if (location === undefined) {
      log('error', { element: p.op.tag }, 'redirect() to a location that cannot be sent (control characters, or too long); the page answered 500');
      badSignal = true;
      continue;
    }
    let redirectStatus = o.signal.status;
    if (!REDIRECT_STATUSES.has(redirectStatus)) {
      log('warn', { element: p.op.tag, status: String(redirectStatus) }, 'redirect() with a status that is not a redirect status; 302 was sent');
      redirectStatus = 302;
    }
    run.close(new Error('redirected'));
    return { type: 'redirect', status: redirectStatus, location, headers: new HeaderList() };
  }

  // 2. Primaries render now, so a render failure still decides the status; the
  //    elements they are nested in render first, outermost first (see headElements).
  for (const p of headElements(run.elements)) p.prepare();

  // 3. A failed primary decides the status, unless another primary threw a status.
  const failed = primaries.find((p) => p.outcome?.kind === 'failed');
  if (failed?.outcome?.kind === 'failed') {
    const phase = failed.outcome.phase;
    status = phase === 'timeout' ? 504 : phase === 'fetch' ? 502 : 500;
  }
  for (const p of primaries) {
    const o = p.outcome;
    if (o?.kind !== 'status' || o.signal.location !== undefined) continue;
    if (isPageStatus(o.signal.status)) status = o.signal.status;
    else {
      log('error', { element: p.op.tag, status: String(o.signal.status) }, 'httpStatus() with a status a page cannot have (use 200, 203, 4xx or 5xx); the page answered 500');
      badSignal = true;
    }
  }
  if (badSignal) status = 500;

  const layout = layoutHeaders(env);
  const parts: ListPart[] = [{ source: 'layout', primary: false, headers: layout }];
  let cap: number | undefined;
  for (const el of run.elements) {
    if (!el.headersKnown) {
      const declared = env.site.config.elements?.[el.op.tag]?.cacheControl;
      parts.push({ source: el.op.tag, primary: el.op.primary, headers: unknownHeaders(declared ?? UNKNOWN_HEADERS_CACHE_CONTROL) });
      if (declared === undefined) {
        log('warn', { element: el.op.tag }, `the remote's response headers were not known by the head deadline; the page is sent with Cache-Control: ${UNKNOWN_HEADERS_CACHE_CONTROL}`);
      }
    } else if (el.headers !== undefined && !(el.def.kind === 'remote' && el.fellBack)) {
      parts.push({ source: el.op.tag, primary: el.op.primary, headers: el.headers });
    }
    if (el.cacheLifetime > 0) {
      const left = el.cacheRemaining ?? el.cacheLifetime;
      cap = cap === undefined ? left : Math.min(cap, left);
    }
  }
  withinBudget(parts, log);
  let headers: HeaderList;
  if (env.mergeHeaders !== undefined) {
    let merged: unknown;
    try {
      merged = env.mergeHeaders(asHeaderParts(parts));
    } catch (err) {
      log('error', { message: String((err as Error)?.message ?? err).slice(0, 200) }, 'the operator\'s mergeHeaders threw; the default merge was used');
      merged = mergeLists(parts, cap === undefined ? undefined : cap / 1000);
    }
    const checked = checkHeaders(merged, { maxCount: 256, maxBytes: 128 * 1024 });
    if (checked.issues.length > 0) {
      log('warn', { dropped: checked.issues.slice(0, 8).map((i) => `${i.name}: ${i.reason}`) }, 'invalid headers from mergeHeaders were dropped');
    }
    headers = checked.headers;
    // The transport frames the body: framing headers from the operator's merge would cut or corrupt it.
    for (const name of FRAMING) headers.delete(name);
  } else {
    headers = parts.length === 1 && cap === undefined ? layout.clone() : mergeLists(parts, cap === undefined ? undefined : cap / 1000);
  }
  if (!headers.has('content-type')) headers.set('content-type', 'text/html; charset=utf-8');

  const timing: string[] = [];
  for (const el of run.elements) {
    const desc = `desc="${el.op.tag}"`;
    if (el.work !== undefined) timing.push(`${el.work.phase};${desc};dur=${round(el.work.ms)}`);
    if (el.renderMs !== undefined) timing.push(`render;${desc};dur=${round(el.renderMs)}`);
  }
  // A navigation answer says how many instances the browser kept (their work never started).
  if (run.nav?.keep !== undefined) timing.push(`kept;desc="${run.kept}"`);
  if (run.request.started !== undefined) timing.push(`total;dur=${round(performance.now() - run.request.started)}`);
  const prior = headers.get('server-timing');
  if (prior) timing.unshift(prior);
  headers.set('server-timing', timing.length > 0 ? timing.join(', ') : 'total;dur=0');
  if (run.nav?.keep !== undefined) navigationHeaders(headers, run.nav.layoutId);
  // A full page a cache may store varies on the navigation header: else the browser's
  // HTTP cache hands the stored document to the router's fetch (no layout id: a document load).
  else if (run.nav !== undefined && !/no-store/i.test(headers.get('cache-control') ?? '')) addVary(headers, [NAV_HEADER]);
  return { type: 'page', status, headers, body, elements: run.elements };
}

/**
 * The headers of every answer to a client navigation (SPEC 9b): the new
 * page's layout id (or {@link NAV_RELOAD}), `Vary` on the two navigation
 * headers (merged with what the page varies on), and `private, no-store`
 * whatever the elements said — an answer with holes where the browser's
 * instances go must never be stored by a shared cache, nor given to a
 * document load.
 */
export function navigationHeaders(headers: HeaderList, layoutId: string): void {
  headers.set(NAV_HEADER, layoutId);
  headers.set('cache-control', UNKNOWN_HEADERS_CACHE_CONTROL);
  addVary(headers, [NAV_HEADER, KEEP_HEADER]);
}

/** Adds `names` to the `Vary` header (kept as it is when it is `*` or has them already). */
function addVary(headers: HeaderList, names: readonly string[]): void {
  const vary = headers.get('vary');
  if (vary === null || vary.trim() === '') headers.set('vary', names.join(', '));
  else if (!/(^|,)\s*\*\s*(,|$)/.test(vary)) {
    const have = new Set(vary.toLowerCase().split(',').map((t) => t.trim()));
    const add = names.filter((n) => !have.has(n));
    if (add.length > 0) headers.set('vary', `${vary}, ${add.join(', ')}`);
  }
}

/**
 * The answer to a navigation from another layout, or from another build of
 * this one: 200 with an empty body and {@link NAV_RELOAD}, which makes the
 * router load the URL as a document. Nothing is rendered, no element's
 * work starts.
 */
export function reloadAnswer(request: PageRequest): PageResult {
  const headers = new HeaderList(['content-type'], ['text/html; charset=utf-8']);
  navigationHeaders(headers, NAV_RELOAD);
  const total = request.started === undefined ? 0 : round(performance.now() - request.started);
  headers.set('server-timing', `total;dur=${total}`);
  return { type: 'page', status: 200, headers, body: [], elements: [] };
}

/**
 * Keeps the elements' headers within {@link MAX_PAGE_ELEMENT_HEADER_BYTES}
 * in all, primary elements first, then in document order: a part that does
 * not fit keeps only its `Cache-Control` and `Vary` (so the page's caching
 * stays as safe as it would have been), and the cut is logged.
 */
function withinBudget(parts: ListPart[], log: (level: 'warn', fields: Record<string, unknown>, message: string) => void): void {
  const order = [...parts.filter((p) => p.primary), ...parts.filter((p) => !p.primary && p.source !== 'layout')];
  let left = MAX_PAGE_ELEMENT_HEADER_BYTES;
  for (const part of order) {
    const size = part.headers.bytes();
    if (size <= left) {
      left -= size;
      continue;
    }
    const kept = new HeaderList();
    for (const name of ['cache-control', 'vary']) {
      const v = part.headers.get(name);
      if (v !== null && v.length <= 256) kept.set(name, v);
    }
    left = Math.max(0, left - kept.bytes());
    log('warn', { element: part.source, bytes: size }, `the page's element headers would pass ${MAX_PAGE_ELEMENT_HEADER_BYTES} bytes; this element's were dropped but for Cache-Control and Vary`);
    part.headers = kept;
  }
}
