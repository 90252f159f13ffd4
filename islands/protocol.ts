/**
 * The protocol between Atoll's server and the browser: every attribute,
 * selector, event name, strategy name and import-map prefix that the server
 * writes and the island loader, `embed.js` and the testing kit read — one
 * definition each, so the two sides cannot drift apart.
 *
 * Tiny and side-effect free: everything is a constant or a pure function, so
 * a bundle keeps only what it uses (the inline loader is size-budgeted).
 * No DOM types: the server imports it too.
 */

/** On a server-rendered island until the loader hydrates it (Lit's own attribute). */
export const DEFER_HYDRATION = 'defer-hydration';

/** The island's strategy attribute (see {@link parseHydrate}); it stays in the output. */
export const HYDRATE = 'hydrate';

/** `ssr="none"`: a client-only element (no server rendering). */
export const SSR = 'ssr';

/** The `<script type="application/json">` child that carries the server's `data()` for hydration. */
export const PROPS = 'data-atoll-props';

/** Selects an island's own props script (`el.querySelector(PROPS_SELECTOR)`). */
export const PROPS_SELECTOR = ':scope>script[' + PROPS + ']';

/** Marks Atoll's `<script type="importmap">` in a page. */
export const IMPORT_MAP = 'data-atoll';

/** Selects Atoll's import map. */
export const IMPORT_MAP_SELECTOR = 'script[' + IMPORT_MAP + ']';

/** Import-map prefix of element modules: `@atoll/<tag>`. */
export const SPECIFIER_PREFIX = '@atoll/';

/**
 * Set by the server on an element whose server rendering failed, with the
 * phase that failed; the element is rendered by the browser instead.
 */
export const FALLBACK = 'atoll-fallback';

/**
 * On a `<link rel="modulepreload">` that `<atoll-head>` writes for a module
 * the loader imports (evaluates) at once, while the page is still parsed:
 * the first screen's and `load` islands' element modules whose every island
 * on the page is server-rendered (docs/islands.md). Its value is the tag.
 */
export const EAGER = 'data-atoll-eager';

/** Fired (bubbling) on an island once hydrated; `detail`: `{ strategy, start, duration }`. */
export const HYDRATED_EVENT = 'atoll:hydrated';

/**
 * `type` of the island loader written inert (a page rendered with `loader: 'inert'`,
 * e.g. by the testing kit): the browser does not run it; copying its text into
 * a new `<script>` starts it.
 */
export const INERT_LOADER_TYPE = 'text/x-atoll-deferred-loader';

/**
 * Fired (bubbling, cancelable) on an island whose hydration failed;
 * `detail`: `{ strategy, error }`. Logged with `console.error` unless cancelled.
 */
export const HYDRATION_ERROR_EVENT = 'atoll:hydration-error';

/** The strategies of the `hydrate` attribute (SPEC 5). `media` takes a query: `media:(…)`. */
export const STRATEGIES = ['visible', 'load', 'idle', 'interaction', 'media', 'none'] as const;

/** A strategy name. */
export type StrategyName = (typeof STRATEGIES)[number];

/** The strategy of an island without a `hydrate` attribute. */
export const DEFAULT_STRATEGY = 'visible';

/**
 * Splits a `hydrate` value into its strategy name and argument (the text
 * after the first `:`): `media:(max-width: 600px)` → `['media', '(max-width:
 * 600px)']`. No value (or an empty one) is the default, `visible`. The name
 * is returned as written; whether it is valid is {@link isHydrateValue}'s
 * question (the browser treats an unknown name as the default).
 */
export const parseHydrate = (value: string | null | undefined): [name: string, arg: string] =>
  /([^:]*):?(.*)/s.exec(value || DEFAULT_STRATEGY)!.slice(1) as [string, string];

/**
 * True for a valid `hydrate` value: a strategy name alone, or `media:`
 * followed by a non-empty query.
 */
export const isHydrateValue = (value: string): boolean => {
  const [name, arg] = parseHydrate(value);
  return value !== '' && (STRATEGIES as readonly string[]).includes(name) && (name === 'media' ? arg !== '' : !value.includes(':'));
};

// ── Client-side navigation (SPEC 9b, docs/navigation.md) ──────────────────
// A page's microfrontend instances carry keys; the router asks for the next
// page as a navigation, listing the keys it has; the server renders every
// kept instance as an empty placeholder, and the router puts the live
// element there.

/**
 * Request header of a navigation fetch: the layout id of the page the
 * browser shows ({@link LAYOUT_ATTR}). Response header of every answer to
 * one: the id of the new page's layout, or {@link NAV_RELOAD} when it is
 * another layout (or another build of it): the router then loads the URL
 * as a document. An answer without it (a file, an error page from a proxy)
 * is also loaded as a document.
 */
export const NAV_HEADER = 'atoll-navigation';

/** The {@link NAV_HEADER} value of an answer the router must load as a document (empty body). */
export const NAV_RELOAD = 'reload';

/**
 * Request header of a navigation fetch: the keys ({@link KEY_ATTR}) of the
 * instances the browser has and can keep, separated by single spaces. The
 * server reads at most {@link MAX_KEEP} of them and ignores what it does
 * not know.
 */
export const KEEP_HEADER = 'atoll-keep';

/** How many keys of {@link KEEP_HEADER} the server reads. */
export const MAX_KEEP = 256;

/**
 * On every layout element's host in a page served with navigation on: the
 * instance key — a short hash (`[0-9a-z]{1,16}`) of the element's place in
 * its layout (tag and source position), its attributes as rendered, the
 * route parameters it sees, and the keys of the instances nested in its
 * light DOM (and the routes matched there). Same key = same instance.
 */
export const KEY_ATTR = 'atoll-key';

/**
 * On a kept instance's placeholder in a navigation answer, instead of its
 * markup: `<tag atoll-keep="key"></tag>`, nothing else inside.
 */
export const KEEP_ATTR = 'atoll-keep';

/**
 * On Atoll's import map script (`<script type="importmap" data-atoll …>`):
 * the page's layout id — its layout and the client build it was served
 * with. A page without it has no client navigation.
 */
export const LAYOUT_ATTR = 'data-atoll-layout';

/** On an `<a>` or `<form>` (or an ancestor): navigate as a document load, never in the page. */
export const RELOAD_ATTR = 'data-atoll-reload';

/** On an `<a>` or an ancestor: when to prefetch its page (`intent`, the default — resting pointer or press —, `hover` — also focus —, `visible`, `none`). */
export const PREFETCH_ATTR = 'data-atoll-prefetch';

/** Fired on `document` before a client navigation fetches (cancelable); `detail`: `{ url }`. */
export const NAVIGATE_EVENT = 'atoll:navigate';

/** Fired on `document` once a client navigation has swapped the new page in; `detail`: `{ url, kept, start }`. */
export const NAVIGATED_EVENT = 'atoll:navigated';
