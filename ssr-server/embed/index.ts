/**
 * The browser half of "Atoll elements on other sites" (SPEC 6), server side:
 *
 * - `GET /_atoll/embed.js` — the module any page includes to use this site's
 *   elements (`islands/embed.ts`, built by `atoll build`), with the site's
 *   element table filled in: tag → fragment URL, client module and the chunks
 *   it imports, all relative to embed.js so they resolve against this server
 *   whatever page includes it.
 * - `GET /_atoll/element/<tag>.js` — a stable URL for an element's client
 *   module: a one-line module re-exporting the current content-hashed entry.
 *   Other Atoll sites name it as the `client` of a remote element, so their
 *   import maps keep working across this site's builds.
 *
 * Both are public code: `Access-Control-Allow-Origin: *` (module scripts are
 * fetched in CORS mode), `Cache-Control: public, max-age=60` (they change
 * with each build), an ETag and brotli/gzip like the built assets.
 */
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { Endpoint } from '../endpoint.ts';
import type { Engine } from '../engine.ts';
import type { CoreRequest, CoreResponse } from '../wire.ts';
import { pickEncoding, type AssetStore } from '../assets/store.ts';
import { ASSET_PATH, type ClientManifest } from '../build/manifest.ts';
import { textResponse } from '../responses.ts';
import type { ElementRegistry } from '../site/registry.ts';

/** Where embed.js is served. */
export const EMBED_PATH = '/_atoll/embed.js';

/** Where the stable element modules are served: `<ELEMENT_PATH><tag>.js`. */
export const ELEMENT_PATH = '/_atoll/element/';

/** The identifier in the built embed code that the server replaces by the element table. */
export const EMBED_PLACEHOLDER = '__ATOLL_EMBED__';

/** Cache-Control of embed.js and the element modules: short, since they name the current build. */
export const EMBED_CACHE_CONTROL = 'public, max-age=60';

/** `/_atoll/` — embed.js's folder; the table's URLs are relative to it. */
const ATOLL_DIR = EMBED_PATH.slice(0, EMBED_PATH.lastIndexOf('/') + 1);
/** The assets folder relative to embed.js (`assets/`) and to an element module (`../assets/`). */
const ASSETS_FROM_EMBED = ASSET_PATH.slice(ATOLL_DIR.length);
const TAG = /^[a-z][a-z0-9._]*-[a-z0-9._-]*$/;

/** One generated script, in every encoding. */
interface Script {
  etag: string;
  identity: Uint8Array;
  gzip: Uint8Array;
  br: Uint8Array;
}

function script(text: string): Script {
  const identity = new TextEncoder().encode(text);
  return {
    etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 22)}"`,
    identity,
    gzip: gzipSync(identity, { level: 9 }),
    br: brotliCompressSync(identity, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }),
  };
}

/**
 * The element table of embed.js (see `islands/embed.ts`): every element with
 * a client module, and remote elements (fetched from their own fragment URL;
 * without a client module they only render).
 */
export function embedTable(manifest: ClientManifest, registry: ElementRegistry): Record<string, string[]> {
  const table: Record<string, string[]> = {};
  for (const def of registry.values()) {
    const entry = manifest.elements[def.tag];
    const fragment = def.kind === 'remote' ? def.url : `fragment/${def.tag}`;
    if (fragment === undefined || (entry === undefined && def.kind !== 'remote')) continue;
    table[def.tag] =
      entry === undefined
        ? [fragment, '']
        : 'url' in entry
          ? [fragment, entry.url]
          : [fragment, ...[entry.file, ...entry.imports].map((f) => ASSETS_FROM_EMBED + f)];
  }
  return table;
}

/** The text of embed.js: the built embed code with `table` in place of the placeholder. */
export function embedScript(code: string, table: Record<string, string[]>): string {
  return code.split(EMBED_PLACEHOLDER).join(JSON.stringify(table));
}

/**
 * The text of `/_atoll/element/<tag>.js`: re-exports the current entry. The
 * relative specifier resolves against this module's own URL (as
 * `new URL(…, import.meta.url)` would), so on any page it names this server's
 * file — absolute, and static, so the browser fetches it with no extra step.
 */
export function elementScript(tag: string, entry: ClientManifest['elements'][string]): string {
  const target = 'url' in entry ? entry.url : `../${ASSETS_FROM_EMBED}${entry.file}`;
  return `// <${tag}>: the current build of its client module\nexport * from ${JSON.stringify(target)};\n`;
}

/** Scripts generated so far, per asset store (a new build brings a new store). */
const generated = new WeakMap<AssetStore, Map<string, Script | null>>();

function lookup(engine: Engine, store: AssetStore, pathname: string): Script | null {
  let scripts = generated.get(store);
  if (scripts === undefined) generated.set(store, (scripts = new Map()));
  let found = scripts.get(pathname);
  if (found !== undefined) return found;
  const manifest = store.manifest;
  let text: string | undefined;
  if (pathname === EMBED_PATH) {
    const code = manifest.embed === undefined ? undefined : store.bytes(manifest.embed);
    if (code !== undefined) text = embedScript(new TextDecoder().decode(code), embedTable(manifest, engine.site.registry));
  } else {
    const tag = pathname.slice(ELEMENT_PATH.length, -'.js'.length);
    const entry = TAG.test(tag) && Object.hasOwn(manifest.elements, tag) ? manifest.elements[tag] : undefined;
    if (entry !== undefined) text = elementScript(tag, entry);
  }
  found = text === undefined ? null : script(text);
  // Unknown element names are not remembered: the map stays as small as the registry.
  if (found !== null || pathname === EMBED_PATH) scripts.set(pathname, found);
  return found;
}

const notFound = (requestId: string, text: string): CoreResponse =>
  textResponse(404, text, requestId, { 'cache-control': 'no-store', 'access-control-allow-origin': '*' });

/**
 * Answers `/_atoll/embed.js` and `/_atoll/element/<tag>.js`; undefined for
 * any other path (the caller goes on routing).
 */
export function respondEmbed(engine: Engine, pathname: string, req: CoreRequest, requestId: string): CoreResponse | undefined {
  if (pathname !== EMBED_PATH && !(pathname.startsWith(ELEMENT_PATH) && pathname.endsWith('.js'))) return undefined;
  const store = engine.assets;
  if (store === undefined) return notFound(requestId, 'No client build here (run `atoll build`)\n');
  const found = lookup(engine, store, pathname);
  if (found === null) {
    return notFound(requestId, pathname === EMBED_PATH ? 'This client build has no embed.js (run `atoll build`)\n' : 'No such element module\n');
  }
  const headers = new Headers({
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': EMBED_CACHE_CONTROL,
    'access-control-allow-origin': '*',
    vary: 'accept-encoding',
    'x-content-type-options': 'nosniff',
  });
  const encoding = pickEncoding(req.headers.get('accept-encoding'));
  const etag = encoding === undefined ? found.etag : `${found.etag.slice(0, -1)}-${encoding}"`;
  headers.set('etag', etag);
  const inm = req.headers.get('if-none-match');
  if (inm !== null && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')) {
    return { status: 304, headers, body: { kind: 'none' }, requestId };
  }
  const data = encoding === undefined ? found.identity : found[encoding];
  if (encoding !== undefined) headers.set('content-encoding', encoding);
  headers.set('content-length', String(data.byteLength));
  return { status: 200, headers, body: { kind: 'bytes', data }, requestId };
}

/** `/_atoll/embed.js` and `/_atoll/element/<tag>.js` as an endpoint of the dispatcher. */
export const embedEndpoint: Endpoint = {
  name: 'embed',
  methods: ['GET', 'HEAD'],
  match: (pathname) => pathname === EMBED_PATH || (pathname.startsWith(ELEMENT_PATH) && pathname.endsWith('.js')),
  respond: (engine, req) => respondEmbed(engine, req.url.pathname, req, req.requestId) ?? notFound(req.requestId, 'Not Found\n'),
};
