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
