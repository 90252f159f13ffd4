/**
 * `atoll.config.(mjs|json)`: the optional site configuration. Loaded and
 * validated once at start-up; every problem names the file (and for JSON the
 * line and column).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ElementRendererConstructor } from '@lit-labs/ssr/lib/element-renderer.js';
import { lineCol, type ProblemList, type SourceLocation } from '../errors.ts';

/** One entry of the `elements` map: overrides or adds a microfrontend. */
export interface ElementEntryConfig {
  /** A package specifier (`@scope/pkg/el.js`) or a path relative to the site. */
  module?: string;
  /** A remote element: its fragment URL (SPEC 6). */
  url?: string;
  /** The browser module, when it is not the same as `module`. */
  client?: string;
  /** Default timeout for this element, in ms or with a unit (`2s`). */
  timeout?: number | string;
  /** Default render-cache lifetime (`60s`). */
  cache?: string;
  /** Server hooks module (`data`, `headers`), relative to the site. */
  server?: string;
  /**
   * A remote element's caching, declared statically (e.g. `public, max-age=60`):
   * when its response headers are not known by the head deadline, the page's
   * `Cache-Control` is merged with this instead of turning `private, no-store`.
   */
  cacheControl?: string;
}

/** The site configuration. Every field is optional. */
export interface AtollConfig {
  /** Path prefix → layout file (relative to `layouts/`). `/` defaults to `index.html`. */
  layouts?: Record<string, string>;
  /** Adds or overrides element registry entries. */
  elements?: Record<string, ElementEntryConfig>;
  /** Default element timeout in ms (default 5000). */
  timeout?: number;
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
}

/** Log levels, least severe first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

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

/**
 * The configuration as the engine reads it (`site.config`): checked, with
 * every duration in milliseconds.
 */
export interface ResolvedConfig extends Omit<AtollConfig, 'remoteHeadDeadline' | 'csp' | 'sendTimeout' | 'drainTimeout'> {
  remoteHeadDeadline?: number;
  csp?: CspConfig;
  sendTimeout?: number;
  drainTimeout?: number;
}

const KNOWN_KEYS = new Set(['layouts', 'elements', 'timeout', 'requestHeaders', 'renderers', 'headers', 'maxRemoteBytes', 'cors', 'port', 'host']);
const KNOWN_ELEMENT_KEYS = new Set(['module', 'url', 'client', 'timeout', 'cache', 'server']);

/** A loaded configuration and the file it came from. */
export interface LoadedConfig {
  config: AtollConfig;
  /** The config file (relative to the site root), or undefined when there is none. */
  file: string | undefined;
}

/**
 * Loads the site's config: `configPath` when given, else `atoll.config.mjs`,
 * `atoll.config.js` or `atoll.config.json` in `root`.
 */
export async function loadConfig(root: string, problems: ProblemList, configPath?: string): Promise<LoadedConfig> {
  let path: string | undefined;
  if (configPath !== undefined) {
    path = resolve(root, configPath);
    if (!existsSync(path)) {
      problems.error({ file: configPath }, 'config file not found');
      return { config: {}, file: configPath };
    }
  } else {
    path = ['atoll.config.mjs', 'atoll.config.js', 'atoll.config.json']
      .map((f) => join(root, f))
      .find((f) => existsSync(f));
  }
  if (path === undefined) return { config: {}, file: undefined };
  const file = relative(root, path) || path;
  let raw: unknown;
  if (path.endsWith('.json')) {
    const text = readFileSync(path, 'utf8');
    try {
      raw = JSON.parse(text);
    } catch (e) {
      const msg = (e as Error).message;
      const pos = /position (\d+)/.exec(msg);
      const loc: SourceLocation = pos ? { file, ...lineCol(text, Number(pos[1])) } : { file };
      problems.error(loc, `invalid JSON: ${msg}`);
      return { config: {}, file };
    }
  } else {
    try {
      const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
      raw = mod.default;
    } catch (e) {
      problems.error({ file }, `the config module threw while loading: ${(e as Error).message}`);
      return { config: {}, file };
    }
  }
  return { config: validateConfig(raw, file, problems), file };
}

/** Checks the shape of a config object; reports problems and drops bad parts. */
export function validateConfig(raw: unknown, file: string, problems: ProblemList): AtollConfig {
  const loc = { file };
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.error(loc, 'the config must be an object (for .mjs: `export default { … }`)');
    return {};
  }
  const c = raw as Record<string, unknown>;
  for (const k of Object.keys(c)) {
    if (!KNOWN_KEYS.has(k)) problems.error(loc, `unknown config key "${k}" (known: ${[...KNOWN_KEYS].join(', ')})`);
  }
  const out: AtollConfig = {};
  if (c.layouts !== undefined) {
    if (!isStringRecord(c.layouts)) problems.error(loc, '"layouts" must map path prefixes to layout files, e.g. { "/admin": "admin.html" }');
    else {
      for (const prefix of Object.keys(c.layouts)) {
        if (!prefix.startsWith('/')) problems.error(loc, `layouts: the prefix "${prefix}" must start with "/"`);
      }
      out.layouts = c.layouts;
    }
  }
  if (c.elements !== undefined) {
    if (typeof c.elements !== 'object' || c.elements === null || Array.isArray(c.elements)) {
      problems.error(loc, '"elements" must be an object of tag name → entry');
    } else {
      out.elements = {};
      for (const [tag, entry] of Object.entries(c.elements as Record<string, unknown>)) {
        if (!/^[a-z][a-z0-9._]*-[a-z0-9._-]*$/.test(tag)) {
          problems.error(loc, `elements: "${tag}" is not a valid custom element name (lower case, with a hyphen)`);
          continue;
        }
        if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
          problems.error(loc, `elements.${tag} must be an object such as { "module": "…" } or { "url": "…" }`);
          continue;
        }
        const e = entry as Record<string, unknown>;
        for (const k of Object.keys(e)) {
          if (!KNOWN_ELEMENT_KEYS.has(k)) problems.error(loc, `elements.${tag}: unknown key "${k}" (known: ${[...KNOWN_ELEMENT_KEYS].join(', ')})`);
        }
        for (const k of ['module', 'url', 'client', 'cache', 'server'] as const) {
          if (e[k] !== undefined && typeof e[k] !== 'string') problems.error(loc, `elements.${tag}.${k} must be a string`);
        }
        if (e.timeout !== undefined && typeof e.timeout !== 'number' && typeof e.timeout !== 'string') {
          problems.error(loc, `elements.${tag}.timeout must be a number of ms or a duration string`);
        }
        if (e.module !== undefined && e.url !== undefined) {
          problems.error(loc, `elements.${tag}: give "module" or "url", not both`);
        }
        if (typeof e.url === 'string' && !/^https?:\/\//.test(e.url)) {
          problems.error(loc, `elements.${tag}.url must be an absolute http(s) URL`);
        }
        out.elements[tag] = e as ElementEntryConfig;
      }
    }
  }
  if (c.timeout !== undefined) {
    if (typeof c.timeout !== 'number' || !(c.timeout > 0)) problems.error(loc, '"timeout" must be a positive number of milliseconds');
    else out.timeout = c.timeout;
  }
  if (c.requestHeaders !== undefined) {
    if (!Array.isArray(c.requestHeaders) || !c.requestHeaders.every((h) => typeof h === 'string')) {
      problems.error(loc, '"requestHeaders" must be an array of header names');
    } else out.requestHeaders = c.requestHeaders.map((h: string) => h.toLowerCase());
  }
  if (c.renderers !== undefined) {
    if (!Array.isArray(c.renderers)) problems.error(loc, '"renderers" must be an array of ElementRenderer classes');
    else out.renderers = c.renderers as ElementRendererConstructor[];
  }
  if (c.maxRemoteBytes !== undefined) {
    if (typeof c.maxRemoteBytes !== 'number' || !(c.maxRemoteBytes > 0)) problems.error(loc, '"maxRemoteBytes" must be a positive number of bytes');
    else out.maxRemoteBytes = c.maxRemoteBytes;
  }
  if (c.cors !== undefined) {
    const origins = (c.cors as { origins?: unknown }).origins;
    if (typeof c.cors !== 'object' || c.cors === null || !Array.isArray(origins) || !origins.every((o) => typeof o === 'string')) {
      problems.error(loc, '"cors" must be { "origins": ["https://shop.example", …] } ("*" allows any origin)');
    } else out.cors = { origins: origins as string[] };
  }
  if (c.headers !== undefined) {
    if (!isStringRecord(c.headers)) problems.error(loc, '"headers" must map header names to string values');
    else out.headers = c.headers;
  }
  if (c.port !== undefined) {
    if (!Number.isInteger(c.port)) problems.error(loc, '"port" must be an integer');
    else out.port = c.port as number;
  }
  if (c.host !== undefined) {
    if (typeof c.host !== 'string') problems.error(loc, '"host" must be a string');
    else out.host = c.host;
  }
  return out;
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}
