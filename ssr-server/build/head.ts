/**
 * `<atoll-head>`: for the elements on one page, the import map of their
 * client modules (`@atoll/<tag>` → URL), `modulepreload` links for the
 * `hydrate="load"` islands and the chunks they import (and the shared chunks
 * of every other island that can hydrate), and the inline island loader. Every inline script carries the request's CSP nonce when one is
 * configured.
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
 * island's module and the chunks it imports, and for every other island that
 * can hydrate only the shared chunks it imports (Lit, shared code). An
 * island's own module still waits for its strategy; the chunks are fetched
 * beside the HTML, so a visible island costs one round trip, not two
 * (measured on the mobile profile of `npm run bench:islands`).
 */
function preloadFiles(manifest: ClientManifest, elements: readonly ElementWork[]): Set<string> {
  const files = new Set<string>();
  for (const { op } of elements) {
    const entry = manifest.elements[op.tag];
    if (op.hydrate === 'none' || entry === undefined || !('file' in entry)) continue;
    if (op.hydrate === 'load') files.add(entry.file);
    for (const f of entry.imports) files.add(f);
  }
  return files;
}

/**
 * Builds the `PageEnvironment.preloads` function: `Link` values for a 103
 * Early Hints response, the same modulepreloads that `<atoll-head>` writes.
 */
export function earlyHints(manifest: ClientManifest, assetUrl: string): (elements: readonly ElementWork[]) => string[] {
  return (elements) => [...preloadFiles(manifest, elements)].map((f) => `<${assetUrl}${f}>; rel=modulepreload`);
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
    const value = typeof nonce === 'function' ? nonce(request) : nonce;
    const n = value ? ` nonce="${escapeAttr(value)}"` : '';
    let html = `<script type="importmap" data-atoll${n}>${jsonForScript({ imports: importMapFor(manifest, tags, assetUrl) })}</script>`;
    for (const f of preloadFiles(manifest, elements)) html += `<link rel="modulepreload" href="${escapeAttr(assetUrl + f)}">`;
    return `${html}<script${n}>${loader}</script>`;
  };
}
