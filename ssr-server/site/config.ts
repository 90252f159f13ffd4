/**
 * `atoll.config.(ts|mjs|js|json)` and the config given in code: one schema
 * (`configSchema`, valibot) defines every key's type, default, bounds and
 * message. Loaded and checked once at start-up; every problem names the file
 * (for JSON also the line and column of the offending key or value), or
 * `(createAtoll config)` for config given in code. See docs/config.md.
 *
 * Input is read once into plain data before the schema sees it
 * (`readPlainData`): a Proxy, a throwing getter, a circular structure or a
 * `__proto__` key becomes a reported problem, never a throw or a changed
 * prototype.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as v from 'valibot';
import type { ElementRendererConstructor } from '@lit-labs/ssr/lib/element-renderer.js';
import { lineCol, type ProblemList, type SourceLocation } from '../errors.ts';
import { isForbiddenAttribute } from '../hooks.ts';
import { LOG_LEVELS, type LogLevel } from '../log.ts';
import { headerValueProblem, isHeaderName, MAX_HEADER_COUNT, MAX_HEADER_VALUE_BYTES } from '../header-values.ts';
import { CACHE_BOUNDS_MS, checkDuration, TIMEOUT_BOUNDS_MS, type DurationBounds } from '../layout/attributes.ts';

/** One entry of the `elements` map: overrides or adds a microfrontend. */
export interface ElementEntryConfig {
  /** A package specifier (`@scope/pkg/el.js`) or a path relative to the site. */
  module?: string;
  /** A remote element: its fragment URL (SPEC 6). */
  url?: string;
  /** The browser module, when it is not the same as `module`. */
  client?: string;
  /** Default timeout for this element, in ms or with a unit (`2s`); 1 ms to 10 minutes. */
  timeout?: number | string;
  /** Default render-cache lifetime: seconds (`60`) or with a unit (`60s`, `5m`). */
  cache?: number | string;
  /** Server hooks module (`data`, `headers`), relative to the site. */
  server?: string;
  /**
   * A remote element's caching, declared statically (e.g. `public, max-age=60`):
   * when its response headers are not known by the head deadline, the page's
   * `Cache-Control` is merged with this instead of turning `private, no-store`.
   */
  cacheControl?: string;
  /**
   * What this element's markup varies on besides its tag, attributes and
   * data: request header names (`"accept-language"`) and single cookies
   * (`"cookie:currency"`), each among the `requestHeaders` elements may see.
   * The render-cache key then holds those request values, and output that
   * is `private` is cached too, once per variant (never `no-store` output or
   * output that sets a cookie). `[]`: the markup varies on nothing of the
   * request. See docs/caching.md.
   */
  cacheVary?: string[];
  /**
   * Server-side shims this element needs (see `ssr.shims` and
   * docs/ssr-shims.md): installed, like the site's, before any element
   * module is imported. Globals are process-wide, so they are there for
   * every element.
   */
  shims?: ShimsConfig;
  /**
   * The version of this element's code (1-128 printable characters, no
   * spaces): part of its render-cache keys, so a rendering by another
   * version is never served for this one. Map entries of independent deploys
   * (docs/deploys.md) get a digest of their server module's URL.
   */
  version?: string;
}

/**
 * Server-side shims: `true` (Atoll's built-ins `"lit"` and `"window"`),
 * `false` (none), or one or a list of entries: `"lit"` (Lit's DOM shim:
 * `HTMLElement`, `document`, `CSSStyleSheet`, …), `"window"` (`window` and
 * `self` as the global object), or a module the site provides (a path
 * relative to the site, or a package specifier) imported for its side effects.
 */
export type ShimsConfig = boolean | string | string[];

/** Server-side rendering options (see docs/config.md, docs/ssr-shims.md). */
export interface SsrConfig {
  /** Shims installed before element modules are imported (default: none). */
  shims?: ShimsConfig;
  /**
   * Whether Lit's SSR calls `connectedCallback` of elements while rendering
   * them on the server (`true`: every element; a list: those tags). Needed,
   * for instance, for `@lit/context` consumers. Default `false`.
   */
  connectedCallback?: boolean | string[];
  /**
   * How long importing one element module (or shim) may take at start-up
   * before the site is refused (ms or a duration; default 30 s).
   */
  importTimeout?: number | string;
}

/** The resolved `ssr` section: shims as a list, the timeout in ms. */
export interface ResolvedSsrConfig extends Omit<SsrConfig, 'shims' | 'importTimeout'> {
  /** Shim entries in order: `"lit"`, `"window"` or a module specifier/path. */
  shims?: string[];
  /** Import timeout in ms. */
  importTimeout?: number;
}

/** The site configuration. Every field is optional. */
export interface AtollConfig {
  /** The JSON schema of the JSON form (`./node_modules/atoll-ssr/schema/atoll.config.schema.json`): for editors; ignored by Atoll. */
  $schema?: string;
  /**
   * The client build's folder, relative to the site (default
   * `.atoll/client`): where `atoll build` writes and `atoll serve` reads.
   * `--out` on the command line wins.
   */
  outDir?: string;
  /** Path prefix → layout file (relative to `layouts/`). `/` defaults to `index.html`. */
  layouts?: Record<string, string>;
  /** Adds or overrides element registry entries. */
  elements?: Record<string, ElementEntryConfig>;
  /** Default element timeout, in ms or with a unit (`2s`); default 5000, 1 ms to 10 minutes. */
  timeout?: number | string;
  /** Request headers passed to elements (lower-case names). */
  requestHeaders?: string[];
  /** Element renderers tried in order; Lit's is always last. */
  renderers?: ElementRendererConstructor[];
  /** Largest body accepted from a remote element, in bytes (default 2 MiB). */
  maxRemoteBytes?: number;
  /** Cross-origin access to the fragment endpoint: allowed origins (`*` for any). */
  cors?: { origins: string[] };
  /** The layout's own response headers (e.g. Content-Security-Policy). */
  headers?: Record<string, string>;
  /** Port and host for `atoll serve` (the CLI and environment win). */
  port?: number;
  host?: string;
  /**
   * This server's public origin (`https://shop.example`): absolute URLs that
   * Atoll hands to other origins (the fragment endpoint's `Link` headers) are
   * made from it, never from the request's `Host`.
   */
  publicOrigin?: string;
  /** The fragment endpoint: attributes allowed besides the element's own declared ones. */
  fragment?: { attributes?: string[] };
  /**
   * How long the page head waits for non-primary remote elements' response
   * headers (ms or a duration; default 100 ms).
   */
  remoteHeadDeadline?: number | string;
  /** Content-Security-Policy with a per-request nonce (`true`: Atoll's default policy). */
  csp?: boolean | CspConfig;
  /** A response whose client takes nothing for this long is closed (ms or a duration; default 30 s). */
  sendTimeout?: number | string;
  /** Most bytes held for one slow client before the response is closed (default 4 MiB). */
  maxBufferedBytes?: number;
  /** On SIGTERM/SIGINT, how long in-flight responses may take to finish (default 10 s). */
  drainTimeout?: number | string;
  /** The least severe log lines written (default `info`). */
  logLevel?: LogLevel;
  /**
   * Client-side navigation (SPEC 9b, docs/navigation.md): element instances
   * carry keys, `<atoll-head>` the layout id, and navigation requests are
   * answered without the instances the browser keeps (default true; false:
   * none of it, and navigation request headers are ignored).
   */
  navigation?: boolean;
  /** Server-side rendering: shims, `connectedCallback`, the import timeout. */
  ssr?: SsrConfig;
  /** The render cache's store: in-process (default) or Redis shared by every instance (docs/caching.md). */
  cache?: CacheConfig;
  /**
   * Independent deploys (SPEC 9c, docs/deploys.md): element versions named
   * by a server import map, loaded and swapped without a restart.
   */
  deploys?: DeploysConfig;
}

/** Independent deploys: where the server import map is and how it is followed (docs/deploys.md). */
export interface DeploysConfig {
  /** The server import map: a file path (relative to the site) or an `http(s)` URL whose origin is in `allow`. */
  importMap: string;
  /** Origins (`https://cdn.example`) the map and server modules may be read from over `http(s)`; client modules must come from them too. */
  allow?: string[];
  /** How often the map is read again (ms or a duration; default 30 s; 0: never, only on a push). */
  pollInterval?: number | string;
  /** Where downloaded server modules are kept, relative to the site (default `.atoll/deploys`). */
  cacheDir?: string;
  /** How long a replaced generation may finish its requests before it is stopped (ms or a duration; default 30 s). */
  drainTimeout?: number | string;
  /** Per-developer overrides from a signed cookie (docs/deploys.md, "Overrides"). */
  overrides?: DeployOverridesConfig;
}

/** The `deploys.overrides` section. */
export interface DeployOverridesConfig {
  /** Whether a signed override cookie is honoured (default false; needs `ATOLL_OVERRIDE_SECRET`). */
  enabled?: boolean;
  /** Most override generations alive at once, least recently used stopped first (default 4). */
  maxGenerations?: number;
  /** How long a signed override stays valid (ms or a duration; default 8 h). */
  maxAge?: number | string;
}

/** The `deploys` section as the engine reads it: defaults filled, durations in ms. */
export interface ResolvedDeploysConfig {
  importMap: string;
  allow: string[];
  pollInterval: number;
  cacheDir: string;
  drainTimeout: number;
  overrides: { enabled: boolean; maxGenerations: number; maxAge: number };
}

/** The render cache's store (see docs/caching.md). */
export interface CacheConfig {
  /** `"memory"` (default: an in-process LRU) or `"redis"` (shared by every instance, with an in-process layer in front). */
  store?: 'memory' | 'redis';
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (required with `"redis"`; `ATOLL_REDIS_URL` in the environment wins). */
  url?: string;
  /** The start of every Redis key and of the purge channel (default `"atoll:"`). */
  prefix?: string;
  /** Part of every entry's Redis key: a new value starts with an empty cache (default: the client build's input digest). */
  version?: string;
  /** Most time one page waits on Redis reads, all together (ms or a duration; default 30 ms, at most 1 s). */
  readBudget?: number | string;
  /** Largest value stored in Redis, in bytes (default 1 MiB); larger renderings are not stored there. */
  maxValueBytes?: number;
  /** Entries of the in-process layer in front of Redis, or of the memory store (default 500 with Redis, 2000 in memory; 0: none). */
  localEntries?: number;
  /** The longest an entry stays in the in-process layer in front of Redis (ms or a duration; default 5 s). */
  localTtl?: number | string;
  /** How often the cache's counters are logged when they changed (ms or a duration; default 60 s). */
  statsInterval?: number | string;
  /** The bearer token of `POST /_atoll/cache/purge` (16–256 characters; `ATOLL_PURGE_TOKEN` in the environment wins). Without one, the endpoint answers 404. */
  purgeToken?: string;
}

/** The `cache` section as the engine reads it: durations in ms. */
export interface ResolvedCacheConfig extends Omit<CacheConfig, 'readBudget' | 'localTtl' | 'statsInterval'> {
  readBudget?: number;
  localTtl?: number;
  statsInterval?: number;
}

/** Log levels, least severe first (defined with the logger). */
export type { LogLevel };

/** Content-Security-Policy settings (see docs/security.md). */
export interface CspConfig {
  /**
   * The policy; `{nonce}` is replaced by the request's nonce. Default:
   * `script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'self' 'nonce-{nonce}'; object-src 'none'; base-uri 'none'`.
   */
  policy?: string;
  /** Send `Content-Security-Policy-Report-Only` instead. */
  reportOnly?: boolean;
}

/** An `elements` entry as the engine reads it: durations in milliseconds. */
export interface ResolvedElementEntry extends Omit<ElementEntryConfig, 'timeout' | 'cache' | 'shims'> {
  /** Shim entries in order (see {@link ResolvedSsrConfig.shims}). */
  shims?: string[];
  /** Timeout in ms. */
  timeout?: number;
  /** Render-cache lifetime in ms. */
  cache?: number;
}

/**
 * The configuration as the engine reads it (`site.config`): checked, with
 * defaults filled (see {@link CONFIG_DEFAULTS}) and every duration in
 * milliseconds. `csp: true` becomes `{}`; `csp: false` is absent.
 */
export interface ResolvedConfig
  extends Omit<AtollConfig, 'elements' | 'timeout' | 'remoteHeadDeadline' | 'csp' | 'sendTimeout' | 'drainTimeout' | 'ssr' | 'cache' | 'deploys'> {
  ssr?: ResolvedSsrConfig;
  deploys?: ResolvedDeploysConfig;
  cache?: ResolvedCacheConfig;
  elements?: Record<string, ResolvedElementEntry>;
  timeout?: number;
  remoteHeadDeadline?: number;
  csp?: CspConfig;
  sendTimeout?: number;
  drainTimeout?: number;
}

// ---------------------------------------------------------------------------
// Bounds and defaults
// ---------------------------------------------------------------------------

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A closed range of milliseconds (the layout attributes' bounds type). */
export type Bounds = DurationBounds;

/** Element timeouts (`timeout`, `elements.<tag>.timeout`): the same bounds as the `timeout` attribute. */
export const TIMEOUT_BOUNDS: Bounds = TIMEOUT_BOUNDS_MS;
/** Render-cache lifetimes (`elements.<tag>.cache`): the same bounds as the `cache` attribute. */
export const CACHE_BOUNDS: Bounds = CACHE_BOUNDS_MS;
export const REMOTE_HEAD_DEADLINE_BOUNDS: Bounds = { min: 1, max: 60 * SECOND };
export const SEND_TIMEOUT_BOUNDS: Bounds = { min: SECOND, max: 10 * MINUTE };
export const DRAIN_TIMEOUT_BOUNDS: Bounds = { min: 0, max: 10 * MINUTE };
/** `ssr.importTimeout`. */
export const IMPORT_TIMEOUT_BOUNDS: Bounds = { min: 1, max: 10 * MINUTE };
/** How long one element module (or shim) may take to import when `ssr.importTimeout` is not set. */
export const DEFAULT_IMPORT_TIMEOUT = 30 * SECOND;
/** The shims Atoll provides by name (anything else in `shims` is a module). */
export const BUILTIN_SHIMS = ['lit', 'window'] as const;
/** `cache.readBudget`. */
export const CACHE_READ_BUDGET_BOUNDS: Bounds = { min: 1, max: SECOND };
/** `cache.localTtl`. */
export const CACHE_LOCAL_TTL_BOUNDS: Bounds = { min: 1, max: 10 * MINUTE };
/** `cache.statsInterval`. */
export const CACHE_STATS_INTERVAL_BOUNDS: Bounds = { min: SECOND, max: 60 * MINUTE };
/** `cache.maxValueBytes`. */
export const CACHE_VALUE_BOUNDS: Bounds = { min: 1024, max: 64 * MiB };
/** `maxRemoteBytes` and `maxBufferedBytes`. */
export const BYTES_BOUNDS: Bounds = { min: 1, max: GiB };
/** `deploys.pollInterval` (0 turns polling off; else at least 1 s). */
export const DEPLOY_POLL_BOUNDS: Bounds = { min: 0, max: 24 * 60 * MINUTE };
/** `deploys.drainTimeout`. */
export const DEPLOY_DRAIN_BOUNDS: Bounds = { min: SECOND, max: 60 * MINUTE };
/** `deploys.overrides.maxAge`. */
export const DEPLOY_OVERRIDE_AGE_BOUNDS: Bounds = { min: MINUTE, max: 7 * 24 * 60 * MINUTE };
/** `deploys.overrides.maxGenerations`. */
export const DEPLOY_OVERRIDE_GENERATIONS_MAX = 32;
/** `deploys.allow`: most origins. */
export const DEPLOY_ALLOW_MAX = 64;
/** The defaults of the `deploys` section. */
export const DEPLOY_DEFAULTS = {
  pollInterval: 30 * SECOND,
  cacheDir: '.atoll/deploys',
  drainTimeout: 30 * SECOND,
  overrides: { enabled: false, maxGenerations: 4, maxAge: 8 * 60 * MINUTE },
} as const;

/** The values a resolved config has when the site does not set them. */
export const CONFIG_DEFAULTS = {
  timeout: 5000,
  requestHeaders: ['accept-language', 'user-agent'],
  maxRemoteBytes: 2 * MiB,
  remoteHeadDeadline: 100,
  sendTimeout: 30 * SECOND,
  maxBufferedBytes: 4 * MiB,
  drainTimeout: 10 * SECOND,
  logLevel: 'info',
} as const satisfies ResolvedConfig;

/** Where problems in config given to `createAtoll({ config })` are reported. */
export const CODE_CONFIG_LOCATION = '(createAtoll config)';


/** Headers that framing owns: never from config. */
const FRAMING_HEADERS = new Set(['connection', 'transfer-encoding', 'content-length', 'keep-alive', 'trailer', 'upgrade']);
const TAG_RE = /^[a-z][a-z0-9._]*-[a-z0-9._-]*$/;
const ATTRIBUTE_RE = /^[a-z][a-z0-9_.-]*$/;
/** Attributes that take a URL (a `javascript:` one runs script): never allowed through the fragment endpoint by name. */
const URL_ATTRIBUTES = new Set(['href', 'src', 'srcset', 'action', 'formaction', 'data', 'poster', 'background', 'ping', 'codebase', 'cite', 'manifest']);

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

/** A string as messages show it: quoted, short, and printable ASCII only. */
export function quote(s: string, max = 60): string {
  const q = JSON.stringify(s.slice(0, max)).replace(/[^\x20-\x7e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  return s.length > max ? q.slice(0, -1) + '…"' : q;
}

/** Any value, described for a message without running its code. */
function describe(x: unknown): string {
  switch (typeof x) {
    case 'string':
      return quote(x);
    case 'number':
    case 'boolean':
      return String(x);
    case 'bigint':
      return `${x}n`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      return x === null ? 'null' : Array.isArray(x) ? 'an array' : 'an object';
  }
}

const mustBe = (what: string) => (issue: { input: unknown }) => `must be ${what}, not ${describe(issue.input)}`;

function formatBytes(n: number): string {
  if (n >= GiB && n % GiB === 0) return `${n / GiB} GiB`;
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  return `${n} bytes`;
}

// ---------------------------------------------------------------------------
// JSON Schema forms
// ---------------------------------------------------------------------------

/** A JSON Schema (draft-07) fragment. */
export type JsonSchemaFragment = Record<string, unknown>;
/**
 * How a check that valibot's JSON Schema converter cannot read (a `custom`
 * schema, a `lazy` one) is written in JSON Schema: a fragment, or one made
 * with `convert` from schemas the converter can read.
 */
export type JsonForm = JsonSchemaFragment | ((convert: (schema: v.GenericSchema) => JsonSchemaFragment) => JsonSchemaFragment);
/**
 * The JSON forms of the custom checks in {@link configSchema}, by schema
 * object: `scripts/config-schema.ts` hands them to @valibot/to-json-schema,
 * which writes `schema/atoll.config.schema.json` from the one schema. A
 * custom check without a form makes that script fail.
 */
export const JSON_FORMS = new WeakMap<object, JsonForm>();

/** `schema` (a custom or lazy schema, or a pipe that starts with one) with its JSON form. */
function jsonAs<T extends object>(schema: T, form: JsonForm): T {
  const target = 'pipe' in schema ? (schema as unknown as { pipe: object[] }).pipe[0]! : schema;
  JSON_FORMS.set(target, form);
  return schema;
}

const NON_EMPTY = { type: 'string', minLength: 1 } as const;

// ---------------------------------------------------------------------------
// Field schemas
// ---------------------------------------------------------------------------

type Result<T> = { ok: T } | { problem: string };

/**
 * A field that accepts values `accepts` allows (else "must be <what>") and
 * converts them, possibly with a problem. Keeps messages in one place.
 */
function field<TIn, TOut>(accepts: (x: unknown) => x is TIn, what: string, convert: (x: TIn) => Result<TOut>) {
  return v.pipe(
    v.custom<TIn>(accepts, mustBe(what)),
    v.rawTransform<TIn, TOut>(({ dataset, addIssue, NEVER }) => {
      const r = convert(dataset.value);
      if ('problem' in r) {
        addIssue({ message: r.problem });
        return NEVER;
      }
      return r.ok;
    }),
  );
}

const isString = (x: unknown): x is string => typeof x === 'string';
const isNumber = (x: unknown): x is number => typeof x === 'number';
const isBoolean = (x: unknown): x is boolean => typeof x === 'boolean';
const isDurationInput = (x: unknown): x is number | string => typeof x === 'number' || typeof x === 'string';
const isFunction = (x: unknown): x is ElementRendererConstructor => typeof x === 'function';

/**
 * Reads a duration (a number in `bareUnit`, or a string with a unit) into ms
 * within `bounds`, with the layout attributes' parser and messages.
 */
export function checkDurationValue(value: number | string, bounds: Bounds, bareUnit: 'ms' | 's' = 'ms'): Result<number> {
  const r = checkDuration(value, bounds, bareUnit);
  if ('ms' in r) return { ok: r.ms };
  const subject = typeof value === 'number' && !r.error.startsWith('is not') ? `${describe(value)} ${bareUnit}` : describe(value);
  return { problem: `${subject} ${r.error}` };
}

const duration = (bounds: Bounds, bareUnit: 'ms' | 's' = 'ms') =>
  jsonAs(field(isDurationInput, bareUnit === 'ms' ? 'a number of milliseconds or a duration string such as "2s"' : 'a number of seconds or a duration string such as "60s"', (x) =>
    checkDurationValue(x, bounds, bareUnit),
  ), {
    anyOf: [
      { type: 'number', minimum: bareUnit === 'ms' ? bounds.min : bounds.min / 1000, maximum: bareUnit === 'ms' ? bounds.max : bounds.max / 1000 },
      { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)?\\s*$' },
    ],
    description: bareUnit === 'ms' ? 'milliseconds, or a duration such as "2s", "500ms", "5m"' : 'seconds, or a duration such as "60s", "5m"',
  });

const byteSize = (bounds: Bounds) =>
  jsonAs(field(isNumber, 'a number of bytes', (n): Result<number> =>
    Number.isInteger(n) && n >= bounds.min && n <= bounds.max
      ? { ok: n }
      : { problem: `${describe(n)} is not a whole number of bytes from ${bounds.min} to ${formatBytes(bounds.max)} (${bounds.max})` },
  ), { type: 'integer', minimum: bounds.min, maximum: bounds.max });

/** Why `value` cannot be a header value from config, or undefined. */
function configHeaderValueProblem(value: string): string | undefined {
  const p = headerValueProblem(value);
  if (p !== undefined) return `the value ${p}: use printable ASCII on one line, without control characters`;
  if (value.length > MAX_HEADER_VALUE_BYTES) return `the value is ${value.length} characters long: at most ${MAX_HEADER_VALUE_BYTES}`;
  return undefined;
}

const headerValue = jsonAs(field(isString, 'a string', (s): Result<string> => {
  const p = configHeaderValueProblem(s);
  return p === undefined ? { ok: s } : { problem: p };
}), { type: 'string', maxLength: MAX_HEADER_VALUE_BYTES });

const headerName = (lowerCase: boolean) =>
  jsonAs(field(isString, 'a header name', (s): Result<string> =>
    isHeaderName(s)
      ? { ok: lowerCase ? s.toLowerCase() : s }
      : { problem: `${quote(s)} is not a valid header name: use letters, digits and !#$%&'*+-.^_\`|~ only` },
  ), { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" });

/** Checks that `s` is exactly an http(s) origin such as `https://a.example:8443`. */
export function originProblem(s: string): string | undefined {
  const example = 'such as "https://shop.example" or "http://127.0.0.1:8080" (scheme, host and optional port; no path)';
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return `${quote(s)} is not an origin ${example}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${quote(s)} is not an http(s) origin ${example}`;
  if (url.origin !== s) {
    const clean = url.username === '' && url.password === '' && url.search === '' && url.hash === '' && (url.pathname === '/' || url.pathname === '');
    return clean
      ? `${quote(s)} is not written as an origin: write ${quote(url.origin)}`
      : `${quote(s)} is not an origin ${example}`;
  }
  return undefined;
}

const origin = (allowAny: boolean) =>
  jsonAs(field(isString, allowAny ? 'an origin or "*"' : 'an origin', (s): Result<string> => {
    if (allowAny && s === '*') return { ok: s };
    const p = originProblem(s);
    return p === undefined ? { ok: s } : { problem: allowAny ? `${p}, or "*" for any origin` : p };
  }), { type: 'string', pattern: allowAny ? '^(\\*|https?://[^/?#]+)$' : '^https?://[^/?#]+$' });

/** Why `name` may not be allowed through the fragment endpoint, or undefined. */
export function fragmentAttributeProblem(name: string): string | undefined {
  if (!ATTRIBUTE_RE.test(name)) {
    const lower = name.toLowerCase();
    return lower !== name && ATTRIBUTE_RE.test(lower)
      ? `${quote(name)}: attribute names are matched in lower case: write ${quote(lower)}`
      : `${quote(name)} is not an attribute name: use lower-case letters, digits, "-", "_" and "."`;
  }
  if (name.startsWith('on')) return `${quote(name)} is an event-handler attribute, which runs script: it can never be allowed`;
  if (name === 'style') return '"style" lets a request restyle, hide or overlay the page (and leak data through CSS): it can never be allowed';
  if (name === 'srcdoc') return '"srcdoc" holds a whole HTML document, scripts included: it can never be allowed';
  if (name === 'is') return '"is" changes which element the host becomes: it can never be allowed';
  if (name === 'autofocus') return '"autofocus" makes a focus handler fire without a click: it can never be allowed';
  if (name.startsWith('xmlns')) return `${quote(name)} changes how the markup is parsed: it can never be allowed`;
  if (URL_ATTRIBUTES.has(name)) return `${quote(name)} takes a URL, which may be javascript:…: it can never be allowed`;
  // Whatever else the fragment endpoint itself never lets through.
  if (isForbiddenAttribute(name)) return `${quote(name)} is a script or style sink on a host element: it can never be allowed`;
  return undefined;
}

const fragmentAttribute = jsonAs(field(isString, 'an attribute name', (s): Result<string> => {
  const p = fragmentAttributeProblem(s);
  return p === undefined ? { ok: s } : { problem: p };
}), { type: 'string', pattern: ATTRIBUTE_RE.source });

const nonEmptyString = (what: string) =>
  jsonAs(field(isString, what, (s): Result<string> => (s.trim() === '' ? { problem: `must be ${what}, not an empty string` } : { ok: s })), NON_EMPTY);

// eslint-disable-next-line no-control-regex
const UNSAFE_URL_CHARS = /[\s\x00-\x1f\x7f<>"'`\\]/;
const unsafeUrlProblem = (s: string): string =>
  `${quote(s)} contains a space, control character, quote, "<", ">" or backslash: percent-encode it (these would break the headers and markup the URL is written into)`;

const httpUrl = jsonAs(field(isString, 'an absolute http(s) URL', (s): Result<string> => {
  if (UNSAFE_URL_CHARS.test(s)) return { problem: unsafeUrlProblem(s) };
  try {
    const u = new URL(s);
    if (u.protocol === 'http:' || u.protocol === 'https:') return { ok: s };
  } catch {
    // reported below
  }
  return { problem: `${quote(s)} is not an absolute http(s) URL such as "https://reviews.example/_atoll/fragment/shop-reviews"` };
}), { type: 'string', pattern: '^https?://' });

/** The browser module: an absolute http(s) URL, or a path or package specifier. */
const clientModule = jsonAs(field(isString, 'a URL, a path or a package specifier', (s): Result<string> => {
  if (s.trim() === '') return { problem: 'must be a URL, a path or a package specifier, not an empty string' };
  if (UNSAFE_URL_CHARS.test(s)) return { problem: unsafeUrlProblem(s) };
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s) && !/^https?:\/\//.test(s)) {
    return { problem: `${quote(s)} is neither an http(s) URL nor a path or package specifier` };
  }
  if (/^https?:\/\//.test(s) && !URL.canParse(s)) return { problem: `${quote(s)} is not a valid URL` };
  return { ok: s };
}), NON_EMPTY);

const host = jsonAs(field(isString, 'a host name or address', (s): Result<string> =>
  // eslint-disable-next-line no-control-regex
  s === '' || s.length > 253 || /[\s\x00-\x1f\x7f/]/.test(s) ? { problem: `${quote(s)} is not a host name or address such as "127.0.0.1" or "0.0.0.0"` } : { ok: s },
), { type: 'string', minLength: 1, maxLength: 253 });

const port = jsonAs(field(isNumber, 'a port number', (n): Result<number> =>
  Number.isInteger(n) && n >= 0 && n <= 65535 ? { ok: n } : { problem: `${describe(n)} is not a port: use an integer from 0 to 65535` },
), { type: 'integer', minimum: 0, maximum: 65535 });

const logLevel = jsonAs(field((x: unknown): x is LogLevel => typeof x === 'string', 'a log level', (s): Result<LogLevel> =>
  LOG_LEVELS.includes(s) ? { ok: s } : { problem: `${quote(s)} is not a log level: use one of ${LOG_LEVELS.join(', ')}` },
), { enum: [...LOG_LEVELS] });

const layoutPrefix = jsonAs(field(isString, 'a path prefix', (s): Result<string> =>
  s.startsWith('/') ? { ok: s } : { problem: `the prefix ${quote(s)} must start with "/"` },
), { type: 'string', pattern: '^/' });

const tagName = jsonAs(field(isString, 'a tag name', (s): Result<string> =>
  TAG_RE.test(s) ? { ok: s } : { problem: `${quote(s)} is not a valid custom element name (lower case, with a hyphen)` },
), { type: 'string', pattern: TAG_RE.source });

/**
 * An object with exactly `entries`: each unknown key is its own problem that
 * lists the known keys (from the same definition).
 */
function strict<const TEntries extends v.ObjectEntries>(entries: TEntries, what: string): v.ObjectSchema<TEntries, undefined> {
  // Typed as a plain object schema: the rest is `never`, so the input and
  // output types are exactly the entries (without a `never` index signature).
  return v.objectWithRest(entries, v.never(`known: ${Object.keys(entries).join(', ')}`), mustBe(what)) as unknown as v.ObjectSchema<TEntries, undefined>;
}

/** Two names that differ only in case, or undefined. */
function sameNames(names: readonly string[]): [string, string] | undefined {
  const seen = new Map<string, string>();
  for (const n of names) {
    const first = seen.get(n.toLowerCase());
    if (first !== undefined) return [first, n];
    seen.set(n.toLowerCase(), n);
  }
  return undefined;
}

/** An object (not an array) of `key` → `value`. */
function recordOf<const TKey extends v.GenericSchema<string, string>, const TValue extends v.GenericSchema>(key: TKey, value: TValue, what: string) {
  const message = mustBe(what);
  return jsonAs(
    v.pipe(v.custom<v.InferInput<v.RecordSchema<TKey, TValue, undefined>>>(isRecord, message), v.record(key, value, message)),
    (convert) => ({ type: 'object', propertyNames: convert(key), additionalProperties: convert(value) }),
  );
}

const SHIMS_WHAT = 'true, false, "lit", "window", a module path or specifier, or a list of them';
const shimEntry = jsonAs(field(isString, '"lit", "window", a module path or a package specifier', (s): Result<string> => {
  if (s.trim() === '') return { problem: 'must be "lit", "window", a module path or a package specifier, not an empty string' };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(s)) return { problem: `${quote(s)} contains a control character` };
  return { ok: s };
}), NON_EMPTY);
/** `shims`: `true` is Atoll's built-ins; a single entry becomes a list of one. */
const shimsSchema = jsonAs(v.pipe(
  v.custom<ShimsConfig>((x) => typeof x === 'boolean' || typeof x === 'string' || Array.isArray(x), mustBe(SHIMS_WHAT)),
  v.transform((x): unknown[] => (x === true ? [...BUILTIN_SHIMS] : x === false ? [] : typeof x === 'string' ? [x] : (x as unknown[]))),
  v.array(shimEntry, mustBe(SHIMS_WHAT)),
), { anyOf: [{ type: 'boolean' }, NON_EMPTY, { type: 'array', items: NON_EMPTY }] });

const tagList = v.array(tagName);
const connectedFlag = jsonAs(v.custom<boolean>(isBoolean, mustBe('true, false or a list of tag names')), { type: 'boolean' });
const ssrEntries = strict(
    {
      shims: v.optional(shimsSchema),
      connectedCallback: v.optional(
        jsonAs(
          v.lazy((x): v.GenericSchema<boolean | string[], boolean | string[]> =>
            Array.isArray(x) ? tagList : connectedFlag,
          ),
          (convert) => ({ anyOf: [{ type: 'boolean' }, convert(tagList)] }),
        ),
      ),
      importTimeout: v.optional(duration(IMPORT_TIMEOUT_BOUNDS)),
    },
    'an object such as { "shims": true }',
  );
const ssrSchema = v.pipe(jsonAs(v.custom<SsrConfig>(isRecord, mustBe('an object such as { "shims": true }')), (convert) => convert(ssrEntries)), ssrEntries);

/** Most entries in one `cacheVary` list. */
export const MAX_CACHE_VARY = 16;
const COOKIE_PREFIX = 'cookie:';
/** Why `s` is not a `cacheVary` entry, or undefined. */
export function cacheVaryProblem(s: string): string | undefined {
  if (s.toLowerCase().startsWith(COOKIE_PREFIX)) {
    const name = s.slice(COOKIE_PREFIX.length);
    return isHeaderName(name) ? undefined : `${quote(s)}: ${quote(name)} is not a cookie name (letters, digits and !#$%&'*+-.^_\`|~ only)`;
  }
  return isHeaderName(s) ? undefined : `${quote(s)} is neither a request header name nor "cookie:<name>"`;
}
const cacheVaryEntry = jsonAs(field(isString, 'a request header name or "cookie:<name>"', (s): Result<string> => {
  const p = cacheVaryProblem(s);
  if (p !== undefined) return { problem: p };
  // Header names are matched in lower case; a cookie's name keeps its case (cookie names are case-sensitive, though Atoll matches any case).
  return { ok: s.toLowerCase().startsWith(COOKIE_PREFIX) ? `${COOKIE_PREFIX}${s.slice(COOKIE_PREFIX.length)}` : s.toLowerCase() };
}), { type: 'string', pattern: "^([Cc][Oo][Oo][Kk][Ii][Ee]:)?[!#$%&'*+.^_`|~0-9A-Za-z-]+$" });
const cacheVarySchema = v.pipe(
  v.array(cacheVaryEntry, mustBe('an array such as ["accept-language", "cookie:currency"]')),
  v.maxLength(MAX_CACHE_VARY, `must have at most ${MAX_CACHE_VARY} entries`),
  v.check((list) => new Set(list).size === list.length, 'names the same header or cookie twice: keep one'),
);

const elementEntrySchema = v.pipe(
  strict(
    {
      module: v.optional(nonEmptyString('a package specifier or a path')),
      url: v.optional(httpUrl),
      client: v.optional(clientModule),
      timeout: v.optional(duration(TIMEOUT_BOUNDS)),
      cache: v.optional(duration(CACHE_BOUNDS, 's')),
      server: v.optional(nonEmptyString('a path')),
      cacheControl: v.optional(headerValue),
      cacheVary: v.optional(cacheVarySchema),
      shims: v.optional(shimsSchema),
      version: v.optional(jsonAs(field(isString, 'a version string', (s): Result<string> =>
        /^[\x21-\x7e]{1,128}$/.test(s) ? { ok: s } : { problem: `${quote(s)} is not a version: 1-128 printable characters without spaces (e.g. "2.4.1" or a content hash)` },
      ), { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' })),
    },
    'an object such as { "module": "…" } or { "url": "…" }',
  ),
  v.check((e) => e.module === undefined || e.url === undefined, 'give "module" or "url", not both'),
  v.check((e) => e.url === undefined || e.cacheVary === undefined, '"cacheVary" is for the render cache, which only module elements use: remove it from a remote ("url") element'),
);

/** Why `s` is not a Redis URL Atoll reads (`redis://` or `rediss://`, host, optional port and database number), or undefined. */
export const redisUrlProblem = (s: string): string | undefined => {
  const example = 'such as "redis://127.0.0.1:6379" or "rediss://user:password@cache.internal:6380/2"';
  if (UNSAFE_URL_CHARS.test(s)) return unsafeUrlProblem(s);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return `${quote(s)} is not a Redis URL ${example}`;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return `${quote(s)} is not a redis:// or rediss:// URL ${example}`;
  if (u.hostname === '') return `${quote(s)} has no host: write one ${example}`;
  if (!/^(\/\d{0,5})?$/.test(u.pathname)) return `${quote(s)}: the path must be a database number ("/0"), ${example}`;
  if (u.search !== '' || u.hash !== '') return `${quote(s)} has a query or fragment, which Atoll does not read: remove it`;
  return undefined;
};
/** Why `s` cannot be the purge endpoint's token, or undefined (never shows the token). */
export function purgeTokenProblem(s: string): string | undefined {
  if (/^[\x21-\x7e]{16,256}$/.test(s)) return undefined;
  return `the token must be 16-256 printable characters without spaces (it is ${s.length} characters long${/[^\x21-\x7e]/.test(s) ? ' and has a space or control character' : ''})`;
}
const cacheEntries = strict(
  {
    store: v.optional(
      jsonAs(field((x: unknown): x is 'memory' | 'redis' => typeof x === 'string', '"memory" or "redis"', (s): Result<'memory' | 'redis'> =>
        s === 'memory' || s === 'redis' ? { ok: s } : { problem: `${quote(s)} is not a store: use "memory" or "redis"` },
      ), { enum: ['memory', 'redis'] }),
    ),
    url: v.optional(jsonAs(field(isString, 'a Redis URL', (s): Result<string> => {
      const p = redisUrlProblem(s);
      return p === undefined ? { ok: s } : { problem: p };
    }), { type: 'string', pattern: '^rediss?://' })),
    prefix: v.optional(jsonAs(field(isString, 'a key prefix', (s): Result<string> =>
      /^[A-Za-z0-9._:{}-]{1,64}$/.test(s) ? { ok: s } : { problem: `${quote(s)} is not a key prefix: 1-64 letters, digits and ._:{}- (e.g. "shop:")` },
    ), { type: 'string', pattern: '^[A-Za-z0-9._:{}-]{1,64}$' })),
    version: v.optional(jsonAs(field(isString, 'a version string', (s): Result<string> =>
      /^[A-Za-z0-9._-]{1,64}$/.test(s) ? { ok: s } : { problem: `${quote(s)} is not a version: 1-64 letters, digits and ._- (e.g. a release or commit)` },
    ), { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' })),
    readBudget: v.optional(duration(CACHE_READ_BUDGET_BOUNDS)),
    maxValueBytes: v.optional(byteSize(CACHE_VALUE_BOUNDS)),
    localEntries: v.optional(jsonAs(field(isNumber, 'a number of entries', (n): Result<number> =>
      Number.isInteger(n) && n >= 0 && n <= 1_000_000 ? { ok: n } : { problem: `${describe(n)} is not a number of entries from 0 to 1000000` },
    ), { type: 'integer', minimum: 0, maximum: 1_000_000 })),
    localTtl: v.optional(duration(CACHE_LOCAL_TTL_BOUNDS)),
    statsInterval: v.optional(duration(CACHE_STATS_INTERVAL_BOUNDS)),
    purgeToken: v.optional(jsonAs(field(isString, 'a token string', (s): Result<string> => {
      const p = purgeTokenProblem(s);
      return p === undefined ? { ok: s } : { problem: `${p}; better, set ATOLL_PURGE_TOKEN in the environment` };
    }), { type: 'string', minLength: 16, maxLength: 256 })),
  },
  'an object such as { "store": "redis", "url": "redis://127.0.0.1:6379" }',
);
const cacheSchema = v.pipe(
  jsonAs(v.custom<CacheConfig>(isRecord, mustBe('an object such as { "store": "redis", "url": "redis://127.0.0.1:6379" }')), (convert) => convert(cacheEntries)),
  cacheEntries,
  v.check((c) => c.store !== 'redis' || c.url !== undefined, 'the "redis" store needs a "url" such as "redis://127.0.0.1:6379"'),
  v.check(
    (c) => c.store === 'redis' || (c.url === undefined && c.prefix === undefined && c.version === undefined && c.readBudget === undefined && c.maxValueBytes === undefined && c.localTtl === undefined),
    'url, prefix, version, readBudget, maxValueBytes and localTtl are for the shared store: add "store": "redis" or remove them',
  ),
);

const cspObject = strict(
  {
    policy: v.optional(
      jsonAs(field(isString, 'a policy string', (s): Result<string> => {
        if (s.trim() === '') return { problem: 'must be a policy such as "script-src \'nonce-{nonce}\'", not an empty string' };
        const p = configHeaderValueProblem(s);
        return p === undefined ? { ok: s } : { problem: p };
      }), NON_EMPTY),
    ),
    reportOnly: v.optional(jsonAs(v.custom<boolean>(isBoolean, mustBe('true or false')), { type: 'boolean' })),
  },
  'true, false or { "policy": "…", "reportOnly": true }',
);
const cspSchema = v.pipe(
  jsonAs(
    v.custom<boolean | CspConfig>((x) => typeof x === 'boolean' || isRecord(x), mustBe('true, false or { "policy": "…", "reportOnly": true }')),
    (convert) => ({ anyOf: [{ type: 'boolean' }, convert(cspObject)] }),
  ),
  v.transform((x) => (x === true ? {} : x === false ? undefined : x)),
  v.optional(cspObject),
);

/** `deploys.importMap`: a path relative to the site, or an http(s) URL. */
const importMapLocation = jsonAs(field(isString, 'a file path or an http(s) URL', (s): Result<string> => {
  if (s.trim() === '') return { problem: 'must be a file path (relative to the site) or an http(s) URL, not an empty string' };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(s)) return { problem: `${quote(s)} contains a control character` };
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(s)) {
    if (!/^https?:\/\//i.test(s)) return { problem: `${quote(s)} is neither a file path nor an http(s) URL (write a path relative to the site, e.g. "import-map.json")` };
    if (UNSAFE_URL_CHARS.test(s) || !URL.canParse(s)) return { problem: `${quote(s)} is not a valid http(s) URL` };
    const u = new URL(s);
    if (u.username !== '' || u.password !== '') return { problem: `${quote(s)} has a user name or password: Atoll never sends credentials in a URL` };
  }
  return { ok: s };
}), NON_EMPTY);

/** A duration that is 0 (off) or at least 1 s. */
const pollDuration = v.pipe(
  duration(DEPLOY_POLL_BOUNDS),
  v.check((ms) => ms === 0 || ms >= SECOND, (i) => `${describe(i.input)} ms is too often: use 0 (no polling, only pushes) or a duration from 1s to 24h`),
);

const deployOverridesEntries = strict(
  {
    enabled: v.optional(jsonAs(v.custom<boolean>(isBoolean, mustBe('true or false')), { type: 'boolean' }), DEPLOY_DEFAULTS.overrides.enabled),
    maxGenerations: v.optional(jsonAs(field(isNumber, 'a number of generations', (n): Result<number> =>
      Number.isInteger(n) && n >= 1 && n <= DEPLOY_OVERRIDE_GENERATIONS_MAX
        ? { ok: n }
        : { problem: `${describe(n)} is not a number of generations from 1 to ${DEPLOY_OVERRIDE_GENERATIONS_MAX} (each is a worker thread with its own copy of the site)` },
    ), { type: 'integer', minimum: 1, maximum: DEPLOY_OVERRIDE_GENERATIONS_MAX }), DEPLOY_DEFAULTS.overrides.maxGenerations),
    maxAge: v.optional(duration(DEPLOY_OVERRIDE_AGE_BOUNDS), DEPLOY_DEFAULTS.overrides.maxAge),
  },
  'an object such as { "enabled": true }',
);

const deployEntries = strict(
  {
    importMap: importMapLocation,
    allow: v.optional(
      v.pipe(
        v.array(origin(false), mustBe('an array of origins, e.g. ["https://cdn.example"]')),
        v.maxLength(DEPLOY_ALLOW_MAX, `must have at most ${DEPLOY_ALLOW_MAX} origins`),
        v.check((list) => new Set(list).size === list.length, 'names the same origin twice: keep one'),
      ),
      () => [],
    ),
    pollInterval: v.optional(pollDuration, DEPLOY_DEFAULTS.pollInterval),
    cacheDir: v.optional(nonEmptyString('a folder path'), DEPLOY_DEFAULTS.cacheDir),
    drainTimeout: v.optional(duration(DEPLOY_DRAIN_BOUNDS), DEPLOY_DEFAULTS.drainTimeout),
    overrides: v.optional(
      v.pipe(jsonAs(v.custom<DeployOverridesConfig>(isRecord, mustBe('an object such as { "enabled": true }')), (convert) => convert(deployOverridesEntries)), deployOverridesEntries),
      () => ({ ...DEPLOY_DEFAULTS.overrides }),
    ),
  },
  'an object such as { "importMap": "https://cdn.example/import-map.json", "allow": ["https://cdn.example"] }',
);
const deploysSchema = v.pipe(
  jsonAs(
    v.custom<DeploysConfig>(isRecord, mustBe('an object such as { "importMap": "https://cdn.example/import-map.json", "allow": ["https://cdn.example"] }')),
    (convert) => convert(deployEntries),
  ),
  deployEntries,
  v.forward(
    v.check(
      (d) => !/^https?:\/\//i.test(d.importMap) || d.allow.includes(new URL(d.importMap).origin),
      (i) => {
        const d = i.input as { importMap: string; allow: string[] };
        return `the origin ${quote(new URL(d.importMap).origin)} is not in deploys.allow (now ${JSON.stringify(d.allow)}): add it there`;
      },
    ),
    ['importMap'],
  ),
);

/** The whole configuration: types, defaults, bounds and messages. */
export const configSchema = strict(
  {
    $schema: v.optional(jsonAs(v.custom<string>(isString, mustBe('a string (the JSON schema\'s URL or path)')), { type: 'string' })),
    layouts: v.optional(recordOf(layoutPrefix, nonEmptyString('a layout file name'), 'an object of path prefix → layout file, e.g. { "/admin": "admin.html" }')),
    elements: v.optional(recordOf(tagName, elementEntrySchema, 'an object of tag name → entry')),
    timeout: v.optional(duration(TIMEOUT_BOUNDS), CONFIG_DEFAULTS.timeout),
    requestHeaders: v.optional(v.array(headerName(true), mustBe('an array of header names')), () => [...CONFIG_DEFAULTS.requestHeaders]),
    renderers: v.optional(
      v.array(
        jsonAs(v.custom<ElementRendererConstructor>(isFunction, mustBe('an ElementRenderer class')), {
          not: {},
          description: 'ElementRenderer classes: only in atoll.config.ts or .mjs',
        }),
        mustBe('an array of ElementRenderer classes'),
      ),
    ),
    maxRemoteBytes: v.optional(byteSize(BYTES_BOUNDS), CONFIG_DEFAULTS.maxRemoteBytes),
    cors: v.optional(
      strict(
        { origins: v.array(origin(true), mustBe('an array of origins, e.g. ["https://shop.example"] ("*" allows any)')) },
        'an object such as { "origins": ["https://shop.example"] }',
      ),
    ),
    headers: v.optional(
      v.pipe(
        recordOf(
          v.pipe(
            headerName(false),
            v.check((n) => !FRAMING_HEADERS.has(n.toLowerCase()), (i) => `${quote(String(i.input))} is set by Atoll for each response: remove it`),
          ),
          headerValue,
          'an object of header name → value, e.g. { "x-frame-options": "DENY" }',
        ),
        v.check((h) => Object.keys(h).length <= MAX_HEADER_COUNT, `must have at most ${MAX_HEADER_COUNT} headers`),
        v.check(
          (h) => sameNames(Object.keys(h)) === undefined,
          (i) => `${sameNames(Object.keys(i.input))!.map((n) => quote(n)).join(' and ')} are the same header (names are case-insensitive): keep one`,
        ),
      ),
    ),
    port: v.optional(port),
    host: v.optional(host),
    publicOrigin: v.optional(origin(false)),
    fragment: v.optional(
      strict(
        { attributes: v.optional(v.array(fragmentAttribute, mustBe('an array of attribute names'))) },
        'an object such as { "attributes": ["data-variant"] }',
      ),
    ),
    remoteHeadDeadline: v.optional(duration(REMOTE_HEAD_DEADLINE_BOUNDS), CONFIG_DEFAULTS.remoteHeadDeadline),
    csp: v.optional(cspSchema),
    sendTimeout: v.optional(duration(SEND_TIMEOUT_BOUNDS), CONFIG_DEFAULTS.sendTimeout),
    maxBufferedBytes: v.optional(byteSize(BYTES_BOUNDS), CONFIG_DEFAULTS.maxBufferedBytes),
    drainTimeout: v.optional(duration(DRAIN_TIMEOUT_BOUNDS), CONFIG_DEFAULTS.drainTimeout),
    logLevel: v.optional(logLevel, CONFIG_DEFAULTS.logLevel),
    ssr: v.optional(ssrSchema),
    cache: v.optional(cacheSchema),
    deploys: v.optional(deploysSchema),
    outDir: v.optional(nonEmptyString('a folder path')),
    navigation: v.optional(jsonAs(v.custom<boolean>(isBoolean, mustBe('true or false')), { type: 'boolean' })),
  },
  'an object (for .mjs: `export default { … }`)',
);

/** The known keys of an `elements` entry, from the schema. */
export const ELEMENT_ENTRY_KEYS: readonly string[] = Object.keys(elementEntrySchema.pipe[0].entries);

/** The known top-level keys, from the schema. */
export const CONFIG_KEYS: readonly string[] = Object.keys(configSchema.entries);

// The declared types and the schema cannot drift apart: both directions must type-check.
type Assert<T extends true> = T;
type SchemaIn = v.InferInput<typeof configSchema>;
type SchemaOut = v.InferOutput<typeof configSchema>;
/** @internal Atoll's own check, left out of the published .d.ts (tsconfig.build.json's stripInternal): under a consumer's exactOptionalPropertyTypes it fails. */
export type _ConfigTypesAgree = Assert<
  [AtollConfig] extends [SchemaIn] ? ([SchemaIn] extends [AtollConfig] ? ([SchemaOut] extends [ResolvedConfig] ? true : false) : false) : false
>;

/**
 * Types a config file (`atoll.config.ts` or `.mjs`): `export default
 * defineConfig({ … })`. Returns its argument; the type is the schema's
 * input type ({@link AtollConfig}, checked against {@link configSchema}).
 */
export function defineConfig(config: AtollConfig): AtollConfig {
  return config;
}

// ---------------------------------------------------------------------------
// Reading untrusted input into plain data
// ---------------------------------------------------------------------------

/** A key path into the config: `["headers", "x-evil"]`, `["cors", "origins", 0]`. */
export type ConfigPath = ReadonlyArray<string | number>;

/** One problem, with its message complete, before it has a location. */
export interface PathProblem {
  path: ConfigPath;
  /** Whether the key itself or its value is at fault. */
  at: 'key' | 'value';
  message: string;
  /** Where it is reported, when not where the merged config's key path is written. */
  locate?: ConfigLocator;
}

function forbiddenKey(parent: ConfigPath, key: string): string {
  const m = `the key ${quote(key)} is not allowed (it could change object prototypes): remove it`;
  return parent.length === 0 ? m : `${formatConfigPath(parent)}: ${m}`;
}

/** `message` about the thing at `path` (the whole config when the path is empty). */
function about(path: ConfigPath, message: string): string {
  return path.length === 0 ? `the config ${message}` : `${formatConfigPath(path)}: ${message}`;
}

const MAX_DEPTH = 8;
const MAX_ENTRIES = 10_000;
const MAX_VALUES = 200_000;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function safeMessage(e: unknown): string {
  try {
    const m = e instanceof Error ? e.message : String(e);
    return quote(m, 200).slice(1, -1);
  } catch {
    return '(an unprintable error)';
  }
}

/**
 * Copies `value` into plain data (null-prototype objects, arrays, and
 * primitives; functions by reference), reading each property once. Problems
 * (a throwing Proxy or getter, a circular reference, a `__proto__` key, too
 * many entries) are reported with their path; the part at fault is left out.
 * Nothing deeper than {@link MAX_DEPTH} is read (the schema looks no deeper).
 */
export function readPlainData(value: unknown, problems: PathProblem[]): unknown {
  const ancestors = new Set<object>();
  let values = 0;
  const copy = (x: unknown, path: Array<string | number>): unknown => {
    // A budget for the whole input: a Proxy can pretend to be endless.
    if (++values > MAX_VALUES) {
      if (values === MAX_VALUES + 1) problems.push({ path: [], at: 'value', message: about([], `has more than ${MAX_VALUES} values: it must be plain data of a sensible size`) });
      return undefined;
    }
    if (typeof x !== 'object' || x === null) return x;
    if (ancestors.has(x)) {
      problems.push({ path: [...path], at: 'value', message: about(path, 'refers back to an object that contains it (a circular structure): the config must be plain data') });
      return undefined;
    }
    if (path.length > MAX_DEPTH) return Object.create(null);
    ancestors.add(x);
    try {
      if (Array.isArray(x)) {
        const n = x.length;
        if (!(n <= MAX_ENTRIES)) {
          problems.push({ path: [...path], at: 'value', message: about(path, `has ${n} items: at most ${MAX_ENTRIES}`) });
          return undefined;
        }
        const out: unknown[] = [];
        for (let i = 0; i < n && values <= MAX_VALUES; i++) out.push(copy(x[i], [...path, i]));
        return out;
      }
      const keys = Object.keys(x);
      if (keys.length > MAX_ENTRIES) {
        problems.push({ path: [...path], at: 'value', message: about(path, `has ${keys.length} keys: at most ${MAX_ENTRIES}`) });
        return undefined;
      }
      const out: Record<string, unknown> = Object.create(null);
      for (const k of keys) {
        if (values > MAX_VALUES) break;
        if (FORBIDDEN_KEYS.has(k)) {
          problems.push({ path: [...path, k], at: 'key', message: forbiddenKey(path, k) });
          continue;
        }
        let item: unknown;
        try {
          item = (x as Record<string, unknown>)[k];
        } catch (e) {
          problems.push({ path: [...path, k], at: 'value', message: about([...path, k], `could not be read: ${safeMessage(e)}`) });
          continue;
        }
        const c = copy(item, [...path, k]);
        if (c !== undefined || item === undefined) out[k] = c;
      }
      return out;
    } catch (e) {
      problems.push({ path: [...path], at: 'value', message: about(path, `could not be read: ${safeMessage(e)}`) });
      return undefined;
    } finally {
      ancestors.delete(x);
    }
  };
  return copy(value, []);
}

// ---------------------------------------------------------------------------
// Locations
// ---------------------------------------------------------------------------

/** Maps a key path to where it is written. */
export type ConfigLocator = (path: ConfigPath, at: 'key' | 'value') => SourceLocation;

const pathId = (path: ConfigPath): string => JSON.stringify(path);

/**
 * Offsets of every key and value in a JSON text, by key path, down to the
 * depth that {@link readPlainData} keeps. The text must be valid JSON (it
 * has been parsed); iterative and linear, so nesting depth is no risk.
 * A key written twice maps to its last occurrence, as `JSON.parse` keeps.
 */
export function jsonOffsets(text: string): Map<string, { key?: number; value?: number }> {
  const map = new Map<string, { key?: number; value?: number }>();
  const note = (path: ConfigPath, kind: 'key' | 'value', at: number): void => {
    // Nothing deeper than plain data keeps is ever reported (and long paths would cost O(depth²)).
    if (path.length > MAX_DEPTH + 1) return;
    const id = pathId(path);
    const entry = map.get(id) ?? {};
    entry[kind] = at;
    map.set(id, entry);
  };
  const n = text.length;
  let i = 0;
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const readString = (): string => {
    let j = i + 1;
    while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    const s = JSON.parse(text.slice(i, j + 1)) as string;
    i = j + 1;
    return s;
  };
  const path: Array<string | number> = [];
  const stack: Array<'o' | 'a'> = [];
  let state: 'value' | 'key' | 'key-or-end' | 'after' = 'value';
  for (;;) {
    ws();
    if (i >= n) break;
    const c = text[i];
    if (state === 'value') {
      note(path, 'value', i);
      if (c === '{') {
        i++;
        stack.push('o');
        state = 'key-or-end';
      } else if (c === '[') {
        i++;
        stack.push('a');
        ws();
        if (text[i] === ']') {
          i++;
          stack.pop();
          state = 'after';
        } else {
          path.push(0);
        }
      } else {
        if (c === '"') readString();
        else while (i < n && !',]} \t\r\n'.includes(text[i]!)) i++;
        state = 'after';
      }
      continue;
    }
    if (state === 'key' || state === 'key-or-end') {
      if (c === '}' && state === 'key-or-end') {
        i++;
        stack.pop();
        state = 'after';
        continue;
      }
      if (c !== '"') break;
      const at = i;
      path.push(readString());
      note(path, 'key', at);
      ws();
      if (text[i] !== ':') break;
      i++;
      state = 'value';
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) break;
    const last = path.pop();
    if (c === ',') {
      i++;
      if (top === 'o') state = 'key';
      else {
        path.push((last as number) + 1);
        state = 'value';
      }
    } else if (c === (top === 'o' ? '}' : ']')) {
      i++;
      stack.pop();
    } else break;
  }
  return map;
}

/** A locator for a JSON config: `file:line:col` of the key or value at a path (or its nearest written parent). */
export function jsonLocator(file: string, text: string): ConfigLocator {
  let offsets: Map<string, { key?: number; value?: number }> | undefined;
  return (path, at) => {
    offsets ??= jsonOffsets(text);
    for (let len = path.length; len >= 0; len--) {
      const e = offsets.get(pathId(path.slice(0, len)));
      if (e === undefined) continue;
      const offset = (len === path.length && at === 'key' ? e.key : undefined) ?? e.value ?? e.key;
      if (offset !== undefined) return { file, ...lineCol(text, offset) };
    }
    return { file };
  };
}

// ---------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------

/** `headers.x-evil`, `cors.origins[0]`, `headers["a b"]`. */
export function formatConfigPath(path: ConfigPath): string {
  let s = '';
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`;
    else if (/^[A-Za-z0-9_$-]{1,60}$/.test(k)) s += s === '' ? k : `.${k}`;
    else s += `[${quote(k)}]`;
  }
  return s;
}

function issueToProblem(issue: v.BaseIssue<unknown>): PathProblem {
  const items = issue.path ?? [];
  const path = items.map((p) => (typeof p.key === 'number' || typeof p.key === 'string' ? p.key : String(p.key)));
  if (issue.type === 'never') {
    // An unknown key (see `strict`): the message lists the known ones.
    const key = quote(String(path[path.length - 1]));
    const parent = path.slice(0, -1);
    const message = parent.length === 0 ? `unknown config key ${key} (${issue.message})` : `${formatConfigPath(parent)}: unknown key ${key} (${issue.message})`;
    return { path, at: 'key', message };
  }
  if (issue.type === 'object_with_rest' && items[items.length - 1]?.origin === 'key') {
    // A required key is missing.
    const parent = path.slice(0, -1);
    const m = `the key ${quote(String(path[path.length - 1]))} is required`;
    return { path: parent, at: 'value', message: parent.length === 0 ? m : `${formatConfigPath(parent)}: ${m}` };
  }
  // A problem with a record's key names the record; the key is in the message.
  const at = items[items.length - 1]?.origin === 'key' ? 'key' : 'value';
  const shown = at === 'key' ? path.slice(0, -1) : path;
  if (shown.length === 0) return { path, at, message: issue.message.startsWith('must ') ? `the config ${issue.message}` : issue.message };
  const sep = issue.message.startsWith('must ') ? ' ' : ': ';
  return { path, at, message: formatConfigPath(shown) + sep + issue.message };
}

/** Most config problems listed one by one; the rest are counted. */
const MAX_PROBLEMS = 100;

/**
 * Checks plain-data config input against the schema and returns the
 * resolved config; every problem goes to `problems` at the place `locate`
 * gives for its key path. Problems found while reading (`early`) are
 * reported too, and hide schema problems at or under the same path.
 */
function check(input: unknown, early: readonly PathProblem[], locate: ConfigLocator, problems: ProblemList): ResolvedConfig {
  const found: PathProblem[] = [...early];
  let out: ResolvedConfig = {};
  try {
    const result = v.safeParse(configSchema, input ?? {});
    if (result.success) {
      out = withoutUndefined(result.output);
      delete out.$schema;
    }
    else {
      const earlyPaths = new Set(early.map((e) => pathId(e.path)));
      const hidden = (path: ConfigPath): boolean => path.some((_, i) => earlyPaths.has(pathId(path.slice(0, i)))) || earlyPaths.has(pathId(path));
      for (const issue of result.issues) {
        const p = issueToProblem(issue);
        if (!hidden(p.path)) found.push(p);
      }
      out = withoutUndefined(bestEffort(input));
    }
  } catch (e) {
    found.push({ path: [], at: 'value', message: `the config could not be checked: ${safeMessage(e)}` });
  }
  const located = found.map((p) => ({ loc: (p.locate ?? locate)(p.path, p.at), message: p.message }));
  // The file's problems in file order, then those of config given in code (in schema order).
  const rank = (l: SourceLocation): number => (l.file === CODE_CONFIG_LOCATION ? 1 : 0);
  located.sort((a, b) => rank(a.loc) - rank(b.loc) || (a.loc.line ?? 0) - (b.loc.line ?? 0) || (a.loc.col ?? 0) - (b.loc.col ?? 0));
  for (const { loc, message } of located.slice(0, MAX_PROBLEMS)) problems.error(loc, message);
  if (located.length > MAX_PROBLEMS) {
    const rest = located.slice(MAX_PROBLEMS);
    problems.error({ file: rest[0]!.loc.file }, `… and ${rest.length} more problems in the config`);
  }
  return out;
}

/** `value` with keys whose value is undefined left out (`csp: false`, `timeout: undefined` in code), at every depth. */
function withoutUndefined<T>(value: T): T {
  if (!isRecord(value)) return value;
  for (const k of Object.keys(value)) {
    if (value[k] === undefined) delete value[k];
    else withoutUndefined(value[k]);
  }
  return value;
}

/**
 * The parts of an invalid config that are valid on their own (whole keys,
 * and `elements` entries one by one), so that the rest of the site is still
 * checked against what the author meant. A site with config errors is never
 * served; this is only read before they are reported (e.g. the port and log
 * level `atoll serve` reads before it loads the site).
 */
function bestEffort(input: unknown): ResolvedConfig {
  if (!isRecord(input)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(configSchema.entries)) {
    const r = v.safeParse(schema, input[key]);
    if (r.success) {
      if (r.output !== undefined) out[key] = r.output;
    } else if (key === 'elements' && isRecord(input.elements)) {
      const elements: Record<string, ResolvedElementEntry> = {};
      for (const [tag, entry] of Object.entries(input.elements)) {
        const e = v.safeParse(elementEntrySchema, entry);
        if (TAG_RE.test(tag) && e.success) elements[tag] = e.output;
      }
      out.elements = elements;
    }
  }
  return out as ResolvedConfig;
}


// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

/** A config file read into plain data, not yet checked. */
export interface ConfigSource {
  /** The file (relative to the site root when inside it), or {@link CODE_CONFIG_LOCATION}. */
  file: string;
  /** Plain data (see {@link readPlainData}); undefined when the file could not be read. */
  input: unknown;
  /** Problems found while reading it into plain data. */
  early: PathProblem[];
  locate: ConfigLocator;
}

/** A loaded configuration and the file it came from. */
export interface LoadedConfig {
  config: ResolvedConfig;
  /** The config file (relative to the site root), or undefined when there is none. */
  file: string | undefined;
  /** Where a key path of the config is written (for messages about it). */
  locate: ConfigLocator;
}

/** The config file names looked for in a site folder. Two of them at once is an error. */
export const CONFIG_FILES = ['atoll.config.ts', 'atoll.config.mts', 'atoll.config.mjs', 'atoll.config.js', 'atoll.config.json'] as const;

/**
 * Finds and reads the site's config file: `configPath` when given (relative
 * to `root`; the command line resolves `--config` against the working
 * directory first), else the one of {@link CONFIG_FILES} in `root` — two of
 * them is a problem naming both. Undefined when there is none (or it could
 * not be read: then a problem is reported).
 */
export async function readConfigFile(root: string, problems: ProblemList, configPath?: string): Promise<ConfigSource | undefined> {
  let path: string | undefined;
  if (configPath !== undefined) {
    path = resolve(root, configPath);
    if (!existsSync(path)) {
      problems.error({ file: configPath }, 'config file not found');
      return undefined;
    }
  } else {
    const found = CONFIG_FILES.filter((f) => existsSync(join(root, f)));
    if (found.length > 1) {
      problems.error({ file: found[0]! }, `${found.length} config files: ${found.join(', ')}. Atoll reads one: keep one and delete the others (or pick one with --config)`);
      return undefined;
    }
    path = found[0] === undefined ? undefined : join(root, found[0]);
  }
  if (path === undefined) return undefined;
  const file = relative(root, path) || path;
  let raw: unknown;
  let locate: ConfigLocator = () => ({ file });
  if (path.endsWith('.json')) {
    const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
    try {
      raw = JSON.parse(text);
    } catch (e) {
      const msg = (e as Error).message;
      const pos = /position (\d+)/.exec(msg);
      const loc: SourceLocation = pos ? { file, ...lineCol(text, Number(pos[1])) } : { file };
      problems.error(loc, `invalid JSON: ${msg}`);
      return undefined;
    }
    locate = jsonLocator(file, text);
  } else {
    try {
      const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
      raw = mod.default;
    } catch (e) {
      problems.error({ file }, `the config module threw while loading: ${safeMessage(e)}`);
      return undefined;
    }
  }
  const early: PathProblem[] = [];
  return { file, input: readPlainData(raw, early), early, locate };
}

/** Loads and checks the site's config file (see {@link readConfigFile}). */
export async function loadConfig(root: string, problems: ProblemList, configPath?: string): Promise<LoadedConfig> {
  const source = await readConfigFile(root, problems, configPath);
  return resolveConfigSources(source, undefined, problems);
}

/**
 * The site's config: the file's, with config given in code merged over it
 * (top-level keys replace the file's; `elements` merge by tag), checked as
 * one object through the schema. Each problem is reported where its key was
 * written: the file (with line and column for JSON) or
 * {@link CODE_CONFIG_LOCATION}.
 */
export function resolveConfigSources(source: ConfigSource | undefined, code: unknown, problems: ProblemList): LoadedConfig {
  const codeLocate: ConfigLocator = () => ({ file: CODE_CONFIG_LOCATION });
  const fileLocate: ConfigLocator = source?.locate ?? codeLocate;
  const early: PathProblem[] = (source?.early ?? []).map((p) => ({ ...p, locate: fileLocate }));

  let fileInput: unknown = source?.input;
  if (fileInput !== undefined && fileInput !== null && !isRecord(fileInput)) {
    problems.error(fileLocate([], 'value'), `the config must be an object (for .ts/.mjs: \`export default defineConfig({ … })\`), not ${describe(fileInput)}`);
    fileInput = undefined;
  }
  let codeInput: unknown;
  if (code !== undefined && code !== null) {
    const codeEarly: PathProblem[] = [];
    codeInput = readPlainData(code, codeEarly);
    for (const p of codeEarly) early.push({ ...p, locate: codeLocate });
    if (codeInput !== undefined && !isRecord(codeInput)) {
      problems.error(codeLocate([], 'value'), `the config must be an object, not ${describe(codeInput)}`);
      codeInput = undefined;
    }
  }
  const fileObj = (fileInput ?? Object.create(null)) as Record<string, unknown>;
  const codeObj = codeInput as Record<string, unknown> | undefined;
  const merged: Record<string, unknown> = Object.assign(Object.create(null), fileObj, codeObj);
  const elementsMerged = codeObj !== undefined && isRecord(codeObj.elements) && isRecord(fileObj.elements);
  if (elementsMerged) merged.elements = Object.assign(Object.create(null), fileObj.elements, codeObj.elements);
  // `csp` merges by key too, so `atoll serve --csp` (code: `csp: {}`) keeps the file's policy.
  const cspMerged = codeObj !== undefined && isRecord(codeObj.csp) && isRecord(fileObj.csp);
  if (cspMerged) merged.csp = Object.assign(Object.create(null), fileObj.csp, codeObj.csp);

  /** Whether the merged config's value at `path` came from code. */
  const fromCode = (path: ConfigPath): boolean => {
    if (codeObj === undefined) return false;
    if (path.length === 0) return source === undefined;
    const top = String(path[0]);
    if (!(top in codeObj)) return false;
    if (top === 'elements' && elementsMerged && path.length > 1) return String(path[1]) in (codeObj.elements as object);
    if (top === 'csp' && cspMerged && path.length > 1) return String(path[1]) in (codeObj.csp as object);
    return true;
  };
  const locate: ConfigLocator = (path, at) => (fromCode(path) ? codeLocate(path, at) : fileLocate(path, at));
  const config = check(merged, early, locate, problems);
  return { config, file: source?.file, locate };
}
