/**
 * The types the page renderer's modules share: a request as the core sees
 * it, what the renderer needs from its surroundings, and the names of
 * failures. No code with effects lives here.
 */
import { FALLBACK } from '../../islands/protocol.ts';
import type { Logger } from '../log.ts';
import type { RemoteFetcher } from '../remote/fetcher.ts';
import type { Site } from '../site/load.ts';
import type { RenderCacheStore } from './cache.ts';
import type { ElementWork } from './element-work.ts';
import type { MergeHeaders } from './headers.ts';
import type { RequestEnd, RequestHeaders } from '../wire.ts';

/** Default element timeout when neither the tag, the registry nor the config sets one. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** Default wait for non-primary remote elements' response headers before the head is written. */
export const DEFAULT_REMOTE_HEAD_DEADLINE_MS = 100;

/** Marks an element that the server could not render; the browser renders it. */
export const FALLBACK_ATTRIBUTE = FALLBACK;

/** Why an element was replaced by its fallback. */
export type FailurePhase = 'data' | 'fetch' | 'render' | 'timeout' | 'status';

/** A request as the core sees it: no sockets, no streams. */
export interface PageRequest {
  url: URL;
  /** The request's headers. */
  headers: RequestHeaders;
  /** Fires when the client goes away (given this or `end`). */
  signal?: AbortSignal;
  /** The same as a listener list (no AbortSignal per request). */
  end?: RequestEnd;
  /** Identifies the request in log lines. */
  requestId: string;
  /** This request's CSP nonce, when the site has a `csp` config (for every inline `<script>` and `<style>`). */
  nonce?: string;
  /** `performance.now()` when the request arrived (for the `total` Server-Timing entry). */
  started?: number;
  /** How `<atoll-head>` writes the island loader (in-process renders only; default `'inline'`). */
  loader?: LoaderEmission;
  /** A classic script written first in `<atoll-head>`, with the page's nonce (in-process renders only). */
  headScript?: string;
  /** The page's layout id when it has client navigation (set by the page renderer, see navigation.ts): `<atoll-head>` writes it. */
  layoutId?: string;
}

/**
 * How `<atoll-head>` writes the island loader: `inline` (runs as the page
 * loads), `inert` (a `<script type=INERT_LOADER_TYPE>` that a test starts),
 * `none` (no loader: server HTML only).
 */
export type LoaderEmission = 'inline' | 'inert' | 'none';

/** What the page renderer needs from its surroundings. */
export interface PageEnvironment {
  site: Site;
  logger: Logger;
  /** Markup for `<atoll-head>`, given the elements on the page. */
  head?: (elements: readonly ElementWork[], request: PageRequest) => string;
  /** `Link` values for 103 Early Hints (preloads of the page's `hydrate="load"` islands; see `earlyHints` in build/head.ts). */
  preloads?: (elements: readonly ElementWork[]) => readonly string[];
  /** The render cache (none: no caching). */
  cache?: RenderCacheStore;
  /** The operator's replacement for the default header merge. */
  mergeHeaders?: MergeHeaders;
  /** Fetches remote elements (none: a remote element falls back). */
  fetchRemote?: RemoteFetcher;
  /** The client build's identity (navigation.ts `buildIdentity`): part of every layout id, so a new build makes the router reload. */
  build?: string;
}
