/**
 * Renders one page for one request: matches routes and redirects, starts the
 * work of every matched element at once, waits only for `primary` elements
 * before deciding the status and headers, and returns the body as a thunked
 * render result (the one internal form of output; see `chunks.ts`). Nothing
 * here knows about HTTP servers or streams.
 */
import type { ElementContext } from '../hooks.ts';
import { escapeAttr, jsonForScript } from '../html.ts';
import { fillInterpolation } from '../layout/attributes.ts';
import type { CompiledLayout, ElementOp, Op, RouteOp } from '../layout/ops.ts';
import { errorFields, type Logger } from '../log.ts';
import { HttpSignal, httpStatus } from '../signals.ts';
import { DEFAULT_MAX_REMOTE_BYTES, fetchRemote, fragmentUrl } from '../remote/client.ts';
import { checkFragment } from '../remote/validate.ts';
import type { ElementDefinition } from '../site/registry.ts';
import { layoutFor, type Site } from '../site/load.ts';
import { cacheKey, type CacheEntry, type RenderCacheStore } from './cache.ts';
import type { Piece, Output } from './chunks.ts';
import { plainOpenTag, renderHost } from './element.ts';
import { mergeHeaders, type HeaderPart, type MergeHeaders } from './headers.ts';

/** Default element timeout when neither the tag, the registry nor the config sets one. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** A request as the core sees it: no sockets, no streams. */
export interface PageRequest {
  url: URL;
  /** The request's headers. */
  headers: Headers;
  /** Fires when the client goes away. */
  signal: AbortSignal;
  /** Identifies the request in log lines. */
  requestId: string;
  /** This request's CSP nonce, when the site has a `csp` config (for every inline `<script>` and `<style>`). */
  nonce?: string;
}

/** The outcome of routing a request. */
export type PageResult =
  | { type: 'redirect'; status: number; location: string; headers: Headers }
  | { type: 'page'; status: number; headers: Headers; body: Output; elements: readonly ElementWork[] };

/** What the page renderer needs from its surroundings. */
export interface PageEnvironment {
  site: Site;
  logger: Logger;
  /** Markup for `<atoll-head>`, given the elements on the page. */
  head?: (elements: readonly ElementWork[], request: PageRequest) => string;
  /** `Link` values for 103 Early Hints (modulepreloads of the page's islands). */
  preloads?: (elements: readonly ElementWork[]) => readonly string[];
  /** The render cache (none: no caching). */
  cache?: RenderCacheStore;
  /** The operator's replacement for the default header merge. */
  mergeHeaders?: MergeHeaders;
}

/** Why an element was replaced by its fallback. */
export type FailurePhase = 'data' | 'fetch' | 'render' | 'timeout' | 'status';

/** Marks an element that the server could not render; the browser renders it. */
export const FALLBACK_ATTRIBUTE = 'atoll-fallback';

const now = (): number => performance.now();
const round = (ms: number): number => Math.round(ms * 100) / 100;

/** One microfrontend instance on one request: its work and its output. */
export class ElementWork {
  /** Properties from `data()`, once known. */
  data: Record<string, unknown> | undefined;
  /** Set when the element fell back to its layout children. */
  failure: FailurePhase | undefined;
  /** What a `data()` hook threw to decide the response (primary elements). */
  signal: HttpSignal | undefined;
  /** This instance's headers from its `headers()` hook. */
  headers: Headers | undefined;
  /** Milliseconds spent in `data()` (or fetching a remote element), once it settled. */
  dataMs: number | undefined;
  /** What `dataMs` measured. */
  workPhase: 'data' | 'fetch' = 'data';
  /** A remote element's checked markup, without its end tag. */
  private remoteHead: string | undefined;
  /** Milliseconds spent rendering the host, once rendered. */
  renderMs: number | undefined;
  /** Settles when `data()` has settled (undefined when there is none). */
  pending: Promise<void> | undefined;
  /** Milliseconds this rendering may be reused (0: not cached). */
  cacheLifetime = 0;
  /** Set when the host came from the render cache: ms it has left. */
  cacheRemaining: number | undefined;
  private prepared: Piece | (() => Promise<Piece>) | undefined;
  private controller: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ctx: ElementContext | undefined;

  constructor(
    readonly op: ElementOp,
    readonly def: ElementDefinition,
    readonly attributes: ReadonlyArray<readonly [string, string]>,
    readonly params: Readonly<Record<string, string>>,
    readonly children: Output,
    private readonly page: PageRun,
  ) {
    if (page.env.cache !== undefined && op.ssr && def.kind === 'module') this.cacheLifetime = op.cache ?? def.cache ?? 0;
  }

  /** The element's timeout in ms. */
  get timeout(): number {
    return this.op.timeout ?? this.def.timeout ?? this.page.env.site.config.timeout ?? DEFAULT_TIMEOUT_MS;
  }

  private context(): ElementContext {
    if (this.ctx !== undefined) return this.ctx;
    const controller = new AbortController();
    this.controller = controller;
    const request = this.page.request;
    return (this.ctx = {
      url: request.url,
      params: this.params,
      query: request.url.searchParams,
      headers: this.page.allowedHeaders(),
      attributes: Object.fromEntries(this.attributes),
      signal: controller.signal,
    });
  }

  /** Starts the element's work: `data()` (or the fetch of a remote element), and `headers()` when it needs no data. */
  start(): void {
    if (!this.op.ssr) return;
    if (this.def.kind === 'remote') {
      this.track('fetch', (ctx) => this.fetchRemote(ctx));
      return;
    }
    const { data: dataHook, headers: headersHook } = this.def.hooks;
    // headers() runs at once, except for a primary element with data: it gets the data.
    if (headersHook !== undefined && (dataHook === undefined || !this.op.primary)) this.callHeaders(undefined);
    if (dataHook === undefined) return;
    this.track('data', async (ctx) => {
      const data: unknown = await dataHook(ctx);
      if (data instanceof HttpSignal) throw data;
      this.data = (data ?? undefined) as Record<string, unknown> | undefined;
    });
  }

  /**
   * Runs the element's async work, raced against its timeout and the
   * client's disconnect (both fire `ctx.signal`); `pending` settles when it
   * is over, whatever the outcome.
   */
  private track(phase: 'data' | 'fetch', work: (ctx: ElementContext) => Promise<void>): void {
    const ctx = this.context();
    const controller = this.controller!;
    const started = now();
    this.workPhase = phase;
    const timedOut = new Promise<never>((_, reject) => {
      this.timer = setTimeout(() => {
        const err = new Error(`<${this.op.tag}> timed out after ${this.timeout} ms`);
        err.name = 'TimeoutError';
        controller.abort(err);
        reject(err);
      }, this.timeout);
    });
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    const running = Promise.resolve().then(() => work(ctx));
    this.pending = Promise.race([running, timedOut, aborted])
      .catch((err: unknown) => {
        if (err instanceof HttpSignal) {
          this.signal = err;
          this.failure = 'status';
          return;
        }
        const timeout = err instanceof Error && err.name === 'TimeoutError';
        this.fail(timeout ? 'timeout' : phase, err);
      })
      .finally(() => {
        this.dataMs = now() - started;
        clearTimeout(this.timer);
        if (phase === 'data' && this.op.primary && this.def.hooks.headers !== undefined) this.callHeaders(this.data);
      });
    // The losers of the race must not become unhandled rejections.
    running.catch(() => {});
    timedOut.catch(() => {});
    aborted.catch(() => {});
  }

  /** Fetches a remote element's markup and checks it (SPEC 6). */
  private async fetchRemote(ctx: ElementContext): Promise<void> {
    const headers: Record<string, string> = { 'x-request-id': this.page.request.requestId };
    ctx.headers.forEach((v, k) => {
      headers[k] = v;
    });
    let res;
    try {
      res = await fetchRemote(fragmentUrl(this.def.url!, this.attributes), {
        headers,
        signal: ctx.signal,
        maxBytes: this.page.env.site.config.maxRemoteBytes ?? DEFAULT_MAX_REMOTE_BYTES,
      });
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      if (this.op.primary && (status === 404 || status === 410)) throw httpStatus(status, `the remote <${this.op.tag}> answered ${status}`);
      throw err;
    }
    const checked = checkFragment(this.op.tag, res.body);
    if (!checked.ok) throw new Error(`the remote <${this.op.tag}> sent unusable markup: ${checked.reason}`);
    this.remoteHead = checked.head;
    this.headers = res.headers;
  }

  private callHeaders(data: Record<string, unknown> | undefined): void {
    try {
      const h = this.def.hooks.headers!(this.context(), data);
      if (h !== undefined) this.headers = new Headers(h);
    } catch (err) {
      this.page.env.logger.error(
        { requestId: this.page.request.requestId, element: this.op.tag, phase: 'headers', ...errorFields(err) },
        'element headers() threw; its headers were ignored',
      );
    }
  }

  /** Aborts pending work (client gone, or the page is answered otherwise). */
  abort(reason: unknown): void {
    clearTimeout(this.timer);
    this.controller?.abort(reason);
  }

  /** Renders the host now (primary elements, before the head is written). */
  prepare(): void {
    this.prepared = this.host();
  }

  /** The element's output, in the page's internal form. */
  render(): Output {
    const tail = this.children.concat(`</${this.op.tag}>`);
    if (this.prepared !== undefined) return [this.prepared, ...tail];
    if (this.pending !== undefined) {
      const pending = this.pending;
      return [() => pending.then(() => [this.host(), ...tail])];
    }
    return [this.host(), ...tail];
  }

  private host(): Piece | (() => Promise<Piece>) {
    if (this.failure !== undefined) return this.fallbackOpen();
    if (!this.op.ssr) return plainOpenTag(this.op.tag, this.attributes);
    if (this.def.kind === 'remote') return this.remoteHead ?? this.fallbackOpen();
    const store = this.page.env.cache;
    if (this.cacheLifetime > 0 && store !== undefined) {
      const key = cacheKey(this.op.tag, this.attributes, this.data);
      const hit = store.get(key);
      if (hit === undefined) return this.fresh(key, store);
      if (!(hit instanceof Promise)) return this.fromCache(hit);
      const done = hit.then(
        (e) => (e !== undefined ? this.fromCache(e) : this.fresh(key, store)),
        () => this.fresh(key, store),
      ).then((r) => (typeof r === 'function' ? r() : r));
      return () => done;
    }
    return this.fresh(undefined, undefined);
  }

  private fromCache(entry: CacheEntry): Piece {
    this.cacheRemaining = Math.max(0, entry.expires - Date.now());
    return entry.bytes ?? entry.html;
  }

  private fresh(key: string | undefined, store: RenderCacheStore | undefined): string | (() => Promise<string>) {
    const started = now();
    const keep = (html: string): string => {
      this.renderMs = now() - started;
      if (key !== undefined && store !== undefined && this.cacheable()) {
        void Promise.resolve(store.set(key, { html, expires: Date.now() + this.cacheLifetime })).catch(() => {});
      }
      return html;
    };
    try {
      const host = renderHost(this.op.tag, this.attributes, this.data, this.page.env.site.renderers, true);
      if (typeof host === 'string') return keep(host + this.dataScript());
      const done = host.then(
        (h) => keep(h + this.dataScript()),
        (err: unknown) => {
          this.fail('render', err);
          return this.fallbackOpen();
        },
      );
      return () => done;
    } catch (err) {
      this.fail('render', err);
      return this.fallbackOpen();
    }
  }

  /** Per-user or uncacheable output never goes into the shared render cache. */
  private cacheable(): boolean {
    const cc = this.headers?.get('cache-control')?.toLowerCase() ?? '';
    return !/(^|,)\s*(no-store|private)\b/.test(cc) && !this.headers?.has('set-cookie');
  }

  private dataScript(): string {
    if (this.data === undefined) return '';
    return `<script type="application/json" data-atoll-props>${jsonForScript(this.data)}</script>`;
  }

  private fallbackOpen(): string {
    return plainOpenTag(this.op.tag, this.attributes, ` ${FALLBACK_ATTRIBUTE}="${escapeAttr(this.failure ?? 'render')}"`);
  }

  private fail(phase: FailurePhase, err: unknown): void {
    this.failure = phase;
    if (this.page.closed) return;
    this.page.env.logger.error(
      { requestId: this.page.request.requestId, element: this.op.tag, phase, url: this.page.request.url.pathname, ...errorFields(err) },
      'element failed; its fallback was rendered',
    );
  }
}

/** The state of one page render. */
export class PageRun {
  readonly elements: ElementWork[] = [];
  /** Route matches by route id: undefined = not computed, null = no match. */
  private readonly matches: Array<Record<string, string> | null | undefined>;
  redirect: { status: number; location: string } | undefined;
  status: number | undefined;
  matchedAnyRoute = false;
  /** True once the request ended or was answered otherwise: no more logging. */
  closed = false;
  private headers: Headers | undefined;

  constructor(
    readonly env: PageEnvironment,
    readonly request: PageRequest,
    readonly layout: CompiledLayout,
  ) {
    this.matches = new Array(layout.routeCount);
  }

  /** Request headers that elements may see. */
  allowedHeaders(): Headers {
    if (this.headers !== undefined) return this.headers;
    const allowed = this.env.site.config.requestHeaders ?? ['accept-language', 'user-agent'];
    const h = new Headers();
    for (const name of allowed) {
      const v = this.request.headers.get(name);
      if (v !== null) h.set(name, v);
    }
    return (this.headers = h);
  }

  private match(route: RouteOp): Record<string, string> | null {
    let m = this.matches[route.id];
    if (m === undefined) {
      m = route.pattern?.match(this.request.url.pathname) ?? null;
      this.matches[route.id] = m;
    }
    return m;
  }

  /** Expands ops for this request into output, collecting element work. */
  expand(ops: readonly Op[], params: Readonly<Record<string, string>>, out: Output): void {
    for (const op of ops) {
      switch (op.kind) {
        case 'text':
          out.push(op.bytes ?? op.html);
          break;
        case 'head':
          out.push(() => this.env.head?.(this.elements, this.request) ?? '');
          break;
        case 'element':
          this.expandElement(op, params, out);
          break;
        case 'route': {
          let routeParams: Readonly<Record<string, string>> | null;
          if (op.pattern !== undefined) {
            routeParams = this.match(op);
            if (routeParams !== null) this.matchedAnyRoute = true;
          } else {
            routeParams = op.siblings.some((s) => this.match(s) !== null) ? null : params;
            if (routeParams !== null) {
              this.matchedAnyRoute = true;
              if (op.status !== undefined && this.status === undefined) this.status = op.status;
            }
          }
          if (routeParams !== null) this.expand(op.children, routeParams, out);
          break;
        }
        case 'redirect':
          if (this.redirect === undefined && op.from.match(this.request.url.pathname) !== undefined) {
            this.redirect = { status: op.status, location: op.to };
          }
          break;
        default: {
          const impossible: never = op;
          throw new Error(`internal error: unknown layout operation ${JSON.stringify(impossible)}`);
        }
      }
    }
  }

  private expandElement(op: ElementOp, params: Readonly<Record<string, string>>, out: Output): void {
    const def = this.env.site.registry.get(op.tag)!;
    const query = this.request.url.searchParams;
    const attributes: Array<readonly [string, string]> = op.attrs.map((a) => [
      a.name,
      a.literal ?? fillInterpolation(a.parts, params, query),
    ]);
    const children: Output = [];
    this.expand(op.children, params, children);
    const work = new ElementWork(op, def, attributes, params, children, this);
    this.elements.push(work);
    out.push(() => work.render());
  }

  /** Ends all pending work (client gone, or a redirect answered the request). */
  close(reason: unknown): void {
    this.closed = true;
    for (const el of this.elements) el.abort(reason);
  }
}

/** The first part of a page render: what is known before any waiting. */
export interface PageStart {
  /** `Link` values for 103 Early Hints. */
  earlyHints: readonly string[];
  /** The page, or a Promise of it when a primary element is still working. */
  result: PageResult | Promise<PageResult>;
}

/**
 * Routes a request and starts its page. Element work starts here, all at
 * once. `layout` overrides the site's choice (the fragment endpoint renders a
 * one-element layout).
 */
export function renderPage(env: PageEnvironment, request: PageRequest, layout = layoutFor(env.site, request.url.pathname)): PageStart {
  const run = new PageRun(env, request, layout);
  const body: Output = [];
  run.expand(layout.ops, {}, body);
  if (run.redirect !== undefined) {
    const { status, location } = run.redirect;
    return { earlyHints: [], result: { type: 'redirect', status, location, headers: new Headers() } };
  }
  for (const el of run.elements) el.start();
  const onAbort = (): void => run.close(request.signal.reason);
  request.signal.addEventListener('abort', onAbort, { once: true });
  const earlyHints = env.preloads?.(run.elements) ?? [];
  const waits = run.elements.filter((e) => e.op.primary && e.pending !== undefined).map((e) => e.pending!);
  const finish = (): PageResult => head(env, run, body);
  return { earlyHints, result: waits.length === 0 ? finish() : Promise.all(waits).then(finish) };
}

/** Decides status and headers once the primary elements are ready. */
function head(env: PageEnvironment, run: PageRun, body: Output): PageResult {
  const primaries = run.elements.filter((e) => e.op.primary);
  const signal = primaries.find((p) => p.signal !== undefined)?.signal;
  if (signal?.location !== undefined) {
    run.close(new Error('redirected'));
    return { type: 'redirect', status: signal.status, location: signal.location, headers: new Headers() };
  }
  for (const p of primaries) p.prepare();
  let status = run.status ?? 200;
  if (run.layout.hasRoutes && !run.matchedAnyRoute) status = 404;
  const failed = primaries.find((p) => p.failure !== undefined && p.failure !== 'status');
  if (failed !== undefined) status = failed.failure === 'timeout' ? 504 : failed.failure === 'fetch' ? 502 : 500;
  if (signal !== undefined) status = signal.status;

  const layoutHeaders = new Headers(env.site.config.headers);
  layoutHeaders.set('content-type', 'text/html; charset=utf-8');
  const parts: HeaderPart[] = [{ source: 'layout', primary: false, headers: layoutHeaders }];
  let cap: number | undefined;
  for (const el of run.elements) {
    if (el.headers !== undefined) parts.push({ source: el.op.tag, primary: el.op.primary, headers: el.headers });
    if (el.cacheLifetime > 0) {
      const left = el.cacheRemaining ?? el.cacheLifetime;
      cap = cap === undefined ? left : Math.min(cap, left);
    }
  }
  const headers = env.mergeHeaders
    ? env.mergeHeaders(parts)
    : parts.length === 1 && cap === undefined
      ? layoutHeaders // nothing to merge: the common case, kept cheap
      : mergeHeaders(parts, cap === undefined ? undefined : cap / 1000);
  if (!headers.has('content-type')) headers.set('content-type', 'text/html; charset=utf-8');
  const timing: string[] = [];
  for (const el of run.elements) {
    const desc = `desc="${el.op.tag}"`;
    if (el.dataMs !== undefined) timing.push(`${el.workPhase};${desc};dur=${round(el.dataMs)}`);
    if (el.renderMs !== undefined) timing.push(`render;${desc};dur=${round(el.renderMs)}`);
  }
  if (timing.length > 0) {
    const prior = headers.get('server-timing');
    headers.set('server-timing', prior ? `${prior}, ${timing.join(', ')}` : timing.join(', '));
  }
  return { type: 'page', status, headers, body, elements: run.elements };
}
