/**
 * Atoll's public server API. `createAtoll` loads a site once and gives the
 * Node `(req, res)` handler, the Web `fetch` handler and a string renderer,
 * all over the same engine.
 */
// First, so that Lit's renderer picks up the fast path (render/lit-fastpath.ts).
import { fastPathInEffect } from './render/element.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatLocation } from './errors.ts';
import { fetchHandler } from './adapters/fetch.ts';
import { nodeHandler } from './adapters/node.ts';
import { handle, type Engine } from './handle.ts';
import { jsonLogger, type Logger } from './log.ts';
import { collect } from './render/chunks.ts';
import { loadSite, type LoadSiteOptions, type Site } from './site/load.ts';
import { LruStore, type RenderCacheStore } from './render/cache.ts';
import type { MergeHeaders } from './render/headers.ts';
import { prepareClient, type ClientOptions } from './build/client.ts';

export { SiteError, formatProblem, type SiteProblem } from './errors.ts';
export type { AtollConfig, ElementEntryConfig } from './site/config.ts';
export type { ElementContext, ServerHooks } from './hooks.ts';
export { jsonLogger, memoryLogger, silentLogger, type Logger } from './log.ts';
export { loadSite, type Site } from './site/load.ts';
export { FALLBACK_ATTRIBUTE } from './render/page.ts';
export { HttpSignal, httpStatus, notFound, redirect } from './signals.ts';
export { LruStore, type CacheEntry, type RenderCacheStore } from './render/cache.ts';
export { mergeHeaders, mergeCacheControl, type HeaderPart, type MergeHeaders } from './render/headers.ts';
export type { ClientOptions } from './build/client.ts';
export type { BuildOptions, BuildResult } from './build/build.ts';

/** Builds a site's client side (rollup loads only when this is called). */
export async function buildClient(
  ...args: Parameters<typeof import('./build/build.ts').buildClient>
): Promise<import('./build/build.ts').BuildResult> {
  const { buildClient: build } = await import('./build/build.ts');
  return build(...args);
}

/** Options for {@link createAtoll}. */
export interface AtollOptions extends LoadSiteOptions {
  /** Where log lines go (default: JSON lines on stderr). */
  logger?: Logger;
  /** The render cache store (default: an in-process LRU); `false` turns caching off. */
  cache?: RenderCacheStore | false;
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
  /** The handler for `http.createServer`. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** The Web handler: `fetch(Request) => Response`. */
  fetch: (request: Request) => Promise<Response>;
  /** Renders one path (with query) to a string, e.g. for static export. */
  render: (target: string, init?: { headers?: HeadersInit; signal?: AbortSignal }) => Promise<RenderedPage>;
}

/** Loads a site (throwing `SiteError` with every problem) and builds its handlers. */
export async function createAtoll(options: AtollOptions = {}): Promise<Atoll> {
  const logger = options.logger ?? jsonLogger();
  const site = await loadSite(options);
  for (const w of site.warnings) logger.warn({ at: formatLocation(w) }, w.message);
  if (!fastPathInEffect()) {
    logger.warn({}, '@lit-labs/ssr was loaded before Atoll, so Lit rendering runs without Atoll\'s fast path (about 13% slower): import atoll first');
  }
  const engine: Engine = {
    site,
    logger,
    cache: options.cache === false ? undefined : (options.cache ?? new LruStore()),
    mergeHeaders: options.mergeHeaders,
    compress: options.compress,
    ...(await prepareClient(site, options.client ?? {}, logger)),
  };
  return {
    site,
    logger,
    handler: nodeHandler(engine),
    fetch: fetchHandler(engine),
    async render(target, init = {}) {
      const response = await handle(engine, {
        method: 'GET',
        target,
        headers: new Headers(init.headers),
        signal: init.signal ?? new AbortController().signal,
      });
      const body = response.body;
      const html = body.kind === 'html' ? await collect(body.result) : body.kind === 'text' ? body.text : '';
      return { status: response.status, headers: response.headers, html };
    },
  };
}

/** A running HTTP server. */
export interface RunningServer {
  server: Server;
  /** The base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  close(): Promise<void>;
}

/** Starts Node's HTTP server for an Atoll instance. Port 0 picks a free port. */
export async function listen(atoll: Atoll, options: { port?: number; host?: string } = {}): Promise<RunningServer> {
  const server = createServer(atoll.handler);
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shownHost}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
