/**
 * The wire protocol between the browser helpers (`browser.ts`) and the
 * web-test-runner plugin (`wtr-plugin.ts`). Both sides import it; the names
 * Atoll's pages use (events, attributes) come from `islands/protocol.ts`.
 *
 * 1. The browser sends the command {@link RENDER_COMMAND} with a
 *    {@link FixtureRequest} through web-test-runner's `executeServerCommand`.
 * 2. The plugin renders it through the site's engine (the same as
 *    `atoll serve`), keeps the page, and answers a {@link FixtureResponse}.
 * 3. The browser loads `url` in an iframe. The plugin serves the page and the
 *    site's client build (`<prefix>_atoll/assets/…`) from the test server.
 */

import { HYDRATED_EVENT, HYDRATION_ERROR_EVENT, INERT_LOADER_TYPE } from '../islands/protocol.ts';

/** The server command that renders a fixture. */
export const RENDER_COMMAND = 'atoll-ssr';

/** The URL prefix the plugin named `site` serves under: `/__atoll/<site>/`. */
export const sitePrefix = (site: string): string => `/__atoll/${site}/`;

/** The site name used when a plugin or a helper is given none. */
export const DEFAULT_SITE = 'default';

/** What a fixture page should do with the island loader. */
export type LoaderMode =
  /** Run it as the page loads: islands hydrate by their strategies. */
  | 'run'
  /** Keep it inert until the test starts it (`hydrate(el)`): server HTML only. */
  | 'defer';

/** Render a markup fragment (microfrontend tags and any HTML) as a page body. */
export interface HtmlFixtureRequest {
  kind: 'html';
  site: string;
  /** The fragment, compiled like the inside of a layout's `<body>`. */
  html: string;
  /**
   * Properties by tag, used instead of the element's `data()` hook (and
   * serialized for hydration exactly like a `data()` result).
   */
  data?: Record<string, Record<string, unknown>>;
  /** The page URL the elements see in their `data()` context (default `/`). */
  url?: string;
  loader: LoaderMode;
}

/** Render a route of the site's own layouts, as `atoll serve` would answer it. */
export interface RouteFixtureRequest {
  kind: 'route';
  site: string;
  /** Path and query, e.g. `/products/p1?tab=2`. */
  path: string;
  /** Request headers (e.g. `accept-language`). */
  headers?: Record<string, string>;
  loader: LoaderMode;
}

/** A request for one fixture page. */
export type FixtureRequest = HtmlFixtureRequest | RouteFixtureRequest;

/** The plugin's answer. */
export type FixtureResponse =
  | {
      ok: true;
      /** Where the page is served on the test server. */
      url: string;
      /** The HTTP status the engine decided. */
      status: number;
    }
  | {
      ok: false;
      /** What went wrong, with the server's log lines: ready to throw. */
      error: string;
    };

/** The global the fixture page's recorder script fills (see `RECORDER_SCRIPT`). */
export interface FixtureRecorder {
  /** The outcome of every island that finished, by element. */
  results: WeakMap<Element, { type: typeof HYDRATED_EVENT | typeof HYDRATION_ERROR_EVENT; detail: { error?: unknown } }>;
  /** `console.warn`/`console.error` calls in the page, in order. */
  console: Array<{ level: 'warn' | 'error'; text: string }>;
}

/** The name of {@link FixtureRecorder} on the fixture window. */
export const RECORDER_GLOBAL = '__atollFixture';

/** `type` of the inert copy of the loader in a page rendered with `loader: 'defer'` (the engine's `loader: 'inert'`). */
export const DEFERRED_LOADER_TYPE = INERT_LOADER_TYPE;

/**
 * The first script of every fixture page: records Atoll's island events and
 * console warnings/errors from the very start, so that a helper called later
 * sees what already happened.
 */
export const RECORDER_SCRIPT = `(function () {
  var r = { results: new WeakMap(), console: [] };
  window.${RECORDER_GLOBAL} = r;
  [${JSON.stringify(HYDRATED_EVENT)}, ${JSON.stringify(HYDRATION_ERROR_EVENT)}].forEach(function (type) {
    addEventListener(type, function (e) { r.results.set(e.composedPath()[0], { type: type, detail: e.detail }); }, true);
  });
  ['warn', 'error'].forEach(function (level) {
    var original = console[level];
    console[level] = function () {
      r.console.push({ level: level, text: Array.prototype.map.call(arguments, function (a) {
        return a instanceof Error ? a.name + ': ' + a.message : String(a);
      }).join(' ') });
      return original.apply(console, arguments);
    };
  });
})();`;
