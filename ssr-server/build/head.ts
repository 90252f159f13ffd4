/**
 * `<atoll-head>`: for the elements on one page, the import map of their
 * client modules (`@atoll/<tag>` → URL), `modulepreload` links for the
 * `hydrate="load"` islands and the chunks they import (and the shared chunks
 * of every other island that can hydrate), and the inline island loader.
 * With a CSP nonce — the request's own (`PageRequest.nonce`, from the `csp`
 * config) or `client.nonce` — the import map, the loader and the
 * modulepreload links all carry it: under `'strict-dynamic'` a
 * parser-inserted preload without it is blocked like a script.
 */
import { escapeAttr, jsonForScript } from '../html.ts';
import type { ElementWork, PageRequest } from '../render/page.ts';
import { importMapFor, type ClientManifest } from './manifest.ts';

/** A CSP nonce: fixed, or per request (e.g. from a header your proxy sets). */
export type NonceOption = string | ((request: PageRequest) => string | undefined);

/** Options for {@link headRenderer}. */
export interface HeadOptions {
  manifest: ClientManifest;
  /** The loader's minified source, inlined into every page. */
  loader: string;
  /** URL prefix of built files, e.g. `/_atoll/assets/`. */
  assetUrl: string;
  nonce?: NonceOption;
}

/**
 * The files to preload for the islands among `elements`: a `hydrate="load"`
 * island's module and the chunks it imports; with `sharedChunks`, also the
 * chunks (Lit, shared code) imported by every other island that can hydrate.
 * An island's own module still waits for its strategy; its chunks are
 * fetched beside the HTML, so a visible island costs one round trip, not two
 * (measured on the mobile profile of `npm run bench:islands`).
 */
function preloadFiles(manifest: ClientManifest, elements: readonly ElementWork[], sharedChunks: boolean): Set<string> {
  const files = new Set<string>();
  for (const { op } of elements) {
    const entry = manifest.elements[op.tag];
    if (op.hydrate === 'none' || entry === undefined || !('file' in entry)) continue;
    if (op.hydrate === 'load') files.add(entry.file);
    if (op.hydrate === 'load' || sharedChunks) for (const f of entry.imports) files.add(f);
  }
  return files;
}

/**
 * Builds the `PageEnvironment.preloads` function: `Link` values for a 103
 * Early Hints response — only what a `hydrate="load"` island needs at once,
 * so a page without such islands sends no 103 (an informational response
 * that some simple clients mistake for the answer is only worth it for what
 * is needed right away).
 *
 * The links are `rel=preload; as=script; crossorigin`, not `modulepreload`:
 * a modulepreload starts module loading, and an import map that arrives
 * after a module load has started is ignored — Firefox acts on a 103's
 * modulepreload before the page (and its `<script type="importmap">`)
 * exists, so every `@atoll/<tag>` import failed there ("bare specifier …
 * not remapped") and nothing hydrated. A plain preload only fetches the
 * bytes (nothing in the 103 depends on the import map); `crossorigin`
 * makes it the request a module fetch is (CORS, same-origin credentials,
 * also right for an asset host on another origin), so the module loader
 * reuses the response. Measured (test/slow/early-hints-browser.test.ts):
 * Firefox and Chromium (over HTTP/2 — it ignores a 103 on HTTP/1.1 — where
 * the module's response is marked `fromEarlyHints`) hydrate, and each file
 * is requested from the server once, as with modulepreload. `<atoll-head>`
 * keeps its modulepreload links: they come after the import map.
 */
export function earlyHints(manifest: ClientManifest, assetUrl: string): (elements: readonly ElementWork[]) => string[] {
  return (elements) => [...preloadFiles(manifest, elements, false)].map((f) => `<${assetUrl}${f}>; rel=preload; as=script; crossorigin`);
}

/** Builds the `PageEnvironment.head` function for a built site. */
export function headRenderer({ manifest, loader, assetUrl, nonce }: HeadOptions): (elements: readonly ElementWork[], request: PageRequest) => string {
  return (elements: readonly ElementWork[], request: PageRequest): string => {
    const tags = new Set<string>();
    let serverRendered = false;
    for (const { op } of elements) {
      if (op.ssr) serverRendered = true;
      if (op.hydrate !== 'none' && manifest.elements[op.tag] !== undefined) tags.add(op.tag);
    }
    // Nothing to hydrate and no declarative shadow root to polyfill: no script at all.
    if (tags.size === 0 && !serverRendered) return '';
    const value = request.nonce ?? (typeof nonce === 'function' ? nonce(request) : nonce);
    const n = value ? ` nonce="${escapeAttr(value)}"` : '';
    let html = `<script type="importmap" data-atoll${n}>${jsonForScript({ imports: importMapFor(manifest, tags, assetUrl) })}</script>`;
    for (const f of preloadFiles(manifest, elements, true)) html += `<link rel="modulepreload" href="${escapeAttr(assetUrl + f)}"${n}>`;
    // Lit gives `litNonce` to the <style>s it creates where constructable stylesheets
    // are missing (Safari before 16.4); set here, not in the loader, so it costs only CSP pages.
    const litNonce = value ? `self.litNonce=${jsonForScript(value)};` : '';
    return `${html}<script${n}>${litNonce}${loader}</script>`;
  };
}
