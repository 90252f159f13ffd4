/**
 * Atoll's client router (SPEC 9b, docs/navigation.md): after the first
 * server-rendered page, in-site links and GET forms navigate without a
 * document load. The page is asked from the server as a navigation
 * (`atoll-navigation: <layout id>`, `atoll-keep: <keys of the instances the
 * page has>`); the server answers with the new page, each kept instance
 * written as an empty placeholder, and `router-swap.ts` puts the live
 * elements there — they keep their DOM, state, listeners and focus.
 *
 * Loaded by the island loader (`loader.ts`) with `import()` once the page is
 * idle, only in pages whose import map carries the layout id
 * (`data-atoll-layout`): `start()` gets the loader's module table and its
 * hook for inserted islands.
 *
 * Interception: a capturing-free `click` listener on the window (links found
 * along the composed path: links in open shadow roots count) and `submit`
 * listeners (on the window, and on each form inside a shadow root the first
 * time a click or key press reaches it — `submit` does not cross shadow
 * boundaries) decide what is handled (`router-links.ts`), prevent the
 * default, and start the navigation: through the Navigation API
 * (`navigation.navigate()`, intercepted by the router's `navigate`
 * listener, which also intercepts back/forward between this document's
 * entries) where the browser has it, through `history.pushState` and
 * `popstate` otherwise.
 *
 * Any answer that is not a navigation answer for this layout (no
 * `atoll-navigation` header, `reload`, not HTML, a network error) is loaded
 * as a document; so is a swap that cannot place a kept instance.
 */
import { attachShadowRoots } from './dsd.ts';
import { installPrefetch, PrefetchCache } from './prefetch.ts';
import { IMPORT_MAP_SELECTOR, KEEP_HEADER, LAYOUT_ATTR, MAX_KEEP, NAV_HEADER, NAVIGATE_EVENT, NAVIGATED_EVENT } from './protocol.ts';
import { clickTarget, submitTarget } from './router-links.ts';
import { liveInstances, mergeHead, preloadModules, swapBody, type SwapResult } from './router-swap.ts';
import { announce, focusContent, progress } from './router-ui.ts';

/**
 * What the island loader hands the router (positional: the loader is
 * size-budgeted): the table its `known()` and `load()` read (`@atoll/<tag>`
 * → module URL), and a hook to call right after inserting a page's nodes:
 * their islands start at once, and one whose tag has no module is not
 * reported (a render-only element, as in a parsed page).
 */
export type LoaderHooks = [imports: Record<string, string>, adopt: (node: Node) => void];

/** `atoll:navigate`'s detail. Cancel the event to let the browser load the URL as a document instead. */
export interface NavigateDetail {
  url: string;
}

/** `atoll:navigated`'s detail: what the navigation did and when (`performance.now()` times). */
export interface NavigatedDetail {
  /** The URL now shown (after redirects). */
  url: string;
  /** Keys of the instances kept (live elements at their placeholders). */
  kept: string[];
  /** Of those, the ones that had to move (disconnected and reconnected). */
  moved: string[];
  /** When the navigation started: the click, the submission, the back/forward. */
  start: number;
  /** When the answer's headers arrived (or the prefetched answer was taken). */
  responded: number;
  /** When the new page was in the DOM (before scroll, focus and the announcement). */
  swapped: number;
  /** The answer's status (a 404 page is swapped in like any page). */
  status: number;
  /** The answer was prefetched. */
  prefetched: boolean;
  /** The prefetched page had been read and parsed (and its modules preloaded) before the navigation took it. */
  parsedAhead: boolean;
  /** The server redirected. */
  redirected: boolean;
  /** Length of the answer's HTML, in UTF-16 code units. */
  length: number;
  /** `push`, `replace` or `traverse`. */
  kind: NavigationKind;
}

export type NavigationKind = 'push' | 'replace' | 'traverse';

/** What tests and tools can reach as `window.atollRouter`. */
export interface RouterHandle {
  /** `navigation` (Navigation API) or `history` (History API and popstate). */
  mode: 'navigation' | 'history';
  /** Navigates as a link click to `url` would. */
  navigate(url: string): void;
  /** Prefetches `url` with the navigation fetch (used once, within 30 s). */
  prefetch(url: string): void;
  /** The layout id of the page. */
  layout: string;
}

/** Marks the router's own `navigation.navigate()` calls. */
const OURS = { atoll: true };

interface NavigationLike extends EventTarget {
  currentEntry: { key: string } | null;
  navigate(url: string, options?: { history?: 'auto' | 'push' | 'replace'; info?: unknown }): { committed: Promise<unknown>; finished: Promise<unknown> };
}

interface NavigateEventLike extends Event {
  navigationType: NavigationKind | 'reload';
  canIntercept: boolean;
  hashChange: boolean;
  downloadRequest: string | null;
  formData: FormData | null;
  info: unknown;
  signal: AbortSignal;
  destination: { url: string; key: string };
  intercept(options: { handler: () => Promise<void>; scroll?: 'manual'; focusReset?: 'manual' }): void;
}

/**
 * `Document.parseHTMLUnsafe`, where it keeps comments. Chromium 156's drops
 * every comment (light DOM and shadow roots; its `setHTMLUnsafe` keeps
 * them), and Lit hydrates from its `<!--lit-part-->` markers: an island
 * parsed that way fails to hydrate ("There should be exactly one root part
 * in a render container"). Firefox 153 and WebKitGTK 2.50 keep them.
 */
const parseUnsafe = ((): ((html: string) => Document) | undefined => {
  const D = Document as unknown as { parseHTMLUnsafe?: (html: string) => Document };
  if (typeof D.parseHTMLUnsafe !== 'function') return undefined;
  try {
    const probe = D.parseHTMLUnsafe('<div><template shadowrootmode="open"><!--a--></template></div>');
    return probe.querySelector('div')?.shadowRoot?.firstChild?.nodeType === 8 ? D.parseHTMLUnsafe.bind(D) : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * Parses a page with its declarative shadow roots and every comment:
 * `parseHTMLUnsafe` where it keeps comments, else `DOMParser` (no
 * declarative shadow roots) and `dsd.ts`'s attachment of them.
 */
export function parsePage(html: string): Document {
  if (parseUnsafe) return parseUnsafe(html);
  const doc = new DOMParser().parseFromString(html, 'text/html');
  attachShadowRoots(doc);
  return doc;
}

/** A navigation answer's page: its HTML and the document parsed from it. */
interface Page {
  html: string;
  doc: Document;
}

/** Reads and parses an answer's page. */
async function readPage(response: Response): Promise<Page> {
  const html = await response.text();
  return { html, doc: parsePage(html) };
}

/** The `<meta name>` by which a page opts in to View Transitions. */
export const VIEW_TRANSITION_META = 'atoll-view-transition';

/**
 * True when a swap should run inside `document.startViewTransition`: the
 * page has `<meta name="atoll-view-transition">` (opt-in: a transition waits
 * for a rendering frame to capture the old page before the swap — 0.2 s in
 * headless Chromium here, 0.6 s in WebKit under Xvfb — and while it
 * animates, the transition's pseudo-elements cover the page, so a click
 * lands on the document element, not on a link), the user does not ask for
 * reduced motion, and the page is visible.
 */
function viewTransitions(doc: Document): boolean {
  return doc.head.querySelector(`meta[name="${VIEW_TRANSITION_META}"]`) !== null && !matchMedia('(prefers-reduced-motion: reduce)').matches && doc.visibilityState === 'visible';
}

/** A URL's `#hash` without `#`, percent-decoded (as written when it cannot be: `#%E0%A4%A`). */
function decodeHash(hash: string): string {
  try {
    return decodeURIComponent(hash.slice(1));
  } catch {
    return hash.slice(1);
  }
}

/** Starts the router. Called once by the island loader. */
export function start(...[imports, adopt]: LoaderHooks): void {
  const doc = document;
  const win = window as Window & { atollRouter?: RouterHandle; navigation?: NavigationLike };
  const map = doc.querySelector<HTMLScriptElement>(IMPORT_MAP_SELECTOR);
  const layout = map?.getAttribute(LAYOUT_ATTR);
  /** The session flag that turns the router off for this layout (see the answer check in `go`). */
  const OFF = 'atoll-router-off:' + layout;
  const off = (): void => {
    try {
      sessionStorage.setItem(OFF, '1');
    } catch {
      // no storage: this page only
    }
  };
  try {
    if (sessionStorage.getItem(OFF)) return;
  } catch {
    // no storage
  }
  if (!map || !layout || win.atollRouter) return;
  // The import map resolved its URLs against this page's URL; the router changes
  // that URL, and the loader imports by URL: make them absolute now.
  for (const k of Object.keys(imports)) {
    try {
      imports[k] = new URL(imports[k]!, doc.baseURI).href;
    } catch {
      // left as it is
    }
  }
  const nonce = map.nonce ?? '';
  const nav = win.navigation && typeof win.navigation.navigate === 'function' ? win.navigation : undefined;
  if (!nav) {
    // popstate would otherwise restore the old scroll position on the page being left.
    // The entry the document is left from (to another site) scrolls as usual when come back to.
    history.scrollRestoration = 'manual';
    addEventListener('pagehide', () => (history.scrollRestoration = 'auto'));
    addEventListener('pageshow', () => (history.scrollRestoration = 'manual'));
  }

  /** The path and query of the page shown: a `popstate` that keeps them is a hash change. */
  let rendered = location.pathname + location.search;
  /** Scroll positions of the entries left, by Navigation API entry key. */
  const scrolls = new Map<string, [number, number]>();
  /** The navigation running (history mode). */
  let running: AbortController | undefined;
  /** True when `response` is a navigation answer for this layout (anything else is loaded as a document). */
  const speaks = (response: Response): boolean => response.headers.get(NAV_HEADER) === layout && /^text\/html/i.test(response.headers.get('content-type') ?? '');
  /**
   * Prefetched pages prepared on arrival, while they wait for their click: read,
   * parsed, and their first-screen modules preloaded — the click then only swaps.
   * Only answers for a likely click (pointer, focus, `atollRouter.prefetch`), not
   * for links that merely came into view (see PrefetchCache).
   */
  const prepared = new WeakMap<Response, { page: Promise<Page>; ready: boolean }>();
  const cache = new PrefetchCache((response) => {
    if (!speaks(response)) return response.clone().text();
    const entry = {
      page: readPage(response).then((p) => {
        preloadModules(doc, p.doc, response.url || location.href, nonce);
        entry.ready = true;
        return p;
      }),
      ready: false,
    };
    prepared.set(response, entry);
    return entry.page;
  });

  const fetchPage = (url: string, signal: AbortSignal): Promise<Response> =>
    fetch(url, {
      headers: { accept: 'text/html', [NAV_HEADER]: layout, [KEEP_HEADER]: [...liveInstances(doc.body).keys()].slice(0, MAX_KEEP).join(' ') },
      credentials: 'same-origin',
      redirect: 'follow',
      signal,
    });
  const scanPrefetch = installPrefetch({ cache, fetchPage, nonce }, doc);

  /** Loads `url` as a document, never intercepted: replacing the entry the router already made, else pushing one. */
  const documentLoad = (url: string, committed: boolean): void => {
    cache.clear();
    if (committed) location.replace(url);
    else location.assign(url);
  };

  /**
   * One navigation: fetch (or take the prefetched answer), parse, swap,
   * head, history (history mode), islands, scroll, focus, announce, events.
   * `committed`: the entry is already the new URL (Navigation API, popstate).
   */
  async function go(url: URL, kind: NavigationKind, signal: AbortSignal, t0: number, committed: boolean, restore?: [number, number]): Promise<void> {
    if (!doc.dispatchEvent(new CustomEvent<NavigateDetail>(NAVIGATE_EVENT, { cancelable: true, detail: { url: url.href } }))) {
      return documentLoad(url.href, committed);
    }
    const done = progress(doc);
    // The prefetched answer, if any; then no prefetch until this navigation settles (their keys would be stale).
    const waiting = cache.take(url.href);
    const generation = cache.begin();
    try {
      let response: Response;
      try {
        response = await (waiting ?? fetchPage(url.href, signal));
      } catch {
        if (!signal.aborted) documentLoad(url.href, committed);
        return;
      }
      const responded = performance.now();
      if (signal.aborted) return;
      if (!speaks(response)) {
        // A successful HTML answer that does not speak the protocol: a static host (an
        // exported site), or a proxy that drops the header. Every click would fetch the
        // page twice: the router stops for this layout, for the rest of the session.
        if (response.headers.get(NAV_HEADER) === null && response.ok && /^text\/html/i.test(response.headers.get('content-type') ?? '')) off();
        return documentLoad(url.href, committed);
      }
      // A prefetched page is taken as prepared (or waited for while it is being prepared).
      const ahead = prepared.get(response);
      const parsedAhead = ahead?.ready === true;
      const { html, doc: next } = await (ahead?.page ?? readPage(response));
      if (signal.aborted) return;
      const final = new URL(response.url || url.href);
      final.hash = url.hash;
      if (!nav && !committed) {
        // Before the swap, so that relative URLs in the new content resolve against the new URL.
        history.replaceState({ ...(history.state as object | null), atollScroll: [scrollX, scrollY] }, '');
        if (kind === 'replace') history.replaceState({ atoll: 1 }, '', final.href);
        else history.pushState({ atoll: 1 }, '', final.href);
        committed = true;
      }
      let swapped: SwapResult | undefined;
      const update = (): void => {
        swapped = swapBody(doc.body, next.body);
        if (swapped === undefined) return;
        mergeHead(doc, next, imports, final.href, nonce);
        adopt(doc.body);
      };
      const vt = (doc as Document & { startViewTransition?: (cb: () => void) => { updateCallbackDone: Promise<void> } }).startViewTransition;
      if (typeof vt === 'function' && viewTransitions(doc)) {
        await vt.call(doc, update).updateCallbackDone;
      } else update();
      if (swapped === undefined) return documentLoad(url.href, committed);
      const swappedAt = performance.now();
      // The new page's keys are in place: prefetches (the scan below, `atoll:navigated` listeners) ask with them.
      cache.settle(generation);
      rendered = final.pathname + final.search;
      if (nav && final.href !== location.href) {
        // A redirect's final URL, once the intercepted navigation is over (a history
        // update during it would abort it).
        setTimeout(() => history.replaceState(history.state, '', final.href));
      }
      const target = final.hash ? (doc.getElementById(final.hash.slice(1)) ?? doc.getElementById(decodeHash(final.hash))) : null;
      if (restore) scrollTo(restore[0], restore[1]);
      else if (target) target.scrollIntoView();
      else scrollTo(0, 0);
      focusContent(doc);
      announce(doc, doc.title);
      // The new page's `visible` links are looked for after its first frame: the walk
      // (every element, across shadow roots) is not in the way of that frame.
      requestAnimationFrame(() => setTimeout(scanPrefetch));
      doc.dispatchEvent(
        new CustomEvent<NavigatedDetail>(NAVIGATED_EVENT, {
          detail: {
            url: final.href,
            kept: swapped.kept,
            moved: swapped.moved,
            start: t0,
            responded,
            swapped: swappedAt,
            status: response.status,
            prefetched: waiting !== undefined,
            parsedAhead,
            redirected: response.redirected,
            length: html.length,
            kind,
          },
        }),
      );
    } catch (e) {
      if (!signal.aborted) {
        console.error(e);
        documentLoad(url.href, committed);
      }
    } finally {
      done();
      cache.settle(generation);
    }
  }

  /** Starts a navigation the router handles (a link, a form, `atollRouter.navigate`). */
  const navigate = (url: URL): void => {
    const kind: NavigationKind = url.href === location.href ? 'replace' : 'push';
    if (nav) {
      try {
        const r = nav.navigate(url.href, { history: kind, info: OURS });
        // Rejections (aborted by the next navigation, a document load) are not errors here.
        r.committed.catch(() => {});
        r.finished.catch(() => {});
      } catch {
        // The document cannot navigate in place now (e.g. it is unloading): as a document.
        location.assign(url.href);
      }
      return;
    }
    running?.abort();
    const controller = (running = new AbortController());
    void go(url, kind, controller.signal, performance.now(), false);
  };

  if (nav) {
    nav.addEventListener('navigate', (event) => {
      const e = event as NavigateEventLike;
      const ours = e.info === OURS;
      if (!e.canIntercept || e.hashChange || e.downloadRequest !== null || e.formData !== null) return;
      if (!ours && e.navigationType !== 'traverse') return;
      const t0 = performance.now();
      const leaving = nav.currentEntry?.key;
      if (leaving !== undefined) scrolls.set(leaving, [scrollX, scrollY]);
      const url = new URL(e.destination.url);
      const kind = e.navigationType === 'reload' ? 'replace' : e.navigationType;
      const restore = kind === 'traverse' ? scrolls.get(e.destination.key) : undefined;
      e.intercept({ scroll: 'manual', focusReset: 'manual', handler: () => go(url, kind, e.signal, t0, true, restore) });
    });
  } else {
    addEventListener('popstate', (e) => {
      const here = location.pathname + location.search;
      if (here === rendered) return; // a hash change: the browser scrolls
      running?.abort();
      const controller = (running = new AbortController());
      const saved = (e.state as { atollScroll?: [number, number] } | null)?.atollScroll;
      void go(new URL(location.href), 'traverse', controller.signal, performance.now(), true, Array.isArray(saved) ? saved : [0, 0]);
    });
  }

  addEventListener('click', (e) => {
    const url = clickTarget(e, location);
    if (url === undefined) return;
    e.preventDefault();
    navigate(url);
  });

  const onSubmit = (e: Event): void => {
    const url = submitTarget(e as SubmitEvent, location);
    if (url === undefined) return;
    e.preventDefault();
    navigate(url);
  };
  addEventListener('submit', onSubmit);
  // `submit` is not composed: a form inside a shadow root gets its own listener
  // the first time a click or a key press reaches it (before its submission).
  const watched = new WeakSet<HTMLFormElement>();
  const watch = (e: Event): void => {
    const t = e.composedPath()[0];
    const form = t instanceof Element ? ((t as HTMLInputElement).form ?? t.closest('form')) : null;
    if (form && !watched.has(form) && form.getRootNode() !== doc) {
      watched.add(form);
      form.addEventListener('submit', onSubmit);
    }
  };
  addEventListener('click', watch, true);
  addEventListener('keydown', watch, true);

  scanPrefetch();
  win.atollRouter = {
    mode: nav ? 'navigation' : 'history',
    layout,
    navigate: (url) => navigate(new URL(url, location.href)),
    prefetch: (url) => cache.add(new URL(url, location.href).href, fetchPage),
  };
}
