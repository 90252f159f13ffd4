/**
 * Atoll's public server API. `createAtoll` loads a site once and gives the
 * Node `(req, res)` handler, the Web `fetch` handler and a string renderer,
 * all over the same engine.
 */
// The public types name Node's (http, streams): a consumer's .d.ts check needs them even with `"types": []`.
/// <reference types="node" preserve="true" />
// First, so that Lit's renderer picks up the fast path (render/lit-fastpath.ts).
import { fastPathInEffect } from './render/element.ts';
import type { Server } from 'node:http';
import { formatLocation } from './errors.ts';
import { fetchHandler } from './adapters/fetch.ts';
import { nodeHandler, type NodeHandler, type TransportStats } from './adapters/node.ts';
import { handle, type CoreRequest, type Engine } from './handle.ts';
import type { Deploys, DeploysOptions } from './deploys/generations.ts';
import { toWebHeaders } from './header-values.ts';
import { isLogLevel, jsonLogger, type JsonLogger, type Logger } from './log.ts';
import { DEFAULT_DRAIN_TIMEOUT, startServer, type CloseResult, type Readiness, type ServerOptions } from './server.ts';
import { collect } from './render/chunks.ts';
import { loadSite, type LoadSiteOptions, type Site } from './site/load.ts';
import type { RenderCacheStore } from './render/cache.ts';
import { setupRenderCache, type AtollCache } from './cache/setup.ts';
import type { MergeHeaders } from './render/headers.ts';
import { prepareClient, type ClientOptions } from './build/client.ts';
import { fetchRemote } from './remote/client.ts';
import { checkRenderOptions, renderMarkup, requestOf, type MarkupInput, type MarkupOptions, type RenderOptions } from './in-process.ts';

export { SiteError, formatProblem, type SiteProblem } from './errors.ts';
export type { AtollConfig, ElementEntryConfig } from './site/config.ts';
export { defineConfig } from './site/config.ts';
export type { ElementContext, HeadContribution, ServerHooks } from './hooks.ts';
export { filterLogger, jsonLogger, memoryLogger, silentLogger, type JsonLogger, type Logger, type LogLevel } from './log.ts';
export { HEALTH_PATH, type CloseResult, type Readiness } from './server.ts';
export type { NodeHandler, TransportLimits, TransportStats } from './adapters/node.ts';
export { loadSite, type Site } from './site/load.ts';
export { FALLBACK_ATTRIBUTE } from './render/page.ts';
export { HttpSignal, httpStatus, notFound, redirect } from './signals.ts';
export { LayeredStore, LruStore, type CacheEntry, type CacheStats, type LayeredOptions, type RenderCacheStore, type SharedCacheStore } from './render/cache.ts';
export type { AtollCache } from './cache/setup.ts';
export { mergeHeaders, mergeCacheControl, type HeaderPart, type MergeHeaders } from './render/headers.ts';
export type { ClientOptions } from './build/client.ts';
export type { Deploys, DeploysOptions, RefreshResult } from './deploys/generations.ts';
export type { DeployStatus, ImportMapEntry } from './deploys/types.ts';
export type { BuildOptions, BuildResult } from './build/build.ts';
export { MARKUP_FILE, type MarkupInput, type MarkupOptions, type RenderOptions } from './in-process.ts';
/**
 * True for a rejection or exception that Atoll already reports as a start-up
 * problem of the site (a throw in a CommonJS element module imported through
 * ESM reaches Node 20's `unhandledRejection` a second time,
 * nodejs/node#51603). A program that calls `createAtoll` and installs its own
 * `process.on('unhandledRejection' | 'uncaughtException')` handler should
 * ignore these, as `atoll serve` does: `if (isStartupImportRejection(e)) return;`.
 */
export { isStartupImportRejection } from './site/registry.ts';

/** Builds a site's client side (rollup loads only when this is called). */
export async function buildClient(
  ...args: Parameters<typeof import('./build/build.ts').buildClient>
): Promise<import('./build/build.ts').BuildResult> {
  const { buildClient: build } = await import('./build/build.ts');
  return build(...args);
}

export type { ExportOptions, ExportResult, ExportedRedirect } from './export/export.ts';

/** Exports the whole site as static files (what `atoll export` runs; loaded only when called — see docs/export.md). */
export async function exportSite(
  ...args: Parameters<typeof import('./export/export.ts').exportSite>
): Promise<import('./export/export.ts').ExportResult> {
  const { exportSite: run } = await import('./export/export.ts');
  return run(...args);
}

/** Options for {@link createAtoll}. */
export interface AtollOptions extends LoadSiteOptions {
  /** Where log lines go (default: JSON lines on stderr). */
  logger?: Logger;
  /**
   * The render cache store (default: what the config's `cache` says — an
   * in-process LRU, or Redis with an in-process layer); `false` turns
   * caching off.
   */
  cache?: RenderCacheStore | false;
  /** Where `ATOLL_REDIS_URL` and `ATOLL_PURGE_TOKEN` are read (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Replaces the default header merge (SPEC 4). */
  mergeHeaders?: MergeHeaders;
  /**
   * Compress pages for clients that accept it (brotli or gzip, streamed with
   * a flush before every wait). Default true; turn it off when a proxy in
   * front compresses.
   */
  compress?: boolean;
  /** The client build: when to build, where, the public base path, a CSP nonce. */
  client?: ClientOptions;
  /**
   * Independent deploys (the config's `deploys` section, docs/deploys.md):
   * `false` renders in this thread even with that section (what a
   * generation worker does); an object adds what only code can give —
   * `overrides` (the entries that replace the live map's for one request)
   * and `pollInterval` (ms, replaces the config's; tests).
   */
  deploys?: false | Pick<DeploysOptions, 'overrides' | 'admin' | 'pollInterval'>;
}

/** The result of rendering one path to a string. */
export interface RenderedPage {
  status: number;
  headers: Headers;
  html: string;
}

/** A loaded site with its handlers. */
export interface Atoll {
  site: Site;
  logger: Logger;
  /** The handler for `http.createServer`; `handler.stats()` counts stalled clients closed and failed writes. */
  handler: NodeHandler;
  /** The Web handler: `fetch(Request) => Response`. */
  fetch: (request: Request) => Promise<Response>;
  /** Renders one path (with query) to a string, e.g. for static export. */
  render: (target: string, init?: { headers?: HeadersInit; signal?: AbortSignal }) => Promise<RenderedPage>;
  /**
   * Answers a request in-process, in the spirit of Hono's `app.request()`:
   * the same pipeline as the `fetch` handler (pages, `/_atoll/assets/`,
   * fragments, embed) without a socket. `input` is a path (`'/products/p1?x=1'`),
   * an absolute URL or a `Request`; `init` is a `RequestInit`; `options` say
   * how a page writes the island loader and an optional first script.
   *
   * ```ts
   * const res = await atoll.request('/hello/Ada', { headers: { 'accept-language': 'fr' } });
   * res.status; await res.text();
   * ```
   */
  request: (input: string | URL | Request, init?: RequestInit, options?: RenderOptions) => Promise<Response>;
  /**
   * Renders layout markup (`{ html, data? }`) or one element
   * (`{ tag, attributes?, data? }`) as the body of a minimal page, in-process
   * through the same engine as a page (element work, `<atoll-head>`, client
   * build, loader); `data` replaces the named elements' `data()` hooks.
   * Resolves with the page as a `Response`; rejects with a `SiteError`
   * (file `(markup)`, line:col in your markup) when the markup does not
   * compile, or — with `strict: true` — has warnings (a dashed tag that is no
   * element of the site).
   */
  renderMarkup: (input: MarkupInput, options?: MarkupOptions) => Promise<Response>;
  /**
   * The render cache: `purge(tags)` drops the renderings tagged so (on
   * every instance, with the Redis store), `stats()`, and `close()` for
   * its connections (docs/caching.md).
   */
  cache: AtollCache;
  /**
   * The generation manager, when the config has a `deploys` section: every
   * page is rendered by the worker of the live import map's generation.
   * `status()`, `refresh()` (read the map now), `close()` (terminates the
   * workers; `listen`'s close does it).
   */
  deploys?: Deploys;
  /** The engine in this thread. @internal */
  engine: Engine;
}

/** Loads a site (throwing `SiteError` with every problem) and builds its handlers. */
export async function createAtoll(options: AtollOptions = {}): Promise<Atoll> {
  const logger = options.logger ?? jsonLogger();
  const site = await loadSite(options);
  // The default logger follows the config's logLevel; a logger given in code keeps its own.
  if (options.logger === undefined && isLogLevel(site.config.logLevel)) (logger as JsonLogger).level = site.config.logLevel;
  // With deploys, the layout's tags that the import map provides are warned about only once the map is known.
  const logWarnings = (mapTags: ReadonlySet<string>): void => {
    for (const w of site.warnings) if (w.unknownTag === undefined || !mapTags.has(w.unknownTag)) logger.warn({ at: formatLocation(w) }, w.message);
  };
  if (site.config.deploys === undefined || options.deploys === false) logWarnings(new Set());
  if (!fastPathInEffect()) {
    logger.warn({}, '@lit-labs/ssr was loaded before Atoll, so Lit rendering runs without Atoll\'s fast path (about 13% slower): import atoll first');
  }
  const client = await prepareClient(site, options.client ?? {}, logger);
  // After the client build: its input digest is the Redis keys' default version.
  const cache = await setupRenderCache(site, options.cache, logger, options.env ?? process.env, options.client?.outDir);
  const engine: Engine = {
    site,
    logger,
    cache: cache.store,
    purgeToken: cache.purgeToken,
    mergeHeaders: options.mergeHeaders,
    compress: options.compress,
    fetchRemote,
    ...client,
  };
  const fetchWith = fetchHandler(engine);
  // Independent deploys: pages render in the import map's generation workers (docs/deploys.md).
  const deploysConfig = options.deploys === false ? undefined : site.config.deploys;
  let deploys: Deploys | undefined;
  if (deploysConfig !== undefined) {
    const { createDeploys } = await import('./deploys/generations.ts');
    const { deploysOverrides } = await import('./deploys/overrides-endpoint.ts');
    const given = options.deploys === false ? undefined : options.deploys;
    // The overrides cookie and its page, as the config and ATOLL_OVERRIDE_SECRET say (code may replace either).
    const fromConfig = deploysOverrides({ deploys: deploysConfig, env: options.env, logger, publicOrigin: site.config.publicOrigin, root: site.root, configPath: options.configPath });
    deploys = await createDeploys({
      ...fromConfig,
      ...given,
      root: site.root,
      configPath: options.configPath,
      deploys: deploysConfig,
      logger,
      env: options.env,
      config: options.config,
      client: options.client,
      compress: options.compress,
      main: engine,
    });
  }
  if (deploys !== undefined) logWarnings(new Set(Object.keys(deploys.status().current?.elements ?? {})));
  const respond = deploys?.respond ?? ((req: CoreRequest) => handle(engine, req));
  return {
    site,
    logger,
    engine,
    deploys,
    handler: nodeHandler(engine, undefined, respond),
    fetch: (request) => fetchWith(request),
    async request(input, init, renderOptions) {
      return fetchWith(requestOf(input, init), checkRenderOptions(renderOptions));
    },
    renderMarkup: (input, markupOptions) => renderMarkup(engine, input, markupOptions),
    cache: cache.api,
    async render(target, init = {}) {
      const response = await respond({
        method: 'GET',
        target,
        headers: new Headers(init.headers),
        signal: init.signal ?? new AbortController().signal,
      });
      const body = response.body;
      const html = body.kind === 'html' ? await collect(body.result) : body.kind === 'text' ? body.text : '';
      return { status: response.status, headers: toWebHeaders(response.headers), html };
    },
  };
}

/** A running HTTP server. */
export interface RunningServer {
  server: Server;
  /** The base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** `starting` until the site is loaded, `ready`, then `draining` once closing. */
  readonly state: Readiness;
  /** Resolves with the Atoll instance once it is serving (rejects when loading failed). */
  ready: Promise<Atoll>;
  /** The Node adapter's counters (zeros before the site is loaded). */
  stats(): TransportStats & { inFlight: number };
  /**
   * Graceful shutdown: stops accepting, lets responses in flight finish for
   * up to `drainMs` (default: the site's `drainTimeout`, else 10 s), then
   * destroys what is left; idle keep-alive connections are closed.
   */
  close(options?: { drainMs?: number }): Promise<void>;
  /** What the last `close` did (responses destroyed at the drain timeout, time taken); undefined before. */
  readonly closed: CloseResult | undefined;
}

/** Options for {@link listen}. */
export interface ListenOptions extends Omit<ServerOptions, 'logger'> {
  /** Where the server's own lines go (default: the Atoll instance's logger, or JSON lines on stderr). */
  logger?: Logger;
}

const EMPTY_STATS: TransportStats = { inFlight: 0, compressing: 0, sendTimeouts: 0, bufferLimits: 0, stalledClosed: 0, headFailures: 0, bodyFailures: 0 };

/**
 * Starts Node's HTTP server for an Atoll instance. Port 0 picks a free port.
 *
 * Given a Promise (e.g. `listen(createAtoll(options))`), the server listens at
 * once and answers `503` with `Retry-After: 1` (and `/_atoll/health` with
 * `{"status":"starting"}`) until the site is loaded. If loading fails, the
 * server is closed and `ready` rejects.
 */
export async function listen(atoll: Atoll | Promise<Atoll>, options: ListenOptions = {}): Promise<RunningServer> {
  const given = atoll instanceof Promise ? undefined : atoll;
  const running = await startServer({ ...options, logger: options.logger ?? given?.logger ?? jsonLogger() });
  let loaded: Atoll | undefined;
  let closed: CloseResult | undefined;
  const ready = Promise.resolve(atoll).then(
    (a) => {
      loaded = a;
      running.ready(a.handler);
      return a;
    },
    async (e: unknown) => {
      await running.close({ drainMs: 0 });
      throw e;
    },
  );
  // The caller sees a failed load through `ready`; this keeps it from being unhandled when nobody looks.
  ready.catch(() => {});
  if (given !== undefined) await ready;
  return {
    server: running.server,
    url: running.url,
    get state() {
      return running.state;
    },
    ready,
    stats: () => ({ ...(loaded?.handler.stats() ?? EMPTY_STATS), inFlight: running.inFlight }),
    close: (closeOptions = {}) => {
      const configured = loaded?.site.config.drainTimeout;
      const drainMs = closeOptions.drainMs ?? (typeof configured === 'number' && configured >= 0 ? configured : DEFAULT_DRAIN_TIMEOUT);
      return running.close({ drainMs }).then(async (r) => {
        closed = r;
        // Every generation worker goes with the server.
        await loaded?.deploys?.close();
      });
    },
    get closed() {
      return closed;
    },
  };
}
