/**
 * `<atoll-head>`: for the elements on one page, the import map of their
 * client modules (`@atoll/<tag>` → URL; in pages served with client
 * navigation also the router's, `@atoll/:router`), `modulepreload` links for the
 * islands that will hydrate at once — `hydrate="load"` islands, and the
 * `visible` islands among the first microfrontends of the page (the likely
 * first screen) — with the chunks they import (the element modules of
 * server-rendered ones marked `data-atoll-eager`: the loader evaluates them
 * at once), and the inline island loader.
 * With a CSP nonce — the request's own (`PageRequest.nonce`, from the `csp`
 * config) or `client.nonce` — the import map, the loader and the
 * modulepreload links all carry it: under `'strict-dynamic'` a
 * parser-inserted preload without it is blocked like a script.
 */
import { EAGER, IMPORT_MAP, INERT_LOADER_TYPE, LAYOUT_ATTR, parseHydrate } from '../../islands/protocol.ts';
import { ROUTER_SPECIFIER } from '../../islands/router-protocol.ts';
import { escapeAttr, jsonForScript } from '../html.ts';
import type { ElementOp, Op } from '../layout/ops.ts';
import type { ElementWork, PageRequest } from '../render/page.ts';
import { importMapFor, type ClientManifest } from './manifest.ts';

/** A CSP nonce: fixed, or per request (e.g. from a header your proxy sets). */
export type NonceOption = string | ((request: PageRequest) => string | undefined);

/**
 * How many microfrontends, counted from the top of the page in document
 * order, `<atoll-head>` takes for the first screen unless told otherwise
 * (`client.firstScreen`). Chosen by measurement (`npm run bench:islands`,
 * docs/benchmarks.md): on the demo shop's phone-sized first screen the
 * navbar and the hero are in view and the product list starts below.
 */
export const DEFAULT_FIRST_SCREEN = 2;

/** Options for {@link headRenderer}. */
export interface HeadOptions {
  manifest: ClientManifest;
  /** The loader's minified source, inlined into every page. */
  loader: string;
  /** URL prefix of built files, e.g. `/_atoll/assets/`. */
  assetUrl: string;
  nonce?: NonceOption;
  /** See {@link DEFAULT_FIRST_SCREEN}; 0 preloads only `hydrate="load"` islands. */
  firstScreen?: number;
}

/** The strategy name of a `hydrate` value (`media:(…)` → `media`). */
const strategyOf = (op: ElementOp): string => parseHydrate(op.hydrate)[0];

/** Every element op nested inside `ops` (light-DOM children, at any depth). */
function nestedOps(ops: readonly Op[], into: Set<ElementOp>): Set<ElementOp> {
  for (const op of ops) {
    if (op.kind === 'element') into.add(op);
    if (op.kind === 'element' || op.kind === 'route') nestedOps(op.children, into);
  }
  return into;
}

/**
 * The hydration groups under `ops` (docs/islands.md, "Islands inside
 * islands"): an island nested in the light DOM of another island joins that
 * island's group, which hydrates together when its root's strategy fires,
 * loading every member's module; `hydrate="none"` is no member, and the
 * islands inside it start groups of their own. Only ops on this page count.
 */
function groups(ops: readonly Op[], onPage: ReadonlySet<ElementOp>, root: ElementOp[] | undefined, out: ElementOp[][]): ElementOp[][] {
  for (const op of ops) {
    if (op.kind === 'route') groups(op.children, onPage, root, out);
    if (op.kind !== 'element') continue;
    if (!onPage.has(op) || op.hydrate === 'none') {
      groups(op.children, onPage, undefined, out);
      continue;
    }
    let group = root;
    if (group === undefined) out.push((group = []));
    group.push(op);
    groups(op.children, onPage, group, out);
  }
  return out;
}

/**
 * The built files to modulepreload for `elements`, in the order the page
 * needs them: the module and chunks of every island whose group (see
 * {@link groups}) hydrates at once —
 *
 * - a group whose root is `hydrate="load"`;
 * - a group whose root is `visible` (server-rendered or client-only) and
 *   lies in the page's likely first screen: within the first `firstScreen`
 *   microfrontends, counted in document order over the page's top-level
 *   microfrontends whatever their strategy (a `hydrate="none"` banner takes
 *   screen space too; a nested island goes with its host). The observer
 *   reports such an island at the first frame: fetching its JavaScript
 *   beside the HTML, instead of when the observer fires, saves the round
 *   trips that made visible islands hydrate later than a client-rendered
 *   page would render (docs/benchmarks.md).
 *
 * Nothing else: an island further down, or one waiting for idle, an
 * interaction or a media query, fetches its module and chunks when its
 * strategy fires (a page of 50 tiles with 5 in view preloaded 27 files for
 * all 50 when every island's chunks were preloaded). A preloaded module is
 * fetched and compiled, not run: its island still hydrates by its strategy.
 *
 * `eager`, when given, receives (file → tag) the element modules among
 * them that the loader may evaluate at once, while the page is still parsed
 * (their link gets `data-atoll-eager="<tag>"`): those of server-rendered islands whose tag has
 * no client-only (`ssr="none"`) element on the page. A server-rendered
 * element keeps `defer-hydration` until the loader hydrates it, so its
 * class being defined before the parser reaches it changes nothing but
 * the time; a client-only one would render as soon as it is parsed,
 * before its strategy and its light-DOM children. In a slow phone's trace
 * the first screen's modules, imported when their islands' end tags were
 * parsed, were evaluated only after the page's first style, layout and
 * paint (380–500 ms at 4× CPU); evaluated early, hydration is Lit's
 * hydrate alone when the islands close (docs/benchmarks.md).
 */
export function preloadFiles(manifest: ClientManifest, elements: readonly ElementWork[], firstScreen: number, eager?: Map<string, string>): string[] {
  const files = new Set<string>();
  const onPage = new Set(elements.map((w) => w.op));
  // Tags with a client-only (`ssr="none"`) element on the page: a module defined early would render those at parse time.
  const clientOnly = new Set([...onPage].filter((op) => !op.ssr).map((op) => op.tag));
  const add = (op: ElementOp): void => {
    const entry = manifest.elements[op.tag];
    if (entry === undefined || !('file' in entry)) return;
    files.add(entry.file);
    if (op.ssr && !clientOnly.has(op.tag)) eager?.set(entry.file, op.tag);
    for (const f of entry.imports) files.add(f);
  };
  const nested = new Set<ElementOp>();
  for (const op of onPage) nestedOps(op.children, nested);
  let position = 0;
  // `elements` lists a nested element before its host; the top-level ones are in document order.
  for (const op of onPage) {
    if (nested.has(op)) continue;
    const firstScreenHere = position++ < firstScreen;
    for (const group of groups([op], onPage, undefined, [])) {
      const strategy = strategyOf(group[0]!);
      if (strategy === 'load' || (strategy === 'visible' && firstScreenHere)) group.forEach(add);
    }
  }
  return [...files];
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
  const remember = byElements<string[]>();
  // Frozen: one array answers every request of a route.
  return (elements) => remember(elements, '', () => Object.freeze(preloadFiles(manifest, elements, 0).map((f) => `<${assetUrl}${f}>; rel=preload; as=script; crossorigin`)) as string[]);
}

/**
 * A memo of what depends only on a page's list of layout elements (and a
 * variant string): a route's pages have the same list, so the import map,
 * preloads and hints are computed once per list, not per request. The last
 * 256 lists are kept.
 */
function byElements<T>(): (elements: readonly ElementWork[], variant: string, compute: () => T) => T {
  const opIds = new WeakMap<ElementOp, number>();
  let nextId = 0;
  const recent = new Map<string, T>();
  return (elements, variant, compute) => {
    let key = variant;
    for (const { op } of elements) {
      let id = opIds.get(op);
      if (id === undefined) opIds.set(op, (id = nextId++));
      key += `,${id}`;
    }
    let value = recent.get(key);
    if (value === undefined) {
      value = compute();
      if (recent.size >= 256) recent.delete(recent.keys().next().value!);
      recent.set(key, value);
    }
    return value;
  };
}

/** Builds the `PageEnvironment.head` function for a built site. */
export function headRenderer({ manifest, loader, assetUrl, nonce, firstScreen = DEFAULT_FIRST_SCREEN }: HeadOptions): (elements: readonly ElementWork[], request: PageRequest) => string {
  if (typeof firstScreen !== 'number' || !(firstScreen >= 0)) {
    throw new TypeError(`client.firstScreen must be a number ≥ 0 (how many microfrontends the first screen holds), got ${String(firstScreen)}`);
  }
  // Without a nonce or a first script, a route's pages have the same head.
  const remember = byElements<string>();
  const render = (elements: readonly ElementWork[], request: PageRequest): string =>
    request.nonce || request.headScript !== undefined || nonce
      ? renderHead(elements, request)
      : remember(elements, (request.loader ?? 'inline') + (request.layoutId ?? ''), () => renderHead(elements, request));
  const renderHead = (elements: readonly ElementWork[], request: PageRequest): string => {
    const tags = new Set<string>();
    let serverRendered = false;
    for (const { op } of elements) {
      if (op.ssr) serverRendered = true;
      if (op.hydrate !== 'none' && manifest.elements[op.tag] !== undefined) tags.add(op.tag);
    }
    const first = request.headScript;
    // Nothing to hydrate and no declarative shadow root to polyfill: no script at all (but the caller's).
    if (tags.size === 0 && !serverRendered && first === undefined) return '';
    const value = request.nonce ?? (typeof nonce === 'function' ? nonce(request) : nonce);
    const n = value ? ` nonce="${escapeAttr(value)}"` : '';
    const firstScript = first === undefined ? '' : `<script${n}>${first}</script>`;
    if (tags.size === 0 && !serverRendered) return firstScript;
    // The layout id (client navigation, render/navigation.ts): the router sends it back with every navigation.
    const layoutAttr = request.layoutId === undefined ? '' : ` ${LAYOUT_ATTR}="${escapeAttr(request.layoutId)}"`;
    const imports = importMapFor(manifest, tags, assetUrl);
    // The client router (docs/navigation.md): the loader imports it at `load`, in pages with a layout id only.
    if (request.layoutId !== undefined && manifest.router !== undefined) imports[ROUTER_SPECIFIER] = assetUrl + manifest.router;
    let html = `${firstScript}<script type="importmap" ${IMPORT_MAP}${layoutAttr}${n}>${jsonForScript({ imports })}</script>`;
    const eager = new Map<string, string>();
    for (const f of preloadFiles(manifest, elements, firstScreen, eager)) {
      const tag = eager.get(f);
      html += `<link rel="modulepreload" href="${escapeAttr(assetUrl + f)}"${tag === undefined ? '' : ` ${EAGER}="${escapeAttr(tag)}"`}${n}>`;
    }
    // Lit gives `litNonce` to the <style>s it creates where constructable stylesheets
    // are missing (Safari before 16.4); set here, not in the loader, so it costs only CSP pages.
    const litNonce = value ? `self.litNonce=${jsonForScript(value)};` : '';
    const emit = request.loader ?? 'inline';
    if (emit === 'none') return html;
    return `${html}<script${emit === 'inert' ? ` type="${INERT_LOADER_TYPE}"` : ''}${n}>${litNonce}${loader}</script>`;
  };
  return render;
}
