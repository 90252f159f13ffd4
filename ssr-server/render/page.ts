/**
 * Renders one page for one request: matches routes and redirects, starts the
 * work of every matched element at once, and returns the status, headers and
 * the body as a thunked render result (the one internal form of output; see
 * `chunks.ts`). Nothing here knows about HTTP servers or streams.
 */
import type { ElementContext } from '../hooks.ts';
import { escapeAttr, jsonForScript } from '../html.ts';
import { fillInterpolation } from '../layout/attributes.ts';
import type { CompiledLayout, ElementOp, Op, RouteOp } from '../layout/ops.ts';
import { errorFields, type Logger } from '../log.ts';
import type { ElementDefinition } from '../site/registry.ts';
import { layoutFor, type Site } from '../site/load.ts';
import type { ThunkedRenderResult } from './chunks.ts';
import { plainOpenTag, renderHost } from './element.ts';

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
}

/** The outcome of routing a request. */
export type PageResult =
  | { type: 'redirect'; status: number; location: string; headers: Headers }
  | { type: 'page'; status: number; headers: Headers; body: ThunkedRenderResult; elements: readonly ElementWork[] };

/** What the page renderer needs from its surroundings. */
export interface PageEnvironment {
  site: Site;
  logger: Logger;
  /** Markup for `<atoll-head>`, given the elements on the page. */
  head?: (elements: readonly ElementWork[], request: PageRequest) => string;
}

/** Why an element was replaced by its fallback. */
export type FailurePhase = 'data' | 'render' | 'timeout' | 'unsupported';

/** Marks an element that the server could not render; the browser renders it. */
export const FALLBACK_ATTRIBUTE = 'atoll-fallback';

/** One microfrontend instance on one request: its work and its output. */
export class ElementWork {
  /** Properties from `data()`, once known. */
  data: Record<string, unknown> | undefined;
  /** Set when the element fell back to its layout children. */
  failure: FailurePhase | undefined;
  private pending: Promise<void> | undefined;
  private controller: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly op: ElementOp,
    readonly def: ElementDefinition,
    readonly attributes: ReadonlyArray<readonly [string, string]>,
    readonly params: Readonly<Record<string, string>>,
    readonly children: ThunkedRenderResult,
    private readonly page: PageRun,
  ) {}

  /** The element's timeout in ms. */
  get timeout(): number {
    return this.op.timeout ?? this.def.timeout ?? this.page.env.site.config.timeout ?? DEFAULT_TIMEOUT_MS;
  }

  /** Starts the element's async work (its `data()` hook), if any. */
  start(): void {
    const dataHook = this.def.hooks.data;
    if (!this.op.ssr || this.def.kind !== 'module' || dataHook === undefined) return;
    const controller = new AbortController();
    this.controller = controller;
    const request = this.page.request;
    const onAbort = (): void => controller.abort(request.signal.reason);
    request.signal.addEventListener('abort', onAbort, { once: true });
    const ctx: ElementContext = {
      url: request.url,
      params: this.params,
      query: request.url.searchParams,
      headers: this.page.allowedHeaders(),
      attributes: Object.fromEntries(this.attributes),
      signal: controller.signal,
    };
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
    const work = Promise.resolve().then(() => dataHook(ctx));
    this.pending = Promise.race([work, timedOut, aborted]).then(
      (data) => {
        this.data = data ?? undefined;
      },
      (err: unknown) => {
        const timeout = err instanceof Error && err.name === 'TimeoutError';
        this.fail(timeout ? 'timeout' : 'data', err);
      },
    ).finally(() => {
      clearTimeout(this.timer);
      request.signal.removeEventListener('abort', onAbort);
    });
    // The losers of the race must not become unhandled rejections.
    work.catch(() => {});
    timedOut.catch(() => {});
    aborted.catch(() => {});
  }

  /** Aborts pending work (client gone). */
  abort(reason: unknown): void {
    this.controller?.abort(reason);
  }

  /** The element's output, in the page's internal form. */
  render(): ThunkedRenderResult {
    const tail = this.children.concat(`</${this.op.tag}>`);
    if (this.pending !== undefined) {
      const pending = this.pending;
      return [() => pending.then(() => [this.renderHost(), ...tail])];
    }
    return [this.renderHost(), ...tail];
  }

  private renderHost(): string | (() => Promise<string>) {
    if (this.failure !== undefined) return this.fallbackOpen();
    if (!this.op.ssr) return plainOpenTag(this.op.tag, this.attributes);
    if (this.def.kind !== 'module') {
      this.fail('unsupported', new Error('remote elements are not supported by this server yet'));
      return this.fallbackOpen();
    }
    try {
      const host = renderHost(this.op.tag, this.attributes, this.data, this.page.env.site.renderers, true);
      if (typeof host === 'string') return host + this.dataScript();
      const done = host.then(
        (h) => h + this.dataScript(),
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

  private dataScript(): string {
    if (this.data === undefined) return '';
    return `<script type="application/json" data-atoll-props>${jsonForScript(this.data)}</script>`;
  }

  private fallbackOpen(): string {
    return plainOpenTag(this.op.tag, this.attributes, ` ${FALLBACK_ATTRIBUTE}="${escapeAttr(this.failure ?? 'render')}"`);
  }

  private fail(phase: FailurePhase, err: unknown): void {
    this.failure = phase;
    if (this.page.request.signal.aborted) return;
    this.page.env.logger.error(
      { requestId: this.page.request.requestId, element: this.op.tag, phase, url: this.page.request.url.pathname, ...errorFields(err) },
      'element failed; its fallback was rendered',
    );
  }
}

/** The state of one page render. */
class PageRun {
  readonly elements: ElementWork[] = [];
  /** Route matches by route id: undefined = not computed, null = no match. */
  private readonly matches: Array<Record<string, string> | null | undefined>;
  redirect: { status: number; location: string } | undefined;
  status: number | undefined;
  matchedAnyRoute = false;
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
  expand(ops: readonly Op[], params: Readonly<Record<string, string>>, out: ThunkedRenderResult): void {
    for (const op of ops) {
      switch (op.kind) {
        case 'text':
          out.push(op.html);
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

  private expandElement(op: ElementOp, params: Readonly<Record<string, string>>, out: ThunkedRenderResult): void {
    const def = this.env.site.registry.get(op.tag)!;
    const query = this.request.url.searchParams;
    const attributes: Array<readonly [string, string]> = op.attrs.map((a) => [
      a.name,
      a.literal ?? fillInterpolation(a.parts, params, query),
    ]);
    const children: ThunkedRenderResult = [];
    this.expand(op.children, params, children);
    const work = new ElementWork(op, def, attributes, params, children, this);
    this.elements.push(work);
    out.push(() => work.render());
  }
}

/** Routes a request and prepares its page. Element work starts here. */
export function renderPage(env: PageEnvironment, request: PageRequest): PageResult {
  const layout = layoutFor(env.site, request.url.pathname);
  const run = new PageRun(env, request, layout);
  const body: ThunkedRenderResult = [];
  run.expand(layout.ops, {}, body);
  if (run.redirect !== undefined) {
    return { type: 'redirect', status: run.redirect.status, location: run.redirect.location, headers: new Headers() };
  }
  for (const el of run.elements) el.start();
  request.signal.addEventListener('abort', () => {
    for (const el of run.elements) el.abort(request.signal.reason);
  }, { once: true });
  let status = run.status ?? 200;
  if (layout.hasRoutes && !run.matchedAnyRoute) status = 404;
  const headers = new Headers({ 'content-type': 'text/html; charset=utf-8' });
  return { type: 'page', status, headers, body, elements: run.elements };
}
