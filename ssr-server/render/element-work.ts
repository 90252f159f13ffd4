/**
 * One microfrontend instance on one request: its work (`data()`, or the
 * fetch of a remote element), its response headers, and its output. The
 * result of the work is one value, {@link Outcome}, written once when the
 * work settles; the head decision (`page-head.ts`) and the body read it.
 *
 * Everything that comes from element code or a remote — return values,
 * thrown values, headers — is treated as data: checked where it enters, and
 * anything unusable makes this element fall back (one log line), never an
 * exception elsewhere in the page.
 */
import type { ElementContext } from '../hooks.ts';
import { checkHeaders, type HeaderIssue, type HeaderList } from '../header-values.ts';
import { escapeAttr, type Html } from '../html.ts';
import { PROPS } from '../../islands/protocol.ts';
import type { ElementOp } from '../layout/ops.ts';
import { errorFields } from '../log.ts';
import { fragmentUrl } from '../remote/fragment-url.ts';
import { checkFragment } from '../remote/validate.ts';
import type { RemoteHead } from '../remote/fetcher.ts';
import { HttpSignal, httpStatus } from '../signals.ts';
import type { ElementDefinition } from '../site/registry.ts';
import { cacheKey, cacheVariant, checkCacheTags, type CacheEntry, type RenderCacheStore } from './cache.ts';
import type { Output, Piece } from './chunks.ts';
import {
  DEFAULT_TIMEOUT_MS,
  FALLBACK_ATTRIBUTE,
  type FailurePhase,
  type PageEnvironment,
  type PageRequest,
} from './context.ts';
import { instantiateHost, plainOpenTag, renderHost, serverRoot, siteRenderers, type EventNode, type HostPlacement } from './element.ts';
import { carriesNonce, nonceUnknownStyles } from '../csp.ts';
import { checkProps } from './props.ts';

/** Default largest remote body accepted. */
export const DEFAULT_MAX_REMOTE_BYTES = 2 * 1024 * 1024;

/** Properties from `data()`. */
export type Props = Record<string, unknown>;

/** What an element's work came to. */
export type Outcome =
  /** Ready to render: the props from `data()` (if any) and their serialized form (devalue; see props.ts). */
  | { kind: 'ok'; props: Props | undefined; encoded: Html | undefined }
  /** A remote element's checked markup, without its end tag. */
  | { kind: 'remote'; markup: string }
  /** Replaced by its fallback. */
  | { kind: 'failed'; phase: FailurePhase }
  /** `data()` threw an HTTP signal (decides the response for a primary element). */
  | { kind: 'status'; signal: HttpSignal };

/** What an element needs from the page it is on. */
export interface PageScope {
  readonly env: PageEnvironment;
  readonly request: PageRequest;
  /** True once the request ended or was answered otherwise: no more logging. */
  readonly closed: boolean;
  /** Request headers that elements may see. */
  allowedHeaders(): Headers;
}

const now = (): number => performance.now();
/** Tags whose foreign `client` was warned about, per site. */
const foreignClientsWarned = new WeakMap<object, Set<string>>();
const READY: Outcome = { kind: 'ok', props: undefined, encoded: undefined };

/** One microfrontend instance on one request. */
export class ElementWork {
  /** The result of the element's work; undefined while it is working. */
  outcome: Outcome | undefined;
  /** Settles (never rejects) when the work is over; undefined when there was none to wait for. */
  settled: Promise<void> | undefined;
  /** This instance's checked response headers (from `headers()`, or the remote's response), as plain data. */
  headers: HeaderList | undefined;
  /** False only for a remote element whose response head has not arrived yet. */
  headersKnown = true;
  /** Settles when a remote element's headers are known or its fetch is over. */
  headersReady: Promise<void> | undefined;
  /** How long the work took (`data` or `fetch`), once it settled. */
  work: { phase: 'data' | 'fetch'; ms: number } | undefined;
  /** Milliseconds spent rendering the host, once rendered. */
  renderMs: number | undefined;
  /** Milliseconds this rendering may be reused (0: not cached). */
  readonly cacheLifetime: number;
  /** Set when the host came from the render cache: ms it has left. */
  cacheRemaining: number | undefined;
  /** The render-cache read, once started (see `readCache`). */
  private cacheRead: { key: string; hit: ReturnType<RenderCacheStore['get']> } | undefined;
  private prepared: Piece | (() => Promise<Piece>) | undefined;
  /** Made when something needs `ctx.signal` (work that is tracked, or a hook that reads it). */
  private controller: AbortController | undefined;
  /** Set once the request ended for this element (or its timeout passed): a controller made later starts aborted. */
  private aborted: { reason: unknown } | undefined;
  /** Ends the race of tracked work (timeout, or the request's end). */
  private stop: ((reason: unknown) => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ctx: ElementContext | undefined;
  private headersArrived: (() => void) | undefined;
  /** True when microfrontends are nested in this one in the layout (they dispatch events to it). */
  hasNested = false;
  /**
   * This element's server instance (its element in the SSR DOM shim) while
   * its nested elements render: their event parent. Released after its
   * last nested element rendered, or when the request ends.
   */
  private live: EventNode | undefined;
  /** Settles when this element's host, rendered asynchronously, is done (nested elements wait for it). */
  private hostPending: Promise<unknown> | undefined;

  constructor(
    readonly op: ElementOp,
    readonly def: ElementDefinition,
    readonly attributes: ReadonlyArray<readonly [string, string]>,
    readonly params: Readonly<Record<string, string>>,
    readonly children: Output,
    private readonly page: PageScope,
    /** The microfrontend this one is nested in, in the layout. */
    readonly parent?: ElementWork,
    /** The `slot` of the parent's light-DOM child this element is (in): which of the parent's slots it is assigned to. */
    readonly slot?: string,
  ) {
    this.cacheLifetime = page.env.cache !== undefined && op.ssr && def.kind === 'module' ? (op.cache ?? def.cache ?? 0) : 0;
  }

  /** The element's timeout in ms. */
  get timeout(): number {
    return this.op.timeout ?? this.def.timeout ?? this.page.env.site.config.timeout ?? DEFAULT_TIMEOUT_MS;
  }

  /** True when the element falls back (its work failed, or threw a status as a non-primary). */
  get fellBack(): boolean {
    return this.outcome?.kind === 'failed' || (this.outcome?.kind === 'status' && !this.op.primary);
  }

  /**
   * The hooks' context for this instance (also given to `head()`, see
   * document-head.ts). Its `signal` is made when a hook first reads it:
   * most elements run only a `headers()` hook that never does, and an
   * `AbortController` (with its listener) per element was measurable work
   * per request. A signal made late still fires — it is made aborted when
   * the request already ended or the timeout passed.
   */
  context(): ElementContext {
    return (this.ctx ??= new HookContext(this, this.page, this.params, this.attributes));
  }

  /** The signal a hook reads from its context. */
  signal(): AbortSignal {
    return this.abortController().signal;
  }

  /** This element's controller, made on first use (aborted at once when the request already ended). */
  private abortController(): AbortController {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted !== undefined) this.controller.abort(this.aborted.reason);
    }
    return this.controller;
  }

  /** Starts the element's work: `data()` (or the fetch of a remote element), and `headers()` when it needs no data. Never throws. */
  start(): void {
    if (!this.op.ssr) {
      this.outcome = READY;
      return;
    }
    if (this.def.kind === 'remote') {
      this.headersKnown = false;
      this.headersReady = new Promise((resolve) => (this.headersArrived = resolve));
      this.track('fetch', (ctx) => this.fetchRemote(ctx));
      return;
    }
    const { data: dataHook, headers: headersHook } = this.def.hooks;
    // headers() runs at once, except for a primary element with data: it gets the data.
    if (headersHook !== undefined && (dataHook === undefined || !this.op.primary)) this.callHeaders(undefined);
    if (dataHook === undefined) {
      this.outcome = READY;
      this.readCache(READY as Extract<Outcome, { kind: 'ok' }>);
      return;
    }
    this.track('data', async (ctx) => {
      const value: unknown = await dataHook(ctx);
      if (isSignal(value)) throw value;
      const checked = checkProps(value);
      if (!checked.ok) throw new Error(`<${this.op.tag}> ${checked.reason}`);
      if (checked.encoded !== undefined) this.warnForeignClient();
      return { kind: 'ok', props: checked.props, encoded: checked.encoded };
    });
  }

  /**
   * Runs the element's async work, raced against its timeout and the
   * client's disconnect (both fire `ctx.signal`); `settled` settles when it
   * is over, whatever the outcome, and never rejects.
   */
  private track(phase: 'data' | 'fetch', work: (ctx: ElementContext) => Promise<Outcome>): void {
    const ctx = this.context();
    const started = now();
    const timeoutError = new Error(`<${this.op.tag}> timed out after ${this.timeout} ms`);
    timeoutError.name = 'TimeoutError';
    // The timeout and the end of the request stop the race directly; the
    // signal (when a hook asked for one) is aborted with the same reason.
    const stopped = new Promise<never>((_, reject) => {
      this.stop = reject;
    });
    if (this.aborted !== undefined) this.stop!(this.aborted.reason);
    this.timer = setTimeout(() => {
      this.aborted ??= { reason: timeoutError };
      this.controller?.abort(timeoutError);
      this.stop?.(timeoutError);
    }, this.timeout);
    const running = Promise.resolve().then(() => work(ctx));
    // The losers of the race must not become unhandled rejections.
    running.catch(() => {});
    stopped.catch(() => {});
    this.settled = Promise.race([running, stopped])
      .then(
        (outcome) => outcome,
        (err: unknown): Outcome => {
          if (err === timeoutError) return this.fail('timeout', err);
          if (isSignal(err)) return { kind: 'status', signal: err };
          return this.fail(phase, err);
        },
      )
      .then((outcome) => {
        this.outcome = outcome;
        this.work = { phase, ms: now() - started };
        // The cache read starts now, not when the drain reaches the element: a page's reads of a shared store overlap.
        const read = outcome.kind === 'ok' ? this.readCache(outcome) : undefined;
        clearTimeout(this.timer);
        // A remote that failed before its head sent no headers: nothing is unknown any more.
        this.headersKnown = true;
        this.headersArrived?.();
        if (phase === 'data' && this.op.primary && this.def.hooks.headers !== undefined && outcome.kind === 'ok') {
          this.callHeaders(outcome.props);
        }
        // A primary's head waits for its cache read too (a shared store's is bounded by its read budget), so the page's
        // Cache-Control is capped by what a hit has left, not by the element's whole lifetime.
        if (this.op.primary && read?.hit instanceof Promise) return read.hit.then(noop, noop);
        return undefined;
      })
      .catch((err: unknown) => {
        // Only a broken logger gets here; the element still ends in a state the page can render.
        this.outcome ??= { kind: 'failed', phase };
        this.headersKnown = true;
        this.headersArrived?.();
        void err;
      });
  }

  /**
   * The browser decodes `data()` with the decoder every Atoll-built element
   * module installs (`globalThis.atollDecode`, build/plugins.ts). A `client`
   * URL that no Atoll built (not another Atoll's `/_atoll/element/<tag>.js`)
   * must install it itself, or its hydration reports an error; said once per
   * site and tag.
   */
  private warnForeignClient(): void {
    const client = this.def.client;
    // A server import map's entry (it has a version) names a client built by `atoll build --element`, which installs it.
    if (client === undefined || !/^https?:\/\//i.test(client) || client.includes('/_atoll/element/') || this.def.version !== undefined) return;
    let warned = foreignClientsWarned.get(this.page.env.site);
    if (warned === undefined) foreignClientsWarned.set(this.page.env.site, (warned = new Set()));
    if (warned.has(this.op.tag)) return;
    warned.add(this.op.tag);
    this.log(
      'warn',
      { client },
      "data() props go to the browser serialized with devalue; this element's client module is not built by Atoll, so it must install the decoder (globalThis.atollDecode ??= parse, from devalue) or its hydration fails (docs/islands.md)",
    );
  }

  /** Fetches a remote element's markup and checks it (SPEC 6). */
  private async fetchRemote(ctx: ElementContext): Promise<Outcome> {
    const fetcher = this.page.env.fetchRemote;
    if (fetcher === undefined) throw new Error(`<${this.op.tag}> is a remote element, but this engine has no remote fetcher`);
    const headers: Record<string, string> = { 'x-request-id': this.page.request.requestId };
    ctx.headers.forEach((v, k) => {
      headers[k] = v;
    });
    let head: RemoteHead;
    try {
      head = await fetcher(fragmentUrl(this.def.url!, this.attributes), {
        headers,
        signal: ctx.signal,
        maxBytes: this.page.env.site.config.maxRemoteBytes ?? DEFAULT_MAX_REMOTE_BYTES,
      });
    } catch (err) {
      const status = statusOf(err);
      if (this.op.primary && (status === 404 || status === 410)) throw httpStatus(status, `the remote <${this.op.tag}> answered ${status}`);
      throw err;
    }
    this.takeHeaders(checkHeaders(head.headers), 'remote response');
    this.headersArrived?.();
    const body = await head.body;
    const checked = checkFragment(this.op.tag, body);
    if (!checked.ok) throw new Error(`the remote <${this.op.tag}> sent unusable markup: ${checked.reason}`);
    return { kind: 'remote', markup: checked.head };
  }

  private callHeaders(props: Props | undefined): void {
    let value: unknown;
    try {
      value = this.def.hooks.headers!(this.context(), props);
    } catch (err) {
      this.log('error', { phase: 'headers', ...safeErrorFields(err) }, 'element headers() threw; its headers were ignored');
      return;
    }
    if (isThenable(value)) {
      // headers() is synchronous (it must not hold the head); a Promise is junk, and its rejection is nobody's.
      Promise.resolve(value).catch(() => {});
      this.log('warn', { phase: 'headers' }, 'element headers() returned a Promise; headers() must return its headers synchronously, so they were ignored');
      return;
    }
    this.takeHeaders(checkHeaders(value), 'headers()');
  }

  private takeHeaders({ headers, issues }: { headers: HeaderList; issues: HeaderIssue[] }, from: string): void {
    if (issues.length > 0) {
      this.log(
        'warn',
        { phase: 'headers', dropped: issues.slice(0, 8).map((i) => `${i.name}: ${i.reason}`), droppedCount: issues.length },
        `invalid headers from the element's ${from} were dropped`,
      );
    }
    this.headers = headers;
    this.headersKnown = true;
  }

  /** Aborts pending work (client gone, or the page is answered otherwise). */
  abort(reason: unknown): void {
    clearTimeout(this.timer);
    this.aborted ??= { reason };
    this.controller?.abort(reason);
    this.stop?.(reason);
    this.live = undefined;
  }

  /** How many microfrontends this one is nested in. */
  get depth(): number {
    let n = 0;
    for (let p = this.parent; p !== undefined; p = p.parent) n++;
    return n;
  }

  /**
   * True when this element can be an event target of its nested elements
   * during SSR: a server-rendered module element (a remote element or an
   * `ssr="none"` one has no server instance here).
   */
  get canHostEvents(): boolean {
    return this.op.ssr && this.def.kind === 'module';
  }

  /**
   * The ancestors that must have rendered before this element renders (so
   * that its events reach them), outermost first.
   */
  eventAncestors(): ElementWork[] {
    const out: ElementWork[] = [];
    for (let p = this.parent; p !== undefined; p = p.parent) if (p.canHostEvents) out.unshift(p);
    return out;
  }

  /**
   * Where this element's events go during SSR, as Lit computes it for a
   * template (`addElementToEventPath`): the nearest enclosing microfrontend
   * with a live server instance — the `<slot>` of its shadow root that this
   * element is assigned to, or the element itself when it has no such slot
   * — else Lit's `litServerRoot`. An ancestor that failed, fell back, is
   * remote or client-only has no instance and is passed over.
   */
  private eventParent(): EventNode | undefined {
    let slot = this.slot;
    for (let p = this.parent; p !== undefined; slot = p.slot, p = p.parent) {
      const el = p.live;
      if (el === undefined) continue;
      let assigned: EventNode | undefined;
      try {
        assigned = el.__slots?.get(slot);
      } catch {
        assigned = undefined;
      }
      return assigned ?? el;
    }
    return serverRoot();
  }

  /** The first ancestor whose host is still rendering asynchronously, if any. */
  private pendingAncestor(): Promise<unknown> | undefined {
    for (let p = this.parent; p !== undefined; p = p.parent) if (p.hostPending !== undefined) return p.hostPending;
    return undefined;
  }

  private placement(): HostPlacement {
    return {
      eventParent: this.eventParent(),
      onInstance: this.hasNested ? (instance) => (this.live = instance.element as EventNode | undefined) : undefined,
    };
  }

  /** Renders the host now (primary elements and their ancestors, before the head is written). */
  prepare(): void {
    if (this.prepared === undefined) this.prepared = this.safeHost();
  }

  /** The element's output, in the page's internal form. Its thunks never throw or reject. */
  render(): Output {
    const tail = this.hasNested
      ? this.children.concat(() => {
          this.live = undefined; // its nested elements have rendered: the instance can go
        }, `</${this.op.tag}>`)
      : this.children.concat(`</${this.op.tag}>`);
    if (this.prepared !== undefined) return [this.prepared, ...tail];
    if (this.outcome === undefined && this.settled !== undefined) {
      const settled = this.settled;
      return [() => settled.then(() => [this.safeHost(), ...tail])];
    }
    return [this.safeHost(), ...tail];
  }

  private safeHost(): Piece | (() => Promise<Piece>) {
    // An ancestor still rendering: this element's events must find it, so wait for it.
    const ancestor = this.pendingAncestor();
    if (ancestor !== undefined) {
      const done = ancestor.then(() => {
        const host = this.safeHost();
        return typeof host === 'function' ? host() : host;
      });
      return () => done;
    }
    try {
      const host = this.host();
      if (typeof host !== 'function') return host;
      const done = host().catch((err: unknown) => {
        this.fail('render', err);
        return this.fallbackOpen();
      });
      if (this.hasNested) {
        const pending = done.finally(() => {
          if (this.hostPending === pending) this.hostPending = undefined;
        });
        this.hostPending = pending;
      }
      return () => done;
    } catch (err) {
      this.fail('render', err);
      return this.fallbackOpen();
    }
  }

  private host(): Piece | (() => Promise<Piece>) {
    const outcome = this.outcome ?? { kind: 'failed', phase: 'render' };
    if (outcome.kind === 'failed' || outcome.kind === 'status') return this.fallbackOpen();
    if (!this.op.ssr) return plainOpenTag(this.op.tag, this.attributes);
    if (outcome.kind === 'remote') {
      const nonce = this.page.request.nonce;
      return nonce ? nonceUnknownStyles(outcome.markup, nonce) : outcome.markup;
    }
    const store = this.page.env.cache;
    const read = this.readCache(outcome);
    if (read !== undefined && store !== undefined) {
      const { key, hit } = read;
      if (hit === undefined) return this.fresh(outcome, key, store);
      if (!(hit instanceof Promise)) return this.fromCache(hit, outcome);
      const done = hit
        .then(
          (e) => (e !== undefined ? this.fromCache(e, outcome) : this.fresh(outcome, key, store)),
          () => this.fresh(outcome, key, store),
        )
        .then((r) => (typeof r === 'function' ? r() : r));
      return () => done;
    }
    return this.fresh(outcome, undefined, undefined);
  }

  /**
   * This rendering's render-cache key and the store's answer for it, asked
   * once: as soon as the element's data is known (see `track`), or when
   * its host is needed. Undefined when the element is not cached.
   */
  private readCache(outcome: Extract<Outcome, { kind: 'ok' }>): { key: string; hit: ReturnType<RenderCacheStore['get']> } | undefined {
    if (this.cacheRead !== undefined) return this.cacheRead;
    const store = this.page.env.cache;
    if (!(this.cacheLifetime > 0) || store === undefined || this.page.closed) return undefined;
    const vary = this.def.cacheVary;
    const key = cacheKey(
      // A versioned entry (an independent deploy's map element) never shares renderings with another version.
      this.def.version === undefined ? this.op.tag : `${this.op.tag}@${this.def.version}`,
      this.attributes,
      outcome.encoded,
      vary === undefined ? undefined : cacheVariant(vary, this.page.request.headers),
      literalAttributes(this.op) ? this.op : undefined,
    );
    let hit: ReturnType<RenderCacheStore['get']>;
    const remaining = (e: CacheEntry | undefined): void => {
      // Known as soon as the store answers: the head caps the page's Cache-Control with it.
      if (e !== undefined) this.cacheRemaining = Math.max(0, e.expires - Date.now());
    };
    try {
      hit = store.get(key, this.page.request);
      // A rejection is a miss where the hit is used; not unhandled meanwhile.
      if (hit instanceof Promise) hit.then(remaining, noop);
      else remaining(hit);
    } catch {
      hit = undefined; // a store that throws is a miss
    }
    return (this.cacheRead = { key, hit });
  }

  private fromCache(entry: CacheEntry, outcome: Extract<Outcome, { kind: 'ok' }>): Piece {
    this.cacheRemaining = Math.max(0, entry.expires - Date.now());
    if (this.hasNested) {
      // Its nested elements' events need a live instance: made, connected, not rendered (cheap; the render is what the cache saves).
      try {
        instantiateHost(this.op.tag, this.attributes, outcome.props, siteRenderers(this.page.env.site), this.placement());
      } catch (err) {
        this.live = undefined;
        this.log('warn', { phase: 'render', ...safeErrorFields(err) }, 'the cached element could not be instantiated for the events of its nested elements; they render without it');
      }
    }
    return entry.bytes ?? entry.html;
  }

  private fresh(
    outcome: Extract<Outcome, { kind: 'ok' }>,
    key: string | undefined,
    store: RenderCacheStore | undefined,
  ): string | (() => Promise<string>) {
    const started = now();
    const script = outcome.encoded === undefined ? '' : `<script type="application/json" ${PROPS}>${outcome.encoded}</script>`;
    const keep = (html: string): string => {
      this.renderMs = now() - started;
      if (key !== undefined && store !== undefined && this.cacheable() && !carriesNonce(html, this.page.request.nonce)) {
        const tags = this.cacheTags(outcome.props);
        if (tags === undefined) return html;
        try {
          const entry: CacheEntry = { html, expires: Date.now() + this.cacheLifetime };
          if (tags.length > 0) entry.tags = tags;
          void Promise.resolve(store.set(key, entry)).catch(() => {});
        } catch {
          // A store that throws only loses this entry.
        }
      }
      return html;
    };
    let host: string | Promise<string>;
    try {
      host = renderHost(this.op.tag, this.attributes, outcome.props, siteRenderers(this.page.env.site), true, this.page.request.nonce, this.placement());
    } catch (err) {
      this.live = undefined; // a failed element is no event target for its nested ones
      throw err;
    }
    if (typeof host === 'string') return keep(host + script);
    const done = host.then(
      (h) => keep(h + script),
      (err: unknown) => {
        this.live = undefined;
        this.fail('render', err);
        return this.fallbackOpen();
      },
    );
    return () => done;
  }

  /**
   * Uncacheable output (`no-store`, or a `Set-Cookie`) never goes into the
   * shared render cache; nor does per-user (`private`) output, unless the
   * registry entry names what it varies on (`cacheVary`): then its key holds
   * those request values, and it is kept per variant (docs/caching.md).
   */
  private cacheable(): boolean {
    const cc = this.headers?.get('cache-control')?.toLowerCase() ?? '';
    if (/(^|,)\s*no-store\b/.test(cc) || this.headers?.has('set-cookie') === true) return false;
    return this.def.cacheVary !== undefined || !/(^|,)\s*private\b/.test(cc);
  }

  /**
   * The tags of this rendering (the element's `cacheTags(ctx, data)` hook;
   * none without one), or undefined when the hook threw or returned junk:
   * output that cannot be tagged as its element says is not stored, since
   * no purge could reach it.
   */
  private cacheTags(props: Props | undefined): string[] | undefined {
    const hook = this.def.hooks.cacheTags;
    if (hook === undefined) return [];
    let value: unknown;
    try {
      value = hook(this.context(), props);
    } catch (err) {
      this.log('warn', { phase: 'cacheTags', ...safeErrorFields(err) }, 'element cacheTags() threw; its output was not cached');
      return undefined;
    }
    const checked = checkCacheTags(value);
    if ('problem' in checked) {
      if (isThenable(value)) Promise.resolve(value).catch(() => {});
      this.log('warn', { phase: 'cacheTags' }, `${checked.problem}; the output was not cached`);
      return undefined;
    }
    return checked.tags;
  }

  private fallbackOpen(): string {
    const o = this.outcome;
    const phase = o?.kind === 'failed' ? o.phase : o?.kind === 'status' ? 'status' : 'render';
    return plainOpenTag(this.op.tag, this.attributes, ` ${FALLBACK_ATTRIBUTE}="${escapeAttr(phase)}"`);
  }

  /** Records a failure (one log line) and returns its outcome. */
  private fail(phase: FailurePhase, err: unknown): Outcome {
    const outcome: Outcome = { kind: 'failed', phase };
    this.outcome = outcome;
    if (!this.page.closed) {
      this.log('error', { phase, url: this.page.request.url.pathname, ...safeErrorFields(err) }, 'element failed; its fallback was rendered');
    }
    return outcome;
  }

  private log(level: 'warn' | 'error', fields: Record<string, unknown>, message: string): void {
    try {
      this.page.env.logger[level]({ requestId: this.page.request.requestId, element: this.op.tag, ...fields }, message);
    } catch {
      // A logger that throws must not take the page with it.
    }
  }
}

const noop = (): void => {};

/** True when every attribute of the layout element is literal (no `{params.x}`/`{query.x}`): the same on every request. */
function literalAttributes(op: ElementOp): boolean {
  let known = literalOps.get(op);
  if (known === undefined) literalOps.set(op, (known = op.attrs.every((a) => a.literal !== undefined)));
  return known;
}
const literalOps = new WeakMap<ElementOp, boolean>();

/** `instanceof HttpSignal`, safe for hostile values (a Proxy can throw from `getPrototypeOf`). */
function isSignal(value: unknown): value is HttpSignal {
  try {
    return value instanceof HttpSignal;
  } catch {
    return false;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  try {
    return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

function statusOf(err: unknown): unknown {
  try {
    return (err as { status?: unknown } | null)?.status;
  } catch {
    return undefined;
  }
}

/** `errorFields`, and never a throw whatever was thrown. */
function safeErrorFields(err: unknown): Record<string, unknown> {
  try {
    return errorFields(err);
  } catch {
    return { err: { message: '(an error that cannot be described)' } };
  }
}

/**
 * The context hooks get (`ElementContext`): plain own fields, and `signal`
 * and `headers` as getters that make the element's `AbortController` and
 * the page's allowed-headers object on first read. A
 * class rather than an object literal with a getter: V8 makes an instance
 * in tens of nanoseconds, a literal with accessors in microseconds.
 */
class HookContext implements ElementContext {
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly attributes: Readonly<Record<string, string>>;
  readonly publicOrigin: string | undefined;
  readonly #work: ElementWork;
  readonly #page: PageScope;

  constructor(work: ElementWork, page: PageScope, params: Readonly<Record<string, string>>, attributes: ReadonlyArray<readonly [string, string]>) {
    this.#work = work;
    this.url = page.request.url;
    this.params = params;
    this.query = page.request.url.searchParams;
    this.#page = page;
    this.attributes = Object.fromEntries(attributes);
    this.publicOrigin = page.env.site.config.publicOrigin;
  }

  /** The request headers the operator allows elements to see: made when a hook first reads them (one per page). */
  get headers(): Headers {
    return this.#page.allowedHeaders();
  }

  /** Fires when the client goes away or the element's timeout passes. */
  get signal(): AbortSignal {
    return this.#work.signal();
  }
}
